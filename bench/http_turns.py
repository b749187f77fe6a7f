"""Benchmark: chat turns over HTTP, the product against the ceiling, under gunicorn with 2 workers.

Both apps get the same database (a fresh SQLite file or PostgreSQL database), the
same gunicorn settings and the same load: 32 concurrent conversations that answer
the same realistic scenario step by step for a fixed time. Prints turns/s, p50/p95/p99
latency and errors of each, and the ratios the targets in DESIGN.md are about.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Figure  # noqa: E402
from bot.engine import DONE, EngineRegistry, FlowEngine, load_flows  # noqa: E402
from bot.engine.lint import answer_sets, play  # noqa: E402
from bot.flowcode import FLOW_CODE  # noqa: E402

CONVERSATIONS = 32
WORKERS = 2
PG_ADMIN_URL = os.environ.get("WA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def latest_engine() -> FlowEngine:
    """The engine of the latest version of the flow, the one new assessments use."""
    return EngineRegistry(load_flows(ROOT / "flows", code=FLOW_CODE)).get("whatsapp_gdpr")


def scenario() -> tuple[list[str], dict[str, Any]]:
    """The steps and answers of one complete, long conversation on the latest version (Platform through a BSP, every section)."""
    engine = latest_engine()
    best: tuple[list[str], dict[str, Any]] = ([], {})
    for answers in answer_sets(engine.flow):
        model, path = play(engine, answers)
        if model.state == DONE and len(path) > len(best[0]):
            best = (path, {s: answers.get(s, "ok") for s in path})
    return best


def pg_up() -> bool:
    """Whether the PostgreSQL server answers on loopback."""
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def database(kind: str):
    """A fresh database URL with the product's schema (SQLite file or PostgreSQL database), removed afterwards."""
    from sqlalchemy import create_engine, text

    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="wa-bench-")
        yield f"sqlite:///{folder}/bench.sqlite"
        return
    name = f"wa_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def prepare(url: str) -> tuple[str, dict[str, Any]]:
    """Apply the schema, create the benchmark organisation; return its embed key and a representative prompt."""
    from bot import create_app
    from bot.i18n import catalog, prompt_dict
    from bot.store import db
    from bot.store.models import Organisation

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url})
    db.upgrade(app)
    with app.app_context():
        session = db.session()
        org = Organisation(slug="bench", name="Benchmark GmbH", locale="de")
        session.add(org)
        session.commit()
        key = org.embed_key
    engine = app.extensions["engines"].get("whatsapp_gdpr")
    model = type("M", (), {"state": "integrations", "answers": {}})()
    prompt = prompt_dict(engine.prompt(model), catalog("de", app.config["LOCALES_DIR"]))
    app.extensions["db_engine"].dispose()
    return key, prompt


@contextmanager
def gunicorn(target: str, env: dict[str, str], workers: int = WORKERS):
    """Run `target` under gunicorn on a free port (sync workers, frozen after loading as in production); yield (port, master pid)."""
    port = _free_port()
    log = Path(tempfile.mkdtemp(prefix="wa-bench-")) / "gunicorn.log"
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--config",
            str(ROOT / "bench" / "gunicorn_freeze.py"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            target,
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(300):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.05)
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn {target} exited: {log.read_text()}")
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def drive(port: int, embed_key: str, path: list[str], answers: dict[str, Any], seconds: float, conversations: int = CONVERSATIONS) -> dict[str, Any]:
    """`conversations` threads run conversations for `seconds`; return turns/s, latency percentiles, errors and the raw latencies."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    headers = {"Content-Type": "application/json"}

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        failed = 0
        while time.perf_counter() < deadline:
            conn.request("POST", "/api/v1/assessments", json.dumps({"embed_key": embed_key}), headers)
            response = conn.getresponse()
            token = json.loads(response.read())["token"]
            for step in path:
                if time.perf_counter() >= deadline:
                    break
                body = json.dumps({"step": step, "value": answers[step]})
                started = time.perf_counter()
                conn.request("POST", f"/api/v1/assessments/{token}/answers", body, headers)
                response = conn.getresponse()
                response.read()
                mine.append(time.perf_counter() - started)
                if response.status != 200:
                    failed += 1
                    break
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=worker) for _ in range(conversations)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return {**_pooled([{"latencies": latencies, "elapsed": elapsed, "errors": errors[0]}]), "latencies": latencies, "elapsed": elapsed}


def run(kind: str, seconds: float, slices: int = 5) -> dict[str, Any]:
    """Ceiling and product side by side, each on a fresh database; return both results and the ratios.

    Both servers run at once (an idle one costs nothing) and the load alternates between them in
    `slices` rounds of `seconds / slices` each (ceiling, product, ceiling, ...), so a change in the
    machine's speed during the run (other tenants on a shared host) falls on both alike.
    """
    path, answers = scenario()
    results: dict[str, Any] = {"database": kind, "seconds": seconds, "conversations": CONVERSATIONS, "workers": WORKERS, "scenario_steps": len(path)}
    with ExitStack() as stack:
        servers = {}
        for name, target in (("ceiling", "bench.ceiling:create_app()"), ("product", "bot:create_app()")):
            url = stack.enter_context(database(kind))
            key, prompt = prepare(url)
            prompt_file = Path(tempfile.mkdtemp(prefix="wa-bench-")) / "prompt.json"
            prompt_file.write_text(json.dumps(prompt), "utf-8")
            env = {"DATABASE_URL": url, "SECRET_KEY": "bench", "BENCH_PATH": ",".join(path), "BENCH_PROMPT": str(prompt_file)}
            env["FLASK_RATELIMIT_ENABLED"] = "false"  # benchmarks measure turns, not the limiter
            port, _pid = stack.enter_context(gunicorn(target, env))
            drive(port, key, path, answers, min(2.0, seconds / 4))  # warm up: imports, connections, caches
            servers[name] = (port, key)
        parts: dict[str, list[dict[str, Any]]] = {"ceiling": [], "product": []}
        for _ in range(slices):
            for name, (port, key) in servers.items():
                parts[name].append(drive(port, key, path, answers, seconds / slices))
    for name, runs in parts.items():
        results[name] = _pooled(runs)
    results["throughput_ratio"] = results["product"]["turns_per_s"] / results["ceiling"]["turns_per_s"]
    results["p99_ratio"] = results["product"]["p99_ms"] / results["ceiling"]["p99_ms"]
    results["slice_ratios"] = [p["turns_per_s"] / c["turns_per_s"] for c, p in zip(parts["ceiling"], parts["product"], strict=True)]
    return results


def _pooled(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One result from several slices: all turns over all time, percentiles of all latencies."""
    latencies = sorted(x for r in runs for x in r["latencies"])
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    elapsed = sum(r["elapsed"] for r in runs)
    return {
        "turns": len(latencies),
        "turns_per_s": len(latencies) / elapsed if elapsed else 0.0,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else 0.0,
        "p95_ms": cuts[94] * 1000,
        "p99_ms": cuts[98] * 1000,
        "errors": sum(r["errors"] for r in runs),
    }


THROUGHPUT_TARGET = 0.90  # of the ceiling's turns/s (issue 20)
P99_TARGET = 1.5  # times the ceiling's p99 latency


def figures(result: dict[str, Any]) -> list[Figure]:
    """Throughput and p99 against the ceiling's, and errors under load."""
    db_name, product, ceiling = result["database"], result["product"], result["ceiling"]
    turns = f"{product['turns_per_s']:.0f} vs {ceiling['turns_per_s']:.0f} turns/s"
    slices = ", ".join(f"{r:.2f}" for r in result.get("slice_ratios", []))
    return [
        Figure(
            f"chat turn throughput vs ceiling, {db_name}", result["throughput_ratio"], "", THROUGHPUT_TARGET, at_most=False, detail=f"{turns}; slices {slices}"
        ),
        Figure(
            f"chat turn p99 latency vs ceiling's, {db_name}",
            result["p99_ratio"],
            "x",
            P99_TARGET,
            detail=f"{product['p99_ms']:.0f} vs {ceiling['p99_ms']:.0f} ms",
        ),
        Figure(f"chat turn errors under load, {db_name}", product["errors"] + ceiling["errors"], "", 0),
    ]


def describe(result: dict[str, Any]) -> str:
    """A readable report of one run."""
    slices = len(result.get("slice_ratios", [])) or 1
    setup = f"{result['conversations']} conversations, {result['workers']} gunicorn workers, {result['seconds']:.0f} s each in {slices} alternating slices"
    lines = [f"HTTP turns on {result['database']}: {setup}"]
    for name in ("ceiling", "product"):
        r = result[name]
        latency = f"p50 {r['p50_ms']:6.1f} ms  p95 {r['p95_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms"
        lines.append(f"  {name:8} {r['turns_per_s']:8.0f} turns/s  {latency}  errors {r['errors']}")
    lines.extend(f.line() for f in figures(result))
    return "\n".join(lines)


if __name__ == "__main__":
    kinds = sys.argv[1:] or ["sqlite", "postgres"]
    for kind in kinds:
        print(describe(run(kind, float(os.environ.get("BENCH_SECONDS", "15")))))
