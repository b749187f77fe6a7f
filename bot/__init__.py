"""WA Onboarding: a GDPR onboarding assistant for WhatsApp in customer communication."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, Request, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import SecurityError
from werkzeug.routing import MapAdapter

from . import edges, i18n
from .config import defaults, instance_path, secret_key_file
from .engine import EngineRegistry, load_flows
from .flowcode import FLOW_CODE

log = logging.getLogger(__name__)

# Set on a request whose Host is not trusted: refused before any other code sees it.
UNTRUSTED_HOST = "wa_onboarding.untrusted_host"


# Beside the file, an upload's form carries a few short fields (name, dates, CSRF token) and the multipart framing.
UPLOAD_FORM_ALLOWANCE = 64 * 1024


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie session, left closed on the JSON APIs under /api/v1/: they authenticate by token and keep nothing in a cookie.

    Opening and saving an empty session on every chat turn was a measurable share of a turn's
    own Python work (docs/turn-profile.md); the manager area and the wizard keep theirs.
    """

    def open_session(self, app: Flask, request: Request) -> Any:
        """A null session (readable, empty, never saved) for the APIs; the signed cookie otherwise."""
        if request.path.startswith(API_PREFIX):
            return self.null_session_class()
        return super().open_session(app, request)


API_PREFIX = "/api/v1/"


class App(Flask):
    """Flask whose absolute links come from PUBLIC_URL and which answers only to TRUSTED_HOSTS.

    Never the request's Host header: a forged Host must not end up in an embed snippet,
    a wizard link, a `Location` or a mail. Werkzeug's own TRUSTED_HOSTS check cannot
    match an IPv6 address (`[::1]`), so `create_url_adapter` applies the app's check
    (`edges.host_is_trusted`) in its place, and `preprocess_request` refuses an untrusted
    host before any before-request hook (CSRF, rate limits, sessions) runs.
    """

    session_interface = CookieSessions()

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:  # type: ignore[override]
        """Outside a request: bound to PUBLIC_URL. In a request: the request's, once its Host is trusted."""
        if request is None or request.environ.get(UNTRUSTED_HOST):
            public = edges.public_url(self.config)
            path = request.path if request is not None else "/"
            return self.url_map.bind(public.netloc, script_name=public.path or "/", url_scheme=public.scheme, path_info=path)
        from werkzeug.wsgi import get_host

        host = get_host(request.environ)  # validated characters, no trust list (ours follows)
        if not edges.host_is_trusted(host, edges.trusted_hosts(self.config)):
            request.environ[UNTRUSTED_HOST] = True
            return self.create_url_adapter(request)  # error pages still build their links
        request.host = host  # type: ignore[misc]
        subdomain = None if self.subdomain_matching else (self.url_map.default_subdomain or "")
        return self.url_map.bind_to_environ(request.environ, server_name=self.config["SERVER_NAME"], subdomain=subdomain)

    def preprocess_request(self) -> Any:
        """400 for an untrusted Host, as a localised page or JSON error (bot/web/errors.py), before anything else."""
        if request.environ.get(UNTRUSTED_HOST):
            raise SecurityError()
        if edges.accepts_large_body(self, request.endpoint):
            request.max_content_length = int(self.config["MAX_EVIDENCE_BYTES"]) + UPLOAD_FORM_ALLOWANCE
        return super().preprocess_request()

    def url_for(
        self,
        /,
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: Any,
    ) -> str:
        """Like Flask's, but an absolute URL is always PUBLIC_URL plus the app-relative path (`_scheme` is ignored)."""
        external = _external if _external is not None else (_scheme is not None or not has_request_context())
        if not external or not has_request_context():
            # Outside a request the adapter is already bound to PUBLIC_URL (create_url_adapter(None)).
            return super().url_for(endpoint, _anchor=_anchor, _method=_method, _external=external, **values)
        path = super().url_for(endpoint, _anchor=_anchor, _method=_method, _external=False, **values)
        root = request.script_root
        if root and path.startswith(root + "/"):
            path = path[len(root) :]
        return edges.public_url(self.config).base + path


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure an instance of the Flask application.

    Fails at start-up, with a message naming the file and the problem, when a flow
    file is malformed or a compiled catalog is missing: better than serving a
    broken questionnaire or a German product in English.
    """
    app = App(__name__, instance_path=instance_path(), instance_relative_config=True)
    # SQLite and the secret key live there; an installed app's default (<prefix>/var/bot-instance) may not exist yet.
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(defaults(app.instance_path))
    app.config.from_prefixed_env()  # FLASK_SECRET_KEY, FLASK_DATABASE_URL, FLASK_RATELIMIT_ENABLED, ...
    if test_config:
        app.config.update(test_config)
    _secret_key(app)
    _edges(app)
    if app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_NAME"] == "session" and not app.config.get("SESSION_COOKIE_DOMAIN"):
        # A secure cookie for this host only, path /: the __Host- prefix makes browsers enforce it (ASVS 3.4.4).
        app.config["SESSION_COOKIE_NAME"] = "__Host-session"
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        # Behind a reverse proxy: take scheme, host and client address from its X-Forwarded-* headers.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]

    app.extensions["engines"] = EngineRegistry(load_flows(app.config["FLOWS_DIR"], code=FLOW_CODE))
    i18n.check_catalogs(app.config["LOCALES_DIR"])

    from . import queue
    from .store import db
    from .web import api, audit_api, babel, csrf, errors, items_api, limits, main, manage, manager_api, notifications, openapi, webhooks_api, widget, wizard

    db.init_app(app)
    queue.init_app(app)
    babel.init_app(app)
    errors.init_app(app)
    csrf.init_app(app, exempt=(api.bp, manager_api.bp, notifications.bp))  # unsubscribe: RFC 8058 one-click POSTs carry no CSRF token
    manage.init_app(app)
    limits.init_app(app)
    app.register_blueprint(main.bp)
    app.register_blueprint(api.bp)
    assert items_api.bp is manager_api.bp and webhooks_api.bp is manager_api.bp and audit_api.bp is manager_api.bp  # living checklist, webhooks, audit
    app.register_blueprint(manager_api.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(wizard.bp)
    app.register_blueprint(wizard.respondent_bp)
    app.register_blueprint(manage.bp)
    app.register_blueprint(widget.bp)
    app.register_blueprint(notifications.bp)
    return app


def _secret_key(app: Flask) -> None:
    """Take SECRET_KEY from the environment or the instance folder; required outside debug."""
    if app.config.get("SECRET_KEY"):
        return
    key_file = secret_key_file(app.instance_path)
    if key_file.is_file():
        app.config["SECRET_KEY"] = key_file.read_text().strip()
    elif app.debug or app.testing:
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        log.warning("SECRET_KEY is not set: using a random key for this process (debug/testing only)")
    else:
        raise RuntimeError("SECRET_KEY is not set: export SECRET_KEY or write one to " + str(key_file))


def _edges(app: Flask) -> None:
    """Check PUBLIC_URL at start-up (a typo fails here, not in the first link), and keep tokens out of logs."""
    try:
        edges.public_url(app.config)
    except ValueError as exc:
        raise RuntimeError(str(exc)) from exc
    # Flask logs an unhandled exception with the request's path, the development server every request line.
    edges.redact_logs(app.logger.name, "werkzeug")


def engines(app: Flask) -> EngineRegistry:
    """The flow engines of an app (built once at start-up)."""
    return app.extensions["engines"]
