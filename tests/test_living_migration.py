"""Migrations 0007 (the living checklist), 0008 (notifications) and 0009 (manager sessions) go back and forward again on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect, text

from bot.store import db
from tests.test_trusted_results import PLATFORM, complete, manager_call


def test_migration_0007_goes_back_and_forth(world):
    """Going back drops the tracking (lossy, documented) and keeps every assessment; forward again, the schema matches the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.store.models import Base

    complete(world, world.acme_link, PLATFORM)
    item = "WA-05"
    assert manager_call(world, "PATCH", f"/api/v1/orgs/acme/items/{item}", {"version": 0, "workflow": "in_progress"}).status_code == 200
    assert manager_call(world, "POST", f"/api/v1/orgs/acme/items/{item}/comments", {"text": "AVV angefragt"}).status_code == 201
    engine = world.app.extensions["db_engine"]
    try:
        db.downgrade(world.app, "0006")
        tables = set(inspect(engine).get_table_names())
        assert {"item_tracking", "item_comment", "evidence", "evidence_item", "progress_snapshot"}.isdisjoint(tables)
        assert "actor" not in {c["name"] for c in inspect(engine).get_columns("answer_revision")}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM assessment")).scalar_one() == 1
    finally:
        db.upgrade(world.app)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    body = manager_call(world, "GET", f"/api/v1/orgs/acme/items/{item}").get_json()
    assert body["item"]["tracking"]["workflow"] == "todo" and body["comments"] == []


def test_migration_0008_goes_back_and_forth(world):
    """Going back drops settings, notices, the outbox, webhooks and job runs (lossy, documented); forward again, the schema matches the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.store.models import Base

    complete(world, world.acme_link, PLATFORM)  # a notice and a mail for anna
    engine = world.app.extensions["db_engine"]
    try:
        db.downgrade(world.app, "0007")
        tables = set(inspect(engine).get_table_names())
        assert {"notification_setting", "notice", "outbox_message", "webhook_endpoint", "job_run"}.isdisjoint(tables)
        assert "locale" not in {c["name"] for c in inspect(engine).get_columns("manager")}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM assessment")).scalar_one() == 1
            assert conn.execute(text("SELECT count(*) FROM manager")).scalar_one() == 3
    finally:
        db.upgrade(world.app)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert conn.execute(text("SELECT locale FROM manager WHERE email = 'anna@acme.example'")).scalar_one() == "de"


def test_migration_0009_goes_back_and_forth(world):
    """Going back drops the manager sessions (everyone logs in again); forward again, the schema matches the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.store.models import Base

    engine = world.app.extensions["db_engine"]
    try:
        db.downgrade(world.app, "0008")
        assert "manager_session" not in set(inspect(engine).get_table_names())
    finally:
        db.upgrade(world.app)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
