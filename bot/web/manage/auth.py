"""Logging in and out of the manager area (e-mail and password, Flask-Login session)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, redirect, render_template, request, url_for
from flask import session as cookie_session
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import UserMixin, current_user, login_user, logout_user

from ...i18n import N_
from ...store import managers, sessions
from ...store.db import session
from ...store.models import Manager, ManagerSession
from . import bp, login_manager, page_locale, throttle

LOGIN_FAILED = N_("The e-mail address or the password is not correct.")
LOGIN_THROTTLED = N_("Too many failed attempts. Please wait %(seconds)s seconds and try again.")


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


def _safe_next(target: str | None) -> str:
    """Only local paths are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("manage.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Log in with e-mail and password (throttled per account and address after repeated failures)."""
    error = None
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "")[:254]
        password = request.form.get("password", "")[:1024]
        wait = throttle.wait_seconds(email)
        if wait:
            message = gettext(LOGIN_THROTTLED) % {"seconds": wait}
            page = render_template("manage/login.html", error=message, email=email, locale=page_locale())
            return page, 429, {"Retry-After": str(wait)}
        manager = managers.manager_by_email(session(), email)
        # The hash is computed for unknown accounts too: the answer's time must not tell which accounts exist.
        if managers.check_password(manager, password):
            assert manager is not None
            throttle.record_success(email)
            cookie_session.pop("csrf_token", None)  # a new CSRF token for the logged-in session
            key = sessions.start(session(), manager, request.headers.get("User-Agent", ""), request.remote_addr)
            login_user(SignedInManager(manager, key))
            return redirect(_safe_next(request.args.get("next")), code=303)
        throttle.record_failure(email)
        error = gettext(LOGIN_FAILED)
    status = 401 if error else 200
    return render_template("manage/login.html", error=error, email=email, locale=page_locale()), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Log out (a POST with a CSRF token, so no other site can log you out): the session ends on the server too."""
    if current_user.is_authenticated and current_user.record is not None:
        sessions.end(session(), current_user.manager, current_user.record.id)
    logout_user()
    return redirect(url_for("manage.login"), code=303)
