"""Password reset by e-mail: the same answer for every address, a single-use link valid 1 hour that ends every session, limits per client and address."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.delivery import flush_outbox
from bot.store import db
from bot.store.managers import create_manager
from bot.store.models import Event, OutboxMessage, PasswordReset, utcnow
from bot.web.limits import limiter
from tests.conftest import _fresh_app
from tests.test_people import PASSWORD, browser, csrf, events
from tests.test_people import app as app  # the fixture: acme with ada and max, other with olga, root

NEW_PASSWORD = "a quiet harbour at dawn"
LINK = re.compile(r"http://localhost/manage/reset/[A-Za-z0-9_-]+")
SAME_NOTE = "If an account with this address exists, we have sent it a link"


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(db.session().scalars(select(OutboxMessage).where(OutboxMessage.event == "password_reset").order_by(OutboxMessage.id)))
        db.session().expunge_all()
        return rows


def resets(app) -> list[PasswordReset]:
    with app.app_context():
        rows = list(db.session().scalars(select(PasswordReset).order_by(PasswordReset.id)))
        db.session().expunge_all()
        return rows


def ask(client, email: str, **environ):
    return client.post("/manage/reset?lang=en", data={"csrf_token": csrf(client, "/manage/login"), "email": email}, environ_base=environ or {})


def set_password(client, path: str, password: str = NEW_PASSWORD, repeat: str | None = None):
    data = {"csrf_token": csrf(client, "/manage/login"), "password": password, "password_repeat": password if repeat is None else repeat}
    return client.post(path + "?lang=en", data=data)


def logged_in(client) -> bool:
    return client.get("/manage/").status_code == 200


def can_log_in(app, email: str, password: str) -> bool:
    client = app.test_client()
    return client.post("/manage/login", data={"csrf_token": csrf(client, "/manage/login"), "email": email, "password": password}).status_code == 303


def mailed_link(app, mail_sink, count: int = 1) -> str:
    with app.app_context():
        flush_outbox(app)
    message = mail_sink.wait_for(count)[count - 1]
    plain, html = message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()
    link = LINK.search(plain).group(0)
    assert link in html and "<img" not in html
    return link.removeprefix("http://localhost")


def test_the_login_page_offers_the_reset(app):
    page = app.test_client().get("/manage/login?lang=en").get_data(as_text=True)
    assert 'id="forgot-password"' in page and 'href="/manage/reset?lang=en"' in page and "Forgot your password?" in page


def test_a_reset_link_by_mail_sets_a_new_password_once_and_ends_every_session(app, mail_sink):
    app.config.update(mail_sink.config)
    office, phone = browser(app, "max@acme.example"), browser(app, "max@acme.example")
    other = browser(app, "ada@acme.example")
    client = app.test_client()
    response = ask(client, " MAX@acme.example ")
    assert response.status_code == 200 and SAME_NOTE in response.get_data(as_text=True)
    [row] = outbox(app)
    assert row.recipient == "max@acme.example" and "/manage/reset/" not in str(row.payload)  # the link is sealed
    path = mailed_link(app, mail_sink)
    [message] = mail_sink.messages
    assert message["To"] == "max@acme.example" and message["Content-Language"] == "de"
    form = client.get(path + "?lang=en")
    assert form.status_code == 200 and 'data-page="reset-password"' in form.get_data(as_text=True)
    done = set_password(client, path)
    assert done.status_code == 303 and done.headers["Location"].startswith("/manage/login")
    assert "Your new password has been saved" in client.get(done.headers["Location"]).get_data(as_text=True)
    assert not logged_in(office) and not logged_in(phone) and logged_in(other)  # every session of max ended, nobody else's
    assert can_log_in(app, "max@acme.example", NEW_PASSWORD) and not can_log_in(app, "max@acme.example", PASSWORD)
    # the link works once
    again = client.get(path + "?lang=en")
    assert again.status_code == 410 and 'data-reason="used"' in again.get_data(as_text=True)
    assert set_password(client, path, "another fine password here").status_code == 410
    assert can_log_in(app, "max@acme.example", NEW_PASSWORD)
    requested, reset = events(app, "password.reset_requested"), events(app, "password.reset")
    assert [(e.actor, e.subject, e.organisation_slug) for e in requested] == [("anonymous", "max@acme.example", "acme")]
    assert [(e.actor, e.organisation_slug) for e in reset] == [("max@acme.example", "acme")]
    for event in requested + reset:
        assert event.details == {}  # no link, token or password


def test_an_unknown_address_gets_the_same_answer_and_nothing_is_stored(app, mail_sink):
    app.config.update(mail_sink.config)
    known = ask(app.test_client(), "max@acme.example").get_data(as_text=True)
    unknown = ask(app.test_client(), "nobody@acme.example")
    assert unknown.status_code == 200
    strip = re.compile(r'name="csrf_token" value="[^"]+"|<meta name="csrf-token" content="[^"]+"')
    assert strip.sub("", unknown.get_data(as_text=True)) == strip.sub("", known)
    assert [r.recipient for r in outbox(app)] == ["max@acme.example"] and len(resets(app)) == 1
    with app.app_context():
        assert db.session().scalar(select(Event.id).where(Event.subject == "nobody@acme.example")) is None


def test_an_expired_link_and_an_unknown_one_set_nothing(app, mail_sink):
    app.config.update(mail_sink.config)
    ask(app.test_client(), "max@acme.example")
    path = mailed_link(app, mail_sink)
    with app.app_context():
        db.session().execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session().commit()
    client = app.test_client()
    page = client.get(path + "?lang=en")
    assert page.status_code == 410 and 'data-reason="expired"' in page.get_data(as_text=True)
    assert set_password(client, path).status_code == 410
    assert can_log_in(app, "max@acme.example", PASSWORD) and events(app, "password.reset") == []
    unknown = client.get("/manage/reset/" + "x" * 43 + "?lang=en")
    assert unknown.status_code == 404 and 'data-reason="unknown"' in unknown.get_data(as_text=True)
    assert set_password(client, "/manage/reset/" + "y" * 5000).status_code == 404


def test_a_newer_link_ends_with_the_password_it_set_every_older_one(app, mail_sink):
    app.config.update(mail_sink.config)
    ask(app.test_client(), "max@acme.example")
    first = mailed_link(app, mail_sink, 1)
    ask(app.test_client(), "max@acme.example")
    second = mailed_link(app, mail_sink, 2)
    assert set_password(app.test_client(), second).status_code == 303
    assert app.test_client().get(first).status_code == 410
    assert all(r.used_at is not None for r in resets(app))


@pytest.mark.parametrize("email", ["not-an-address", "", "a" * 250 + "@example.de", "max@acme.example\x01"])
def test_a_bad_address_is_refused_in_the_pages_language_and_nothing_is_sent(app, email):
    app.config["MAIL_SERVER"] = "127.0.0.1"
    response = ask(app.test_client(), email)
    assert response.status_code == 422 and "Please enter a valid e-mail address" in response.get_data(as_text=True)
    assert outbox(app) == [] and resets(app) == []


def test_a_nul_in_the_address_is_refused_at_the_edge(app):
    app.config["MAIL_SERVER"] = "127.0.0.1"
    response = ask(app.test_client(), "max@acme.example\x00")
    assert response.status_code == 400 and "The request could not be understood." in response.get_data(as_text=True)
    assert outbox(app) == [] and resets(app) == []


@pytest.mark.parametrize(
    ("password", "repeat", "message"),
    [
        ("short one", None, "The password needs at least 12 characters."),
        ("Password123456!", None, "This password is too common or too easy to guess"),
        ("max@acme.example", None, "This password is too common or too easy to guess"),
        ("x" * 2000, None, "The password may have at most 128 characters."),
        ("line\nbreak is not allowed", None, "The password may not contain control characters."),
        (NEW_PASSWORD, "a different phrase entirely", "The two passwords are not the same."),
    ],
)
def test_a_password_the_rules_refuse_changes_nothing(app, mail_sink, password, repeat, message):
    app.config.update(mail_sink.config)
    session_before = browser(app, "max@acme.example")
    ask(app.test_client(), "max@acme.example")
    path = mailed_link(app, mail_sink)
    response = set_password(app.test_client(), path, password, repeat)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert can_log_in(app, "max@acme.example", PASSWORD) and logged_in(session_before)
    assert [r.used_at for r in resets(app)] == [None] and events(app, "password.reset") == []
    assert set_password(app.test_client(), path).status_code == 303  # the link still works


def test_without_mail_the_page_says_so_and_stores_nothing(app):
    page = app.test_client().get("/manage/reset?lang=en").get_data(as_text=True)
    assert "not available on this server" in page and 'name="email"' not in page
    response = ask(app.test_client(), "max@acme.example")
    assert response.status_code == 200 and "not available on this server" in response.get_data(as_text=True)
    assert outbox(app) == [] and resets(app) == []


def test_an_operator_without_organisations_gets_one_audit_entry(app):
    app.config["MAIL_SERVER"] = "127.0.0.1"
    ask(app.test_client(), "root@example.org")
    assert [(e.organisation_slug, e.subject) for e in events(app, "password.reset_requested")] == [(None, "root@example.org")]


# -- limits ---------------------------------------------------------------------------------------


@pytest.fixture
def limited(tmp_path, locales_dir):
    """An app with its rate limits on (password resets: 3 per hour), mail on, a clean limiter."""
    url = f"sqlite:///{tmp_path / 'limits.sqlite'}"
    app = _fresh_app(url, locales_dir, RATELIMIT_ENABLED=True, RATELIMIT_PASSWORD_RESET="3 per hour", MAIL_SERVER="127.0.0.1")
    limiter.reset()
    with app.app_context():
        create_manager(db.session(), "max@acme.example", [], password=PASSWORD)
        create_manager(db.session(), "eva@acme.example", [], password=PASSWORD)
    yield app
    limiter.reset()


def test_one_address_gets_at_most_three_links_an_hour_and_the_fourth_answer_is_the_same(limited):
    for n in range(5):  # each from another client address, so only the e-mail's limit applies
        response = ask(limited.test_client(), "max@acme.example", REMOTE_ADDR=f"192.0.2.{n + 1}")
        assert response.status_code == 200 and SAME_NOTE in response.get_data(as_text=True)
    assert len(outbox(limited)) == 3 and len(resets(limited)) == 3
    assert ask(limited.test_client(), "eva@acme.example", REMOTE_ADDR="192.0.2.9").status_code == 200
    assert len(outbox(limited)) == 4  # another address has its own budget


def test_one_client_asks_at_most_three_times_an_hour(limited):
    client = limited.test_client()
    for email in ["a@example.de", "b@example.de", "max@acme.example"]:
        assert ask(client, email, REMOTE_ADDR="198.51.100.7").status_code == 200
    refused = ask(client, "eva@acme.example", REMOTE_ADDR="198.51.100.7")
    assert refused.status_code == 429 and "Too many requests" in refused.get_data(as_text=True)
    assert [r.recipient for r in outbox(limited)] == ["max@acme.example"]
    assert ask(client, "eva@acme.example", REMOTE_ADDR="198.51.100.8").status_code == 200
