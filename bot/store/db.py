"""The database handle: one engine per app, one session per request or command."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app, g
from sqlalchemy import create_engine, event, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL; None for another database or an in-memory one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


def create_private_file(path: Path) -> None:
    """Create the SQLite file (and its folder) readable by this user only, before SQLite does it with the umask.

    SQLite creates the database with the process's umask (often 0644: world-readable
    answers and password hashes) and gives its -wal and -shm files the database's own
    mode. An existing file keeps its mode: an operator may have chosen it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return
    os.chmod(path, 0o600)  # O_CREAT's mode is masked by the umask, which could take away the owner's bits


def init_app(app: Flask) -> None:
    """Create the engine and session factory, and close sessions after each request."""
    url = app.config["DATABASE_URL"]
    database = sqlite_file(url)
    if database is not None:
        create_private_file(database)
    engine = make_engine(url)
    app.extensions["db_engine"] = engine
    app.extensions["db_sessions"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(close_session)


def session() -> Session:
    """The session of the current request or command (created on first use)."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessions"]()
    return g.db_session


def close_session(_exc: BaseException | None = None) -> None:
    """Close the session at the end of the app context."""
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()


def upgrade(app: Flask, revision: str = "head") -> None:
    """Apply the Alembic migrations up to `revision` (default: all) to the app's database (idempotent).

    On SQLite, foreign keys are off while the migrations run: a batch migration copies a
    table and drops the old one, and with foreign keys on, that DROP deletes every row
    that refers to it through ON DELETE CASCADE (all answer revisions, when 0005 copied
    `assessment`). The pragma only takes effect outside a transaction, so it is set
    before the migrations' transaction begins; afterwards the keys are checked.
    """
    _migrate(app, lambda config: command.upgrade(config, revision))


def downgrade(app: Flask, revision: str) -> None:
    """Undo the migrations after `revision` (for an operator going back a release; see each revision's downgrade)."""
    _migrate(app, lambda config: command.downgrade(config, revision))


def _migrate(app: Flask, run: Callable[[AlembicConfig], None]) -> None:
    """Run Alembic in one transaction on the app's database, with SQLite's foreign keys off meanwhile and checked after."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = app.extensions["db_engine"]
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # ends SQLAlchemy's autobegun transaction (sqlite3 itself began none for a PRAGMA)
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                run(config)
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                    raise RuntimeError("the migrations left rows whose foreign keys point nowhere; nothing was changed")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
