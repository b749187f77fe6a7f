"""CSRF protection for every HTML form (Flask-WTF); the JSON APIs are exempt (no cookies, token-authorised)."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, Flask, render_template, request, url_for
from flask_babel import gettext
from flask_wtf.csrf import CSRFError, CSRFProtect

from ..i18n import N_

csrf = CSRFProtect()

CSRF_MESSAGE = N_("This form has expired or did not come from this site. Please go back, reload the page and send it again; nothing was saved.")


def handle_csrf_error(_exc: CSRFError):
    """A post without a valid token: 400, nothing stored, a way back to the question."""
    token = (request.view_args or {}).get("token")
    back_url = url_for("wizard.step", token=token) if token and (request.endpoint or "").startswith("wizard.") else None
    return render_template("error.html", status=400, message=gettext(CSRF_MESSAGE), back_url=back_url), 400


def init_app(app: Flask, exempt: Iterable[Blueprint] = ()) -> None:
    """Protect every POST/PUT/PATCH/DELETE except the exempt blueprints."""
    csrf.init_app(app)
    for blueprint in exempt:
        csrf.exempt(blueprint)
    app.register_error_handler(CSRFError, handle_csrf_error)
