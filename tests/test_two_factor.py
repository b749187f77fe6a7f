"""Two-factor login (TOTP): enrolment, the code step, replay, recovery codes, who must use it, throttling, the account page, the audit log."""

from __future__ import annotations

import json
import re
import time
from types import SimpleNamespace

import pyotp
import pytest
from sqlalchemy import func, select

from bot.store import db, managers, two_factor
from bot.store.managers import create_manager
from bot.store.models import Event, Manager, ManagerSession, Organisation, RecoveryCode
from bot.web.limits import limiter
from tests.conftest import _fresh_app

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a quite different passphrase"
SECRET_RE = re.compile(r"data-secret[^>]*>([A-Z2-7 ]+)<")
RECOVERY_RE = re.compile(r"<code>([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})</code>")
TOKENS: dict[str, str] = {}


def _populate(app) -> None:
    """acme (anna, bob) and beta (carl), each manager with a password; anna belongs to beta too."""
    with app.app_context():
        session = db.session()
        acme = Organisation(slug="acme", name="ACME GmbH", flow_version=1)
        beta = Organisation(slug="beta", name="Beta KG", flow_version=1)
        session.add_all([acme, beta])
        session.commit()
        _, TOKENS["anna"] = create_manager(session, "anna@example.de", [acme, beta], password=PASSWORD)
        create_manager(session, "bob@example.de", [acme], password=PASSWORD)
        create_manager(session, "carl@example.de", [beta], password=PASSWORD)


@pytest.fixture
def app(backend_app):
    """The managers on SQLite, then PostgreSQL (no rate limits)."""
    _populate(backend_app)
    return backend_app


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow])])
def limited(request, tmp_path, locales_dir):
    """The managers with the login throttle switched on (3 free failures per account)."""
    url = request.getfixturevalue("pg_session_url") if request.param == "postgres" else f"sqlite:///{tmp_path / 'limited.sqlite'}"
    app = _fresh_app(url, locales_dir, RATELIMIT_ENABLED=True, LOGIN_FREE_FAILURES=3, LOGIN_FREE_FAILURES_PER_ADDRESS=50)
    limiter.reset()
    _populate(app)
    yield app
    limiter.reset()
    app.extensions["db_engine"].dispose()


@pytest.fixture
def clock(monkeypatch):
    """The clock the codes are checked against, moved on by hand (each step of 30 s gives a new code)."""
    now = [time.time()]
    monkeypatch.setattr(two_factor, "time", SimpleNamespace(time=lambda: now[0]))
    return now


def code(secret: str, clock, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock[0] + 30 * steps)


def csrf(client, path: str = "/manage/account?lang=en") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def password_step(client, email: str = "anna@example.de", password: str = PASSWORD):
    """Post the login form; the response is read and closed, as a server does (a failure is audited once the answer is out)."""
    token = csrf(client, "/manage/login?lang=en")
    response = client.post("/manage/login?lang=en", data={"csrf_token": token, "email": email, "password": password})
    response.get_data()
    response.close()
    return response


def browser(app, email: str = "anna@example.de"):
    """A client logged in with the password alone (a manager without two-factor login)."""
    client = app.test_client()
    assert password_step(client, email).status_code == 303
    assert logged_in(client)
    return client


def logged_in(client) -> bool:
    return client.get("/manage/").status_code == 200


def logout(client) -> None:
    client.post("/manage/logout", data={"csrf_token": csrf(client, "/manage/")})


def enrol(client, clock) -> tuple[str, list[str]]:
    """Switch two-factor login on from the account page; the secret as shown and the recovery codes."""
    page = client.get("/manage/account/two-factor?lang=en").get_data(as_text=True)
    secret = SECRET_RE.search(page).group(1).replace(" ", "")
    done = client.post("/manage/account/two-factor?lang=en", data={"csrf_token": csrf(client), "code": code(secret, clock)})
    assert done.status_code == 200
    return secret, RECOVERY_RE.findall(done.get_data(as_text=True))


def manager(app, email: str = "anna@example.de") -> Manager:
    with app.app_context():
        session = db.session()
        row = session.scalar(select(Manager).where(Manager.email == email))
        session.expunge(row)
        return row


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(model).where(*where))


def events(app, action: str | None = None) -> list[Event]:
    with app.app_context():
        query = select(Event).order_by(Event.id)
        if action:
            query = query.where(Event.action == action)
        rows = list(db.session().scalars(query))
        for row in rows:
            db.session().expunge(row)
        return rows


def test_enrolment_shows_a_qr_code_and_the_key_and_is_confirmed_by_a_first_code(app, clock):
    anna = browser(app)
    page = anna.get("/manage/account/two-factor?lang=en").get_data(as_text=True)
    assert '<svg role="img"' in page and "<title>QR code for your authenticator app" in page  # drawn by the app, named for screen readers
    assert "<img" not in page and "http" not in page.split("<svg", 1)[1].split("</svg>", 1)[0].replace("http://www.w3.org", "")
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page
    shown = SECRET_RE.search(page).group(1)
    assert re.fullmatch(r"([A-Z2-7]{4} )+[A-Z2-7]{4}", shown)  # in groups of four
    secret = shown.replace(" ", "")
    assert SECRET_RE.search(anna.get("/manage/account/two-factor?lang=en").get_data(as_text=True)).group(1) == shown  # a reload keeps the key
    stored = manager(app)
    assert stored.totp_secret and secret not in stored.totp_secret and not stored.has_two_factor  # encrypted, not on yet
    wrong = str((int(code(secret, clock)) + 1) % 1000000).zfill(6)
    refused = anna.post("/manage/account/two-factor?lang=en", data={"csrf_token": csrf(anna), "code": wrong})
    assert refused.status_code == 422 and 'role="alert"' in refused.get_data(as_text=True)
    assert not manager(app).has_two_factor and count(app, RecoveryCode) == 0
    done = anna.post("/manage/account/two-factor?lang=en", data={"csrf_token": csrf(anna), "code": code(secret, clock)})
    assert done.status_code == 200
    codes = RECOVERY_RE.findall(done.get_data(as_text=True))
    assert len(codes) == 10 == len(set(codes)) == count(app, RecoveryCode)
    with app.app_context():
        hashes = set(db.session().scalars(select(RecoveryCode.code_hash)))
    assert not any(c in h or c.replace("-", "") in h for c in codes for h in hashes)  # stored hashed
    assert manager(app).has_two_factor
    assert [e.organisation_slug for e in events(app, "two_factor.enabled")] == ["acme", "beta"]  # one entry per organisation
    account = anna.get("/manage/account?lang=en").get_data(as_text=True)
    assert 'data-two-factor="on"' in account and 'data-remaining="10"' in account and 'aria-current="page"' in account
    assert "style=" not in account + page and "<script>" not in account + page  # the policy allows no inline style or script
    assert anna.get("/manage/account/two-factor?lang=en").status_code == 303  # on already: nothing to set up


def test_login_asks_for_the_code_before_any_session_and_a_code_works_only_once(app, clock):
    anna = browser(app)
    secret, _codes = enrol(anna, clock)
    logout(anna)
    sessions_before = count(app, ManagerSession)
    step = password_step(anna)
    assert step.status_code == 303 and step.headers["Location"].startswith("/manage/login/code")
    assert count(app, ManagerSession) == sessions_before and not logged_in(anna)  # no session until the code is right
    page = anna.get("/manage/login/code?lang=en").get_data(as_text=True)
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page and '<label for="code">' in page
    assert "style=" not in page and "<script" not in page and '<label for="recovery_code">' in page
    used = code(secret, clock)  # the enrolment's own code: used already
    replay = anna.post("/manage/login/code?lang=en", data={"csrf_token": csrf(anna, "/manage/login/code?lang=en"), "code": used})
    assert replay.status_code == 401 and "has been used already" in replay.get_data(as_text=True) and not logged_in(anna)
    clock[0] += 30
    fresh = code(secret, clock)
    done = anna.post("/manage/login/code?lang=en", data={"csrf_token": csrf(anna, "/manage/login/code?lang=en"), "code": fresh[:3] + " " + fresh[3:]})
    assert done.status_code == 303 and logged_in(anna) and count(app, ManagerSession) == sessions_before + 1
    assert [e.details for e in events(app, "login.succeeded")][-1] == {"method": "totp"}
    assert [e.details for e in events(app, "login.second_factor_failed")] == [{"step": "code"}, {"step": "code"}]
    logout(anna)
    assert password_step(anna).status_code == 303
    again = anna.post("/manage/login/code?lang=en", data={"csrf_token": csrf(anna, "/manage/login/code?lang=en"), "code": fresh})
    assert again.status_code == 401 and not logged_in(anna)  # replayed within its window: refused
    older = anna.post("/manage/login/code?lang=en", data={"csrf_token": csrf(anna, "/manage/login/code?lang=en"), "code": code(secret, clock, -1)})
    assert older.status_code == 401  # an earlier step's code, still in the window, is older than the last one accepted
    ok = anna.post("/manage/login/code?lang=en", data={"csrf_token": csrf(anna, "/manage/login/code?lang=en"), "code": code(secret, clock, 1)})
    assert ok.status_code == 303 and logged_in(anna)  # the next step's code (a phone's clock a little ahead)


def test_a_recovery_code_works_once_and_new_ones_replace_the_old(app, clock):
    anna = browser(app)
    secret, codes = enrol(anna, clock)
    logout(anna)
    assert password_step(anna).status_code == 303
    typed = codes[0].replace("-", "").lower()  # as people type it
    done = anna.post("/manage/login/code?lang=en", data={"csrf_token": csrf(anna, "/manage/login/code?lang=en"), "recovery_code": typed})
    assert done.status_code == 303
    assert "Recovery codes left: 9" in anna.get("/manage/?lang=en").get_data(as_text=True)  # said on the page the login leads to
    assert [e.details for e in events(app, "recovery_code.used")] == [{"remaining": 9}, {"remaining": 9}]
    assert events(app, "login.succeeded")[-1].details == {"method": "recovery_code"}
    logout(anna)
    assert password_step(anna).status_code == 303
    again = anna.post("/manage/login/code?lang=en", data={"csrf_token": csrf(anna, "/manage/login/code?lang=en"), "recovery_code": codes[0]})
    assert again.status_code == 401 and not logged_in(anna)
    clock[0] += 30
    assert anna.post("/manage/login/code", data={"csrf_token": csrf(anna, "/manage/login/code?lang=en"), "code": code(secret, clock)}).status_code == 303
    # new recovery codes: a fresh code confirms; the old codes stop working
    clock[0] += 30
    renewed = anna.post("/manage/account/recovery-codes?lang=en", data={"csrf_token": csrf(anna), "renew-code": code(secret, clock)})
    assert renewed.status_code == 200
    new_codes = RECOVERY_RE.findall(renewed.get_data(as_text=True))
    assert len(new_codes) == 10 and not set(new_codes) & set(codes) and count(app, RecoveryCode) == 10
    assert len(events(app, "recovery_codes.renewed")) == 2
    logout(anna)
    assert password_step(anna).status_code == 303
    old = anna.post("/manage/login/code", data={"csrf_token": csrf(anna, "/manage/login/code?lang=en"), "recovery_code": codes[1]})
    assert old.status_code == 401
    assert anna.post("/manage/login/code", data={"csrf_token": csrf(anna, "/manage/login/code?lang=en"), "recovery_code": new_codes[1]}).status_code == 303


@pytest.mark.parametrize("rule", ["operator", "organisation"])
def test_a_required_second_factor_leads_through_enrolment_before_any_session(app, clock, rule):
    if rule == "operator":
        app.config["MFA_REQUIRED"] = True
    else:
        with app.app_context():
            session = db.session()
            session.scalar(select(Organisation).where(Organisation.slug == "acme")).mfa_required = True
            session.commit()
        carl = browser(app, "carl@example.de")  # beta does not ask for it: carl logs in as before
        assert logged_in(carl)
    bob = app.test_client()
    before = count(app, ManagerSession)
    step = password_step(bob, "bob@example.de")
    assert step.status_code == 303 and step.headers["Location"].startswith("/manage/login/enrol")
    assert bob.get("/manage/login/code").status_code == 303  # the code step sends an unenrolled manager to enrolment
    page = bob.get("/manage/login/enrol?lang=en").get_data(as_text=True)
    assert "Two-factor login is required for your account" in page and 'class="manage-nav"' not in page
    assert "style=" not in page and "<style" not in page and "<script" not in page  # the policy allows no inline style or script
    assert count(app, ManagerSession) == before and not logged_in(bob)
    secret = SECRET_RE.search(page).group(1).replace(" ", "")
    refused = bob.post(
        "/manage/login/enrol?lang=en",
        data={"csrf_token": csrf(bob, "/manage/login/enrol?lang=en"), "code": "000000" if code(secret, clock) != "000000" else "111111"},
    )
    assert refused.status_code == 422 and count(app, ManagerSession) == before and not manager(app, "bob@example.de").has_two_factor
    done = bob.post("/manage/login/enrol?lang=en", data={"csrf_token": csrf(bob, "/manage/login/enrol?lang=en"), "code": code(secret, clock)})
    assert done.status_code == 200 and len(RECOVERY_RE.findall(done.get_data(as_text=True))) == 10
    assert logged_in(bob) and count(app, ManagerSession) == before + 1 and manager(app, "bob@example.de").has_two_factor
    # required: it cannot be switched off
    clock[0] += 30
    account = bob.get("/manage/account?lang=en").get_data(as_text=True)
    assert "cannot be switched off" in account and 'name="disable-code"' not in account
    off = bob.post(
        "/manage/account/two-factor/disable?lang=en", data={"csrf_token": csrf(bob), "disable-code": code(secret, clock), "disable-password": PASSWORD}
    )
    assert off.status_code == 409 and manager(app, "bob@example.de").has_two_factor


def test_the_half_done_login_expires_after_five_minutes(app, clock):
    app.config["MFA_REQUIRED"] = True
    bob = app.test_client()
    assert password_step(bob, "bob@example.de").status_code == 303
    with bob.session_transaction() as cookie:
        cookie["pending_login"] = {**cookie["pending_login"], "at": int(time.time()) - 301}
    expired = bob.get("/manage/login/enrol?lang=en")
    assert expired.status_code == 303 and expired.headers["Location"].startswith("/manage/login")
    assert bob.get("/manage/login/code").status_code == 303 and not logged_in(bob)


def test_wrong_codes_are_throttled_like_wrong_passwords(limited, clock):
    anna = browser(limited)
    secret, _codes = enrol(anna, clock)
    logout(anna)
    assert password_step(anna).status_code == 303
    wrong = "000000" if code(secret, clock, 1) != "000000" else "111111"
    path = "/manage/login/code?lang=en"
    statuses = [anna.post(path, data={"csrf_token": csrf(anna, path), "code": wrong}).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 401]  # 3 free failures, the 4th makes the account wait
    blocked = anna.post(path, data={"csrf_token": csrf(anna, path), "code": code(secret, clock, 1)})
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1 and "Please wait" in blocked.get_data(as_text=True)
    assert not logged_in(anna) and len(events(limited, "login.second_factor_failed")) == 4 * 2  # each attempt, for each organisation
    # the password step does not clear the count: a known password must not buy more code guesses
    assert password_step(anna).status_code == 429


def test_a_new_api_token_needs_a_fresh_code_with_two_factor_and_the_password_without(app, clock):
    anna = browser(app)
    secret, _codes = enrol(anna, clock)
    old_token = TOKENS["anna"]
    missing = anna.post("/manage/account/token?lang=en", data={"csrf_token": csrf(anna)})
    assert missing.status_code == 422
    password_only = anna.post("/manage/account/token?lang=en", data={"csrf_token": csrf(anna), "token-password": PASSWORD})
    assert password_only.status_code == 422
    replayed = anna.post("/manage/account/token?lang=en", data={"csrf_token": csrf(anna), "token-code": code(secret, clock)})  # the enrolment's code
    assert replayed.status_code == 422
    with app.app_context():
        assert managers.manager_by_token(db.session(), old_token) is not None  # nothing changed yet
    clock[0] += 30
    created = anna.post("/manage/account/token?lang=en", data={"csrf_token": csrf(anna), "token-code": code(secret, clock)})
    assert created.status_code == 200
    token = re.search(r'value="([^"]+)" data-token', created.get_data(as_text=True)).group(1)
    with app.app_context():
        session = db.session()
        assert managers.manager_by_token(session, old_token) is None
        assert managers.manager_by_token(session, token).email == "anna@example.de"
    assert token not in anna.get("/manage/account?lang=en").get_data(as_text=True)  # shown once
    assert len(events(app, "token.rotated")) == 2
    # without two-factor login: the current password
    bob = browser(app, "bob@example.de")
    assert bob.post("/manage/account/token?lang=en", data={"csrf_token": csrf(bob), "token-password": "not my password"}).status_code == 422
    assert bob.post("/manage/account/token?lang=en", data={"csrf_token": csrf(bob), "token-password": PASSWORD}).status_code == 200
    assert anna.post("/manage/account/token", data={"token-code": code(secret, clock, 1)}).status_code == 400  # no CSRF token


def test_disabling_needs_a_code_or_the_password(app, clock):
    anna = browser(app)
    secret, _codes = enrol(anna, clock)
    path = "/manage/account/two-factor/disable?lang=en"
    assert anna.post(path, data={"csrf_token": csrf(anna)}).status_code == 422
    assert anna.post(path, data={"csrf_token": csrf(anna), "disable-password": "wrong password"}).status_code == 422
    assert anna.post(path, data={"csrf_token": csrf(anna), "disable-code": code(secret, clock)}).status_code == 422  # used already
    assert manager(app).has_two_factor
    off = anna.post(path, data={"csrf_token": csrf(anna), "disable-password": PASSWORD})
    assert off.status_code == 303 and not manager(app).has_two_factor and manager(app).totp_secret is None
    assert count(app, RecoveryCode) == 0 and len(events(app, "two_factor.disabled")) == 2
    assert 'data-two-factor="off"' in anna.get("/manage/account?lang=en").get_data(as_text=True)
    logout(anna)
    assert password_step(anna).headers["Location"] == "/manage/"  # the password alone again
    assert anna.post(path, data={"csrf_token": csrf(anna), "disable-password": PASSWORD}).status_code == 409  # off already


def test_changing_the_password_ends_other_sessions_and_keeps_this_one(app):
    anna = browser(app)
    phone = browser(app)
    path = "/manage/account/password?lang=en"
    wrong = anna.post(path, data={"csrf_token": csrf(anna), "current-password": "not it", "new-password": NEW_PASSWORD})
    assert wrong.status_code == 422 and "current password is not correct" in wrong.get_data(as_text=True)
    common = anna.post(path, data={"csrf_token": csrf(anna), "current-password": PASSWORD, "new-password": "password123456"})
    assert common.status_code == 422 and "too common" in common.get_data(as_text=True)
    short = anna.post(path, data={"csrf_token": csrf(anna), "current-password": PASSWORD, "new-password": "short"})
    assert short.status_code == 422 and "at least 12 characters" in short.get_data(as_text=True)
    long = anna.post(path, data={"csrf_token": csrf(anna), "current-password": PASSWORD, "new-password": "x" * 5000})
    assert long.status_code == 422 and "at most 128 characters" in long.get_data(as_text=True)
    assert logged_in(phone) and events(app, "password.changed") == []
    done = anna.post(path, data={"csrf_token": csrf(anna), "current-password": PASSWORD, "new-password": NEW_PASSWORD})
    assert done.status_code == 303
    assert "Your password has been changed" in anna.get("/manage/account?lang=en").get_data(as_text=True)
    assert logged_in(anna) and not logged_in(phone)
    assert len(events(app, "password.changed")) == 2
    fresh = app.test_client()
    assert password_step(fresh, password=PASSWORD).status_code == 401
    assert password_step(fresh, password=NEW_PASSWORD).status_code == 303


def test_bad_input_is_refused_clearly_and_changes_nothing(app, clock):
    anna = browser(app)
    path = "/manage/account/password?lang=en"
    nul = anna.post(path, data={"csrf_token": csrf(anna), "current-password": PASSWORD, "new-password": NEW_PASSWORD + "\x00"})
    assert nul.status_code == 400  # a NUL character is refused at the edge (bot/web/main.py), before any view
    control = anna.post(path, data={"csrf_token": csrf(anna), "current-password": PASSWORD, "new-password": NEW_PASSWORD + "\x01"})
    assert control.status_code == 422 and "control characters" in control.get_data(as_text=True)
    assert anna.post(path, data={"csrf_token": csrf(anna), "current-password": PASSWORD + "\x1b", "new-password": NEW_PASSWORD}).status_code == 422
    assert managers.check_password(manager(app), PASSWORD)
    enrol_path = "/manage/account/two-factor?lang=en"
    anna.get(enrol_path)
    assert anna.post(enrol_path, data={"csrf_token": csrf(anna), "code": "12\x003456"}).status_code == 400
    for bad in ("12\x013456", "1" * 65, ""):
        refused = anna.post(enrol_path, data={"csrf_token": csrf(anna), "code": bad})
        assert refused.status_code == 422 and 'role="alert"' in refused.get_data(as_text=True)
    assert not manager(app).has_two_factor
    secret, _codes = enrol(anna, clock)
    logout(anna)
    assert password_step(anna).status_code == 303
    code_path = "/manage/login/code?lang=en"
    assert anna.post(code_path, data={"csrf_token": csrf(anna, code_path), "code": "12\x003456"}).status_code == 400
    for field, bad in (("code", "12\x013456"), ("code", "9" * 1000), ("recovery_code", "ABCD\x7fEFGH"), ("recovery_code", "ABCD\tEFGH"), ("code", "   ")):
        refused = anna.post(code_path, data={"csrf_token": csrf(anna, code_path), field: bad})
        text = refused.get_data(as_text=True)
        assert refused.status_code == 422 and ("That is not a code" in text or "Please enter" in text), (field, bad)
    assert events(app, "login.second_factor_failed") == [] and not logged_in(anna)  # not attempts at a code: nothing counted
    clock[0] += 30
    assert anna.post(code_path, data={"csrf_token": csrf(anna, code_path), "code": code(secret, clock)}).status_code == 303  # the login goes on


def test_logins_are_audited_without_secrets_and_unknown_accounts_leave_no_trace(app, clock):
    client = app.test_client()
    assert password_step(client, password="a wrong password").status_code == 401
    assert [e.organisation_slug for e in events(app, "login.failed")] == ["acme", "beta"]
    unknown = password_step(client, "nobody@example.de", "a wrong password")
    assert unknown.status_code == 401 and len(events(app)) == 2  # nothing for an unknown account
    anna = browser(app)
    assert [e.details for e in events(app, "login.succeeded")] == [{"method": "password"}] * 2
    login = events(app, "login.succeeded")[0]
    assert (login.actor, login.via, login.address, login.actor_id) == ("anna@example.de", "manage", "127.0.0.1", manager(app).id)
    secret, codes = enrol(anna, clock)
    clock[0] += 30
    token = anna.post("/manage/account/token?lang=en", data={"csrf_token": csrf(anna), "token-code": code(secret, clock)})
    new_token = re.search(r'value="([^"]+)" data-token', token.get_data(as_text=True)).group(1)
    anna.post("/manage/account/password", data={"csrf_token": csrf(anna), "current-password": PASSWORD, "new-password": NEW_PASSWORD})
    logout(anna)
    password_step(anna, password=NEW_PASSWORD)
    anna.post("/manage/login/code", data={"csrf_token": csrf(anna, "/manage/login/code"), "code": "123456"})
    anna.post("/manage/login/code", data={"csrf_token": csrf(anna, "/manage/login/code"), "recovery_code": codes[0]})
    actions = {e.action for e in events(app)}
    assert {
        "login.failed",
        "login.succeeded",
        "login.second_factor_failed",
        "two_factor.enabled",
        "token.rotated",
        "password.changed",
        "recovery_code.used",
    } <= actions
    with app.app_context():
        stored_secret = db.session().scalar(select(Manager.totp_secret).where(Manager.email == "anna@example.de"))
    log = json.dumps([[e.subject, e.details, e.action] for e in events(app)])
    for value in (
        secret,
        stored_secret,
        PASSWORD,
        NEW_PASSWORD,
        new_token,
        TOKENS["anna"],
        *codes,
        *(c.replace("-", "") for c in codes),
        code(secret, clock),
        "123456",
    ):
        assert value not in log


def test_the_operator_resets_a_lost_second_factor_on_the_command_line(app, clock):
    """Lost phone, no recovery code left: `reset-two-factor` switches it off, ends every session and is logged; an unknown address is refused."""
    from bot.cli import cli

    anna = browser(app)
    enrol(anna, clock)
    assert manager(app).has_two_factor and logged_in(anna)
    runner = app.test_cli_runner()
    done = runner.invoke(cli, ["reset-two-factor", "Anna@example.de"])
    assert done.exit_code == 0 and "two-factor login reset" in done.output
    assert not manager(app).has_two_factor and count(app, RecoveryCode) == 0 and not logged_in(anna)
    assert {(e.actor, e.details["reset"]) for e in events(app, "two_factor.disabled")} == {("cli", True)}  # one per organisation
    refused = runner.invoke(cli, ["reset-two-factor", "nobody@example.de"])
    assert refused.exit_code == 2 and "no manager" in refused.output
    assert password_step(anna).status_code == 303  # the password alone again (nothing requires a second factor here)
