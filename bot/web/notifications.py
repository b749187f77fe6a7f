"""Unsubscribe links from notification mails: no login, the signed single-purpose token is the capability.

`GET /unsubscribe/<token>` asks first (a link preview or a virus scanner that follows the link
must not turn anything off); `POST` turns the kind off. The POST is exempt from CSRF: a
mail client's one-click unsubscribe (RFC 8058, `List-Unsubscribe-Post`) sends it without a
form token, and the token in the URL already proves the request came from the mail.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, g, render_template
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext

from ..i18n import N_
from ..mail import read_unsubscribe_token
from ..store import notifications
from ..store.db import session
from ..store.models import NOTIFICATION_KINDS, Manager

bp = Blueprint("notifications", __name__)

# Each kind in plain words, as the object of "stop sending … to <address>".
KIND_NAMES = {
    "reminders": N_("reminders about your items"),
    "completions": N_("notices of completed assessments and new submissions"),
    "digest": N_("the digest of all your organisations"),
}


@bp.after_request
def no_store(response):
    """The page is reached through a capability URL: keep it out of caches and referrers."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.url_value_preprocessor
def load_token(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Read the token first, so the page speaks the manager's mail language (like the mail that carried the link)."""
    token = (values or {}).get("token")
    read = read_unsubscribe_token(current_app, token) if isinstance(token, str) and len(token) <= 500 else None
    manager = session().get(Manager, read[0]) if read is not None and read[1] in NOTIFICATION_KINDS else None
    g.unsubscribe = (manager, read[1]) if manager is not None and read is not None else None
    if manager is not None:
        g.assessment_locale = manager.locale  # bot/web/babel.py: the language of what is shown, after ?lang=


def _subject() -> tuple[Manager, str]:
    """The manager and kind of this request's token; the 404 page for a forged, malformed or stale one."""
    found = g.get("unsubscribe")
    if found is None:
        abort(404)
    manager, kind = found
    return manager, kind


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str) -> ResponseReturnValue:
    """Ask whether to turn this kind of mail off (nothing changes on GET)."""
    manager, kind = _subject()
    return render_template(
        "notifications/unsubscribe.html", token=token, email=manager.email, what=gettext(KIND_NAMES[kind]), kind=kind, done=False, locale=str(get_locale())
    )


@bp.post("/unsubscribe/<token>")
def unsubscribe_confirm(token: str) -> ResponseReturnValue:
    """Turn this kind of mail off for the token's manager (the form's button, or a mail client's one-click POST)."""
    manager, kind = _subject()
    if not notifications.turn_off(session(), manager.id, kind):
        abort(404)
    return render_template(
        "notifications/unsubscribe.html", token=token, email=manager.email, what=gettext(KIND_NAMES[kind]), kind=kind, done=True, locale=str(get_locale())
    )
