"""The manager area: log in, see which organisations need attention, read and export their checklists.

Server-rendered (works without JavaScript; a small script only adds copy buttons),
session login with Flask-Login, CSRF on every form. A manager sees only the
organisations they belong to; anything else is 404, exactly like a missing page.
Admins see every organisation and can create organisations and managers here too.
The views live beside what they serve: auth (login), organisations (overview, checklist,
exports, texts, comparison) and admin; the rules they apply are in `bot/review.py`.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort
from flask_babel import get_locale, gettext
from flask_login import LoginManager, current_user

from ...i18n import N_
from ...store import managers
from ...store.db import session
from ...store.models import Manager, Organisation

bp = Blueprint("manage", __name__, url_prefix="/manage")
login_manager = LoginManager()
login_manager.login_view = "manage.login"
login_manager.login_message = N_("Please log in to see this page.")
login_manager.session_protection = "strong"


def init_app(app: Flask) -> None:
    """Attach Flask-Login; the login message is localised when it is shown."""
    login_manager.init_app(app)
    login_manager.localize_callback = gettext


def me() -> Manager:
    """The manager of this request."""
    manager: Manager = current_user.manager
    return manager


def page_locale() -> str:
    """The language of this page."""
    return str(get_locale())


def visible_organisation_or_404(slug: str) -> Organisation:
    """The organisation `slug` if this manager may see it; 404 otherwise (as if it did not exist)."""
    organisation = managers.visible_organisation(session(), me(), slug) if len(slug) <= 64 else None
    if organisation is None:
        abort(404)
    return organisation


# The views register themselves on `bp` when imported (the microblog layout); they need `bp` first.
from . import admin, auth, organisations, profile  # noqa: E402

__all__ = ["admin", "auth", "bp", "init_app", "login_manager", "organisations", "profile"]
