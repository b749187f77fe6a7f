"""Logging in and out of the manager area: e-mail and password, then a second factor (TOTP) for those who use or need one.

After a correct password a manager with two-factor login goes to a code step, and one who must
use it but has not set it up goes to an enrolment step; until then only a short-lived note in
the signed Flask session says who is half-way (PENDING_SECONDS), and no server-side session
exists. Wrong codes count as failed logins (bot/web/manage/throttle.py) and each is audited.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import segno
from flask import Response, after_this_request, current_app, flash, redirect, render_template, request, url_for
from flask import session as cookie_session
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import UserMixin, current_user, login_user, logout_user
from markupsafe import Markup

from ...i18n import N_
from ...store import managers, sessions, two_factor
from ...store.audit import record_for_manager
from ...store.db import session
from ...store.events import Actor
from ...store.models import Manager, ManagerSession
from . import bp, kept_language, login_manager, page_locale, throttle

LOGIN_FAILED = N_("The e-mail address or the password is not correct.")
LOGIN_THROTTLED = N_("Too many failed attempts. Please wait %(seconds)s seconds and try again.")
LOGIN_EXPIRED = N_("Your login took too long. Please log in again.")
CODE_WRONG = N_("The code is not correct or has been used already. Please enter the current code from your app.")
RECOVERY_CODE_WRONG = N_("The recovery code is not correct or has been used already.")
CODE_MISSING = N_("Please enter the 6-digit code from your authenticator app.")
CODE_INVALID = N_("That is not a code: enter the 6 digits shown in your authenticator app.")
RECOVERY_USED = N_("You logged in with a recovery code. Recovery codes left: %(count)s. You can renew them on the Account page.")
QR_LABEL = N_("QR code for your authenticator app. If you cannot scan it, type in the key shown below instead.")

PENDING_KEY = "pending_login"
PENDING_SECONDS = 5 * 60  # the second step must follow the password within this time


class SignedInManager(UserMixin):
    """The logged-in manager as Flask-Login sees it: the manager and their server-side session (the model stays free of web concerns)."""

    def __init__(self, manager: Manager, key: str, record: ManagerSession | None = None) -> None:
        """Wrap a manager row and the key of their session (what the cookie holds)."""
        self.manager = manager
        self.record = record
        self.id = key


def session_limits() -> tuple[timedelta, timedelta]:
    """The idle timeout and the absolute limit of a session (SESSION_IDLE_MINUTES, SESSION_MAX_DAYS)."""
    config = current_app.config
    return timedelta(minutes=int(config["SESSION_IDLE_MINUTES"])), timedelta(days=int(config["SESSION_MAX_DAYS"]))


@login_manager.user_loader
def load_manager(key: str) -> SignedInManager | None:
    """The manager of the cookie's session while it counts (None logs them out: ended, idle too long, too old)."""
    record = sessions.current(session(), key, *session_limits()) if 20 <= len(key) <= 100 else None
    manager = session().get(Manager, record.manager_id) if record is not None else None
    return SignedInManager(manager, key, record) if manager is not None and record is not None else None


def account_actor(manager: Manager) -> Actor:
    """The manager acting on their own account in the manager area, from this request's address (for the audit log)."""
    return Actor(manager.email, "manage", manager.id, request.remote_addr)


def start_session(manager: Manager) -> None:
    """Start a server-side session for the manager (committing whatever the caller added) and log this browser into it."""
    cookie_session.pop("csrf_token", None)  # a new CSRF token for the logged-in session
    key = sessions.start(session(), manager, request.headers.get("User-Agent", ""), request.remote_addr)
    login_user(SignedInManager(manager, key))


def _safe_next(target: str | None) -> str:
    """Only local paths are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("manage.index")


def qr_svg(uri: str) -> Markup:
    """The QR code of an otpauth:// address as inline SVG, drawn here (no request leaves the page), named for screen readers."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, title=str(gettext(QR_LABEL)), svgclass="qr", lineclass=None)
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # segno escapes the title it puts in


def enrolment_context(manager: Manager, secret: str) -> dict[str, Any]:
    """What enrol.html shows of a pending secret: the QR code and the key in groups of four."""
    return {"qr": qr_svg(two_factor.provisioning_uri(secret, manager)), "secret": two_factor.grouped(secret), "email": manager.email}


def bad_code_input(raw: str) -> bool:
    """Whether a typed code is no code at all (too long, control characters): refused before any check, nothing counted."""
    return len(raw) > two_factor.CODE_MAX_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in raw)


def _finish(manager: Manager, method: str) -> None:
    """The login succeeded: clear the account's failures, audit it and start the session (committed together)."""
    cookie_session.pop(PENDING_KEY, None)
    throttle.record_success(manager.email)
    record_for_manager(session(), manager, "login.succeeded", account_actor(manager), method=method)
    start_session(manager)


def _pending() -> tuple[Manager, dict[str, Any]] | None:
    """The manager half-way through logging in (password right, second step not done) while the note is fresh."""
    state = cookie_session.get(PENDING_KEY)
    if not isinstance(state, dict) or not isinstance(state.get("id"), int) or not isinstance(state.get("at"), int | float):
        return None
    if not 0 <= time.time() - state["at"] <= PENDING_SECONDS:
        cookie_session.pop(PENDING_KEY, None)
        return None
    manager = session().get(Manager, state["id"])
    return (manager, state) if manager is not None else None


def _expired() -> ResponseReturnValue:
    flash(gettext(LOGIN_EXPIRED))
    return redirect(url_for("manage.login", **kept_language()), code=303)


def _audit_failure_after_the_answer(manager_id: int, address: str | None) -> None:
    """Log a wrong password for a real account once the answer has gone out, so its time does not tell that the account exists."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def write() -> None:
        with app.app_context():
            manager = session().get(Manager, manager_id)
            if manager is not None:
                record_for_manager(session(), manager, "login.failed", Actor(manager.email, "manage", manager.id, address))
                session().commit()

    @after_this_request
    def later(response: Response) -> Response:
        response.call_on_close(write)
        return response


def _throttled(template: str, wait: int, **context: Any) -> ResponseReturnValue:
    message = gettext(LOGIN_THROTTLED) % {"seconds": wait}
    return render_template(template, error=message, locale=page_locale(), **context), 429, {"Retry-After": str(wait)}


def _second_factor_failed(manager: Manager, step: str) -> None:
    """A wrong code: it counts as a failed login for the account and the address, and is audited (never the code itself)."""
    throttle.record_failure(manager.email)
    record_for_manager(session(), manager, "login.second_factor_failed", account_actor(manager), step=step)
    session().commit()


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Log in with e-mail and password (throttled per account and address after repeated failures); a second step may follow."""
    error = None
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "")[:254]
        password = request.form.get("password", "")[:1024]
        wait = throttle.wait_seconds(email)
        if wait:
            return _throttled("manage/login.html", wait, email=email)
        manager = managers.manager_by_email(session(), email)
        # The hash is computed for unknown accounts too: the answer's time must not tell which accounts exist.
        if managers.check_password(manager, password):
            assert manager is not None
            target = _safe_next(request.args.get("next"))
            if manager.has_two_factor or two_factor.required_for(session(), current_app.config, manager):
                # The account's failures are cleared only when the second step succeeds: a known password must not reset the count of wrong codes.
                enrol = not manager.has_two_factor
                cookie_session[PENDING_KEY] = {"id": manager.id, "at": int(time.time()), "next": target, "enrol": enrol}
                return redirect(url_for("manage.login_enrol" if enrol else "manage.login_code", **kept_language()), code=303)
            _finish(manager, "password")
            return redirect(target, code=303)
        throttle.record_failure(email)
        if manager is not None:  # an unknown address has no organisation to tell; its answer stays the same
            _audit_failure_after_the_answer(manager.id, request.remote_addr)
        error = gettext(LOGIN_FAILED)
    status = 401 if error else 200
    return render_template("manage/login.html", error=error, email=email, locale=page_locale()), status


@bp.route("/login/code", methods=["GET", "POST"])
def login_code() -> ResponseReturnValue:
    """The second step: a code from the authenticator app, or one of the recovery codes (each accepted once)."""
    pending = _pending()
    if pending is None:
        return _expired()
    manager, state = pending
    if state.get("enrol"):
        return redirect(url_for("manage.login_enrol", **kept_language()), code=303)
    error, field, status = None, "code", 200
    if request.method == "POST":
        recovery = request.form.get("recovery_code", "")
        raw = recovery or request.form.get("code", "")
        field = "recovery_code" if recovery else "code"
        wait = throttle.wait_seconds(manager.email)
        if wait:
            return _throttled("manage/login_code.html", wait, field=field)
        if bad_code_input(raw):
            error, status = gettext(CODE_INVALID), 422
        elif not raw.strip():
            error, status = gettext(CODE_MISSING), 422
        elif not recovery and two_factor.check_code(session(), current_app.config, manager, raw):
            _finish(manager, "totp")
            return redirect(_safe_next(state.get("next")), code=303)
        elif recovery and two_factor.use_recovery_code(session(), manager, raw, account_actor(manager)):
            _finish(manager, "recovery_code")
            left = two_factor.remaining_recovery_codes(session(), manager)
            flash(gettext(RECOVERY_USED) % {"count": left})
            return redirect(_safe_next(state.get("next")), code=303)
        else:
            _second_factor_failed(manager, "recovery_code" if recovery else "code")
            error, status = gettext(RECOVERY_CODE_WRONG if recovery else CODE_WRONG), 401
    return render_template("manage/login_code.html", error=error, field=field, locale=page_locale()), status


@bp.route("/login/enrol", methods=["GET", "POST"])
def login_enrol() -> ResponseReturnValue:
    """Setting up two-factor login before the first session, for a manager who must use it: scan, confirm with a first code."""
    pending = _pending()
    if pending is None:
        return _expired()
    manager, state = pending
    if manager.has_two_factor:  # set up meanwhile (another tab): the code step asks for a code
        cookie_session[PENDING_KEY] = {**state, "enrol": False}
        return redirect(url_for("manage.login_code", **kept_language()), code=303)
    secret = two_factor.pending_secret(session(), current_app.config, manager)
    context = {"action": url_for("manage.login_enrol", **kept_language()), "signed_in": False, **enrolment_context(manager, secret)}
    error, status = None, 200
    if request.method == "POST":
        raw = request.form.get("code", "")
        wait = throttle.wait_seconds(manager.email)
        if wait:
            return _throttled("manage/enrol.html", wait, **context)
        if bad_code_input(raw):
            error, status = gettext(CODE_INVALID), 422
        elif not raw.strip():
            error, status = gettext(CODE_MISSING), 422
        else:
            codes = two_factor.confirm_enrolment(session(), current_app.config, manager, raw, account_actor(manager))
            if codes is not None:
                _finish(manager, "totp")
                page = render_template(
                    "manage/recovery_codes.html", codes=codes, continue_url=_safe_next(state.get("next")), signed_in=True, locale=page_locale()
                )
                return page
            _second_factor_failed(manager, "enrolment")
            error, status = gettext(CODE_WRONG), 422
    return render_template("manage/enrol.html", error=error, locale=page_locale(), **context), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Log out (a POST with a CSRF token, so no other site can log you out): the session ends on the server too."""
    if current_user.is_authenticated and current_user.record is not None:
        sessions.end(session(), current_user.manager, current_user.record.id)
    logout_user()
    cookie_session.pop(PENDING_KEY, None)
    return redirect(url_for("manage.login"), code=303)
