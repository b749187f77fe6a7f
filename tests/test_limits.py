"""Rate limits: assessment creation and turns per client address, login failures per account and address; 429 changes nothing."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
import uuid

import pytest
from sqlalchemy import func, select

from bot import create_app
from bot.store import db
from bot.store.managers import create_manager
from bot.store.models import AnswerRevision, Assessment, Organisation
from bot.web.limits import limiter
from tests.conftest import _fresh_app, add_organisation, skip_or_fail, start_gunicorn, stop_gunicorn


@pytest.fixture
def limited(tmp_path, locales_dir):
    """An app with small limits, switched on, and a clean limiter."""
    limits = {"RATELIMIT_ENABLED": True, "RATELIMIT_CREATE": "3 per minute", "RATELIMIT_TURN": "2 per minute", "LOGIN_FREE_FAILURES": 3,
              "LOGIN_FREE_FAILURES_PER_ADDRESS": 6}  # fmt: skip
    url = f"sqlite:///{tmp_path / 'limits.sqlite'}"
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": url, "LOCALES_DIR": str(locales_dir), **limits})
    db.upgrade(app)
    limiter.reset()
    yield app
    limiter.reset()


def count(app, model) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(model))


def test_creating_assessments_is_limited_per_address(limited):
    key = add_organisation(limited, "acme")
    client = limited.test_client()
    for _ in range(3):
        assert client.post("/api/v1/assessments", json={"embed_key": key}).status_code == 201
    refused = client.post("/api/v1/assessments", json={"embed_key": key}, headers={"Accept-Language": "en"})
    assert refused.status_code == 429
    assert refused.get_json()["error"] == {"code": "too_many_requests", "message": "Too many requests. Please wait a moment and try again."}
    assert int(refused.headers["Retry-After"]) > 0
    assert count(limited, Assessment) == 3  # the refused request created nothing
    german = client.post("/api/v1/assessments", json={"embed_key": key})
    assert german.get_json()["error"]["message"].startswith("Zu viele Anfragen")
    other_address = client.post("/api/v1/assessments", json={"embed_key": key}, environ_overrides={"REMOTE_ADDR": "192.0.2.7"})
    assert other_address.status_code == 201  # per client address


def test_turns_are_limited_and_a_refused_turn_changes_nothing(limited):
    key = add_organisation(limited, "acme")
    client = limited.test_client()
    token = client.post("/api/v1/assessments", json={"embed_key": key}).get_json()["token"]
    assert client.post(f"/api/v1/assessments/{token}/answers", json={"step": "purpose", "value": "customer"}).status_code == 200
    assert client.post(f"/api/v1/assessments/{token}/answers", json={"step": "sensitive_data", "value": "no"}).status_code == 200
    refused = client.post(f"/api/v1/assessments/{token}/answers", json={"step": "initiator", "value": "customers_only"})
    assert refused.status_code == 429
    assert count(limited, AnswerRevision) == 2
    with limited.app_context():
        assert db.session().scalar(select(Assessment.state)) == "initiator"


def _anna(app) -> None:
    with app.app_context():
        session = db.session()
        org = session.scalar(select(Organisation)) or Organisation(slug="acme", name="ACME")
        session.add(org)
        session.commit()
        create_manager(session, "anna@example.de", [org], password="correct horse battery")
    app.config["WTF_CSRF_ENABLED"] = False


def _login(client, email: str, password: str, address: str = "127.0.0.1"):
    return client.post("/manage/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address})


def test_failed_logins_make_the_account_wait_longer_and_longer(limited):
    _anna(limited)
    client = limited.test_client()
    for _ in range(3):  # the free failures
        assert _login(client, "anna@example.de", "guess").status_code == 401
    assert _login(client, "anna@example.de", "guess").status_code == 401  # one more: now the account waits
    blocked = _login(client, "Anna@Example.de", "correct horse battery", "10.0.0.9")  # from anywhere, even with the right password
    assert blocked.status_code == 429 and 1 <= int(blocked.headers["Retry-After"]) <= 2
    assert "Sekunden" in blocked.get_data(as_text=True)  # a clear, localised message
    assert _login(client, "someone@example.de", "guess", "10.0.0.8").status_code == 401  # another account is not held up
    assert client.get("/manage/login").status_code == 200  # only attempts count, not the page
    # the waits double: after the 5th failure 2 s, after the 6th 4 s (the store's expiries, read directly)
    from bot.web.manage import throttle

    with limited.test_request_context(environ_base={"REMOTE_ADDR": "10.0.0.7"}):
        for expected in (2, 4):
            throttle.record_failure("anna@example.de")
            assert expected - 1 <= throttle.wait_seconds("anna@example.de") <= expected


def test_successful_logins_never_count_and_clear_the_accounts_failures(limited):
    _anna(limited)
    client = limited.test_client()
    for _ in range(12):  # more than the free failures: an owner logging in often is never held up
        assert _login(client, "anna@example.de", "correct horse battery").status_code == 303
        client.post("/manage/logout")
    for _ in range(3):
        assert _login(client, "anna@example.de", "guess").status_code == 401
    assert _login(client, "anna@example.de", "correct horse battery").status_code == 303  # clears the 3 failures
    client.post("/manage/logout")
    for _ in range(3):
        assert _login(client, "anna@example.de", "guess").status_code == 401  # three free again


def test_one_address_trying_many_accounts_is_slowed(limited):
    _anna(limited)
    client = limited.test_client()
    for n in range(6):  # six accounts (the address's free failures), each failing once
        assert _login(client, f"user{n}@example.de", "guess", "203.0.113.5").status_code == 401
    assert _login(client, "user6@example.de", "guess", "203.0.113.5").status_code == 401  # the 7th: the address now waits
    assert _login(client, "user7@example.de", "guess", "203.0.113.5").status_code == 429
    assert _login(client, "anna@example.de", "correct horse battery", "198.51.100.1").status_code == 303  # elsewhere: fine


def test_unknown_accounts_cost_the_same_hash_and_get_the_same_answer(limited, monkeypatch):
    _anna(limited)
    from bot.store import managers

    checked: list[str] = []
    real = managers.check_password_hash
    monkeypatch.setattr(managers, "check_password_hash", lambda stored, password: checked.append(stored) or real(stored, password))
    client = limited.test_client()
    known = _login(client, "anna@example.de", "guess")
    unknown = _login(client, "nobody@example.de", "guess")
    assert checked and len(checked) == 2  # a hash was checked for the unknown account too
    assert (known.status_code, unknown.status_code) == (401, 401)
    assert known.get_data(as_text=True).replace("anna@example.de", "X") == unknown.get_data(as_text=True).replace("nobody@example.de", "X")


def test_the_csrf_token_changes_at_login(limited):
    _anna(limited)
    limited.config["WTF_CSRF_ENABLED"] = True
    client = limited.test_client()
    import re

    form = client.get("/manage/login").get_data(as_text=True)
    before = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    with client.session_transaction() as cookie:
        raw_before = cookie["csrf_token"]
    assert client.post("/manage/login", data={"email": "anna@example.de", "password": "correct horse battery", "csrf_token": before}).status_code == 303
    client.get("/manage/")  # a page with a form makes the new token
    with client.session_transaction() as cookie:
        assert cookie.get("csrf_token") not in (None, raw_before)


def test_the_switch_turns_limits_off(tmp_path, locales_dir, monkeypatch):
    monkeypatch.setenv("FLASK_RATELIMIT_ENABLED", "false")
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": f"sqlite:///{tmp_path / 'off.sqlite'}", "LOCALES_DIR": str(locales_dir),
                      "RATELIMIT_CREATE": "1 per minute"})  # fmt: skip
    db.upgrade(app)
    limiter.reset()
    assert app.config["RATELIMIT_ENABLED"] is False
    key = add_organisation(app, "acme")
    client = app.test_client()
    assert [client.post("/api/v1/assessments", json={"embed_key": key}).status_code for _ in range(5)] == [201] * 5


# -- several hosts: a shared store -------------------------------------------------------


@pytest.fixture(scope="module")
def redis_server() -> str:
    """The Redis server on loopback; skips locally (fails in CI) when it is down."""
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        skip_or_fail("Redis is not reachable on 127.0.0.1:6379")
    return "redis://127.0.0.1:6379"


@pytest.mark.slow
@pytest.mark.parametrize("storage", ["redis", "memory"])
def test_hosts_share_the_limits_through_redis(storage, request, tmp_path, locales_dir):
    """Two gunicorn hosts: with Redis they count together; with the default memory store each counts alone."""
    uri = request.getfixturevalue("redis_server") if storage == "redis" else "memory://"
    app = _fresh_app(f"sqlite:///{tmp_path / 'hosts.sqlite'}", locales_dir)
    key = add_organisation(app, "acme")
    env = {
        "DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY": "hosts", "FLASK_LOCALES_DIR": str(locales_dir),
        "FLASK_RATELIMIT_STORAGE_URI": uri, "FLASK_RATELIMIT_CREATE": "4 per minute",
        "FLASK_RATELIMIT_KEY_PREFIX": f"wa-test-{uuid.uuid4().hex}",  # this run's counters only
    }  # fmt: skip
    hosts = [start_gunicorn(env, tmp_path / "gunicorn.log", workers=1) for _ in range(2)]
    try:
        statuses = [_create(hosts[i % 2][1], key) for i in range(5)]  # a round-robin proxy
    finally:
        for process, _base in hosts:
            stop_gunicorn(process)
    assert statuses[:4] == [201] * 4
    assert statuses[4] == (429 if storage == "redis" else 201)
    assert count(app, Assessment) == (4 if storage == "redis" else 5)  # the refused one created nothing


def _create(base: str, embed_key: str) -> int:
    request = urllib.request.Request(
        base + "/api/v1/assessments", data=json.dumps({"embed_key": embed_key}).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
