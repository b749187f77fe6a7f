"""The manager area: log in, see which organisations need attention, read and export their checklists.

Server-rendered (works without JavaScript; a small script only adds copy buttons),
session login with Flask-Login, CSRF on every form. A manager sees only the
organisations they belong to; anything else is 404, exactly like a missing page.
Admins see every organisation and can create organisations and managers here too.
The views live beside what they serve: auth (login), organisations (overview, checklist,
exports, texts, comparison), profile, respondent links, the public self-check (setting,
submissions, anonymous aggregates), the event log and admin; the rules they apply are in
`bot/review.py` and the store.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, make_response, render_template, request
from flask_babel import get_locale, gettext
from flask_login import LoginManager, current_user

from ...i18n import N_, normalise_locale
from ...store import managers
from ...store.db import session
from ...store.models import Manager, Organisation

bp = Blueprint("manage", __name__, url_prefix="/manage")
login_manager = LoginManager()
login_manager.login_view = "manage.login"
login_manager.login_message = N_("Please log in to see this page.")
# Sessions are records on the server (bot/store/sessions.py), ended at logout and on demand; Flask-Login's
# "strong" protection hashed the client address from a spoofable X-Forwarded-For and adds nothing to them.
login_manager.session_protection = None


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


def kept_language() -> dict[str, Any]:
    """The page's explicit `?lang=`, for the links and form targets of a page (the language is chosen per request)."""
    lang = normalise_locale(request.args.get("lang"))
    return {"lang": lang} if lang else {}


# Templates (and the macros they import) call it for their links and form targets: url_for(..., **kept_language()).
bp.add_app_template_global(kept_language)


def visible_organisation_or_404(slug: str) -> Organisation:
    """The organisation `slug` if this manager may see it; 404 otherwise (as if it did not exist)."""
    organisation = managers.visible_organisation(session(), me(), slug) if len(slug) <= 64 else None
    if organisation is None:
        abort(404)
    return organisation


ADMINS_ONLY = N_("Only the admins of %(name)s can do this. Please ask one of them.")


def admin_or_403(organisation: Organisation, what: str, message: str = ADMINS_ONLY) -> None:
    """Go on only for the organisation's admins (operators count); others get a 403 page saying why, and the attempt is logged as access.denied."""
    from ...store.events import record
    from ..records import actor

    if managers.is_admin_of(session(), me(), organisation):
        return
    record(session(), actor(me(), "manage"), "access.denied", organisation, what, path=request.path[:200])
    session().commit()
    abort(make_response(render_template("error.html", status=403, message=gettext(message) % {"name": organisation.name}), 403))


# The views register themselves on `bp` when imported (the microblog layout); they need `bp` first.
from . import (  # noqa: E402
    account,
    admin,
    auth,
    event_log,
    invitations,
    items,
    my_items,
    notifications,
    organisations,
    password_reset,
    people,
    profile,
    progress,
    respondent_links,
    self_check,
    sessions,
    webhooks,
)

__all__ = [
    "account",
    "admin",
    "auth",
    "bp",
    "event_log",
    "init_app",
    "invitations",
    "items",
    "login_manager",
    "my_items",
    "notifications",
    "organisations",
    "password_reset",
    "people",
    "profile",
    "progress",
    "respondent_links",
    "self_check",
    "sessions",
    "webhooks",
]
