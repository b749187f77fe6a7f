"""WA Onboarding: a GDPR onboarding assistant for WhatsApp in customer communication."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from . import i18n
from .config import defaults, instance_path, secret_key_file
from .engine import EngineRegistry, load_flows
from .flowcode import FLOW_CODE

log = logging.getLogger(__name__)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure an instance of the Flask application.

    Fails at start-up, with a message naming the file and the problem, when a flow
    file is malformed or a compiled catalog is missing: better than serving a
    broken questionnaire or a German product in English.
    """
    app = Flask(__name__, instance_path=instance_path(), instance_relative_config=True)
    # SQLite and the secret key live there; an installed app's default (<prefix>/var/bot-instance) may not exist yet.
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(defaults(app.instance_path))
    app.config.from_prefixed_env()  # FLASK_SECRET_KEY, FLASK_DATABASE_URL, FLASK_RATELIMIT_ENABLED, ...
    if test_config:
        app.config.update(test_config)
    _secret_key(app)
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        # Behind a reverse proxy: take scheme, host and client address from its X-Forwarded-* headers.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]

    app.extensions["engines"] = EngineRegistry(load_flows(app.config["FLOWS_DIR"], code=FLOW_CODE))
    i18n.check_catalogs(app.config["LOCALES_DIR"])

    from .store import db
    from .web import api, babel, csrf, errors, limits, main, manage, manager_api, openapi, widget, wizard

    db.init_app(app)
    babel.init_app(app)
    errors.init_app(app)
    csrf.init_app(app, exempt=(api.bp, manager_api.bp))
    manage.init_app(app)
    limits.init_app(app)
    app.register_blueprint(main.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(manager_api.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(wizard.bp)
    app.register_blueprint(wizard.respondent_bp)
    app.register_blueprint(manage.bp)
    app.register_blueprint(widget.bp)
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


def engines(app: Flask) -> EngineRegistry:
    """The flow engines of an app (built once at start-up)."""
    return app.extensions["engines"]
