"""Benchmark: the daily reminder job (`bot.jobs.reminders` through `run_job`) for many organisations, its time and SQL statements.

Seeded directly with the models on a fresh SQLite file and (when it answers) a fresh PostgreSQL
database: N organisations (1,000 in the full run) with a checklist of record each (one in five
on flow version 1, so a new version is offered; the rest on the latest), one member manager each
and a consultant in 100 of them, tracking rows for every item of the checklist with owners and
due dates spread over -40..+40 days, three pieces of evidence with expiry dates, a few risk
acceptances ending, reviews falling due, and a webhook endpoint in every tenth organisation.

Measured: the first run of the job (time, SQL statements counted with a `before_cursor_execute`
listener on the app's engine, notices added, mails and webhook deliveries queued) and a second
run the same day, which the sent-log makes add nothing. Mail is off (no MAIL_SERVER) and nothing
is sent: the job only queues outbox rows.

Targets (docs/performance.md), for 1,000 organisations: the first run <= 10 s and <= 100 SQL statements,
the second <= 5 s and <= 50 statements: a fixed number of queries plus chunks of 500 rows, none per
organisation, notice or mail (compared at 100 and 1,000 organisations). The task queue is a SQLite
file in a temporary folder, as the default (instance/tasks.sqlite), so its nudges are counted too. Run alone:
    python bench/reminders.py [sqlite] [postgres] [--organisations 100,1000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_turns import database, pg_up  # noqa: E402
from bench.report import Figure  # noqa: E402
from bench.seed import longest_answers  # noqa: E402

SIZES = (100, 1000)  # organisations: the query count must not grow between them
CONSULTANT_ORGS = 100  # organisations the one consultant belongs to (besides their own manager)
EVIDENCE_PER_ORG = 3
TARGET_SIZE = 1000  # the targets are for this many organisations
TARGET_FIRST_S = 10.0  # the first run
TARGET_SECOND_S = 5.0  # the second run the same day (nothing new)
# SQL statements: a fixed number plus chunks of 500 rows (IN lists, selectin loads), none per organisation, notice or mail.
TARGET_FIRST_QUERIES = 100
TARGET_SECOND_QUERIES = 50
WEBHOOK_EVENTS = ["item.due", "evidence.expiring", "review.due"]


def _seed(app: Any, organisations: int, now: datetime) -> dict[str, int]:
    """Seed the organisations, managers, records, tracking, evidence, risk acceptances and webhooks; what was seeded."""
    from bot.jobs import local_now
    from bot.store import db
    from bot.store.models import Assessment, Evidence, EvidenceItem, ItemTracking, Manager, Membership, Organisation, WebhookEndpoint

    registry = app.extensions["engines"]
    versions = {}
    for version in (1, None):
        engine = registry.get("whatsapp_gdpr", version)
        answers = longest_answers(engine)
        versions[version] = (engine, answers, engine.effective_answers(answers), [item.id for item in engine.flow.checklist])
    today = local_now(app, now).date()
    counts = {"organisations": organisations, "managers": 0, "tracking": 0, "evidence": 0, "risk_acceptances": 0, "webhooks": 0}
    with app.app_context():
        session = db.session()
        orgs = [Organisation(slug=f"org-{i:04d}", name=f"Betrieb {i} GmbH", locale="de") for i in range(organisations)]
        # Managers without a password: hashing 1,000 passwords would time the seeding, not the job.
        managers = [Manager(email=f"chefin-{i:04d}@example.de", role="member", locale="de" if i % 4 else "en") for i in range(organisations)]
        consultant = Manager(email="berater@example.de", role="member", locale="de")
        session.add_all([*orgs, *managers, consultant])
        session.flush()
        session.add_all(Membership(manager_id=m.id, organisation_id=o.id) for m, o in zip(managers, orgs, strict=True))
        session.add_all(Membership(manager_id=consultant.id, organisation_id=o.id) for o in orgs[:CONSULTANT_ORGS])
        counts["managers"] = organisations + 1
        for i, org in enumerate(orgs):
            version = 1 if i % 5 == 0 else None  # one in five still on version 1: a re-assessment is offered
            engine, answers, effective, item_ids = versions[version]
            # Confirmed 0..399 days ago: about one in ten falls due for review within 30 days or is overdue.
            recorded = now - timedelta(days=(i * 37) % 400, hours=1)
            record = dict(flow_id="whatsapp_gdpr", flow_version=engine.flow.version, state="done", answers=answers, completed_answers=effective)
            times = dict(created_at=recorded, updated_at=recorded, completed_at=recorded, recorded_at=recorded)
            session.add(Assessment(organisation_id=org.id, locale="de", surface="api", started_via="respondent_link", **record, **times))
            owner_of = managers[i].id
            for n, item_id in enumerate(item_ids):
                spread = (i * 31 + n * 7) % 81 - 40  # due -40..+40 days from today
                owner = None if n % 10 == 9 else (consultant.id if i < CONSULTANT_ORGS and n % 3 == 0 else owner_of)
                row = ItemTracking(organisation_id=org.id, item_id=item_id, owner_id=owner, due=today + timedelta(days=spread),
                                   workflow="closed" if n % 11 == 10 else ("in_progress" if n % 2 else "todo"))  # fmt: skip
                if (i + n) % 29 == 0:  # a risk acceptance ending between 5 days ago and 20 days ahead
                    row.risk_reason, row.risk_by = "Der Anbieter liefert den Vertrag nach.", "chefin@example.de"
                    row.risk_until, row.risk_accepted_at = today + timedelta(days=(i + n) % 26 - 5), now - timedelta(days=200)
                    counts["risk_acceptances"] += 1
                session.add(row)
                counts["tracking"] += 1
            for e in range(EVIDENCE_PER_ORG):
                expires = today + timedelta(days=(i * 13 + e * 29) % 90 - 20)  # -20..+69 days: some expired, some expiring, some not yet
                evidence = Evidence(organisation_id=org.id, kind="link", name=f"Vertrag {e + 1}", url=f"https://example.de/vertrag/{i}/{e}",
                                    effective=today - timedelta(days=300), expires=expires, uploaded_by="chefin@example.de")  # fmt: skip
                evidence.links = [EvidenceItem(item_id=item_ids[(e * 5 + i) % len(item_ids)], organisation_id=org.id)]
                session.add(evidence)
                counts["evidence"] += 1
            if i % 10 == 0:
                session.add(WebhookEndpoint(organisation_id=org.id, url=f"https://hooks.example.de/{i}", events=WEBHOOK_EVENTS,
                                            secret_encrypted="bench-not-a-real-secret", created_by="chefin@example.de"))  # fmt: skip
                counts["webhooks"] += 1
        session.commit()
    return counts


@contextmanager
def _counting(engine: Any) -> Iterator[list[str]]:
    """Collect the SQL statements sent to the database while inside."""
    from sqlalchemy import event

    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", re.IGNORECASE)


def _kinds(statements: list[str]) -> dict[str, int]:
    """The statements by their first word and table, most frequent first (what repeats per organisation shows here)."""
    out: dict[str, int] = {}
    for statement in statements:
        words = statement.split()
        table = _TABLE.search(statement)
        key = f"{words[0].upper() if words else ''} {table.group(1) if table else ''}".strip()
        out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def _timed_run(app: Any, now: datetime, profile: bool) -> dict[str, Any]:
    """One run of the reminders job (a manual run: its own period), timed and its statements counted."""
    from bot.jobs import run_job

    huey = app.extensions["huey"]
    queued = huey.pending_count()
    profiler = cProfile.Profile() if profile else None
    with app.app_context(), _counting(app.extensions["db_engine"]) as statements:
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        summary = run_job(app, "reminders", now)
        if profiler is not None:
            profiler.disable()
        seconds = time.perf_counter() - started
    assert summary is not None, "the manual run was not claimed"
    result: dict[str, Any] = {"seconds": round(seconds, 3), "queries": len(statements), **summary, "statements": _kinds(statements)}
    result["queue_nudges"] = huey.pending_count() - queued  # send_outbox tasks the job put on the queue
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        result["profile"] = out.getvalue()
    return result


def run_one(kind: str, organisations: int, profile: bool = False) -> dict[str, Any]:
    """Seed a fresh database of `kind` with `organisations` and run the job twice the same day."""
    from sqlalchemy import func, select

    from bot import create_app
    from bot.store import db
    from bot.store.models import Notice, OutboxMessage, utcnow

    queue = Path(tempfile.mkdtemp(prefix="wa-bench-queue-")) / "tasks.sqlite"
    with database(kind) as url:
        # The queue in its own file: the nudges the job enqueues must not land in the instance folder's queue.
        config = {"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url, "MAIL_SERVER": None, "TASK_QUEUE_URL": f"sqlite:///{queue}"}
        app = create_app(config)
        db.upgrade(app)
        now = utcnow()
        started = time.perf_counter()
        seeded = _seed(app, organisations, now)
        result: dict[str, Any] = {"database": kind, **seeded, "seed_seconds": round(time.perf_counter() - started, 1)}
        result["first"] = _timed_run(app, now, profile)
        result["second"] = _timed_run(app, now + timedelta(minutes=5), profile)
        with app.app_context():
            session = db.session()
            result["notices_stored"] = session.scalar(select(func.count()).select_from(Notice))
            result["outbox"] = {channel: n for channel, n in session.execute(select(OutboxMessage.channel, func.count()).group_by(OutboxMessage.channel))}
        app.extensions["db_engine"].dispose()
    shutil.rmtree(queue.parent, ignore_errors=True)
    return result


def run(sizes: tuple[int, ...] = SIZES, databases: tuple[str, ...] = ("sqlite", "postgres"), profile: bool = False) -> list[dict[str, Any]]:
    """Every size on every database that answers."""
    return [run_one(kind, size, profile) for kind in databases if kind != "postgres" or pg_up() for size in sizes]


def figures(results: list[dict[str, Any]]) -> list[Figure]:
    """At the target size: each run's time and statements; at every size pair: the statements do not grow with the organisations."""
    out = []
    for r in results:
        if r["organisations"] != TARGET_SIZE:
            continue
        for which, seconds, queries in (("first", TARGET_FIRST_S, TARGET_FIRST_QUERIES), ("second", TARGET_SECOND_S, TARGET_SECOND_QUERIES)):
            one, label = r[which], f"reminder job, {r['organisations']:,} organisations, {which} run"
            work = f"{one['notices']} notices, {one['mails']} mails, {one['webhooks']} webhook deliveries"
            out.append(Figure(f"{label}, {r['database']}", one["seconds"], "s", seconds, detail=work))
            out.append(Figure(f"{label}, SQL statements, {r['database']}", one["queries"], "", queries))
    return out


def describe(results: list[dict[str, Any]]) -> str:
    """A readable report: each run, its targets, and whether the queries grow with the organisations."""
    lines = []
    for r in results:
        items = r["tracking"] // max(1, r["organisations"])
        lines.append(f"reminders job on {r['database']} ({r['organisations']} organisations x {items} items, {r['webhooks']} webhooks):")
        for which in ("first", "second"):
            one = r[which]
            lines.append(
                f"  {which} run {one['seconds']:.2f} s, {one['queries']} queries, {one['notices']} notices, {one['mails']} mails,"
                f" {one['webhooks']} webhook deliveries, {one['queue_nudges']} queue nudges"
            )
    by_database: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_database.setdefault(r["database"], []).append(r)
    for kind, runs in by_database.items():
        if len(runs) < 2:
            continue
        runs = sorted(runs, key=lambda r: r["organisations"])
        for which in ("first", "second"):
            counts = ", ".join(f"{r[which]['queries']} at {r['organisations']}" for r in runs)
            ratio = runs[-1][which]["queries"] / max(1, runs[0][which]["queries"])
            lines.append(f"  {kind}, {which} run, queries by organisations: {counts} (x{ratio:.1f})")
    lines.extend(f.line() for f in figures(results))
    return "\n".join(lines)


def main() -> int:
    """Run from the command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("databases", nargs="*", default=["sqlite", "postgres"])
    parser.add_argument("--organisations", default=",".join(map(str, SIZES)))
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions and the statements by kind")
    args = parser.parse_args()
    results = run(tuple(int(n) for n in args.organisations.split(",")), tuple(args.databases), args.profile)
    print(describe(results))
    if args.profile:
        for r in results:
            for which in ("first", "second"):
                print(f"\n== {r['database']}, {r['organisations']} organisations, {which} run: statements by kind")
                for statement, n in r[which]["statements"].items():
                    print(f"  {n:6d}  {statement}")
                print(r[which].get("profile", ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
