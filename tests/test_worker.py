"""The worker as an operator runs it: beside the server (`make run`), on Redis with two hosts, and killed mid-send."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.store import db
from bot.store.managers import create_manager
from bot.store.models import JobRun, Organisation, OutboxMessage
from tests.conftest import ROOT, _fresh_app, add_organisation, add_respondent_link, free_port, start_server, stop_gunicorn
from tests.test_trusted_results import PLATFORM

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-c", "from bot.cli import cli; cli(prog_name='wa-onboarding')"]


def _call(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"{}")


def complete_over_http(port: int, link: str, answers: dict) -> None:
    """Walk a respondent-link assessment to the end against a running server."""
    status, data = _call(port, "POST", "/api/v1/assessments", {"respondent_link": link, "locale": "de"})
    assert status == 201, data
    token, prompt = data["token"], data["prompt"]
    for _ in range(100):
        if prompt["kind"] == "done":
            return
        step = prompt["step"]
        value = answers.get(step, "ok" if prompt["kind"] == "info" else None)
        status, data = _call(port, "POST", f"/api/v1/assessments/{token}/answers", {"step": step, "value": value})
        assert status == 200, data
        prompt = data["prompt"]
    pytest.fail("the flow did not end")


def _setup(app) -> str:
    """acme (version 1) with anna as its manager; its respondent link."""
    add_organisation(app, "acme", "ACME GmbH")
    with app.app_context():
        session = db.session()
        create_manager(session, "anna@acme.example", [session.scalar(select(Organisation).where(Organisation.slug == "acme"))])
    return add_respondent_link(app, "acme")


def _env(app, tmp_path: Path, locales_dir: Path, mail_sink, queue: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SECRET_KEY": "test",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "FLASK_LOCALES_DIR": str(locales_dir),
        "FLASK_RATELIMIT_ENABLED": "false",
        "TASK_QUEUE_URL": queue,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(mail_sink.port),
        **extra,
    }


def _group_gone(process: subprocess.Popen, timeout: float = 30) -> bool:
    """Whether every process of the group (the server and its worker) has ended."""
    deadline = time.monotonic() + timeout
    try:
        process.wait(timeout=timeout)  # the server itself (a zombie until reaped would still count)
    except subprocess.TimeoutExpired:
        return False
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def _children(pid: int) -> list[str]:
    """The command lines of a process's children (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append((entry / "cmdline").read_text().replace("\0", " "))
            except (OSError, ValueError, IndexError):
                continue
    return found


def test_the_server_starts_its_worker_which_mails_a_completion_and_both_stop_on_ctrl_c(tmp_path, locales_dir, mail_sink):
    app = _fresh_app(f"sqlite:///{tmp_path / 'run.sqlite'}", locales_dir)
    link = _setup(app)
    port = free_port()
    env = _env(app, tmp_path, locales_dir, mail_sink, f"sqlite:///{tmp_path / 'tasks.sqlite'}")
    log = tmp_path / "run.log"
    server = start_server([*CLI, "run", "--with-worker", "--port", str(port)], env, log, port)
    try:
        assert any(" worker" in command for command in _children(server.pid)), _children(server.pid)
        complete_over_http(port, link, PLATFORM)
        [message] = mail_sink.wait_for(1)  # the worker was nudged after the commit: no minute's wait for the tick
        assert message["To"] == "anna@acme.example" and "Checkliste" in message.get_body(preferencelist=("plain",)).get_content()
        assert f"http://127.0.0.1:{port}/manage/" in message.get_body(preferencelist=("plain",)).get_content()  # links from its address
    finally:
        os.killpg(server.pid, signal.SIGINT)  # Ctrl-C reaches the terminal's whole process group
        assert _group_gone(server), (subprocess.run(["ps", "-eo", "pid,pgid,stat,cmd"], capture_output=True, text=True).stdout, log.read_text()[-3000:])
    assert "Starting the worker" in log.read_text()


def _worker(env: dict[str, str], log: Path, threads: int = 1) -> subprocess.Popen:
    with log.open("a") as out:
        return subprocess.Popen([*CLI, "worker", "--workers", str(threads)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


@pytest.mark.postgres
def test_two_hosts_on_redis_share_one_queue_and_send_each_reminder_once(tmp_path, locales_dir, mail_sink, pg_url):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/13").flushdb()
    except redis.exceptions.ConnectionError:
        from tests.conftest import skip_or_fail

        skip_or_fail("Redis is not running on 127.0.0.1:6379")
    queue = "redis://127.0.0.1:6379/13"
    app = _fresh_app(pg_url, locales_dir, TASK_QUEUE_URL=queue)
    _setup(app)
    with app.app_context():
        session = db.session()
        organisations = []
        for n in range(6):  # six organisations, each with its own manager and an item due in 5 days
            organisation = Organisation(slug=f"org{n}", name=f"Org {n}", flow_version=1)
            session.add(organisation)
            organisations.append(organisation)
        session.commit()
        for n, organisation in enumerate(organisations):
            create_manager(session, f"m{n}@example.org", [organisation])
    for n in range(6):
        _record_with_due_item(app, f"org{n}", f"m{n}@example.org")
    env = _env(app, tmp_path, locales_dir, mail_sink, queue, REMINDERS_HOUR="0", RETENTION_HOUR="0")
    hosts = [_worker(env, tmp_path / "a.log", 2), _worker(env, tmp_path / "b.log", 2)]
    try:
        tick = app.extensions["huey_tasks"]["tick"]
        for _ in range(8):  # both hosts' schedulers would enqueue a tick each minute: here eight at once
            tick()
        mail_sink.wait_for(6)
        time.sleep(3)  # a duplicate would arrive now
    finally:
        for host in hosts:
            stop_gunicorn(host, signal.SIGINT)
    recipients = sorted(m["To"] for m in mail_sink.messages)
    assert recipients == sorted(f"m{n}@example.org" for n in range(6)), recipients
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(JobRun).where(JobRun.name == "reminders")) == 1
    logs = (tmp_path / "a.log").read_text() + (tmp_path / "b.log").read_text()
    assert "Traceback" not in logs, logs


def _record_with_due_item(app, slug: str, owner: str) -> None:
    """A checklist of record for the organisation (version 1, the Platform) and WA-10 owned by `owner`, due in 5 days."""
    from bot.store import tracking
    from bot.store.events import CLI as CLI_ACTOR
    from bot.store.models import Assessment, Manager
    from bot.turns import TurnService

    with app.app_context():
        session = db.session()
        organisation = session.scalar(select(Organisation).where(Organisation.slug == slug))
        engine = TurnService(session, app.extensions["engines"]).engine_for_organisation(organisation)
        answers = engine.effective_answers(PLATFORM)
        session.add(
            Assessment(
                organisation_id=organisation.id, flow_id="whatsapp_gdpr", flow_version=1, state="done", answers=answers, completed_answers=answers,
                locale="de", started_via="respondent_link", completed_at=db_now(), recorded_at=db_now(),
            )
        )
        session.commit()
        manager = session.scalar(select(Manager).where(Manager.email == owner))
        tracking.update_item(session, organisation, "WA-10", 0, {"owner": owner, "due": (date.today() + timedelta(days=5)).isoformat()}, CLI_ACTOR)
        assert manager is not None


def db_now():
    from bot.store.models import utcnow

    return utcnow()


def test_a_worker_killed_mid_send_loses_nothing(tmp_path, locales_dir, mail_sink):
    app = _fresh_app(f"sqlite:///{tmp_path / 'kill.sqlite'}", locales_dir, TASK_QUEUE_URL=f"sqlite:///{tmp_path / 'tasks.sqlite'}", OUTBOX_CLAIM_SECONDS=2)
    _setup(app)
    _record_with_due_item(app, "acme", "anna@acme.example")
    from bot import jobs

    with app.app_context():
        jobs.run_job(app, "reminders")  # one reminder mail in the outbox (a job run sends its own mails: it nudges nobody)
    app.extensions["huey_tasks"]["send_outbox"]()  # as a web request's commit would: a task in the (file) queue
    mail_sink.delay = 4  # the SMTP server takes its time: the worker is mid-send when it is killed
    env = _env(app, tmp_path, locales_dir, mail_sink, f"sqlite:///{tmp_path / 'tasks.sqlite'}", OUTBOX_CLAIM_SECONDS="2")
    worker = _worker(env, tmp_path / "w.log")
    try:
        deadline = time.monotonic() + 30
        while mail_sink.started == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert mail_sink.started == 1, (tmp_path / "w.log").read_text()
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        with app.app_context():
            row = db.session().scalar(select(OutboxMessage).where(OutboxMessage.key.like("notices:%")))
            assert row.status == "pending" and row.sent_at is None  # not recorded as sent: it will be sent again
        mail_sink.delay = 0
        time.sleep(2.5)  # the dead worker's claim runs out
        worker = _worker(env, tmp_path / "w.log")
        app.extensions["huey_tasks"]["send_outbox"]()  # the next nudge (or the tick, at the latest within a minute)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with app.app_context():
                status = db.session().scalar(select(OutboxMessage.status).where(OutboxMessage.key.like("notices:%")))
            if status == "sent":
                break
            time.sleep(0.1)
        assert status == "sent", (tmp_path / "w.log").read_text()
    finally:
        stop_gunicorn(worker, signal.SIGINT)
    # at least once: the copy the killed worker had handed over may have arrived too, but not more
    assert 1 <= len(mail_sink.messages) <= 2 and {m["To"] for m in mail_sink.messages} == {"anna@acme.example"}
