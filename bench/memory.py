"""Benchmark: a worker's memory does not grow with the number of assessments and downloads it serves.

Runs the product under gunicorn with one worker, serves a warm-up, reads the
worker's resident set size (RSS), serves N more assessments (create + 3 turns each,
from 8 concurrent clients) and N / 10 downloads of a 1 MB evidence file through the
manager API, and reads it again. Target: within 5 % of where it started. On PostgreSQL with synchronous_commit=off for this run only,
so the disk does not decide how long it takes; SQLite when PostgreSQL is not there.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_turns import database, gunicorn, pg_up, prepare, scenario  # noqa: E402
from bench.report import Figure  # noqa: E402

GROWTH_LIMIT = 0.05


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def rss_kib(pid: int) -> int:
    """Resident set size of a process in KiB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def serve(port: int, key: str, path: list[str], answers: dict[str, Any], count: int, clients: int = 8) -> None:
    """Create `count` assessments and answer 3 steps of each, from `clients` threads."""
    headers = {"Content-Type": "application/json"}
    per_client = count // clients

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(per_client):
            conn.request("POST", "/api/v1/assessments", json.dumps({"embed_key": key}), headers)
            token = json.loads(conn.getresponse().read())["token"]
            for step in path[:3]:
                conn.request("POST", f"/api/v1/assessments/{token}/answers", json.dumps({"step": step, "value": answers[step]}), headers)
                conn.getresponse().read()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


EVIDENCE_BYTES = 1024 * 1024


def add_evidence(url: str) -> tuple[str, int]:
    """A manager of the benchmark organisation and a 1 MB evidence file; return the manager's API token and the evidence id."""
    from bot import create_app
    from bot.store import db
    from bot.store.managers import create_manager
    from bot.store.models import Evidence, Organisation

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url})
    with app.app_context():
        session = db.session()
        org = session.query(Organisation).filter_by(slug="bench").one()
        _manager, token = create_manager(session, "chefin@example.de", [org], role="admin")
        content = (b"%PDF-1.7\n" + bytes(range(256)) * (EVIDENCE_BYTES // 256))[:EVIDENCE_BYTES]
        evidence = Evidence(organisation_id=org.id, kind="file", name="Vertrag.pdf", media_type="application/pdf", size=len(content), sha256="0" * 64,
                            content=content, uploaded_by="chefin@example.de")  # fmt: skip
        session.add(evidence)
        session.commit()
        evidence_id = evidence.id
    app.extensions["db_engine"].dispose()
    return token, evidence_id


def download(port: int, token: str, evidence_id: int, count: int, clients: int = 4) -> None:
    """Download the evidence file `count` times through the manager API, from `clients` threads."""
    headers = {"Authorization": f"Bearer {token}"}

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(count // clients):
            conn.request("GET", f"/api/v1/orgs/bench/evidence/{evidence_id}", headers=headers)
            response = conn.getresponse()
            body = response.read()
            assert response.status == 200 and len(body) == EVIDENCE_BYTES, response.status

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def run(count: int = 10_000) -> dict[str, Any]:
    """Serve a warm-up and then `count` assessments and `count / 10` evidence downloads; return the worker's RSS before and after."""
    kind = "postgres" if pg_up() else "sqlite"
    path, answers = scenario()
    downloads = count // 10
    with database(kind) as url:
        key, _prompt = prepare(url)
        token, evidence_id = add_evidence(url)
        served_url = url + ("?options=-csynchronous_commit%3Doff" if kind == "postgres" else "")
        with gunicorn("bot:create_app()", {"DATABASE_URL": served_url, "SECRET_KEY": "bench", "FLASK_RATELIMIT_ENABLED": "false"}, workers=1) as (port, master):
            serve(port, key, path, answers, max(400, count // 10))
            download(port, token, evidence_id, max(40, downloads // 10))
            worker = _children(master)[0]
            before = rss_kib(worker)
            serve(port, key, path, answers, count)
            download(port, token, evidence_id, downloads)
            after = rss_kib(worker)
    growth = (after - before) / before
    return {"database": kind, "assessments": count, "downloads": downloads, "rss_before_kib": before, "rss_after_kib": after, "growth": growth}


def figures(result: dict[str, Any]) -> list[Figure]:
    """The worker's RSS growth against 5 %."""
    served = f"{result['assessments']:,} assessments and {result.get('downloads', 0):,} evidence downloads"
    before, after = result["rss_before_kib"] / 1024, result["rss_after_kib"] / 1024
    detail = f"{before:.1f} -> {after:.1f} MiB"
    return [Figure(f"worker RSS growth over {served}, {result['database']}", result["growth"] * 100, "%", GROWTH_LIMIT * 100, detail=detail)]


def describe(result: dict[str, Any]) -> str:
    """A readable report."""
    return "memory: one gunicorn worker\n" + "\n".join(f.line() for f in figures(result))


if __name__ == "__main__":
    print(describe(run(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)))
