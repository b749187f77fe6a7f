"""Migrations 0007 (the living checklist), 0008 (notifications) and 0009 (manager sessions) go back and forward again on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from bot.store import db
from tests.test_trusted_results import PLATFORM, complete, manager_call


def back_and_forth(world, revision: str, while_back: Callable[[Engine], None]) -> Engine:
    """Go back to `revision`, check the schema there, go forward again; the schema then matches the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.store.models import Base

    engine = world.app.extensions["db_engine"]
    try:
        db.downgrade(world.app, revision)
        while_back(engine)
    finally:
        db.upgrade(world.app)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    return engine


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_migration_0007_goes_back_and_forth(world):
    """Going back drops the tracking (lossy, documented) and keeps every assessment; forward again, the schema matches the models."""
    complete(world, world.acme_link, PLATFORM)
    item = "WA-05"
    assert manager_call(world, "PATCH", f"/api/v1/orgs/acme/items/{item}", {"version": 0, "workflow": "in_progress"}).status_code == 200
    assert manager_call(world, "POST", f"/api/v1/orgs/acme/items/{item}/comments", {"text": "AVV angefragt"}).status_code == 201

    def at_0006(engine: Engine) -> None:
        assert {"item_tracking", "item_comment", "evidence", "evidence_item", "progress_snapshot"}.isdisjoint(_tables(engine))
        assert "actor" not in {c["name"] for c in inspect(engine).get_columns("answer_revision")}
        assert _count(engine, "assessment") == 1

    back_and_forth(world, "0006", at_0006)
    body = manager_call(world, "GET", f"/api/v1/orgs/acme/items/{item}").get_json()
    assert body["item"]["tracking"]["workflow"] == "todo" and body["comments"] == []


def test_migration_0008_goes_back_and_forth(world):
    """Going back drops settings, notices, the outbox, webhooks and job runs (lossy, documented); forward again, the schema matches the models."""
    complete(world, world.acme_link, PLATFORM)  # a notice and a mail for anna

    def at_0007(engine: Engine) -> None:
        assert {"notification_setting", "notice", "outbox_message", "webhook_endpoint", "job_run"}.isdisjoint(_tables(engine))
        assert "locale" not in {c["name"] for c in inspect(engine).get_columns("manager")}
        assert _count(engine, "assessment") == 1 and _count(engine, "manager") == 3

    engine = back_and_forth(world, "0007", at_0007)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT locale FROM manager WHERE email = 'anna@acme.example'")).scalar_one() == "de"


def test_migration_0009_goes_back_and_forth(world):
    """Going back drops the manager sessions (everyone logs in again); forward again, the schema matches the models."""

    def at_0008(engine: Engine) -> None:
        assert "manager_session" not in _tables(engine)

    back_and_forth(world, "0008", at_0008)
