"""Signed webhooks for real: a receiver on loopback verifies every delivery with the `standardwebhooks` package,
fails on purpose and sees the retries; the SSRF guard refuses targets at creation and at send time; bad input
changes nothing (SQLite and PostgreSQL); another organisation's manager gets 404; the secret is stored encrypted.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.fernet import InvalidToken
from sqlalchemy import func, select
from standardwebhooks import Webhook

from bot import webhooks
from bot.delivery import flush_outbox
from bot.store import db
from bot.store.models import Event, Organisation, OutboxMessage, WebhookEndpoint
from bot.store.notifications import fire_webhooks

# The routes register on the blueprints when their modules are imported; until bot/__init__.py and
# bot/web/manage/__init__.py import them, this import does it (before the first app is made).
from bot.web import webhooks_api  # noqa: F401
from bot.web.manage import webhooks as manage_webhooks  # noqa: F401
from tests.test_manage import csrf, log_in, page
from tests.test_trusted_results import PLATFORM, bearer, complete

ACME = "/api/v1/orgs/acme"
NUL = "\x00"


# -- a real receiver on loopback ---------------------------------------------------------------------


class Receiver:
    """An HTTP server in a thread that records every request; fails the first `fail_first` POSTs (500) or redirects them all."""

    def __init__(self, fail_first: int = 0, always: int | None = None, redirect: bool = False) -> None:
        """Start listening on a free loopback port."""
        self.requests: list[dict[str, Any]] = []
        self.fail_first, self.always, self.redirect = fail_first, always, redirect
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> int:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers.items()), "body": body})
                return len([r for r in receiver.requests if r["method"] == "POST"])

            def do_POST(self) -> None:  # the name http.server calls
                count = self._record()
                if receiver.redirect:
                    self.send_response(307)
                    self.send_header("Location", f"http://127.0.0.1:{receiver.port}/elsewhere")
                elif receiver.always is not None:
                    self.send_response(receiver.always)
                else:
                    self.send_response(500 if count <= receiver.fail_first else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST  # noqa: N815 (a followed redirect would arrive here)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        """The hook's address."""
        return f"http://127.0.0.1:{self.port}/hook?source=wa"

    def verified(self, secret: str) -> list[dict[str, Any]]:
        """Every request's body, each verified with the receivers' package (raises on a bad signature)."""
        return [Webhook(secret).verify(r["body"], r["headers"]) for r in self.requests]

    def close(self) -> None:
        """Stop the server."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def no_dns_queries_leave_the_machine(monkeypatch):
    """Names under .invalid never resolve (RFC 2606): answer that here, so no test asks a resolver on the network."""
    import socket

    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.rstrip(".").endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(webhooks.socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def receiver():
    """A receiver that fails the first two deliveries."""
    server = Receiver(fail_first=2)
    yield server
    server.close()


@pytest.fixture
def dev(world):
    """The world as in development and tests: private targets allowed, retries at once."""
    world.app.config.update(WEBHOOK_ALLOW_PRIVATE=True, WEBHOOK_RETRY_DELAYS=[0, 0, 0, 0, 0])
    return world


def create(world, url: str, events: list[str], token: str | None = None, slug: str = "acme"):
    """POST a webhook as anna (unless another token); the response is checked against the OpenAPI document."""
    return world.api.call("POST", f"/api/v1/orgs/{slug}/webhooks", {"url": url, "events": events}, headers=bearer(token or world.anna))


def created(world, url: str, events: list[str]) -> dict[str, Any]:
    """A new webhook (201 asserted) with its secret."""
    response = create(world, url, events)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def flush(world, rounds: int = 6) -> None:
    """Run the outbox's sender several times, each pass in a fresh app context, as the worker's runs would (one attempt per pass)."""
    for _ in range(rounds):
        with world.app.app_context():
            flush_outbox(world.app)


def deliveries(world, webhook_id: int) -> list[dict[str, Any]]:
    """The webhook's deliveries through the API (200 asserted)."""
    response = world.api.call("GET", f"{ACME}/webhooks/{webhook_id}/deliveries", headers=bearer(world.anna))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["deliveries"]


def counts(world) -> dict[str, int]:
    """Rows of the tables a webhook touches."""
    with world.app.app_context():
        session = db.session()
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model)) for model in (WebhookEndpoint, OutboxMessage, Event)}


# -- the target check ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "public", "development"),
    [
        ("https://93.184.215.14/hook?x=1", None, None),
        ("https://[2606:4700:4700::1111]/hook", None, None),
        ("http://93.184.215.14/hook", "https_required", None),
        ("https://127.0.0.1/hook", "private_address", None),
        ("https://localhost:8443/hook", "private_address", None),
        ("https://0x7f.1/hook", "private_address", None),  # 127.0.0.1 spelt otherwise
        ("https://10.1.2.3/hook", "private_address", None),
        ("https://192.168.0.10/hook", "private_address", None),
        ("https://100.64.0.1/hook", "private_address", None),  # carrier-grade NAT
        ("https://[::1]/hook", "private_address", None),
        ("https://[::ffff:127.0.0.1]/hook", "private_address", None),
        ("https://[fc00::1]/hook", "private_address", None),
        ("https://[64:ff9b::a00:1]/hook", "private_address", None),  # NAT64 of 10.0.0.1
        ("https://169.254.1.1/hook", "private_address", "private_address"),  # link-local: never
        ("https://[fe80::1]/hook", "private_address", "private_address"),
        ("https://0.0.0.0/hook", "private_address", "private_address"),
        ("https://224.0.0.1/hook", "private_address", "private_address"),
        ("https://240.0.0.1/hook", "private_address", "private_address"),
        ("https://169.254.169.254/latest/meta-data", "metadata_address", "metadata_address"),
        ("https://[fd00:ec2::254]/", "metadata_address", "metadata_address"),
        ("https://[::ffff:169.254.169.254]/", "metadata_address", "metadata_address"),
        ("https://100.100.100.200/", "metadata_address", "metadata_address"),
        ("ftp://93.184.215.14/hook", "invalid_url", "invalid_url"),
        ("https:///hook", "invalid_url", "invalid_url"),
        ("93.184.215.14/hook", "invalid_url", "invalid_url"),
        ("https://user:pass@93.184.215.14/hook", "invalid_url", "invalid_url"),
        ("https://@93.184.215.14/hook", "invalid_url", "invalid_url"),
        ("https://93.184.215.14/ho ok", "invalid_url", "invalid_url"),
        ("https://93.184.215.14/hook" + NUL, "invalid_url", "invalid_url"),
        ("https://93.184.215.14/\nHost: x", "invalid_url", "invalid_url"),
        ("https://93.184.215.14:99999/hook", "invalid_url", "invalid_url"),
        ("https://93.184.215.14/" + "a" * 2000, "invalid_url", "invalid_url"),
        ("", "invalid_url", "invalid_url"),
        ("https://no-such-host.invalid/hook", "unresolvable", "unresolvable"),
    ],
)
def test_check_target(url, public, development):
    assert webhooks.check_target(url, allow_private=False) == public
    assert webhooks.check_target(url, allow_private=True) == development


def test_every_address_of_a_host_must_be_allowed(monkeypatch):
    """One private address among public ones refuses the host: the resolver may answer with it next time."""
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: ["93.184.215.14", "10.0.0.7"])
    assert webhooks.check_target("https://hooks.example.com/x", allow_private=False) == "private_address"
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: ["93.184.215.14", "169.254.169.254"])
    assert webhooks.check_target("https://hooks.example.com/x", allow_private=True) == "metadata_address"


def test_secrets_have_the_standard_form_and_are_stored_encrypted():
    secret = webhooks.new_secret()
    assert secret.startswith("whsec_") and len(Webhook(secret)._whsecret) == 32
    assert webhooks.new_secret() != secret
    config = {"SECRET_KEY": "one key"}
    stored = webhooks.encrypt_secret(config, secret)
    assert secret not in stored and secret.removeprefix("whsec_") not in stored
    assert webhooks.decrypt_secret(config, stored) == secret
    with pytest.raises(InvalidToken):  # a new SECRET_KEY makes stored secrets unreadable: delete and re-create
        webhooks.decrypt_secret({"SECRET_KEY": "another key"}, stored)


# -- deliveries for real -------------------------------------------------------------------------------------


def test_deliveries_are_signed_retried_and_carry_no_token_or_answers(dev, receiver):
    hook = created(dev, receiver.url, ["assessment.completed", "item.updated"])
    assert hook["secret"].startswith("whsec_") and hook["events"] == ["assessment.completed", "item.updated"]

    token = complete(dev, dev.acme_link, {**PLATFORM, "company_name": "Geheimname GmbH"})  # a free-text answer
    flush(dev)
    assert len(receiver.requests) == 3  # 500, 500, then 200: the third attempt is delivered
    bodies = receiver.verified(hook["secret"])
    assert len({r["headers"]["webhook-id"] for r in receiver.requests}) == 1  # one message, retried with its id
    assert all(r["headers"]["Content-Type"] == "application/json" and r["path"] == "/hook?source=wa" for r in receiver.requests)
    body = bodies[-1]
    assert body["type"] == "assessment.completed" and body["timestamp"]
    assert body["data"]["organisation"] == "acme" and set(body["data"]) <= {"organisation", "assessment", "source"}
    raw = receiver.requests[-1]["body"].decode()
    assert token not in raw and "Geheimname" not in raw
    [delivery] = deliveries(dev, hook["id"])
    assert (delivery["event"], delivery["status"], delivery["attempts"], delivery["last_response_code"]) == ("assessment.completed", "sent", 3, 200)
    assert delivery["next_attempt_at"] is None

    # A self-assessment through the embed key is no checklist of record: nothing fires.
    complete(dev, dev.acme_key, PLATFORM)
    assert len(deliveries(dev, hook["id"])) == 1

    # A tracking change fires item.updated.
    item = dev.api.call("GET", f"{ACME}/items/WA-21", headers=bearer(dev.anna)).get_json()
    version = item["item"]["tracking"]["version"]
    response = dev.api.call("PATCH", f"{ACME}/items/WA-21", {"version": version, "workflow": "in_progress"}, headers=bearer(dev.anna))
    assert response.status_code == 200, response.get_json()
    flush(dev)
    latest = receiver.verified(hook["secret"])[-1]
    assert latest["type"] == "item.updated" and latest["data"]["item"] == "WA-21" and latest["data"]["organisation"] == "acme"
    assert [d["event"] for d in deliveries(dev, hook["id"])] == ["item.updated", "assessment.completed"]  # newest first


def test_a_webhook_not_subscribed_to_an_event_gets_nothing(dev, receiver):
    hook = created(dev, receiver.url, ["submission.received"])
    complete(dev, dev.acme_link, PLATFORM)
    flush(dev)
    assert receiver.requests == [] and deliveries(dev, hook["id"]) == []


def _fire(world, event: str = "item.due") -> None:
    with world.app.app_context():
        session = db.session()
        fire_webhooks(session, session.scalar(select(Organisation).where(Organisation.slug == "acme")), event, {"item": "WA-05"})
        session.commit()


def test_it_gives_up_after_the_last_attempt(dev):
    server = Receiver(always=503)
    try:
        dev.app.config["WEBHOOK_RETRY_DELAYS"] = [0, 0]
        hook = created(dev, server.url, ["item.due"])
        _fire(dev)
        flush(dev)
        assert len(server.requests) == 3  # the first attempt and one after each delay
        [delivery] = deliveries(dev, hook["id"])
        assert (delivery["status"], delivery["attempts"], delivery["last_response_code"]) == ("failed", 3, 503)
        flush(dev)
        assert len(server.requests) == 3
    finally:
        server.close()


def test_a_waiting_retry_is_not_sent_before_its_time(dev, receiver):
    dev.app.config["WEBHOOK_RETRY_DELAYS"] = [3600, 3600]
    hook = created(dev, receiver.url, ["item.due"])
    _fire(dev)
    flush(dev)
    assert len(receiver.requests) == 1
    [delivery] = deliveries(dev, hook["id"])
    assert (delivery["status"], delivery["attempts"], delivery["last_response_code"]) == ("pending", 1, 500)
    assert delivery["next_attempt_at"] is not None


def test_redirects_are_not_followed(dev):
    server = Receiver(redirect=True)
    try:
        dev.app.config["WEBHOOK_RETRY_DELAYS"] = [0]
        hook = created(dev, server.url, ["item.due"])
        _fire(dev)
        flush(dev)
        assert [r["path"] for r in server.requests] == ["/hook?source=wa", "/hook?source=wa"]  # never /elsewhere
        [delivery] = deliveries(dev, hook["id"])
        assert (delivery["status"], delivery["last_response_code"]) == ("failed", 307)
    finally:
        server.close()


def test_a_host_is_connected_at_the_address_that_was_checked(dev, receiver, monkeypatch):
    """The request goes to the checked address with the URL's host name in the Host header (no second lookup)."""
    looked_up: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr(webhooks, "resolve", resolve)
    receiver.fail_first = 0
    hook = created(dev, f"http://hooks.example.test:{receiver.port}/in", ["item.due"])
    _fire(dev)
    flush(dev)
    [request] = receiver.requests
    assert request["headers"]["Host"] == f"hooks.example.test:{receiver.port}" and request["path"] == "/in"
    assert looked_up == ["hooks.example.test", "hooks.example.test"]  # at creation and once for the attempt
    assert receiver.verified(hook["secret"])[0]["type"] == "item.due"


def test_a_host_that_now_resolves_to_loopback_is_refused_at_send_time(world, receiver, monkeypatch):
    """DNS changed after creation: the attempt is refused before connecting, nothing arrives, and it gives up."""
    world.app.config.update(WEBHOOK_ALLOW_PRIVATE=False, WEBHOOK_RETRY_DELAYS=[0, 0])
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: ["93.184.215.14"])
    hook = created(world, f"https://rebind.example.test:{receiver.port}/hook", ["item.due"])
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: ["127.0.0.1"])
    _fire(world)
    flush(world)
    assert receiver.requests == []
    [delivery] = deliveries(world, hook["id"])
    assert (delivery["status"], delivery["attempts"], delivery["last_response_code"]) == ("failed", 3, None)
    with world.app.app_context():
        message = db.session().get(OutboxMessage, delivery["id"])
        assert message is not None and message.last_error == "target refused: private_address"


def _certificate(tmp_path, host: str) -> tuple[str, str]:
    """A self-signed certificate for `host` and its key, as PEM files."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return str(cert_file), str(key_file)


def test_https_checks_the_certificate_for_the_host_name(dev, tmp_path, monkeypatch):
    """TLS to the checked address with SNI and the certificate verified for the URL's host name."""
    import ssl

    cert_file, key_file = _certificate(tmp_path, "hooks.example.test")
    server = Receiver()
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file, key_file)
    server.server.socket = server_context.wrap_socket(server.server.socket, server_side=True)
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: ["127.0.0.1"])
    try:
        dev.app.config["WEBHOOK_RETRY_DELAYS"] = []  # one attempt each
        right = created(dev, f"https://hooks.example.test:{server.port}/hook", ["item.due"])
        wrong = created(dev, f"https://other.example.test:{server.port}/hook", ["item.due"])
        _fire(dev)
        flush(dev)  # the system's certificate authorities do not know this certificate: both fail
        assert server.requests == []
        assert [d["status"] for d in deliveries(dev, right["id"]) + deliveries(dev, wrong["id"])] == ["failed", "failed"]

        trusting = ssl.create_default_context(cafile=cert_file)
        monkeypatch.setattr(webhooks.ssl, "create_default_context", lambda: trusting)
        _fire(dev)
        flush(dev)
        [request] = server.requests  # only to the host name the certificate is for
        assert request["headers"]["Host"] == f"hooks.example.test:{server.port}"
        assert server.verified(right["secret"])[0]["type"] == "item.due"
        assert [d["status"] for d in deliveries(dev, right["id"])] == ["sent", "failed"]
        assert [d["status"] for d in deliveries(dev, wrong["id"])] == ["failed", "failed"]
    finally:
        server.close()


# -- the API: SSRF at creation, bad input, other organisations ---------------------------------------------------


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://93.184.215.14/hook", "https_required"),
        ("https://127.0.0.1/hook", "private_address"),
        ("https://10.0.0.8/hook", "private_address"),
        ("https://[::1]/hook", "private_address"),
        ("https://169.254.169.254/latest/meta-data", "metadata_address"),
        ("https://localhost/hook", "private_address"),
    ],
)
def test_targets_are_refused_at_creation(world, url, code):
    before = counts(world)
    response = create(world, url, ["item.updated"])
    assert (response.status_code, response.get_json()["error"]["code"], response.get_json()["error"]["field"]) == (422, code, "url")
    assert counts(world) == before


@pytest.mark.parametrize(("url", "code"), [("http://169.254.169.254/latest/meta-data", "metadata_address"), ("http://[fe80::1]/", "private_address")])
def test_metadata_and_link_local_are_refused_even_in_development(dev, url, code):
    response = create(dev, url, ["item.updated"])
    assert (response.status_code, response.get_json()["error"]["code"]) == (422, code)


GOOD_URL = "http://127.0.0.1:9/hook"


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"url": GOOD_URL + NUL, "events": ["item.updated"]}, 422, "invalid_url", "url"),
        ({"url": GOOD_URL, "events": ["item.updated" + NUL]}, 422, "unknown_event", "events"),
        ({"url": GOOD_URL, "events": ["item.updated"], "se" + NUL + "cret": "x"}, 422, "unknown_field", "se\x00cret"),
        ({"url": GOOD_URL, "events": []}, 422, "events_required", "events"),
        ({"url": GOOD_URL, "events": ["item.created"]}, 422, "unknown_event", "events"),
        ({"url": GOOD_URL, "events": ["item.updated", "*"]}, 422, "unknown_event", "events"),
        ({"url": GOOD_URL, "events": "item.updated"}, 400, "invalid_body", "events"),
        ({"url": GOOD_URL, "events": [1]}, 400, "invalid_body", "events"),
        ({"url": GOOD_URL, "events": None}, 400, "invalid_body", "events"),
        ({"url": GOOD_URL}, 400, "invalid_body", "events"),
        ({"url": ["x"], "events": ["item.updated"]}, 400, "invalid_body", "url"),
        ({"events": ["item.updated"]}, 400, "invalid_body", "url"),
        ({"url": "", "events": ["item.updated"]}, 422, "invalid_url", "url"),
        ({"url": "javascript:alert(1)", "events": ["item.updated"]}, 422, "invalid_url", "url"),
        ({"url": "https://no-such-host.invalid/", "events": ["item.updated"]}, 422, "unresolvable", "url"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(dev, body, status, code, field):
    before = counts(dev)
    response = dev.api.call("POST", f"{ACME}/webhooks?lang=en", body, headers=bearer(dev.anna))
    error = response.get_json()["error"]
    assert (response.status_code, error["code"], error.get("field")) == (status, code, field), error
    assert error["message"]
    assert counts(dev) == before


def test_bad_bodies_are_refused(dev):
    assert dev.api.call("POST", f"{ACME}/webhooks", raw="{", headers=bearer(dev.anna)).status_code == 400
    assert dev.api.call("POST", f"{ACME}/webhooks", ["x"], headers=bearer(dev.anna)).status_code == 400
    assert dev.api.call("POST", f"{ACME}/webhooks", raw="url=x", content_type="text/plain", headers=bearer(dev.anna)).status_code == 415


def test_refusals_name_the_problem_in_words(dev):
    response = dev.api.call("POST", f"{ACME}/webhooks?lang=en", {"url": GOOD_URL, "events": []}, headers=bearer(dev.anna))
    assert response.get_json()["error"]["message"] == "Please choose at least one event."
    response = dev.api.call("POST", f"{ACME}/webhooks?lang=en", {"url": GOOD_URL, "events": ["item.gone"]}, headers=bearer(dev.anna))
    assert "assessment.completed, submission.received" in response.get_json()["error"]["message"]
    assert response.get_json()["error"]["allowed"][0] == "assessment.completed"


def test_at_most_ten_webhooks_per_organisation(dev):
    for _ in range(10):
        created(dev, GOOD_URL, ["item.due"])
    before = counts(dev)
    response = create(dev, GOOD_URL, ["item.due"])
    assert (response.status_code, response.get_json()["error"]["code"]) == (422, "too_many_webhooks")
    assert counts(dev) == before
    assert create(dev, GOOD_URL, ["item.due"], token=dev.otto, slug="other").status_code == 201  # per organisation


def test_webhooks_are_listed_read_and_deleted_with_their_deliveries(dev, receiver):
    hook = created(dev, receiver.url, ["item.due", "review.due"])
    listed = dev.api.call("GET", f"{ACME}/webhooks", headers=bearer(dev.anna)).get_json()["webhooks"]
    assert listed == [{k: v for k, v in hook.items() if k != "secret"}]
    one = dev.api.call("GET", f"{ACME}/webhooks/{hook['id']}", headers=bearer(dev.anna))
    assert one.status_code == 200 and "secret" not in one.get_json() and one.get_json()["events"] == ["item.due", "review.due"]
    _fire(dev)
    assert len(deliveries(dev, hook["id"])) == 1
    assert dev.api.call("DELETE", f"{ACME}/webhooks/{hook['id']}", headers=bearer(dev.anna)).status_code == 204
    assert dev.api.call("GET", f"{ACME}/webhooks/{hook['id']}", headers=bearer(dev.anna)).status_code == 404
    assert dev.api.call("DELETE", f"{ACME}/webhooks/{hook['id']}", headers=bearer(dev.anna)).status_code == 404
    flush(dev)
    assert receiver.requests == []
    with dev.app.app_context():
        session = db.session()
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        actions = [e.action for e in session.scalars(select(Event).where(Event.action.like("webhook.%")).order_by(Event.id))]
        assert actions == ["webhook.created", "webhook.deleted"]


def test_another_organisations_manager_gets_404(dev):
    hook = created(dev, GOOD_URL, ["item.due"])
    before = counts(dev)
    for method, path, body in [
        ("GET", f"{ACME}/webhooks", None),
        ("POST", f"{ACME}/webhooks", {"url": GOOD_URL, "events": ["item.due"]}),
        ("GET", f"{ACME}/webhooks/{hook['id']}", None),
        ("GET", f"{ACME}/webhooks/{hook['id']}/deliveries", None),
        ("DELETE", f"{ACME}/webhooks/{hook['id']}", None),
    ]:
        response = dev.api.call(method, path, body, headers=bearer(dev.otto))
        assert response.status_code == 404, (method, path, response.get_json())
    for path in (f"/api/v1/orgs/other/webhooks/{hook['id']}", f"{ACME}/webhooks/{2**40}", f"{ACME}/webhooks/{2**31}/deliveries"):
        assert dev.api.call("GET", path, headers=bearer(dev.otto if "other" in path else dev.anna)).status_code == 404
    assert dev.api.call("GET", f"{ACME}/webhooks").status_code == 401
    assert counts(dev) == before


def test_the_secret_is_shown_once_and_stored_only_encrypted(dev):
    hook = created(dev, GOOD_URL, ["item.due"])
    secret = hook["secret"]
    with dev.app.app_context():
        session = db.session()
        row = session.get(WebhookEndpoint, hook["id"])
        assert row is not None and secret not in row.secret_encrypted and secret.removeprefix("whsec_") not in row.secret_encrypted
        assert webhooks.decrypt_secret(dev.app.config, row.secret_encrypted) == secret
        logged = session.scalar(select(Event).where(Event.action == "webhook.created"))
        assert logged is not None and secret not in json.dumps(logged.details) and logged.details["host"] == "127.0.0.1"
    for path in (f"{ACME}/webhooks", f"{ACME}/webhooks/{hook['id']}"):
        assert secret not in dev.api.call("GET", path, headers=bearer(dev.anna)).get_data(as_text=True)


# -- the manager area ------------------------------------------------------------------------------------------


PASSWORD = "correct horse battery"


@pytest.fixture
def area(app):
    """acme with Anna (who can log in) and other, with private targets allowed."""
    from bot.store.managers import create_manager

    app.config.update(WEBHOOK_ALLOW_PRIVATE=True, WEBHOOK_RETRY_DELAYS=[0])
    with app.app_context():
        session = db.session()
        acme, other = Organisation(slug="acme", name="ACME GmbH", locale="de"), Organisation(slug="other", name="Other AG", locale="en")
        session.add_all([acme, other])
        session.commit()
        create_manager(session, "anna@example.de", [acme], password=PASSWORD)
    client = app.test_client()
    assert log_in(client).status_code == 303
    return app, client


def test_the_manager_area_adds_shows_and_deletes_webhooks(area):
    app, client = area
    url = "/manage/orgs/acme/webhooks"
    listing = client.get(url)
    assert listing.status_code == 200 and page(listing).find("fieldset").find("legend") is not None
    token = csrf(client, url)

    refused = client.post(url, data={"csrf_token": token, "url": "https://169.254.169.254/", "events": ["item.due"]})
    assert refused.status_code == 422 and page(refused).select_one("#error-url") is not None
    assert client.post(url, data={"csrf_token": token, "url": GOOD_URL}).status_code == 422  # no event chosen

    made = client.post(url, data={"csrf_token": token, "url": GOOD_URL, "events": ["item.due", "review.due"]})
    assert made.status_code == 201
    secret = page(made).select_one("#created-secret")["value"]
    assert secret.startswith("whsec_")
    again = client.get(url)
    assert secret not in again.get_data(as_text=True) and "127.0.0.1" in again.get_data(as_text=True)

    with app.app_context():  # a delivery that nobody accepts (nothing listens on port 9): its attempt shows on the page
        session = db.session()
        fire_webhooks(session, session.scalar(select(Organisation).where(Organisation.slug == "acme")), "item.due", {"item": "WA-05"})
        session.commit()
    with app.app_context():
        flush_outbox(app, limit=1)
    row = page(client.get(url)).select_one("tr[data-delivery]")
    assert row is not None and row["data-status"] == "pending" and "item.due" in row.get_text()

    with app.app_context():
        webhook_id = db.session().scalar(select(WebhookEndpoint.id))
    assert client.post(f"{url}/{webhook_id}/delete", data={}).status_code == 400  # no CSRF token
    assert client.get("/manage/orgs/other/webhooks").status_code == 404
    assert client.post(f"/manage/orgs/other/webhooks/{webhook_id}/delete", data={"csrf_token": token}).status_code == 404
    confirm = page(client.get(f"{url}/{webhook_id}/delete"))  # asks first, changes nothing
    assert "127.0.0.1" in confirm.h1.get_text() and confirm.select_one("form button.danger") is not None
    assert client.get(f"/manage/orgs/other/webhooks/{webhook_id}/delete").status_code == 404
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(WebhookEndpoint)) == 1
    deleted = client.post(f"{url}/{webhook_id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(WebhookEndpoint)) == 0
