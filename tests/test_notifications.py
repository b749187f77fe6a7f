"""Reminders, completions and digests by mail: notices, the sent-log, the outbox, the jobs; against a real SMTP server on loopback."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from bot import jobs
from bot.store import db, notifications
from bot.store.managers import create_manager
from bot.store.models import JobRun, Manager, Notice, Organisation, OutboxMessage
from tests.test_trusted_results import PLATFORM, complete, manager_call

BERLIN = ZoneInfo("Europe/Berlin")


def at(day: date, hour: int = 7, minute: int = 5) -> datetime:
    """A moment on `day` in Berlin, as UTC (the jobs' clock)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


@pytest.fixture
def acme(world, mail_sink):
    """acme with its checklist of record (WA-10 and WA-15 critical), mail on, anna owning WA-10 due in 20 days."""
    world.app.config.update(mail_sink.config)
    complete(world, world.acme_link, PLATFORM)
    send(world)  # the completion's own notice (anna is told immediately)
    mail_sink.messages.clear()
    world.due = date.today() + timedelta(days=20)
    body = {"owner": "anna@acme.example", "due": world.due.isoformat(), "version": 0}
    assert manager_call(world, "PATCH", "/api/v1/orgs/acme/items/WA-10", body).status_code == 200
    return world


def run(world, name: str, now: datetime):
    """Run one job at `now` (as a day's scheduled run would) in an app context; its summary."""
    with world.app.app_context():
        return jobs.run_job(world.app, name, now, period=f"t{now:%Y%m%d%H%M}")


def send(world, now: datetime | None = None):
    """Mail what is due immediately and send the outbox."""
    with world.app.app_context():
        return jobs.outbox(world.app, now or datetime.now(UTC))


def parts(message) -> tuple[str, str]:
    """The plain-text and HTML parts of a message."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def set_cadence(world, email: str, **chosen: str) -> None:
    """Set a manager's cadences."""
    with world.app.app_context():
        session = db.session()
        notifications.set_cadences(session, session.scalar(select(Manager).where(Manager.email == email)), chosen)


def test_an_owner_is_reminded_once_per_window_and_weekly_when_overdue(acme, mail_sink):
    world, due = acme, acme.due
    # 20 days ahead: the 30-day window; a second run the same day or the next sends nothing new
    for offset in (0, 0, 1):
        run(world, "reminders", at(date.today() + timedelta(days=offset)))
        send(world)
    [first] = mail_sink.wait_for(1)
    assert first["To"] == "anna@acme.example" and first["Subject"] == "WA Onboarding: 1 Hinweis"
    text, html = parts(first)
    assert "WA-10" in text and due.strftime("%d.") in text  # German, with the date in words
    link = world.app.config["PUBLIC_URL"] + "/manage/orgs/acme/items/WA-10"
    assert link in text and f'href="{link}"' in html
    assert "<img" not in html  # no tracking pixels
    assert first["List-Unsubscribe"].startswith("<" + world.app.config["PUBLIC_URL"] + "/unsubscribe/")
    # the 7-day and the 1-day windows, each once (a missed day is caught up by the nearest window)
    for offset in (5, 14, 15, 19, 19):
        run(world, "reminders", at(due - timedelta(days=20 - offset)))
        send(world)
    assert len(mail_sink.messages) == 3
    assert "morgen" in parts(mail_sink.messages[-1])[0] or "1 Tag" in parts(mail_sink.messages[-1])[0]
    # overdue: once at once, then once a week, not daily
    for offset in (1, 2, 6, 7, 8):
        run(world, "reminders", at(due + timedelta(days=offset)))
        send(world)
    assert len(mail_sink.messages) == 5
    assert "überfällig" in parts(mail_sink.messages[-1])[0]
    with world.app.app_context():
        keys = db.session().scalars(select(Notice.key).where(Notice.topic.in_(("item_due", "item_overdue"))).order_by(Notice.id)).all()
    assert [k.split(":")[0] + ":" + k.split(":")[-1] for k in keys] == ["item_due:30", "item_due:7", "item_due:1", "item_overdue:0", "item_overdue:1"]


def test_without_an_owner_every_manager_is_told_in_their_language_and_a_closed_item_not_at_all(acme, mail_sink):
    world = acme
    with world.app.app_context():
        session = db.session()
        acme_org = session.scalar(select(Organisation).where(Organisation.slug == "acme"))
        bea, _token = create_manager(session, "bea@acme.example", [acme_org])
        bea.locale = "en"
        session.commit()
    soon = (date.today() + timedelta(days=3)).isoformat()
    assert manager_call(world, "PATCH", "/api/v1/orgs/acme/items/WA-15", {"due": soon, "version": 0}).status_code == 200
    body = {"workflow": "closed", "version": manager_call(world, "GET", "/api/v1/orgs/acme/items/WA-10").get_json()["item"]["tracking"]["version"]}
    assert manager_call(world, "PATCH", "/api/v1/orgs/acme/items/WA-10", body).status_code == 200
    run(world, "reminders", at(date.today()))
    send(world)
    messages = {m["To"]: m for m in mail_sink.wait_for(2)}
    assert set(messages) == {"anna@acme.example", "bea@acme.example"}
    english = parts(messages["bea@acme.example"])[0]
    assert "WA-15" in english and "is due on" in english and "WA-10" not in english
    assert "fällig" in parts(messages["anna@acme.example"])[0]


def test_one_mail_per_recipient_groups_every_kind_of_reminder(acme, mail_sink):
    world = acme
    today = date.today()
    with world.app.app_context():
        session = db.session()
        organisation = session.scalar(select(Organisation).where(Organisation.slug == "acme"))
        # the checklist was confirmed 350 days ago: its review falls due within 30 days
        session.execute(update(organisation.__class__).where(Organisation.id == organisation.id).values(flow_version=None))
        from bot.store.models import Assessment

        session.execute(update(Assessment).where(Assessment.organisation_id == organisation.id).values(recorded_at=datetime.now(UTC) - timedelta(days=350)))
        session.commit()
    link = {"url": "https://dms.example/avv", "name": "AVV Anbieter", "expires": (today + timedelta(days=10)).isoformat()}
    assert manager_call(world, "POST", "/api/v1/orgs/acme/items/WA-10/evidence", link).status_code == 201
    risk = {"reason": "Bis zum Wechsel des Anbieters", "until": (today + timedelta(days=5)).isoformat()}
    assert manager_call(world, "PUT", "/api/v1/orgs/acme/items/WA-15/risk-acceptance", risk).status_code == 200
    summary = run(world, "reminders", at(today))
    assert summary["mails"] == 1 and summary["notices"] >= 5, summary
    send(world)
    [message] = mail_sink.wait_for(1)
    text = parts(message)[0]
    assert "AVV Anbieter" in text  # evidence expiring
    assert "Risikoakzeptanz" in text  # risk acceptance ending
    assert "Überprüfung" in text  # review due
    assert "neue Version" in text  # version 2 is out and acme is no longer pinned
    assert "WA-10" in text  # the item due in 20 days


def test_cadences_off_daily_weekly_and_immediately(acme, mail_sink):
    world = acme
    set_cadence(world, "anna@acme.example", reminders="off")
    run(world, "reminders", at(date.today()))
    send(world)
    assert mail_sink.messages == []
    set_cadence(world, "anna@acme.example", reminders="weekly")
    today = date.today()
    not_monday = today + timedelta(days=1 if today.weekday() == 0 else 0)
    monday = not_monday + timedelta(days=(7 - not_monday.weekday()) % 7)
    run(world, "reminders", at(not_monday))
    send(world)
    assert mail_sink.messages == []  # kept for Monday
    run(world, "reminders", at(monday))
    send(world)
    assert len(mail_sink.wait_for(1)) == 1
    # completions: immediately by default, into the next daily mail when chosen so
    set_cadence(world, "anna@acme.example", completions="daily")
    complete(world, world.acme_link, PLATFORM)
    send(world)
    assert len(mail_sink.messages) == 1
    run(world, "reminders", at(monday + timedelta(days=1)))
    send(world)
    assert len(mail_sink.wait_for(2)) == 2 and "abgeschlossen" in parts(mail_sink.messages[-1])[0]
    # every mail carries one kind and the link that turns exactly that kind off
    from bot.mail import read_unsubscribe_token

    kinds = [read_unsubscribe_token(world.app, m["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1])[1] for m in mail_sink.messages]
    assert kinds == ["reminders", "completions"]


def test_a_completed_assessment_and_a_submission_tell_the_managers_at_once(world, mail_sink):
    world.app.config.update(mail_sink.config)
    complete(world, world.acme_link, PLATFORM)
    send(world)
    [recorded] = mail_sink.wait_for(1)
    assert recorded["To"] == "anna@acme.example" and "Checkliste" in parts(recorded)[0]
    token = complete(world, world.acme_key, PLATFORM)  # a public self-assessment tells nobody ...
    send(world)
    assert len(mail_sink.messages) == 1
    consent = world.api.call("POST", f"/api/v1/assessments/{token}/consent", {"contact_email": "kunde@example.de"})
    assert consent.status_code == 200  # ... until it is passed on
    send(world)
    assert len(mail_sink.wait_for(2)) == 2 and "Selbstprüfung" in parts(mail_sink.messages[-1])[0]
    assert "kunde@example.de" not in mail_sink.messages[-1].as_string()  # the contact stays in the manager area
    assert all(m["To"] != "otto@other.example" for m in mail_sink.messages)  # other organisations hear nothing


def test_with_mail_off_nothing_is_lost_and_it_goes_out_once_mail_is_on(acme, mail_sink):
    world = acme
    world.app.config["MAIL_SERVER"] = None
    run(world, "reminders", at(date.today()))
    assert send(world)["mail_off"] == 1
    with world.app.app_context():
        assert db.session().scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")) == 1
    world.app.config.update(mail_sink.config)
    assert send(world)["sent"] == 1
    assert len(mail_sink.wait_for(1)) == 1


def test_a_failing_smtp_server_is_tried_again_later(acme, mail_sink):
    world = acme
    world.app.config.update(MAIL_PORT=1, WEBHOOK_RETRY_DELAYS=[0, 0])  # nothing listens on port 1
    run(world, "reminders", at(date.today()))
    report = send(world)
    assert report["failed"] == 1 and report["sent"] == 0
    world.app.config.update(mail_sink.config)
    assert send(world)["sent"] == 1 and len(mail_sink.wait_for(1)) == 1
    with world.app.app_context():
        row = db.session().scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1))  # the reminder (the completion's went first)
        assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)


def test_the_weekly_digest_sums_up_every_organisation_of_a_consultant(acme, mail_sink):
    world = acme
    with world.app.app_context():
        session = db.session()
        organisations = list(session.scalars(select(Organisation)))
        create_manager(session, "carla@consult.example", organisations)
    set_cadence(world, "carla@consult.example", digest="weekly", reminders="off", completions="off")
    today = date.today()
    monday = today + timedelta(days=(7 - today.weekday()) % 7)
    run(world, "digest", at(monday))
    run(world, "digest", at(monday + timedelta(days=1)))  # once a week
    send(world)
    [message] = mail_sink.wait_for(1)
    assert message["To"] == "carla@consult.example" and "wöchentliche" in message["Subject"].lower()
    text = parts(message)[0]
    assert "ACME GmbH" in text and "Other AG" in text and "3 offen" in text
    assert "/unsubscribe/" in message["List-Unsubscribe"]


def test_the_tick_runs_each_daily_job_once_after_its_hour_and_catches_up_a_missed_day(acme, mail_sink):
    world = acme
    today = date.today()
    with world.app.app_context():
        assert set(jobs.tick(world.app, at(today, 2, 59))) == {"outbox"}
        assert set(jobs.tick(world.app, at(today, 6, 59))) == {"retention", "outbox"}  # retention at 03:00
        assert set(jobs.tick(world.app, at(today, 7, 0))) == {"reminders", "digest", "outbox"}
        assert set(jobs.tick(world.app, at(today, 7, 1))) == {"outbox"}  # not again today
        # the worker was down all of the next day: the day after, the first tick after 07:00 catches up
        assert "reminders" in jobs.tick(world.app, at(today + timedelta(days=2), 9, 30))
        runs = db.session().scalars(select(JobRun.period).where(JobRun.name == "reminders").order_by(JobRun.id)).all()
    assert runs == [today.isoformat(), (today + timedelta(days=2)).isoformat()]
    assert len(mail_sink.wait_for(1)) == 1


def test_a_run_claimed_by_another_worker_is_not_run_twice_and_a_dead_run_is_taken_over(acme):
    world = acme
    now = at(date.today())
    with world.app.app_context():
        session = db.session()
        session.add(JobRun(name="reminders", period="p1", started_at=now, status="running", summary={}))
        session.commit()
        assert jobs.run_job(world.app, "reminders", now + timedelta(minutes=5), period="p1") is None
        assert jobs.run_job(world.app, "reminders", now + timedelta(hours=2), period="p1") is not None
        assert session.scalar(select(JobRun.status).where(JobRun.period == "p1")) == "done"


def test_deleting_an_organisation_drops_its_notices_and_unsent_mails(acme):
    world = acme
    run(world, "reminders", at(date.today()))
    with world.app.app_context():
        assert db.session().scalar(select(func.count()).select_from(Notice)) >= 1
    from click.testing import CliRunner

    from bot.cli import cli

    runner = CliRunner()
    env = {"DATABASE_URL": world.app.config["DATABASE_URL"], "SECRET_KEY": "test", "TASK_QUEUE_URL": "memory://"}
    result = runner.invoke(cli, ["delete-org", "acme", "--yes"], env=env)
    assert result.exit_code == 0, result.output
    with world.app.app_context():
        session = db.session()
        assert session.scalar(select(func.count()).select_from(Notice)) == 0
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0  # the unsent reminder about acme too


def test_reminders_fire_the_due_evidence_and_review_webhooks_once(acme):
    world = acme
    from bot import webhooks
    from bot.store.models import WebhookEndpoint

    with world.app.app_context():
        session = db.session()
        organisation = session.scalar(select(Organisation).where(Organisation.slug == "acme"))
        secret = webhooks.encrypt_secret(world.app.config, webhooks.new_secret())
        events = ["item.due", "evidence.expiring", "review.due"]
        session.add(WebhookEndpoint(organisation_id=organisation.id, url="https://93.184.215.14/hook", events=events, secret_encrypted=secret, created_by="t"))
        session.commit()
    soon = {"url": "https://dms.example/avv", "name": "AVV geheim", "expires": (date.today() + timedelta(days=3)).isoformat()}
    assert manager_call(world, "POST", "/api/v1/orgs/acme/items/WA-10/evidence", soon).status_code == 201
    run(world, "reminders", at(date.today()))
    run(world, "reminders", at(date.today() + timedelta(days=1)))  # the same windows: nothing new
    with world.app.app_context():
        rows = db.session().scalars(select(OutboxMessage).where(OutboxMessage.channel == "webhook").order_by(OutboxMessage.id)).all()
    assert sorted(r.event for r in rows) == ["evidence.expiring", "item.due"]
    due = next(r for r in rows if r.event == "item.due").payload["body"]
    assert due["type"] == "item.due" and due["data"] == {"organisation": "acme", "item": "WA-10", "due": acme.due.isoformat(), "overdue": False}
    assert "AVV geheim" not in str([r.payload for r in rows])  # ids, not people's text


def _cli(world, *args: str, **env: str):
    from click.testing import CliRunner

    from bot.cli import cli

    base = {"DATABASE_URL": world.app.config["DATABASE_URL"], "SECRET_KEY": "test", "TASK_QUEUE_URL": "memory://", "PUBLIC_URL": "http://localhost"}
    return CliRunner().invoke(cli, list(args), env={**base, **env})


def test_jobs_list_and_run_work_without_a_worker_and_twice_changes_nothing(acme, mail_sink):
    world = acme
    mail = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(mail_sink.port)}
    listed = _cli(world, "jobs", "list")
    assert listed.exit_code == 0 and "reminders" in listed.output and "not run yet" in listed.output
    first = _cli(world, "jobs", "run", "reminders", **mail)
    assert first.exit_code == 0, first.output
    assert '"mails": 1' in first.output and '"sent": 1' in first.output
    again = _cli(world, "jobs", "run", "reminders", **mail)
    assert again.exit_code == 0 and '"mails": 0' in again.output and '"notices": 0' in again.output
    assert len(mail_sink.wait_for(1)) == 1
    listed = _cli(world, "jobs", "list")
    assert "reminders" in listed.output and "(done)" in listed.output
    for name in ("digest", "retention", "outbox"):
        assert _cli(world, "jobs", "run", name, **mail).exit_code == 0
    assert _cli(world, "jobs", "run", "nonsense").exit_code == 2


def test_mail_test_sends_a_message_or_says_why_not(world, mail_sink):
    sent = _cli(world, "mail-test", "ops@example.de", MAIL_SERVER="127.0.0.1", MAIL_PORT=str(mail_sink.port))
    assert sent.exit_code == 0, sent.output
    [message] = mail_sink.wait_for(1)
    assert message["To"] == "ops@example.de" and "Testnachricht" in message["Subject"]
    off = _cli(world, "mail-test", "ops@example.de")
    assert off.exit_code == 1 and "MAIL_SERVER" in off.output
    closed = _cli(world, "mail-test", "ops@example.de", MAIL_SERVER="127.0.0.1", MAIL_PORT="1")
    assert closed.exit_code == 1 and "Could not send" in closed.output
    assert _cli(world, "mail-test", "not an address", MAIL_SERVER="127.0.0.1", MAIL_PORT=str(mail_sink.port)).exit_code == 2
