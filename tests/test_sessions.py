"""Manager sessions kept on the server: logout, "end session", a new password, idle and absolute expiry end them at once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bot.store import db, managers
from bot.store.managers import create_manager
from bot.store.models import Manager, ManagerSession, Organisation, utcnow

PASSWORD = "correct horse battery staple"


@pytest.fixture
def app(backend_app):
    """acme with anna and bob, each with a password (SQLite, then PostgreSQL)."""
    with backend_app.app_context():
        session = db.session()
        acme = Organisation(slug="acme", name="ACME GmbH", flow_version=1)
        session.add(acme)
        session.commit()
        create_manager(session, "anna@example.de", [acme], password=PASSWORD)
        create_manager(session, "bob@example.de", [acme], password=PASSWORD)
    return backend_app


def browser(app, email: str = "anna@example.de", agent: str = "Firefox on the office PC"):
    """A test client logged in as `email`."""
    client = app.test_client()
    form = client.get("/manage/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post("/manage/login", data={"csrf_token": token, "email": email, "password": PASSWORD}, headers={"User-Agent": agent})
    assert response.status_code == 303
    return client


def csrf(client, path: str = "/manage/sessions") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def logged_in(client) -> bool:
    return client.get("/manage/").status_code == 200


def copy_cookie(app, client):
    """A second client holding the same session cookie (a stolen or replayed cookie)."""
    thief = app.test_client()
    cookie = client.get_cookie("session")
    thief.set_cookie(cookie.key, cookie.value)
    return thief


def test_logging_out_ends_the_session_on_the_server_so_a_replayed_cookie_opens_nothing(app):
    anna = browser(app)
    thief = copy_cookie(app, anna)
    assert logged_in(thief)  # the same cookie works while the session lasts
    assert anna.post("/manage/logout", data={"csrf_token": csrf(anna, "/manage/")}).status_code == 303
    replay = thief.get("/manage/orgs/acme")
    assert replay.status_code == 302 and "/manage/login" in replay.headers["Location"]
    with app.app_context():
        assert db.session().scalar(select(ManagerSession.ended_at)) is not None


def test_a_manager_sees_their_sessions_and_ends_another_one_at_once(app):
    office = browser(app, agent="Firefox on the office PC")
    phone = browser(app, agent="Safari on the phone")
    bob = browser(app, "bob@example.de")
    page = office.get("/manage/sessions").get_data(as_text=True)
    assert "Firefox on the office PC" in page and "Safari on the phone" in page and "diese Sitzung" in page
    with app.app_context():
        session = db.session()
        phone_id = session.scalar(select(ManagerSession.id).where(ManagerSession.device == "Safari on the phone"))
        bob_id = session.scalar(select(ManagerSession.id).join(Manager).where(Manager.email == "bob@example.de"))
    # anna cannot end bob's session (404, nothing changes), nor one that cannot exist
    assert office.post(f"/manage/sessions/{bob_id}/end", data={"csrf_token": csrf(office)}).status_code == 404
    assert office.post(f"/manage/sessions/{2**40}/end", data={"csrf_token": csrf(office)}).status_code == 404
    assert office.post(f"/manage/sessions/{phone_id}/end", data={}).status_code == 400  # no CSRF token: refused
    assert logged_in(bob) and logged_in(phone)
    ended = office.post(f"/manage/sessions/{phone_id}/end", data={"csrf_token": csrf(office)})
    assert ended.status_code == 303 and not logged_in(phone) and logged_in(office) and logged_in(bob)
    tablet = browser(app, agent="Chrome on the tablet")
    assert office.post("/manage/sessions/end-others", data={"csrf_token": csrf(office)}).status_code == 303
    assert not logged_in(tablet) and logged_in(office) and logged_in(bob)


def test_a_new_password_ends_every_session(app):
    anna = browser(app)
    with app.app_context():
        session = db.session()
        managers.set_password(session, session.scalar(select(Manager).where(Manager.email == "anna@example.de")), "another long passphrase")
    assert not logged_in(anna)


@pytest.mark.parametrize(("column", "age"), [("last_seen_at", timedelta(hours=8, minutes=1)), ("created_at", timedelta(days=7, minutes=1))])
def test_sessions_expire_after_inactivity_and_absolutely(app, column, age):
    anna = browser(app)
    assert logged_in(anna)
    with app.app_context():
        session = db.session()
        session.execute(update(ManagerSession).values({column: utcnow() - age}))
        session.commit()
    assert not logged_in(anna)


def test_the_retention_job_deletes_long_ended_sessions(app):
    from bot import jobs

    browser(app)
    anna = browser(app)
    with app.app_context():
        session = db.session()
        session.execute(update(ManagerSession).where(ManagerSession.id == 1).values(ended_at=utcnow() - timedelta(days=31)))
        session.commit()
        assert jobs.run_job(app, "retention")["sessions"] == 1
        assert session.scalar(select(func.count()).select_from(ManagerSession)) == 1
    assert logged_in(anna)
