"""Benchmark: a budget for each page and job people wait on, against a seeded database (issue 20).

The database (`bench/seed.py`): 200 organisations with 30 items each, 20 evidence records and 50
comments on the busiest organisation, 10,000 audit entries. The consultant, admin of all 200, is
logged in; each page is fetched in-process (Flask's test client: what the app does, without the
network) `rounds` times after one warm-up, and its median and 95th percentile are compared with
the budget in `PAGES` (docs/performance.md says why each), with what the app loaded frozen out of the
garbage collector's way, as a production worker does (bot/gunicorn_conf.py). The SQL statements of one fetch are
counted too; tests/test_query_budget.py checks that they do not grow with the organisations.
Also measured: a 10 MB evidence upload through the API and the daily reminder job on the same
data. Run on SQLite and, when it answers, PostgreSQL:
    python bench/budgets.py [sqlite] [postgres] [--rounds 15]
"""

from __future__ import annotations

import argparse
import gc
import io
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_turns import database, pg_up  # noqa: E402
from bench.report import Figure, median, p95, timings_ms  # noqa: E402
from bench.seed import Shape, seed  # noqa: E402
from bot.gunicorn_conf import post_worker_init  # noqa: E402


@dataclass(frozen=True)
class Page:
    """A page (or download) to time: its path on the busiest organisation, and its budget in ms (median, 95th percentile)."""

    key: str
    label: str
    path: str
    median_ms: float
    p95_ms: float
    api: bool = False  # fetched with the API token rather than the login session


PAGES = (
    Page("overview", "manager overview (200 organisations)", "/manage/", 400, 800),
    Page("worklist", "organisation worklist", "/manage/orgs/{org}", 200, 400),
    Page("item", "item page (busiest item)", "/manage/orgs/{org}/items/{item}", 150, 300),
    Page("my_items", "my items (consultant of 200 organisations)", "/manage/my-items", 500, 1000),
    Page("portfolio", "portfolio (200 organisations)", "/manage/portfolio", 500, 800),
    Page("audit", "audit log page (10,000 entries)", "/manage/orgs/{org}/events", 150, 300),
    Page("checklist_json", "checklist JSON (API)", "/api/v1/orgs/{org}/checklist", 150, 300, api=True),
    Page("export_pdf", "export: checklist PDF", "/manage/orgs/{org}/checklist.pdf", 500, 1000),
    Page("export_xlsx", "export: checklist XLSX", "/manage/orgs/{org}/checklist.xlsx", 150, 300),
    Page("export_csv", "export: checklist CSV", "/manage/orgs/{org}/checklist.csv", 100, 200),
    Page("export_md", "export: checklist Markdown", "/manage/orgs/{org}/checklist.md", 100, 200),
    Page("export_json", "export: checklist JSON file", "/manage/orgs/{org}/checklist.json", 100, 200),
    Page("export_all_csv", "export: CSV of all 200 organisations", "/manage/checklists.csv", 1000, 1500),
    Page("audit_csv", "export: audit log CSV (5,000 entries)", "/manage/orgs/{org}/events.csv", 800, 1200),
)
UPLOAD_MEDIAN_MS, UPLOAD_P95_MS = 1000.0, 1500.0  # a signed contract of 10 MB
REMINDERS_S = 3.0  # the daily job on 200 organisations x 30 items (bench/reminders.py has 1,000)
UPLOAD_BYTES = 10 * 1024 * 1024
FULL = Shape()  # the shape issue 20 names


def run_one(kind: str, rounds: int = 15, shape: Shape = FULL) -> dict[str, Any]:
    """Seed a fresh database of `kind` and time every page, the upload and the reminder job."""
    from sqlalchemy import event

    from bot import create_app
    from bot.jobs import run_job
    from bot.store import db
    from bot.store.models import utcnow

    with database(kind) as url:
        config = {"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "MAIL_SERVER": None}
        app = create_app(config)
        db.upgrade(app)
        seeded = seed(app, shape)
        client = app.test_client()
        response = client.post("/manage/login", data={"email": seeded.email, "password": seeded.password})
        assert response.status_code in (302, 303), response.status_code
        auth = {"Authorization": f"Bearer {seeded.token}"}
        statements: list[str] = []
        engine = app.extensions["db_engine"]
        count = lambda *args: statements.append(args[2])  # noqa: E731 (before_cursor_execute: conn, cursor, statement, ...)
        result: dict[str, Any] = {"database": kind, "rounds": rounds, "shape": shape.__dict__, "pages": {}}
        post_worker_init(None)  # as a production worker does once the app is loaded (bot/gunicorn_conf.py)
        for page in PAGES:
            path = page.path.format(org=seeded.busiest, item=seeded.item)

            def fetch(path: str = path, page: Page = page) -> None:
                got = client.get(path, headers=auth if page.api else None)
                assert got.status_code == 200 and got.data, (path, got.status_code)

            fetch()  # warm up: templates, fonts, statement caches
            statements.clear()
            event.listen(engine, "before_cursor_execute", count)
            try:
                fetch()
            finally:
                event.remove(engine, "before_cursor_execute", count)
            samples = timings_ms(fetch, rounds)
            result["pages"][page.key] = {"median_ms": median(samples), "p95_ms": p95(samples), "queries": len(statements)}
        content = (b"%PDF-1.7\n" + bytes(range(256)) * (UPLOAD_BYTES // 256))[:UPLOAD_BYTES]

        def upload() -> None:
            data = {"file": (io.BytesIO(content), "vertrag.pdf"), "expires": (date.today() + timedelta(days=365)).isoformat()}
            got = client.post(f"/api/v1/orgs/{seeded.busiest}/items/{seeded.item}/evidence", data=data, headers=auth, content_type="multipart/form-data")
            assert got.status_code == 201, (got.status_code, got.get_data()[:200])

        samples = timings_ms(upload, max(3, rounds // 3))
        result["upload_10mb"] = {"median_ms": median(samples), "p95_ms": p95(samples)}
        with app.app_context():
            statements.clear()
            event.listen(engine, "before_cursor_execute", count)
            try:
                samples = timings_ms(lambda: run_job(app, "reminders", utcnow()), 1)
            finally:
                event.remove(engine, "before_cursor_execute", count)
        result["reminders"] = {"seconds": samples[0] / 1000, "queries": len(statements)}
        engine.dispose()
        gc.unfreeze()
    return result


def run(rounds: int = 15, databases: tuple[str, ...] = ("sqlite", "postgres"), shape: Shape = FULL) -> list[dict[str, Any]]:
    """Every database that answers."""
    return [run_one(kind, rounds, shape) for kind in databases if kind != "postgres" or pg_up()]


def figures(results: list[dict[str, Any]]) -> list[Figure]:
    """Each page's median and 95th percentile, the upload and the reminder job, against their budgets."""
    out = []
    for r in results:
        db_name = r["database"]
        for page in PAGES:
            measured = r["pages"][page.key]
            queries = f"{measured['queries']} queries"
            out.append(Figure(f"{page.label}, median, {db_name}", measured["median_ms"], "ms", page.median_ms, detail=queries))
            out.append(Figure(f"{page.label}, p95, {db_name}", measured["p95_ms"], "ms", page.p95_ms))
        out.append(Figure(f"evidence upload of 10 MB, median, {db_name}", r["upload_10mb"]["median_ms"], "ms", UPLOAD_MEDIAN_MS))
        out.append(Figure(f"evidence upload of 10 MB, p95, {db_name}", r["upload_10mb"]["p95_ms"], "ms", UPLOAD_P95_MS))
        organisations = r["shape"]["organisations"]
        job = r["reminders"]
        label = f"daily reminder job, {organisations} organisations, {db_name}"
        out.append(Figure(label, job["seconds"], "s", REMINDERS_S, detail=f"{job['queries']} queries"))
    return out


def describe(results: list[dict[str, Any]]) -> str:
    """A readable report."""
    lines = []
    for r in results:
        shape = r["shape"]
        lines.append(
            f"page budgets on {r['database']} ({shape['organisations']} organisations x 30 items, {shape['evidence']} evidence and "
            f"{shape['comments']} comments on the busiest, {shape['audit_entries']:,} audit entries; {r['rounds']} rounds):"
        )
        lines.extend(f.line() for f in figures([r]))
    return "\n".join(lines)


def main() -> int:
    """Run from the command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("databases", nargs="*", default=["sqlite", "postgres"])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    print(describe(run(args.rounds, tuple(args.databases))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
