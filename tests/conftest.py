"""Shared fixtures: the flow and its engine, freshly compiled catalogs, apps, databases."""

from __future__ import annotations

import functools
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface

from bot import create_app
from bot.engine import FlowEngine, load_flow
from bot.flowcode import FLOW_CODE
from bot.i18n import LOCALES_DIR, catalog
from tests.apiclient import Api

ROOT = Path(__file__).resolve().parent.parent
FLOW_FILE = ROOT / "flows" / "whatsapp_gdpr.yaml"
# In CI the PostgreSQL and browser tests must run: a missing service fails instead of skipping.
REQUIRE_SERVICES = os.environ.get("WA_REQUIRE_SERVICES") == "1"
# Rate limits are tested on their own (tests/test_limits.py); elsewhere they would only count test traffic.
NO_LIMITS = {"RATELIMIT_ENABLED": False}
# The test client's host: absolute links (Location, wizard links, the embed snippet) read http://localhost/…
TEST_PUBLIC_URL = {"PUBLIC_URL": "http://localhost"}
PG_ADMIN_URL = os.environ.get("WA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def skip_or_fail(reason: str) -> None:
    """Skip locally; fail where the services are required (CI)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (WA_REQUIRE_SERVICES=1: this test must run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def flow():
    """The main flow definition, loaded once."""
    return load_flow(FLOW_FILE, code=FLOW_CODE)


@pytest.fixture(scope="session")
def engine(flow):
    """The engine of the main flow, built once (as in the app)."""
    return FlowEngine(flow)


@pytest.fixture(scope="session")
def locales_dir(tmp_path_factory) -> Path:
    """The catalogs compiled afresh into a temporary folder, so no test reads a stale .mo."""
    target = tmp_path_factory.mktemp("locales")
    for po in LOCALES_DIR.glob("*/LC_MESSAGES/messages.po"):
        dest = target / po.relative_to(LOCALES_DIR)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(po, dest)
    CommandLineInterface().run(["pybabel", "-q", "compile", "-d", str(target)])
    return target


@pytest.fixture(scope="session")
def tr_de(locales_dir):
    """The German catalog."""
    return catalog("de", str(locales_dir))


@pytest.fixture(scope="session")
def tr_en(locales_dir):
    """The English catalog."""
    return catalog("en", str(locales_dir))


@pytest.fixture(scope="session", autouse=True)
def checkout_flows_parsed_once():
    """Parse the checkout's flow files once per session, as a server process does: parsing was half of every create_app in the tests.

    Other folders (a test's own flow files) are parsed afresh each time; the parsed flows are frozen, so apps can share them.
    """
    import bot
    from bot import resources

    parse = bot.load_flows
    checkout = resources.flows_dir().resolve()
    parsed: dict[tuple[str, int], object] = {}

    def load_flows(directory, **kwargs):
        if Path(directory).resolve() != checkout or kwargs.get("code") is not FLOW_CODE:
            return parse(directory, **kwargs)
        if not parsed:
            parsed.update(parse(directory, **kwargs))
        return dict(parsed)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bot, "load_flows", load_flows)
        yield


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    """Hash passwords with one PBKDF2 round in-process: scrypt's deliberate 0.1 s per hash was a third of the manager tests' time."""
    from werkzeug.security import generate_password_hash

    from bot.store import managers

    monkeypatch.setattr(managers, "generate_password_hash", functools.partial(generate_password_hash, method="pbkdf2:sha256:1"))


@pytest.fixture
def app(tmp_path, locales_dir):
    """An app on a fresh SQLite file with the schema applied."""
    from bot.store import db

    url = f"sqlite:///{tmp_path / 'test.sqlite'}"
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": url, "LOCALES_DIR": str(locales_dir), **NO_LIMITS, **TEST_PUBLIC_URL})
    db.upgrade(app)
    return app


@pytest.fixture
def client(app):
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner bound to the app."""
    return app.test_cli_runner()


def _pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def pg_server():
    """The PostgreSQL server on loopback; skips locally (fails in CI) when it is down."""
    if not _pg_reachable():
        skip_or_fail("PostgreSQL is not reachable on 127.0.0.1:5432")
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_server):
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    from sqlalchemy import create_engine, text

    name = f"wa_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield pg_server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_session_url(pg_server):
    """One fresh PostgreSQL database for the whole test session, with the schema applied; dropped at the end."""
    from sqlalchemy import create_engine, text

    name = f"wa_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg_server.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


_PG_SCHEMA_READY: set[str] = set()


def _fresh_app(url: str, locales_dir: Path, **config):
    from bot.store import db

    config.setdefault("TASK_QUEUE_URL", "memory://")  # each test's own queue (the worker tests use a file or Redis)
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": url, "LOCALES_DIR": str(locales_dir), **NO_LIMITS, **TEST_PUBLIC_URL, **config})
    if url.startswith("postgresql"):
        if url not in _PG_SCHEMA_READY:
            db.upgrade(app)
            _PG_SCHEMA_READY.add(url)
        from sqlalchemy import text

        # A clean slate for each test in the session's database (faster than a database per test).
        with app.extensions["db_engine"].begin() as conn:
            tables = "event, job_run, answer_revision, assessment, respondent_link, membership, manager, organisation"
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    else:
        db.upgrade(app)
    return app


# The PostgreSQL run of each test is in the full suite, not in the quick tier (`make test-quick`).
@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow])])
def backend_app(request, tmp_path, locales_dir):
    """An app on SQLite (a fresh file) and, as a second run, on PostgreSQL (a clean session database)."""
    url = request.getfixturevalue("pg_session_url") if request.param == "postgres" else f"sqlite:///{tmp_path / 'test.sqlite'}"
    app = _fresh_app(url, locales_dir)
    yield app
    app.extensions["db_engine"].dispose()


def add_organisation(app, slug: str, name: str | None = None, locale: str = "de", **fields) -> str:
    """Create an organisation in the app's database; return its embed key.

    Pinned to flow version 1 unless `flow_version` is given (None: the latest): the tests that use it name version 1's steps.
    """
    from bot.store import db
    from bot.store.models import Organisation

    fields.setdefault("flow_version", 1)
    with app.app_context():
        session = db.session()
        org = Organisation(slug=slug, name=name or slug.title(), locale=locale, **fields)
        session.add(org)
        session.commit()
        return org.embed_key


def add_respondent_link(app, slug: str, label: str | None = None, expires_days: int | None = None) -> str:
    """Create a respondent link for the organisation `slug` (as its manager would); return its token.

    Assessments started from it are trusted: each completed one becomes the organisation's checklist of record.
    """
    from sqlalchemy import select

    from bot.store import db, events, links
    from bot.store.models import Organisation

    with app.app_context():
        session = db.session()
        organisation = session.scalar(select(Organisation).where(Organisation.slug == slug))
        _link, token = links.create_link(session, organisation, events.CLI, label, expires_days)
        return token


# -- gunicorn: the app as it runs in production ----------------------------------------


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(command: list[str], env: dict[str, str], log: Path, port: int, mode: str = "a") -> subprocess.Popen:
    """Run a server command in its own process group (output to `log`); return it once /healthz answers on `port`."""
    with log.open(mode) as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    for _ in range(600):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.05)
        if process.poll() is not None:
            pytest.fail(f"{Path(command[0]).name} exited: " + log.read_text())
    stop_gunicorn(process)
    pytest.fail(f"{Path(command[0]).name} did not answer: " + log.read_text())


def start_gunicorn(env: dict[str, str], log: Path, workers: int = 2, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """`gunicorn 'bot:create_app()'` in its own process group; returns (process, base URL) once /healthz answers."""
    port = port or free_port()
    command = [str(Path(sys.executable).parent / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "bot:create_app()"]
    return start_server(command, {**os.environ, **env}, log, port), f"http://127.0.0.1:{port}"


def stop_gunicorn(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop a server and its workers (SIGKILL: at once, cutting off requests in flight; also when SIGTERM is not heard in 30 s)."""
    if process.poll() is None:
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


# -- browser tests ------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
# Debian's Chromium through Playwright (never `playwright install`: there is no internet here).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless; skips locally (fails in CI) when it is missing."""
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(tmp_path, locales_dir):
    """The app served over HTTP on a free loopback port, in a thread; yields (base URL, app)."""
    import threading

    from werkzeug.serving import make_server

    app = _fresh_app(f"sqlite:///{tmp_path / 'live.sqlite'}", locales_dir)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{server.server_port}"  # links in its pages point at this server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["db_engine"].dispose()


def serious_accessibility_violations(page) -> list[str]:
    """axe-core's violations of impact serious or critical on the page (needs JavaScript in that page)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in serious]


def screenshot(page, name: str) -> None:
    """Keep a screenshot as a test artefact (test-artifacts/, not committed)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


# -- two organisations with their managers ---------------------------------------------


@dataclass
class World:
    """Two organisations, a manager for each, and an admin."""

    app: object
    api: Api
    acme_key: str
    other_key: str
    anna: str  # manager of acme
    otto: str  # manager of other
    root: str  # admin
    acme_link: str = ""  # a respondent link of acme (trusted: completed assessments become its checklist)
    other_link: str = ""  # a respondent link of other


@pytest.fixture
def world(backend_app) -> World:
    """The app (SQLite, then PostgreSQL) with two organisations and their managers."""
    from bot.store import db
    from bot.store.managers import create_manager
    from bot.store.models import Organisation

    with backend_app.app_context():
        session = db.session()
        # Pinned to flow version 1: the tests of this world name version 1's steps and items (version 2 is walked in test_flow_walks_v2.py).
        acme = Organisation(slug="acme", name="ACME GmbH", locale="de", flow_version=1)
        other = Organisation(slug="other", name="Other AG", locale="en", flow_version=1)
        session.add_all([acme, other])
        session.commit()
        _m, anna = create_manager(session, "anna@acme.example", [acme])
        _m, otto = create_manager(session, "otto@other.example", [other])
        _m, root = create_manager(session, "root@example.org", [], operator=True)
        keys = acme.embed_key, other.embed_key
    links = add_respondent_link(backend_app, "acme"), add_respondent_link(backend_app, "other")
    return World(backend_app, Api(backend_app), keys[0], keys[1], anna, otto, root, *links)


# -- a real SMTP server on loopback --------------------------------------------------------


class MailSink:
    """The messages an aiosmtpd server on loopback received (parsed), and its address for MAIL_SERVER/MAIL_PORT."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list = []
        self.delay = 0.0  # seconds the server waits before accepting a message (a worker killed mid-send)
        self.started = 0  # messages whose data arrived (accepted or not yet)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's handler hook)
        """Accept a message: keep it parsed."""
        import asyncio
        import email
        from email import policy

        self.started += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    @property
    def config(self) -> dict[str, object]:
        """The app's mail settings for this server."""
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": self.port, "MAIL_USE_TLS": False, "MAIL_USE_SSL": False}

    def wait_for(self, count: int, timeout: float = 30.0) -> list:
        """The messages once there are `count` (fails after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.messages) >= count, f"{len(self.messages)} of {count} messages arrived"
        return self.messages


@pytest.fixture
def mail_sink():
    """A real SMTP server on 127.0.0.1 (aiosmtpd) collecting what the app sends."""
    from aiosmtpd.controller import Controller

    sink = MailSink(free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()
