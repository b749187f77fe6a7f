"""Accepting an invitation: a new person sets a password and joins; an existing manager joins once logged in as the invited address.

An accepted, revoked or expired link shows a page that says so (410), an unknown one 404;
neither changes anything. After a new account is made the person logs in (the login leads
them through two-factor enrolment where the organisation requires it).
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user

from ...i18n import N_
from ...secret_links import unseal
from ...store import invitations as store
from ...store import managers
from ...store.db import session
from ...store.models import Invitation
from ...store.passwords import MAX_LENGTH, MIN_LENGTH
from . import bp, kept_language, me, page_locale
from .password_reset import password_error
from .people import role_label

ACCOUNT_CREATED = N_("Your account has been created and you now belong to %(name)s. Please log in with your e-mail address and your new password.")
JOINED = N_("You now belong to %(name)s.")
ALREADY_JOINED = N_("You belonged to %(name)s already.")
ACCOUNT_EXISTS = N_("An account with this address exists already. Please log in with it, then open the link again.")


@bp.app_template_global()
def open_link(sealed: str, fallback: str = "manage.login") -> str:
    """The link sealed into an outbox mail (bot/secret_links.py), opened as the mail is rendered; the `fallback` page when it cannot be."""
    return unseal(current_app.config, sealed) or url_for(fallback, _external=True)


def _gone(reason: str) -> ResponseReturnValue:
    """The page of a link that adds nobody: unknown (404), accepted, revoked or expired (410)."""
    return render_template("manage/invitation_gone.html", reason=reason, locale=page_locale()), 404 if reason == "unknown" else 410


def _pending_or_gone(token: str) -> Invitation | ResponseReturnValue:
    invitation = store.invitation_by_token(session(), token)
    if invitation is None:
        return _gone("unknown")
    status = store.status_of(invitation)
    return invitation if status == "pending" else _gone(status)


def _page(invitation: Invitation, token: str, *, error: str | None = None, status: int = 200) -> ResponseReturnValue:
    """What the invited person sees: the form for a password, a join button, or whom to log in as."""
    existing = managers.manager_by_email(session(), invitation.email) is not None
    signed_in_as = me().email if current_user.is_authenticated else None
    if not existing:
        mode = "new"
    elif signed_in_as == invitation.email:
        mode = "join"
    else:
        mode = "other_account" if signed_in_as else "log_in"
        status = 403 if signed_in_as and status == 200 else status
    page = render_template(
        "manage/invitation.html",
        invitation=invitation,
        org=invitation.organisation,
        role=role_label(invitation.role),
        token=token,
        mode=mode,
        signed_in_as=signed_in_as,
        error=error,
        min_length=MIN_LENGTH,
        max_length=MAX_LENGTH,
        login_url=url_for("manage.login", next=url_for("manage.invitation", token=token, **kept_language()), **kept_language()),
        locale=page_locale(),
    )
    return page, status


@bp.get("/invitations/<token>")
def invitation(token: str) -> ResponseReturnValue:
    """The invitation: set a password (new person), join (logged in as the invited address), or log in first."""
    found = _pending_or_gone(token)
    if not isinstance(found, Invitation):
        return found
    return _page(found, token)


@bp.post("/invitations/<token>")
def accept_invitation(token: str) -> ResponseReturnValue:
    """Accept: make the account with the new password and join, or join as the logged-in invited manager."""
    found = _pending_or_gone(token)
    if not isinstance(found, Invitation):
        return found
    name = found.organisation.name
    slug = found.organisation.slug
    manager = managers.manager_by_email(session(), found.email)
    try:
        if manager is not None:
            if not current_user.is_authenticated or me().email != found.email:
                return _page(found, token, status=403)
            joined = store.accept_as(session(), found, me(), request.remote_addr)
            flash(gettext(JOINED if joined else ALREADY_JOINED) % {"name": name})
            return redirect(url_for("manage.organisation", slug=slug, **kept_language()), code=303)
        password, repeat = request.form.get("password", "")[:1024], request.form.get("password_repeat", "")[:1024]
        error = password_error(password, repeat, found.email)
        if error:
            return _page(found, token, error=error, status=422)
        store.accept_new(session(), found, password, request.remote_addr)
    except store.InvitationUnusableError as exc:
        return _gone(exc.status)
    except managers.ManagerExistsError:
        return _page(found, token, error=gettext(ACCOUNT_EXISTS), status=409)
    flash(gettext(ACCOUNT_CREATED) % {"name": name})
    return redirect(url_for("manage.login", **kept_language()), code=303)
