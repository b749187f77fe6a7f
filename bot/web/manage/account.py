"""'Account': a manager's own password, two-factor login, recovery codes and API token.

Every change asks again for something only the manager has (the current password, or a fresh
code from the app), so a browser left logged in is not enough to take the account over; wrong
answers count towards the login throttle. A new password ends every other session and keeps
this one (a new session is started for it).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import login_required

from ...i18n import N_
from ...store import managers, passwords, two_factor
from ...store.audit import record_for_manager
from ...store.db import session
from ...store.models import Manager
from . import bp, kept_language, me, page_locale, throttle
from .auth import CODE_INVALID, CODE_MISSING, CODE_WRONG, LOGIN_THROTTLED, account_actor, bad_code_input, enrolment_context, start_session

PASSWORD_WRONG = N_("Your current password is not correct.")
PASSWORD_MISSING = N_("Please enter your current password.")
PASSWORD_INVALID = N_("The password must not contain control characters (such as a null character).")
PASSWORD_TOO_SHORT = N_("The new password must have at least %(count)s characters.")
PASSWORD_TOO_LONG = N_("The new password may have at most %(count)s characters.")
PASSWORD_COMMON = N_("The new password is too common or too easy to guess. Choose a longer phrase of your own.")
PASSWORD_CHANGED = N_("Your password has been changed. Every other session has ended.")
CONFIRM_MISSING = N_("Please enter a current code from your app or your password.")
TWO_FACTOR_REQUIRED = N_("Two-factor login is required for you (by one of your organisations or for everyone), so it cannot be switched off.")
TWO_FACTOR_OFF = N_("Two-factor login has been switched off.")
TWO_FACTOR_IS_ON = N_("Two-factor login is on already.")
TWO_FACTOR_IS_OFF = N_("Two-factor login is off.")

PASSWORD_FIELD_MAX = 1024  # longer is no password of ours (the rules allow passwords.MAX_LENGTH); cut before hashing


def _page(status: int = 200, errors: dict[str, str] | None = None, **extra: Any) -> tuple[str, int]:
    """The account page, with the errors of a refused form (field id: message) or what a change shows once."""
    manager = me()
    context = {
        "two_factor_on": manager.has_two_factor,
        "required": two_factor.required_for(session(), current_app.config, manager),
        "remaining": two_factor.remaining_recovery_codes(session(), manager) if manager.has_two_factor else 0,
        "enrolled_at": manager.totp_enabled_at,
        "email": manager.email,
        "min_length": passwords.MIN_LENGTH,
        "errors": errors or {},
        "new_token": None,
    }
    context.update(extra)
    return render_template("manage/account.html", locale=page_locale(), is_operator=manager.is_operator, **context), status


def _throttled(wait: int, field: str) -> ResponseReturnValue:
    page, status = _page(429, {field: gettext(LOGIN_THROTTLED) % {"seconds": wait}})
    return page, status, {"Retry-After": str(wait)}


def _password_problem(raw: str, field: str) -> dict[str, str] | None:
    """The error for a password field that is no password at all (control characters); None when it may be checked."""
    return {field: gettext(PASSWORD_INVALID)} if any(ord(c) < 32 or ord(c) == 127 for c in raw) else None


def _check_password(manager: Manager, field: str) -> ResponseReturnValue | None:
    """None when the form's `field` holds the manager's password; otherwise the refusal (the failure counts towards the throttle)."""
    raw = request.form.get(field, "")
    wait = throttle.wait_seconds(manager.email)
    if wait:
        return _throttled(wait, field)
    if not raw:
        return _page(422, {field: gettext(PASSWORD_MISSING)})
    problem = _password_problem(raw, field)
    if problem or len(raw) > PASSWORD_FIELD_MAX:
        return _page(422, problem or {field: gettext(PASSWORD_WRONG)})
    if not managers.check_password(manager, raw):
        throttle.record_failure(manager.email)
        return _page(422, {field: gettext(PASSWORD_WRONG)})
    return None


def _check_code(manager: Manager, field: str) -> ResponseReturnValue | None:
    """None when the form's `field` holds a fresh code from the manager's app (used up now); otherwise the refusal."""
    raw = request.form.get(field, "")
    wait = throttle.wait_seconds(manager.email)
    if wait:
        return _throttled(wait, field)
    if bad_code_input(raw):
        return _page(422, {field: gettext(CODE_INVALID)})
    if not raw.strip():
        return _page(422, {field: gettext(CODE_MISSING)})
    if not two_factor.check_code(session(), current_app.config, manager, raw):
        throttle.record_failure(manager.email)
        return _page(422, {field: gettext(CODE_WRONG)})
    return None


def _check_code_or_password(manager: Manager, prefix: str) -> ResponseReturnValue | None:
    """A fresh code (field `<prefix>-code`) or, when none is given, the password (`<prefix>-password`); None when either is right."""
    if request.form.get(f"{prefix}-code", "").strip():
        return _check_code(manager, f"{prefix}-code")
    if request.form.get(f"{prefix}-password", ""):
        return _check_password(manager, f"{prefix}-password")
    return _page(422, {f"{prefix}-code": gettext(CONFIRM_MISSING)})


@bp.get("/account")
@login_required
def account() -> ResponseReturnValue:
    """The manager's account: password, two-factor login, recovery codes, API token."""
    return _page()


@bp.post("/account/password")
@login_required
def account_password() -> ResponseReturnValue:
    """Change the password (the current one first); every other session ends, this one goes on in a new session."""
    manager = me()
    refused = _check_password(manager, "current-password")
    if refused is not None:
        return refused
    new = request.form.get("new-password", "")
    problem = _password_problem(new, "new-password")
    if problem:
        return _page(422, problem)
    record_for_manager(session(), manager, "password.changed", account_actor(manager))  # committed with the new password
    try:
        managers.set_password(session(), manager, new[: passwords.MAX_LENGTH + 1])
    except managers.PasswordNotAllowedError as exc:
        session().rollback()
        return _page(422, {"new-password": _rule_message(exc.__cause__)})
    start_session(manager)  # set_password ended every session, this one too
    flash(gettext(PASSWORD_CHANGED))
    return redirect(url_for("manage.account", **kept_language()), code=303)


def _rule_message(rule: BaseException | None) -> str:
    """The localised message of a broken password rule."""
    if isinstance(rule, passwords.PasswordTooShortError):
        return gettext(PASSWORD_TOO_SHORT) % {"count": passwords.MIN_LENGTH}
    if isinstance(rule, passwords.PasswordTooLongError):
        return gettext(PASSWORD_TOO_LONG) % {"count": passwords.MAX_LENGTH}
    return gettext(PASSWORD_COMMON)


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def account_enrol() -> ResponseReturnValue:
    """Set up two-factor login: scan the QR code (or type the key), confirm with a first code; the recovery codes are shown once."""
    manager = me()
    if manager.has_two_factor:
        flash(gettext(TWO_FACTOR_IS_ON))
        return redirect(url_for("manage.account", **kept_language()), code=303)
    secret = two_factor.pending_secret(session(), current_app.config, manager)
    context = {"action": url_for("manage.account_enrol", **kept_language()), "signed_in": True, **enrolment_context(manager, secret)}
    error, status = None, 200
    if request.method == "POST":
        raw = request.form.get("code", "")
        wait = throttle.wait_seconds(manager.email)
        if wait:
            page = render_template("manage/enrol.html", error=gettext(LOGIN_THROTTLED) % {"seconds": wait}, locale=page_locale(), **context)
            return page, 429, {"Retry-After": str(wait)}
        if bad_code_input(raw):
            error, status = gettext(CODE_INVALID), 422
        elif not raw.strip():
            error, status = gettext(CODE_MISSING), 422
        else:
            codes = two_factor.confirm_enrolment(session(), current_app.config, manager, raw, account_actor(manager))
            if codes is not None:
                continue_url = url_for("manage.account", **kept_language())
                return render_template("manage/recovery_codes.html", codes=codes, continue_url=continue_url, signed_in=True, locale=page_locale())
            throttle.record_failure(manager.email)
            error, status = gettext(CODE_WRONG), 422
    return render_template("manage/enrol.html", error=error, locale=page_locale(), **context), status


@bp.post("/account/two-factor/disable")
@login_required
def account_disable_two_factor() -> ResponseReturnValue:
    """Switch two-factor login off (a current code or the password first); refused while it is required."""
    manager = me()
    if not manager.has_two_factor:
        return _page(409, {"disable-code": gettext(TWO_FACTOR_IS_OFF)})
    if two_factor.required_for(session(), current_app.config, manager):
        return _page(409, {"disable-code": gettext(TWO_FACTOR_REQUIRED)})
    refused = _check_code_or_password(manager, "disable")
    if refused is not None:
        return refused
    two_factor.disable(session(), current_app.config, manager, account_actor(manager))
    flash(gettext(TWO_FACTOR_OFF))
    return redirect(url_for("manage.account", **kept_language()), code=303)


@bp.post("/account/recovery-codes")
@login_required
def account_recovery_codes() -> ResponseReturnValue:
    """New recovery codes (a current code or the password first); the old ones stop working, the new ones are shown once."""
    manager = me()
    if not manager.has_two_factor:
        return _page(409, {"renew-code": gettext(TWO_FACTOR_IS_OFF)})
    refused = _check_code_or_password(manager, "renew")
    if refused is not None:
        return refused
    codes = two_factor.renew_recovery_codes(session(), manager, account_actor(manager))
    continue_url = url_for("manage.account", **kept_language())
    return render_template("manage/recovery_codes.html", codes=codes, continue_url=continue_url, signed_in=True, locale=page_locale())


@bp.post("/account/token")
@login_required
def account_token() -> ResponseReturnValue:
    """A new API token (the old one stops working), shown once; it needs a fresh code with two-factor login, else the password."""
    manager = me()
    refused = _check_code(manager, "token-code") if manager.has_two_factor else _check_password(manager, "token-password")
    if refused is not None:
        return refused
    record_for_manager(session(), manager, "token.rotated", account_actor(manager))  # committed with the new token
    token = managers.rotate_token(session(), manager)
    return _page(200, new_token=token)
