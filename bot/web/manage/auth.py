"""Logging in and out of the manager area (e-mail and password, Flask-Login session)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import redirect, render_template, request, url_for
from flask import session as cookie_session
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import UserMixin, login_user, logout_user

from ...i18n import N_
from ...store import managers
from ...store.db import session
from ...store.models import Manager
from . import bp, login_manager, page_locale, throttle

LOGIN_FAILED = N_("The e-mail address or the password is not correct.")
LOGIN_THROTTLED = N_("Too many failed attempts. Please wait %(seconds)s seconds and try again.")


class SignedInManager(UserMixin):
    """The logged-in manager as Flask-Login sees it (the model stays free of web concerns)."""

    def __init__(self, manager: Manager) -> None:
        """Wrap a manager row."""
        self.manager = manager
        self.id = str(manager.id)


@login_manager.user_loader
def load_manager(manager_id: str) -> SignedInManager | None:
    """Reload the manager of the session (None logs them out)."""
    manager = session().get(Manager, int(manager_id)) if manager_id.isdigit() else None
    return SignedInManager(manager) if manager is not None else None


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
            login_user(SignedInManager(manager))
            return redirect(_safe_next(request.args.get("next")), code=303)
        throttle.record_failure(email)
        error = gettext(LOGIN_FAILED)
    status = 401 if error else 200
    return render_template("manage/login.html", error=error, email=email, locale=page_locale()), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Log out (a POST with a CSRF token, so no other site can log you out)."""
    logout_user()
    return redirect(url_for("manage.login"), code=303)
