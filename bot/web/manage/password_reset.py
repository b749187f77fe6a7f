"""'Forgot your password?': ask for a link by e-mail (the same answer for every address), then set a new password with it.

Asking is limited per client address (429 past the limit) and per e-mail address (past that
limit the page answers the same and nothing is sent, so it tells nothing); both 5 an hour
by default (RATELIMIT_PASSWORD_RESET). The link is valid 1 hour, works once, and ends every
session of the manager.
"""

from __future__ import annotations

import logging

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from limits import parse

from ...i18n import N_
from ...mail import mail_enabled
from ...result_mail import digest
from ...store import invitations as invitation_store
from ...store import password_resets as store
from ...store.db import session
from ...store.models import Manager, PasswordReset
from ...store.passwords import MAX_LENGTH, MIN_LENGTH, CommonPasswordError, PasswordRuleError, PasswordTooLongError, PasswordTooShortError, check_rules
from ..limits import limiter
from . import bp, kept_language, page_locale

log = logging.getLogger(__name__)

DEFAULT_LIMIT = "5 per hour"
BAD_EMAIL = N_("Please enter a valid e-mail address, for example info@example.de.")
SENT = N_("If an account with this address exists, we have sent it a link to set a new password. It is valid for 1 hour. Please also look in your spam folder.")
MAIL_OFF = N_("Password reset by e-mail is not available on this server. Please ask your administrator to set a new password for you.")
CHANGED = N_("Your new password has been saved and every session of your account has ended. Please log in with it.")
PASSWORD_TOO_SHORT = N_("The password needs at least %(min)s characters. A sentence of a few words is easy to remember.")
PASSWORD_TOO_LONG = N_("The password may have at most %(max)s characters.")
PASSWORD_COMMON = N_("This password is too common or too easy to guess (for example your e-mail address). Please choose a longer phrase of your own.")
PASSWORD_CONTROL = N_("The password may not contain control characters.")
PASSWORDS_DIFFER = N_("The two passwords are not the same. Please type the new password twice.")


def password_error(password: str, repeat: str, email: str) -> str | None:
    """Why this new password cannot be used, in the page's language (None: it can)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        return gettext(PASSWORD_CONTROL)
    try:
        check_rules(password, email)
    except PasswordTooShortError:
        return gettext(PASSWORD_TOO_SHORT) % {"min": MIN_LENGTH}
    except PasswordTooLongError:
        return gettext(PASSWORD_TOO_LONG) % {"max": MAX_LENGTH}
    except (CommonPasswordError, PasswordRuleError):
        return gettext(PASSWORD_COMMON)
    if password != repeat:
        return gettext(PASSWORDS_DIFFER)
    return None


def reset_limit() -> str:
    """How many links one client address, and one e-mail address, may ask for (RATELIMIT_PASSWORD_RESET)."""
    return str(current_app.config.get("RATELIMIT_PASSWORD_RESET") or DEFAULT_LIMIT)


def _email_within_limit(email: str) -> bool:
    """Count one request for this e-mail address; False past its limit (the page answers the same, nothing is sent)."""
    if not (limiter.enabled and current_app.config.get("RATELIMIT_ENABLED", True)):
        return True
    try:
        return bool(limiter.limiter.hit(parse(reset_limit()), "password-reset-email", digest(email)))
    except Exception:  # the store is down: the per-client limit still holds; do not lock people out
        log.warning("password reset limit store unavailable", exc_info=True)
        return True


def _ask_page(*, email: str = "", error: str | None = None, sent: bool = False, status: int = 200) -> ResponseReturnValue:
    page = render_template("manage/reset.html", email=email, error=error, sent=sent, mail_on=mail_enabled(current_app.config), locale=page_locale())
    return page, status


@bp.get("/reset")
def reset_request() -> ResponseReturnValue:
    """The form that asks for a link by e-mail."""
    return _ask_page()


@bp.post("/reset")
@limiter.limit(reset_limit)
def send_reset() -> ResponseReturnValue:
    """Queue a link for the account with this address, if there is one; the same answer either way (a bad address is 422)."""
    typed = request.form.get("email", "")[:1000]
    if not mail_enabled(current_app.config):
        return _ask_page(email=typed)
    try:
        email = invitation_store.clean_email(typed)
    except invitation_store.InvitationError:
        return _ask_page(email=typed, error=gettext(BAD_EMAIL), status=422)
    store.request_reset(
        session(),
        current_app.config,
        email,
        request.remote_addr,
        lambda token: url_for("manage.reset_password", token=token, _external=True),
        send_mail=_email_within_limit(email),
    )
    return _ask_page(sent=True)


def _gone(reason: str) -> ResponseReturnValue:
    """The page of a link that sets nothing: unknown (404), used or expired (410)."""
    return render_template("manage/reset_gone.html", reason=reason, locale=page_locale()), 404 if reason == "unknown" else 410


def _usable_or_gone(token: str) -> PasswordReset | ResponseReturnValue:
    reset = store.reset_by_token(session(), token)
    if reset is None:
        return _gone("unknown")
    if not store.usable(reset):
        return _gone("used" if reset.used_at is not None else "expired")
    return reset


@bp.get("/reset/<token>")
def reset_password(token: str) -> ResponseReturnValue:
    """The form for the new password, while the link is valid."""
    found = _usable_or_gone(token)
    if not isinstance(found, PasswordReset):
        return found
    return render_template("manage/reset_password.html", token=token, error=None, min_length=MIN_LENGTH, max_length=MAX_LENGTH, locale=page_locale())


@bp.post("/reset/<token>")
def set_new_password(token: str) -> ResponseReturnValue:
    """Set the new password (the rules; typed twice), end every session, and send the manager to the login page."""
    found = _usable_or_gone(token)
    if not isinstance(found, PasswordReset):
        return found
    manager = session().get(Manager, found.manager_id)
    password, repeat = request.form.get("password", "")[:1024], request.form.get("password_repeat", "")[:1024]
    error = password_error(password, repeat, manager.email if manager is not None else "")
    if error:
        page = render_template("manage/reset_password.html", token=token, error=error, min_length=MIN_LENGTH, max_length=MAX_LENGTH, locale=page_locale())
        return page, 422
    try:
        store.reset_password(session(), found, password, request.remote_addr)
    except store.ResetUnusableError:
        return _gone("used")
    flash(gettext(CHANGED))
    return redirect(url_for("manage.login", **kept_language()), code=303)
