"""Hardened edges: links from PUBLIC_URL, TRUSTED_HOSTS, caching and policy headers, no server version,
a private SQLite file, tokens kept out of request logs, and slow clients under gunicorn."""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from flask import url_for
from sqlalchemy import func, select

from bot import create_app, edges
from bot.cli.server import local_url
from bot.gunicorn_conf import post_worker_init, request_is_complete
from bot.store import db
from bot.store.models import Assessment
from tests.conftest import _fresh_app, add_organisation, add_respondent_link, free_port, start_server, stop_gunicorn
from tests.test_manage import area, log_in  # noqa: F401 (the manager area's fixture)

PUBLIC = "https://check.example.de"


@pytest.fixture
def public_app(tmp_path, locales_dir):
    """An app whose PUBLIC_URL is a real domain (trusted hosts: loopback and that domain)."""
    return _fresh_app(f"sqlite:///{tmp_path / 'edges.sqlite'}", locales_dir, PUBLIC_URL=PUBLIC)


def _assessment_count(app) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(Assessment))


# -- PUBLIC_URL -----------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:5000", "check.example.de", "[::1]:8080"])
def test_absolute_links_use_public_url_whatever_the_host_header(public_app, host):
    key = add_organisation(public_app, "demo")
    client = public_app.test_client()
    response = client.post("/api/v1/assessments", json={"embed_key": key, "locale": "de"}, headers={"Host": host})
    assert response.status_code == 201
    assert response.headers["Location"].startswith(f"{PUBLIC}/api/v1/assessments/")
    demo = client.get("/demo", headers={"Host": host}).get_data(as_text=True)  # shows the embed snippet a site owner copies
    assert f"{PUBLIC}/widget.js" in demo
    assert host == "check.example.de" or f"//{host}/" not in demo
    with public_app.test_request_context("/", headers={"Host": host}):
        assert url_for("wizard.start", embed_key=key, _external=True) == f"{PUBLIC}/w/{key}"
        assert url_for("wizard.start", embed_key=key) == f"/w/{key}"  # relative links stay relative


def test_links_outside_a_request_and_under_a_path_prefix(tmp_path, locales_dir):
    app = _fresh_app(f"sqlite:///{tmp_path / 'prefix.sqlite'}", locales_dir, PUBLIC_URL="https://example.de/check/")
    with app.app_context():  # a mail or a CLI command: no request, no Host header at all
        assert url_for("main.health") == "https://example.de/check/healthz"
    with app.test_request_context("/", headers={"Host": "localhost"}):
        assert url_for("main.health", _external=True) == "https://example.de/check/healthz"


def test_a_routing_redirect_points_at_public_url(public_app):
    response = public_app.test_client().get("/manage", headers={"Host": "127.0.0.1:5000"})  # strict slashes: 308 to /manage/
    assert response.status_code == 308
    assert response.headers["Location"] == f"{PUBLIC}/manage/"


@pytest.mark.parametrize("value", ["check.example.de", "ftp://check.example.de", "https://", "https://x.de/?a=1", "https://x.de:99999"])
def test_a_malformed_public_url_stops_the_start(tmp_path, locales_dir, value):
    with pytest.raises(RuntimeError, match="PUBLIC_URL"):
        create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}", "LOCALES_DIR": str(locales_dir),
                    "PUBLIC_URL": value})  # fmt: skip


def test_the_development_server_defaults_public_url_to_its_address():
    assert local_url("127.0.0.1", 5000) == "http://127.0.0.1:5000"
    assert local_url("0.0.0.0", 8000) == "http://127.0.0.1:8000"
    assert local_url("::", 8000) == "http://[::1]:8000"
    assert local_url("localhost", 5001, secure=True) == "https://localhost:5001"


# -- TRUSTED_HOSTS ----------------------------------------------------------------------------


TRUSTED = ["localhost", "LOCALHOST:1234", "127.0.0.1", "127.0.0.1:5000", "[::1]", "[::1]:8080", "check.example.de", "check.example.de:443"]


@pytest.mark.parametrize("host", TRUSTED)
def test_loopback_on_any_port_and_the_public_host_are_trusted(public_app, host):
    assert public_app.test_client().get("/healthz", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "check.example.de.evil.example", "example.de", "127.0.0.2", "[::2]", "localhost.evil.example", "bad host"])
def test_other_hosts_are_refused_with_a_localised_400_and_change_nothing(public_app, host):
    key = add_organisation(public_app, "acme")
    client = public_app.test_client()
    api = client.post("/api/v1/assessments", json={"embed_key": key, "locale": "de"}, headers={"Host": host})
    assert api.status_code == 400 and api.get_json()["error"]["code"] == "bad_request"
    assert _assessment_count(public_app) == 0
    page = client.get("/?lang=de", headers={"Host": host, "Accept-Language": "de"})
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert "Die Anfrage" in page.get_data(as_text=True) or "nicht verstanden" in page.get_data(as_text=True)
    assert host.split(":")[0] not in page.get_data(as_text=True)  # the forged host is not echoed into any link
    assert "Permissions-Policy" in page.headers  # the usual headers still go out


def test_a_refused_host_runs_no_form_or_session_code(public_app):
    """Refused before the CSRF check, the rate limiter and the login: a forged host gets the same 400 everywhere."""
    response = public_app.test_client().post("/manage/login", data={"email": "x@example.de", "password": "x"}, headers={"Host": "evil.example"})
    assert response.status_code == 400 and "Set-Cookie" not in response.headers


def test_a_configured_list_replaces_the_default_and_trusts_subdomains(tmp_path, locales_dir):
    app = _fresh_app(f"sqlite:///{tmp_path / 'hosts.sqlite'}", locales_dir, PUBLIC_URL=PUBLIC, TRUSTED_HOSTS=".example.de, intranet")
    client = app.test_client()
    expected = {"check.example.de": 200, "a.b.example.de": 200, "example.de": 200, "intranet:8080": 200, "localhost": 400, "example.com": 400}
    for host, status in expected.items():
        assert client.get("/healthz", headers={"Host": host}).status_code == status, host


def test_a_forwarded_host_is_checked_too(tmp_path, locales_dir):
    app = _fresh_app(f"sqlite:///{tmp_path / 'proxy.sqlite'}", locales_dir, PUBLIC_URL=PUBLIC, TRUSTED_PROXIES=1)
    client = app.test_client()
    assert client.get("/healthz", headers={"X-Forwarded-Host": "check.example.de"}).status_code == 200
    assert client.get("/healthz", headers={"X-Forwarded-Host": "evil.example"}).status_code == 400


def test_host_matching_rules():
    trusted = ["127.0.0.1", "localhost", "::1", ".example.de"]
    assert edges.host_is_trusted("[0:0:0:0:0:0:0:1]:80", trusted)
    assert edges.host_is_trusted("sub.example.de:8443", trusted)
    assert not edges.host_is_trusted("", trusted)
    assert not edges.host_is_trusted("notexample.de", trusted)
    assert edges.trusted_hosts({"PUBLIC_URL": "https://Check.Example.de:8443/x"}) == ["127.0.0.1", "localhost", "::1", "check.example.de"]
    assert edges.trusted_hosts({"TRUSTED_HOSTS": ["a.de"]}) == ["a.de"]


# -- headers ----------------------------------------------------------------------------------


def _manage_urls(app) -> dict[str, list[str]]:
    """A URL for every GET route of the manager area (every format of an export), found in the URL map."""
    values = {"slug": "acme", "fmt": ["pdf", "csv", "xlsx", "md", "json"], "document_id": ["first_contact_message"], "ext": ["txt", "md"],
              "link_id": 1, "assessment_id": 1, "item_id": "WA-10", "evidence_id": 1, "webhook_id": 1,
              "member_id": 1, "token": "no-such-token"}  # fmt: skip
    urls: dict[str, list[str]] = {}  # any status will do (a 404 too): the header is what is checked
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or not rule.rule.startswith("/manage"):
                continue
            missing = set(rule.arguments) - set(values)
            assert not missing, f"{rule.rule}: give this test a value for {missing}"
            combos: list[dict[str, str]] = [{}]
            for name in sorted(rule.arguments):
                options = values[name] if isinstance(values[name], list) else [values[name]]
                combos = [{**combo, name: option} for combo in combos for option in options]
            urls[rule.endpoint] = [url_for(rule.endpoint, **combo) for combo in combos]
    return urls


def test_every_manager_page_and_download_is_no_store(area):  # noqa: F811 (the fixture)
    admin = area.test_client()
    assert log_in(admin, "root@example.de").status_code == 303
    urls = _manage_urls(area)
    assert {"manage.index", "manage.export", "manage.document_download", "manage.all_checklists", "manage.login"} <= set(urls)
    anonymous = area.test_client()
    for endpoint, paths in urls.items():
        for path in paths:
            for client in (admin, anonymous):
                response = client.get(path)
                assert response.headers.get("Cache-Control") == "no-store", (endpoint, path, response.status_code)
    downloads = [admin.get(path) for path in urls["manage.export"] + urls["manage.document_download"]]
    assert all(r.status_code == 200 for r in downloads), [(r.request.path, r.status_code) for r in downloads]
    assert admin.get("/manage/no/such/page").headers["Cache-Control"] == "no-store"


def test_every_response_has_a_permissions_policy_and_no_server_version(public_app):
    client = public_app.test_client()
    for path in ["/", "/healthz", "/widget.js", "/api/openapi.json", "/no/such/page", "/api/v1/orgs"]:
        response = client.get(path)
        policy = response.headers.get("Permissions-Policy", "")
        for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
            assert feature in policy, (path, policy)
        assert "Server" not in response.headers, path  # the app adds none; the servers' own is tested below


# -- the SQLite file -----------------------------------------------------------------------------


def test_the_sqlite_database_is_created_readable_by_its_owner_only(tmp_path, locales_dir):
    path = tmp_path / "new" / "private.sqlite"
    old = os.umask(0o022)  # the usual umask, under which SQLite would create a world-readable file
    try:
        app = _fresh_app(f"sqlite:///{path}", locales_dir)
        add_organisation(app, "acme")  # writes: WAL and shared-memory files appear beside it
    finally:
        os.umask(old)
    files = [p for p in path.parent.iterdir() if p.name.startswith("private.sqlite")]
    assert path in files and len(files) >= 2
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name
    app.extensions["db_engine"].dispose()


def test_an_existing_database_keeps_its_mode(tmp_path, locales_dir):
    path = tmp_path / "existing.sqlite"
    path.touch(mode=0o640)
    path.chmod(0o640)
    _fresh_app(f"sqlite:///{path}", locales_dir).extensions["db_engine"].dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


# -- tokens in logs --------------------------------------------------------------------------------


def test_redaction_covers_every_token_carrying_path_and_query():
    token = secrets.token_urlsafe(24)
    lines = [
        f"GET /api/v1/assessments/{token} HTTP/1.1",
        f"POST /api/v1/assessments/{token}/answers HTTP/1.1",
        f"GET /w/a/{token}?lang=de HTTP/1.1",
        f"POST /w/a/{token}/change HTTP/1.1",
        f"GET /r/{token} HTTP/1.1",
        f"GET /widget/frame?lang=de&token={token}&x=1 HTTP/1.1",
        f"GET /x?respondent_link={token} HTTP/1.1",
        f'"https://site.example/r/{token}"',
    ]
    for line in lines:
        assert token not in edges.redact(line) and edges.REDACTED in edges.redact(line), line
    assert edges.redact("POST /api/v1/assessments HTTP/1.1") == "POST /api/v1/assessments HTTP/1.1"
    assert edges.redact("GET /w/EMBEDKEY HTTP/1.1") == "GET /w/EMBEDKEY HTTP/1.1"  # embed keys are public


def test_the_app_log_redacts_paths_of_failed_requests(public_app, caplog):
    """Flask logs an unhandled exception with the request's path."""
    token = secrets.token_urlsafe(24)

    @public_app.get("/w/a/<token>/boom")
    def boom(token):
        raise RuntimeError("boom")

    public_app.testing = False  # let Flask log the exception instead of raising it
    with caplog.at_level("ERROR"):
        assert public_app.test_client().get(f"/w/a/{token}/boom").status_code == 500
    assert "boom" in caplog.text and token not in caplog.text


def _request(port: int, method: str, path: str, body: dict | None = None, timeout: float = 10) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    payload = json.dumps(body) if body is not None else None
    conn.request(method, path, body=payload, headers={"Content-Type": "application/json"} if payload else {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def _token_requests(port: int, key: str, link: str) -> tuple[list[str], list[http.client.HTTPResponse]]:
    """Requests that carry tokens in their paths and queries; returns the tokens and the responses."""
    created = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    created.request("POST", "/api/v1/assessments", body=json.dumps({"embed_key": key, "locale": "de"}), headers={"Content-Type": "application/json"})
    first = created.getresponse()
    token = json.loads(first.read())["token"]
    guessed = secrets.token_urlsafe(24)
    responses = [
        first,
        _request(port, "GET", f"/api/v1/assessments/{token}"),
        _request(port, "GET", f"/w/a/{token}?lang=de"),
        _request(port, "GET", f"/r/{link}"),
        _request(port, "GET", f"/r/{guessed}"),
        _request(port, "GET", f"/widget/frame?embed_key={key}&token={guessed}"),
        _request(port, "POST", f"/api/v1/assessments/{guessed}/answers", {"step": "x", "value": "y"}),
    ]
    return [token, link, guessed], responses


def _server_env(tmp_path: Path, app, locales_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SECRET_KEY": "edge-test",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "FLASK_LOCALES_DIR": str(locales_dir),
        "FLASK_RATELIMIT_ENABLED": "false",
    }


@pytest.mark.slow
def test_the_development_server_log_has_no_tokens_and_no_server_header(tmp_path, locales_dir):
    app = _fresh_app(f"sqlite:///{tmp_path / 'dev.sqlite'}", locales_dir)
    key = add_organisation(app, "acme")
    link = add_respondent_link(app, "acme")
    env = {k: v for k, v in _server_env(tmp_path, app, locales_dir).items() if k != "PUBLIC_URL"}
    port = free_port()
    log = tmp_path / "dev.log"
    command = [str(Path(sys.executable).parent / "wa-onboarding"), "run", "--host", "127.0.0.1", "--port", str(port)]
    process = start_server(command, env, log, port, mode="w")
    try:
        tokens, responses = _token_requests(port, key, link)
    finally:
        stop_gunicorn(process)
    text = log.read_text()
    assert "/w/a/[redacted]" in text and "/r/[redacted]" in text, text
    for token in tokens:
        assert token not in text
    for response in responses:
        assert response.getheader("Server") is None, response.getheaders()
    assert responses[0].getheader("Location", "").startswith(f"http://127.0.0.1:{port}/api/v1/assessments/")  # PUBLIC_URL: the server's address


def _start_gunicorn(env: dict[str, str], log: Path, *options: str) -> tuple[subprocess.Popen, int]:
    """gunicorn with the production config module, the access log on stdout."""
    port = free_port()
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    command = [gunicorn, "-c", "python:bot.gunicorn_conf", "--bind", f"127.0.0.1:{port}", "--access-logfile", "-", *options, "bot:create_app()"]
    return start_server(command, env, log, port, mode="w"), port


@pytest.mark.slow
def test_gunicorn_access_log_has_no_tokens_and_no_server_header(tmp_path, locales_dir):
    app = _fresh_app(f"sqlite:///{tmp_path / 'gunicorn.sqlite'}", locales_dir)
    key = add_organisation(app, "acme")
    link = add_respondent_link(app, "acme")
    log = tmp_path / "gunicorn.log"
    process, port = _start_gunicorn(_server_env(tmp_path, app, locales_dir), log, "--workers", "2")
    try:
        tokens, responses = _token_requests(port, key, link)
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)  # a request gunicorn itself refuses
        raw.sendall(f"GET /r/{tokens[2]} HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n".encode())
        raw.recv(4096)
        raw.close()
    finally:
        stop_gunicorn(process)
    text = log.read_text()
    assert text.count("[redacted]") >= len(responses) - 1, text  # every request but the first (which creates the token)
    assert '"GET /api/v1/assessments/[redacted] HTTP/1.1" 200' in text, text
    for token in tokens:
        assert token not in text
    for response in responses:
        assert response.getheader("Server") is None, response.getheaders()
        assert "camera=()" in (response.getheader("Permissions-Policy") or "")
    assert not re.search(r"\b127\.0\.0\.1 - ", text)  # no client addresses in the access log


def test_a_request_is_complete_once_its_headers_and_body_are_in():
    head = b"POST /api/v1/assessments HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\n"
    assert not request_is_complete(b"GET / HTTP/1.1\r\nHost: local")
    assert request_is_complete(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert not request_is_complete(head + b"abc")
    assert request_is_complete(head + b"abcde")
    assert request_is_complete(b"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n")  # the app refuses it from the header
    assert request_is_complete(b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
    chunked = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
    assert not request_is_complete(chunked)
    assert request_is_complete(chunked + b"0\r\n\r\n")
    assert request_is_complete(b"X" * (70 * 1024))  # no end of headers in sight: the parser refuses it


# -- slow clients ------------------------------------------------------------------------------------


class SlowClients:
    """Sockets that send a request a byte at a time, reconnecting whenever the server closes one (slowloris)."""

    def __init__(self, port: int, count: int, interval: float) -> None:
        self.port, self.count, self.interval = port, count, interval
        self.request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(b"X-Slow-%d: %s\r\n" % (i, b"a" * 20) for i in range(40)) + b"\r\n"
        self.closed_by_server = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _connect(self) -> list:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        sock.setblocking(False)
        return [sock, 0]

    def _run(self) -> None:
        clients = [self._connect() for _ in range(self.count)]
        while not self.stop.is_set():
            for i, (sock, sent) in enumerate(clients):
                try:
                    try:
                        if sock.recv(1) == b"":
                            raise ConnectionResetError
                    except BlockingIOError:
                        pass
                    sock.send(self.request[sent % len(self.request) : sent % len(self.request) + 1])
                    clients[i][1] = sent + 1
                except OSError:
                    self.closed_by_server += 1
                    sock.close()
                    clients[i] = self._connect()
            time.sleep(self.interval)
        for sock, _sent in clients:
            sock.close()

    def __enter__(self) -> SlowClients:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


@pytest.mark.slow
def test_healthz_keeps_answering_while_slow_clients_hold_connections(tmp_path, locales_dir):
    """50 connections sending their headers a byte every 0.2 s (each request would take ~ 3 minutes) against
    one worker with 4 threads: /healthz answers throughout, and the server closes the slow ones after its read timeout."""
    app = _fresh_app(f"sqlite:///{tmp_path / 'slow.sqlite'}", locales_dir)
    env = {**_server_env(tmp_path, app, locales_dir), "GUNICORN_READ_TIMEOUT": "3"}
    log = tmp_path / "gunicorn.log"
    process, port = _start_gunicorn(env, log, "--workers", "1", "--threads", "4")
    try:
        with SlowClients(port, count=50, interval=0.2) as slow:
            time.sleep(1)  # every slow connection is open and sending
            answered = []
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline:
                answered.append(_request(port, "GET", "/healthz", timeout=10).status)  # a generous timeout: it must not hang
                time.sleep(0.2)
        assert answered and set(answered) == {200}
        assert slow.closed_by_server >= 50, "the read timeout closes connections that never finish their request"
    finally:
        stop_gunicorn(process)


def test_a_line_break_in_a_path_cannot_forge_a_line_of_the_app_log(public_app, caplog):
    """ASVS 7.3.1: an encoded line break in a failing request's path is written as \\n, so every log record stays one line."""

    @public_app.get("/boom/<rest>")
    def boom(rest):
        raise RuntimeError("boom")

    public_app.testing = False  # let Flask log the exception instead of raising it
    with caplog.at_level("ERROR"):
        assert public_app.test_client().get("/boom/x%0AINFO forged: admin logged in%0D%0A").status_code == 500
    [record] = [r for r in caplog.records if "Exception on" in r.getMessage()]
    assert "\n" not in record.getMessage() and "\\nINFO forged: admin logged in" in record.getMessage()


def test_a_multipart_field_without_a_value_is_no_server_error(public_app):
    """Found by schemathesis: a multipart part named by a line break with an odd body passed the NUL check's assumptions (500)."""
    body = b'--b\r\nContent-Disposition: form-data; name="\n"\r\n\r\nnull\r\n--b--\r\n'  # Werkzeug gives this field no name (None)
    response = public_app.test_client().post("/api/v1/orgs/0/items/0/evidence", data=body, content_type="multipart/form-data; boundary=b")
    assert response.status_code < 500


def test_a_production_worker_freezes_what_it_loaded_so_full_collections_skip_it():
    import gc

    assert gc.get_freeze_count() == 0
    try:
        post_worker_init(None)
        assert gc.get_freeze_count() > 10_000  # the app, its flows and libraries: no longer walked by each full collection
    finally:
        gc.unfreeze()
