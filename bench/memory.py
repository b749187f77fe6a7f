"""Benchmark: a worker's memory does not grow with the number of assessments it serves.

Runs the product under gunicorn with one worker, serves a warm-up, reads the
worker's resident set size (RSS), serves N more assessments (create + 3 turns each,
from 8 concurrent clients), and reads it again. Target: no growth (we allow 5 %
for allocator noise). On PostgreSQL with synchronous_commit=off for this run only,
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


def run(count: int = 10_000) -> dict[str, Any]:
    """Serve a warm-up and then `count` assessments; return the worker's RSS before and after."""
    kind = "postgres" if pg_up() else "sqlite"
    path, answers = scenario()
    with database(kind) as url:
        key, _prompt = prepare(url)
        served_url = url + ("?options=-csynchronous_commit%3Doff" if kind == "postgres" else "")
        with gunicorn("bot:create_app()", {"DATABASE_URL": served_url, "SECRET_KEY": "bench", "FLASK_RATELIMIT_ENABLED": "false"}, workers=1) as (port, master):
            serve(port, key, path, answers, max(400, count // 10))
            worker = _children(master)[0]
            before = rss_kib(worker)
            serve(port, key, path, answers, count)
            after = rss_kib(worker)
    return {"database": kind, "assessments": count, "rss_before_kib": before, "rss_after_kib": after, "growth": (after - before) / before}


def describe(result: dict[str, Any]) -> str:
    """A readable report."""
    verdict = "meets" if result["growth"] <= GROWTH_LIMIT else "MISSES"
    return (
        f"memory: worker RSS {result['rss_before_kib'] / 1024:.1f} MiB before and {result['rss_after_kib'] / 1024:.1f} MiB after "
        f"{result['assessments']} more assessments on {result['database']} ({result['growth']:+.1%}; {verdict} 'no growth', <= {GROWTH_LIMIT:.0%})"
    )


if __name__ == "__main__":
    print(describe(run(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)))
