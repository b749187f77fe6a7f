"""Invitations to join an organisation: a single-use link by e-mail (only its hash is stored), valid 7 days, listed and revocable.

An organisation's admin (or the operator on the command line) invites an address with a
role. Accepting as a new person sets a password and creates the account; an existing
manager, logged in as the invited address, only joins. A new invitation to the same address
replaces a pending one. Every step is an event of the organisation, committed with it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..engine.values import TEXT_VALIDATORS
from ..secret_links import seal
from . import events, managers, notifications
from .models import ROLES, Invitation, Manager, Organisation, hash_token, is_row_id, utcnow
from .passwords import check_rules

VALID_FOR = timedelta(days=7)
TEMPLATE = "invitation"
LISTED = 50  # the newest invitations the people page lists
TOKEN_MAX_LENGTH = 100  # a longer path segment names no invitation (tokens are 43 characters)


class InvitationError(ValueError):
    """An invitation cannot be made as asked: `reason` is "email", "role" or "member" (already belongs)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvitationUnusableError(ValueError):
    """The invitation was accepted, revoked or has expired meanwhile (`status` says which)."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


@dataclass(frozen=True)
class Invited:
    """A new invitation, its link (for the admin to pass on when it was not mailed) and whether it was mailed."""

    invitation: Invitation
    link: str
    mailed: bool
    existing: bool  # the address has an account already (it joins without a new one)


def clean_email(value: object) -> str:
    """The address lower-cased; InvitationError("email") when missing, too long, with control characters or not an address."""
    if not isinstance(value, str):
        raise InvitationError("email")
    email = value.strip()
    if not email or len(email) > managers.EMAIL_MAX_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in email):
        raise InvitationError("email")
    if TEXT_VALIDATORS["email"](email) is not None:
        raise InvitationError("email")
    return managers.normalise_email(email)


def clean_role(value: object) -> str:
    """One of ROLES; InvitationError("role") otherwise."""
    if not isinstance(value, str) or value not in ROLES:
        raise InvitationError("role")
    return value


def status_of(invitation: Invitation, now: datetime | None = None) -> str:
    """pending, accepted, revoked or expired."""
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    return "pending" if invitation.expires_at > (now or utcnow()) else "expired"


def _new_token() -> str:
    while True:
        token = secrets.token_urlsafe(32)
        if not token.startswith("-"):
            return token


def invite(
    session: Session,
    config: Mapping[str, Any],
    organisation: Organisation,
    email: object,
    role: object,
    actor: events.Actor,
    link_for: Callable[[str], str],
    *,
    send_mail: bool,
) -> Invited:
    """Validate, store, log and (with `send_mail`) mail an invitation, all in one commit; nothing is stored on InvitationError.

    `link_for` turns the token into the absolute link (built from PUBLIC_URL). The mail is in the
    existing manager's language, else in the organisation's.
    """
    address, chosen = clean_email(email), clean_role(role)
    existing = managers.manager_by_email(session, address)
    if existing is not None and managers.membership_of(session, existing, organisation) is not None:
        raise InvitationError("member")
    now = utcnow()
    for older in pending_for(session, organisation, address):
        older.revoked_at = now
        events.record(session, actor, "invitation.revoked", organisation, address, invitation=older.id, replaced=True)
    token = _new_token()
    invitation = Invitation(
        token_hash=hash_token(token),
        organisation_id=organisation.id,
        email=address,
        role=chosen,
        invited_by=actor.name,
        created_at=now,
        expires_at=now + VALID_FOR,
    )
    session.add(invitation)
    session.flush()
    link = link_for(token)
    if send_mail:
        context = {
            "organisation": organisation.name,
            "role": chosen,
            "inviter": actor.name if actor.manager_id is not None else None,
            "expires": invitation.expires_at.date().isoformat(),
            "existing": existing is not None,
            "sealed_link": seal(config, link),
        }
        payload = {"template": TEMPLATE, "context": context, "forget_recipient": True}
        locale = existing.locale if existing is not None else organisation.locale
        key = f"invitation:{invitation.token_hash[:40]}"
        notifications.enqueue(session, "mail", key, TEMPLATE, payload, recipient=address, locale=locale, organisation_id=organisation.id)
    # The invited address is the manager identity to be (the subject); it is not the mail's recipient field that is logged.
    events.record(session, actor, "invitation.created", organisation, address, role=chosen, invitation=invitation.id, mailed=send_mail)
    session.commit()
    return Invited(invitation, link, send_mail, existing is not None)


def pending_for(session: Session, organisation: Organisation, email: str) -> list[Invitation]:
    """The organisation's pending invitations to this address."""
    query = select(Invitation).where(
        Invitation.organisation_id == organisation.id,
        Invitation.email == email,
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > utcnow(),
    )
    return list(session.scalars(query))


def invitations_of(session: Session, organisation: Organisation, limit: int = LISTED) -> list[Invitation]:
    """The organisation's newest invitations (any status), newest first."""
    query = select(Invitation).where(Invitation.organisation_id == organisation.id).order_by(Invitation.created_at.desc(), Invitation.id.desc())
    return list(session.scalars(query.limit(limit)))


def invitation_of(session: Session, organisation: Organisation, invitation_id: int) -> Invitation | None:
    """An invitation by id, only if it belongs to this organisation."""
    if not is_row_id(invitation_id):
        return None
    return session.scalar(select(Invitation).where(Invitation.id == invitation_id, Invitation.organisation_id == organisation.id))


def invitation_by_token(session: Session, token: str) -> Invitation | None:
    """The invitation of a link's token (compared by hash), whatever its status."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    return session.scalar(select(Invitation).where(Invitation.token_hash == hash_token(token)))


def revoke(session: Session, organisation: Organisation, invitation: Invitation, actor: events.Actor) -> bool:
    """Revoke a pending invitation and commit (its link then leads nowhere); False when it was not pending."""
    if status_of(invitation) != "pending":
        return False
    invitation.revoked_at = utcnow()
    events.record(session, actor, "invitation.revoked", organisation, invitation.email, invitation=invitation.id)
    session.commit()
    return True


def _claim(session: Session, invitation: Invitation) -> None:
    """Mark the invitation accepted if it is still pending (one conditional UPDATE: of two clicks only one wins)."""
    now = utcnow()
    usable = (Invitation.id == invitation.id) & Invitation.accepted_at.is_(None) & Invitation.revoked_at.is_(None) & (Invitation.expires_at > now)
    claimed = session.execute(update(Invitation).where(usable).values(accepted_at=now), execution_options={"synchronize_session": False})
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        session.refresh(invitation)
        raise InvitationUnusableError(status_of(invitation))
    session.expire(invitation, ["accepted_at"])


def _joined(session: Session, invitation: Invitation, actor: events.Actor) -> None:
    organisation = invitation.organisation
    events.record(session, actor, "invitation.accepted", organisation, invitation.email, invitation=invitation.id, role=invitation.role)
    events.record(session, actor, "membership.added", organisation, invitation.email, role=invitation.role, via="invitation")


def accept_as(session: Session, invitation: Invitation, manager: Manager, address: str | None) -> bool:
    """An existing manager (logged in as the invited address) joins with the invited role, and commit; False when they belonged already."""
    if managers.normalise_email(manager.email) != invitation.email:
        raise InvitationUnusableError("other_account")
    _claim(session, invitation)
    actor = events.Actor(manager.email, "manage", manager.id, address)
    if managers.membership_of(session, manager, invitation.organisation) is not None:
        events.record(session, actor, "invitation.accepted", invitation.organisation, invitation.email, invitation=invitation.id, role=None)
        session.commit()
        return False
    _joined(session, invitation, actor)
    return managers.add_membership(session, manager, invitation.organisation, invitation.role)  # commits everything


def accept_new(session: Session, invitation: Invitation, password: str, address: str | None) -> Manager:
    """Create the invited person's account with this password, in the organisation with the invited role, and commit.

    Raises bot.store.passwords.PasswordRuleError (nothing changed) for a password the rules refuse,
    InvitationUnusableError when the invitation was used meanwhile, managers.ManagerExistsError when
    the address got an account meanwhile (they accept it logged in).
    """
    check_rules(password, invitation.email)
    organisation = invitation.organisation
    _claim(session, invitation)
    _joined(session, invitation, events.Actor(invitation.email, "manage", None, address))
    try:
        manager, _token = managers.create_manager(session, invitation.email, [organisation], password=password, role=invitation.role)
    except managers.ManagerError:
        session.rollback()
        raise
    manager.locale = organisation.locale  # their mails in the organisation's language until they choose
    session.commit()
    return manager
