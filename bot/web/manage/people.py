"""'People' of an organisation: everyone who sees it reads the members; its admins change roles, remove members, invite and require two-factor login.

A member who tries an admin action gets 403 with a plain message, nothing changes, and the
attempt is an `access.denied` entry of the audit log. Another organisation's admin gets 404,
as for every organisation they cannot see. Operators count as admins everywhere.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, ngettext
from flask_login import login_required
from sqlalchemy import func, select

from ...i18n import N_
from ...mail import mail_enabled
from ...store import events, managers
from ...store import invitations as invitation_store
from ...store.db import session
from ...store.models import ItemTracking, Manager, Organisation, is_row_id
from ..records import actor
from . import admin_or_403, bp, kept_language, me, page_locale, visible_organisation_or_404

SURFACE = "manage"  # the surface the event log names for the manager area
ROLE_LABELS = {"member": N_("Member"), "admin": N_("Admin")}
INVITATION_STATUS = {"pending": N_("waiting"), "accepted": N_("accepted"), "revoked": N_("revoked"), "expired": N_("expired")}

ADMINS_ONLY = N_("Only the admins of %(name)s can do this (change roles, remove members, invite people, require two-factor login). Please ask one of them.")
BAD_ROLE = N_("Please choose a role: member or admin.")
BAD_EMAIL = N_("Please enter a valid e-mail address, for example info@example.de.")
ALREADY_MEMBER = N_("%(email)s belongs to %(name)s already.")
LAST_ADMIN_DEMOTE = N_("%(email)s is the only admin of %(name)s and stays admin. Make someone else an admin first.")
LAST_ADMIN_REMOVE = N_("%(email)s is the only admin of %(name)s and cannot be removed. Make someone else an admin first.")
BAD_SUCCESSOR = N_("Please choose who takes over the items: one of the admins, or nobody.")
BAD_REQUIRED = N_("Please choose whether two-factor login is required.")
ROLE_CHANGED = N_("%(email)s now has the role “%(role)s”.")
ROLE_UNCHANGED = N_("%(email)s has the role “%(role)s” already.")
REMOVED = N_("%(email)s no longer belongs to %(name)s.")
INVITATION_REVOKED = N_("The invitation to %(email)s has been revoked: its link no longer works.")
INVITATION_NOT_PENDING = N_("The invitation to %(email)s was no longer waiting: nothing changed.")
MFA_ON = N_("Two-factor login is now required for everyone in %(name)s.")
MFA_OFF = N_("Two-factor login is no longer required for %(name)s.")


def role_label(role: str) -> str:
    """A role in the page's language."""
    return gettext(ROLE_LABELS.get(role, role))


def refuse_unless_admin(organisation: Organisation, what: str) -> ResponseReturnValue | None:
    """None for an admin (or operator); else a 403 page with a plain message, the attempt logged as `access.denied` (nothing else changes)."""
    admin_or_403(organisation, what, ADMINS_ONLY)
    return None


def _item_counts(organisation: Organisation) -> dict[int, int]:
    """How many of the organisation's items each manager owns (one query)."""
    query = (
        select(ItemTracking.owner_id, func.count())
        .where(ItemTracking.organisation_id == organisation.id, ItemTracking.owner_id.is_not(None))
        .group_by(ItemTracking.owner_id)
    )
    return {owner: count for owner, count in session().execute(query) if owner is not None}


def _page(
    organisation: Organisation,
    *,
    created: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    is_admin = managers.is_admin_of(session(), me(), organisation)
    memberships = managers.members_of(session(), organisation)
    items = _item_counts(organisation)
    rows = [{"membership": m, "manager": m.manager, "items": items.get(m.manager_id, 0)} for m in memberships]
    invitations = []
    if is_admin:
        invitations = [{"invitation": i, "status": invitation_store.status_of(i)} for i in invitation_store.invitations_of(session(), organisation)]
    page = render_template(
        "manage/people.html",
        org=organisation,
        rows=rows,
        is_admin=is_admin,
        admin_count=sum(1 for m in memberships if m.role == "admin"),
        invitations=invitations,
        created=created,
        errors=errors or {},
        form=form or {"email": "", "role": "member"},
        role_labels={key: gettext(label) for key, label in ROLE_LABELS.items()},
        status_labels={key: gettext(label) for key, label in INVITATION_STATUS.items()},
        mail_on=mail_enabled(current_app.config),
        me_id=me().id,
        valid_days=invitation_store.VALID_FOR.days,
        locale=page_locale(),
    )
    return page, status


def _back(organisation: Organisation) -> ResponseReturnValue:
    return redirect(url_for("manage.people", slug=organisation.slug, **kept_language()), code=303)


def _member_or_404(organisation: Organisation, member_id: int) -> Manager:
    """A manager who belongs to the organisation; 404 for anyone else."""
    manager = session().get(Manager, member_id) if is_row_id(member_id) else None
    if manager is None or managers.membership_of(session(), manager, organisation) is None:
        abort(404)
    return manager


@bp.get("/orgs/<slug>/people")
@login_required
def people(slug: str) -> ResponseReturnValue:
    """The organisation's members (e-mail, role, two-factor, joined); for admins also the forms that change them and the invitations."""
    return _page(visible_organisation_or_404(slug))


@bp.post("/orgs/<slug>/people/<int:member_id>/role")
@login_required
def change_role(slug: str, member_id: int) -> ResponseReturnValue:
    """Give a member another role (admins only); the last admin stays admin (409), an unknown role is 422."""
    organisation = visible_organisation_or_404(slug)
    denied = refuse_unless_admin(organisation, "membership.role_changed")
    if denied is not None:
        return denied
    manager = _member_or_404(organisation, member_id)
    try:
        role = invitation_store.clean_role(request.form.get("role"))
    except invitation_store.InvitationError:
        return _page(organisation, errors={f"role-{manager.id}": gettext(BAD_ROLE)}, status=422)
    try:
        before = managers.set_role(session(), organisation, manager, role)
    except managers.LastAdminError:
        session().rollback()
        message = gettext(LAST_ADMIN_DEMOTE) % {"email": manager.email, "name": organisation.name}
        return _page(organisation, errors={f"role-{manager.id}": message}, status=409)
    if before == role:
        session().rollback()
        flash(gettext(ROLE_UNCHANGED) % {"email": manager.email, "role": role_label(role)})
        return _back(organisation)
    events.record(session(), actor(me(), SURFACE), "membership.role_changed", organisation, manager.email, before=before, after=role)
    session().commit()
    flash(gettext(ROLE_CHANGED) % {"email": manager.email, "role": role_label(role)})
    return _back(organisation)  # an admin who made themselves a member sees the list as a member now


def _admins_but(organisation: Organisation, manager: Manager) -> list[Manager]:
    """The organisation's admins who can take over the items of `manager`."""
    return [m.manager for m in managers.members_of(session(), organisation) if m.role == "admin" and m.manager_id != manager.id]


def _remove_page(organisation: Organisation, manager: Manager, *, error: str | None = None, chosen: str = "", status: int = 200) -> ResponseReturnValue:
    page = render_template(
        "manage/people_remove.html",
        org=organisation,
        member=manager,
        role=role_label(managers.role_in(session(), manager, organisation) or "member"),
        items=_item_counts(organisation).get(manager.id, 0),
        admins=_admins_but(organisation, manager),
        error=error,
        chosen=chosen,
        locale=page_locale(),
    )
    return page, status


@bp.get("/orgs/<slug>/people/<int:member_id>/remove")
@login_required
def confirm_remove(slug: str, member_id: int) -> ResponseReturnValue:
    """Ask before removing a member: who takes over their items (one of the admins, or nobody)."""
    organisation = visible_organisation_or_404(slug)
    denied = refuse_unless_admin(organisation, "membership.removed")
    if denied is not None:
        return denied
    return _remove_page(organisation, _member_or_404(organisation, member_id))


@bp.post("/orgs/<slug>/people/<int:member_id>/remove")
@login_required
def remove(slug: str, member_id: int) -> ResponseReturnValue:
    """Remove a member; their items go to the chosen admin or to nobody. The last admin cannot be removed (409)."""
    organisation = visible_organisation_or_404(slug)
    denied = refuse_unless_admin(organisation, "membership.removed")
    if denied is not None:
        return denied
    manager = _member_or_404(organisation, member_id)
    chosen = request.form.get("successor", "")
    successor: Manager | None = None
    if chosen != "none":
        candidates = {str(admin.id): admin for admin in _admins_but(organisation, manager)}
        if chosen not in candidates:
            return _remove_page(organisation, manager, error=gettext(BAD_SUCCESSOR), status=422)
        successor = candidates[chosen]
    email = manager.email
    try:
        count = managers.remove_member(session(), organisation, manager, successor)
    except managers.LastAdminError:
        session().rollback()
        message = gettext(LAST_ADMIN_REMOVE) % {"email": email, "name": organisation.name}
        return _remove_page(organisation, manager, error=message, chosen=chosen, status=409)
    except managers.NotAMemberError:
        session().rollback()
        return _remove_page(organisation, manager, error=gettext(BAD_SUCCESSOR), chosen=chosen, status=422)
    reassigned = successor.email if successor is not None else None
    events.record(session(), actor(me(), SURFACE), "membership.removed", organisation, email, items_reassigned_to=reassigned, items=count)
    session().commit()
    notes = [gettext(REMOVED) % {"email": email, "name": organisation.name}]
    if count and reassigned:
        moved = ngettext("Their %(num)d item now belongs to %(successor)s.", "Their %(num)d items now belong to %(successor)s.", count, successor=reassigned)
        notes.append(moved)
    elif count:
        notes.append(ngettext("Their %(num)d item now has no owner.", "Their %(num)d items now have no owner.", count))
    flash(" ".join(notes))
    if managers.visible_organisation(session(), me(), organisation.slug) is None:  # they removed themselves
        return redirect(url_for("manage.index", **kept_language()), code=303)
    return _back(organisation)


@bp.post("/orgs/<slug>/people/invite")
@login_required
def invite(slug: str) -> ResponseReturnValue:
    """Invite an address with a role (admins only): mailed when mail is on, else the link is shown once to pass on (201)."""
    organisation = visible_organisation_or_404(slug)
    denied = refuse_unless_admin(organisation, "invitation.created")
    if denied is not None:
        return denied
    form = {"email": request.form.get("email", "")[:1000], "role": request.form.get("role", "")[:20]}
    config = current_app.config
    try:
        invited = invitation_store.invite(
            session(),
            config,
            organisation,
            form["email"],
            form["role"],
            actor(me(), SURFACE),
            lambda token: url_for("manage.invitation", token=token, _external=True),
            send_mail=mail_enabled(config),
        )
    except invitation_store.InvitationError as exc:
        session().rollback()
        if exc.reason == "member":
            message = gettext(ALREADY_MEMBER) % {"email": managers.normalise_email(form["email"]), "name": organisation.name}
        else:
            message = gettext(BAD_ROLE) if exc.reason == "role" else gettext(BAD_EMAIL)
        field = "role" if exc.reason == "role" else "email"
        return _page(organisation, errors={field: message}, form=form, status=409 if exc.reason == "member" else 422)
    invitation = invited.invitation
    created = {
        "email": invitation.email,
        "role": role_label(invitation.role),
        "expires_at": invitation.expires_at,
        "link": None if invited.mailed else invited.link,
        "existing": invited.existing,
    }
    return _page(organisation, created=created, status=201)


@bp.post("/orgs/<slug>/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(slug: str, invitation_id: int) -> ResponseReturnValue:
    """Revoke a waiting invitation (admins only): its link no longer works."""
    organisation = visible_organisation_or_404(slug)
    denied = refuse_unless_admin(organisation, "invitation.revoked")
    if denied is not None:
        return denied
    invitation = invitation_store.invitation_of(session(), organisation, invitation_id)
    if invitation is None:
        abort(404)
    revoked = invitation_store.revoke(session(), organisation, invitation, actor(me(), SURFACE))
    flash(gettext(INVITATION_REVOKED if revoked else INVITATION_NOT_PENDING) % {"email": invitation.email})
    return _back(organisation)


@bp.post("/orgs/<slug>/people/two-factor")
@login_required
def two_factor_rule(slug: str) -> ResponseReturnValue:
    """Require two-factor login for everyone in the organisation, or stop requiring it (admins only)."""
    organisation = visible_organisation_or_404(slug)
    denied = refuse_unless_admin(organisation, "organisation.two_factor_required")
    if denied is not None:
        return denied
    choice = request.form.get("required", "")
    if choice not in ("yes", "no"):
        return _page(organisation, errors={"two-factor": gettext(BAD_REQUIRED)}, status=422)
    required = choice == "yes"
    if organisation.mfa_required != required:
        organisation.mfa_required = required
        events.record(session(), actor(me(), SURFACE), "organisation.two_factor_required", organisation, None, required=required)
        session().commit()
    flash(gettext(MFA_ON if required else MFA_OFF) % {"name": organisation.name})
    return _back(organisation)
