"""The task queue (Huey): a SQLite file in the instance folder by default, Redis (TASK_QUEUE_URL=redis://…) for several hosts.

The queue only nudges: everything that matters is in the database (the outbox, the notices,
the job runs), so a lost task or a missed periodic run loses nothing. The worker runs a
tick every minute (the daily jobs when due, then the outbox), and a request that added
to the outbox enqueues a `send_outbox` task after its commit, so a mail due immediately
goes out within seconds rather than at the next tick.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlparse

from flask import Flask
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


def make_huey(url: str, *, immediate: bool = False) -> Huey:
    """A Huey instance for TASK_QUEUE_URL: `sqlite:///path`, `redis://host:port/db`, or `memory://` (one process: tests)."""
    parsed = urlparse(url)
    if parsed.scheme == "memory":
        return MemoryHuey("wa-onboarding", results=False, immediate=immediate)
    if parsed.scheme in ("redis", "rediss", "unix"):
        return RedisHuey("wa-onboarding", url=url, results=False, immediate=immediate)
    if parsed.scheme == "sqlite":
        return SqliteHuey("wa-onboarding", filename=parsed.path, results=False, immediate=immediate)
    raise RuntimeError(f"TASK_QUEUE_URL {url!r}: use sqlite:///path or redis://host:port/db")


def init_app(app: Flask) -> None:
    """Create the app's queue with its tasks, and nudge the worker after a commit that added to the outbox."""
    huey = make_huey(str(app.config["TASK_QUEUE_URL"]), immediate=bool(app.config.get("TASK_QUEUE_IMMEDIATE")))
    app.extensions["huey"] = huey

    @huey.task(name="send_outbox")
    def send_outbox() -> None:
        """Send what is due in the outbox (and notices due immediately)."""
        from . import jobs

        with app.app_context():
            jobs.run_job(app, "outbox")

    @huey.periodic_task(crontab(minute="*"), name="tick")
    def tick() -> None:
        """Every minute: the daily jobs when due (once per day across all workers), then the outbox."""
        from . import jobs

        with app.app_context():
            jobs.tick(app)

    app.extensions["huey_tasks"] = {"send_outbox": send_outbox, "tick": tick}
    sessions = app.extensions["db_sessions"]

    @event.listens_for(sessions, "after_commit")
    def _nudge(session: Session) -> None:
        if session.in_transaction():
            return  # a savepoint's commit: wait for the outermost, which makes the rows visible to the worker
        if session.info.pop("outbox_added", False) and not session.info.get("in_worker"):
            try:
                send_outbox()
            except Exception:  # the queue is down: the worker's next tick sends it
                log.warning("could not enqueue the outbox task; the next tick sends it", exc_info=True)

    @event.listens_for(sessions, "after_rollback")
    def _forget(session: Session) -> None:
        session.info.pop("outbox_added", None)


def consumer(app: Flask, workers: int = 1) -> Any:
    """Huey's consumer for the app's queue (thread workers, the periodic tick on)."""
    huey: Huey = app.extensions["huey"]
    return huey.create_consumer(workers=workers, worker_type="thread", periodic=True, check_worker_health=True)
