"""Managers: creation, roles per organisation, API tokens (stored hashed), and which organisations they may see."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .models import OPERATOR, ROLES, ItemTracking, Manager, Membership, Organisation, hash_token, new_api_token
from .passwords import MIN_LENGTH as PASSWORD_MIN_LENGTH
from .passwords import PasswordRuleError, check_rules

EMAIL_MAX_LENGTH = 254
__all__ = ["PASSWORD_MIN_LENGTH", "PasswordRuleError"]


class ManagerError(ValueError):
    """A manager cannot be created as asked; the message says why in one line."""


class ManagerExistsError(ManagerError):
    """A manager with this e-mail address exists already."""


class InvalidEmailError(ManagerError):
    """The e-mail address is not one."""


class InvalidRoleError(ManagerError):
    """The role is not one of ROLES."""


class PasswordNotAllowedError(ManagerError):
    """The password breaks a rule of bot.store.passwords (too short, too long, too common)."""


class LastAdminError(ManagerError):
    """The change would leave an organisation without an admin (nobody could invite or manage its people)."""


class NotAMemberError(ManagerError):
    """The manager does not belong to the organisation."""


def normalise_email(email: str) -> str:
    """E-mail addresses are compared case-insensitively."""
    return email.strip().lower()


def manager_by_email(session: Session, email: str) -> Manager | None:
    """The manager with this e-mail address, if any."""
    return session.scalar(select(Manager).where(Manager.email == normalise_email(email)))


def create_manager(
    session: Session, email: str, organisations: list[Organisation], password: str | None = None, role: str | None = None, operator: bool = False
) -> tuple[Manager, str]:
    """Validate and store a manager who belongs to `organisations`; return it and its API token (shown once).

    `role` is their role in each organisation; None: admin of an organisation that has no
    manager yet, member otherwise. `operator` (command line only) sees every organisation.
    Nothing is stored when a ManagerError is raised.
    """
    email = normalise_email(email)
    if "@" not in email or len(email) > EMAIL_MAX_LENGTH:
        raise InvalidEmailError(f"{email!r} is not an e-mail address")
    if role is not None and role not in ROLES:
        raise InvalidRoleError(f"the role must be one of {', '.join(ROLES)}")
    if password is not None:
        _check_password_rules(password, email)
    if manager_by_email(session, email) is not None:
        raise ManagerExistsError(f"a manager {email!r} exists already")
    roles = [role or _first_role(session, org) for org in organisations]
    token = new_api_token()
    manager = Manager(
        email=email,
        password_hash=generate_password_hash(password) if password else None,
        api_token_hash=hash_token(token),
        role=OPERATOR if operator else "member",
    )
    manager.memberships = [Membership(organisation=org, role=org_role) for org, org_role in zip(organisations, roles, strict=True)]
    session.add(manager)
    session.commit()
    return manager, token


def _check_password_rules(password: str, email: str) -> None:
    try:
        check_rules(password, email)
    except PasswordRuleError as exc:
        raise PasswordNotAllowedError(str(exc)) from exc


def _first_role(session: Session, organisation: Organisation) -> str:
    """The role a manager gets by default: admin of an organisation without managers, else member."""
    if organisation.id is None:
        return "admin"
    has_members = session.scalar(select(Membership.manager_id).where(Membership.organisation_id == organisation.id).limit(1))
    return "member" if has_members is not None else "admin"


def add_membership(session: Session, manager: Manager, organisation: Organisation, role: str | None = None) -> bool:
    """Let a manager see one more organisation (as `role`, or by default as for create_manager); False when they already do."""
    if role is not None and role not in ROLES:
        raise InvalidRoleError(f"the role must be one of {', '.join(ROLES)}")
    if any(m.organisation_id == organisation.id for m in manager.memberships):
        return False
    role = role or _first_role(session, organisation)
    manager.memberships.append(Membership(organisation=organisation, role=role))
    session.commit()
    return True


def membership_of(session: Session, manager: Manager, organisation: Organisation) -> Membership | None:
    """The manager's membership of the organisation, if any."""
    return session.get(Membership, (manager.id, organisation.id))


def role_in(session: Session, manager: Manager, organisation: Organisation) -> str | None:
    """The manager's role in the organisation: "admin" or "member"; operators are admins everywhere; None: no access."""
    if manager.is_operator:
        return "admin"
    membership = membership_of(session, manager, organisation)
    return membership.role if membership is not None else None


def is_admin_of(session: Session, manager: Manager, organisation: Organisation) -> bool:
    """Whether the manager may manage the organisation's people, its two-factor rule and read its audit log."""
    return role_in(session, manager, organisation) == "admin"


def members_of(session: Session, organisation: Organisation) -> list[Membership]:
    """The organisation's memberships, admins first, then by e-mail."""
    query = (
        select(Membership)
        .join(Manager, Manager.id == Membership.manager_id)
        .where(Membership.organisation_id == organisation.id)
        .order_by(Membership.role, Manager.email)
    )
    return list(session.scalars(query))


def _admins(session: Session, organisation: Organisation) -> list[int]:
    query = select(Membership.manager_id).where(Membership.organisation_id == organisation.id, Membership.role == "admin")
    return list(session.scalars(query))


def set_role(session: Session, organisation: Organisation, manager: Manager, role: str) -> str:
    """Give the manager `role` in the organisation (not committed); the role before. The last admin stays admin."""
    if role not in ROLES:
        raise InvalidRoleError(f"the role must be one of {', '.join(ROLES)}")
    membership = membership_of(session, manager, organisation)
    if membership is None:
        raise NotAMemberError(f"{manager.email} does not belong to {organisation.slug}")
    before = membership.role
    if before == "admin" and role != "admin" and _admins(session, organisation) == [manager.id]:
        raise LastAdminError(f"{manager.email} is the only admin of {organisation.slug}")
    membership.role = role
    return before


def remove_member(session: Session, organisation: Organisation, manager: Manager, reassign_to: Manager | None) -> int:
    """Take the manager out of the organisation (not committed); their items there go to `reassign_to` or to nobody. The number of items.

    The last admin cannot be removed; `reassign_to` must belong to the organisation.
    """
    membership = membership_of(session, manager, organisation)
    if membership is None:
        raise NotAMemberError(f"{manager.email} does not belong to {organisation.slug}")
    if membership.role == "admin" and _admins(session, organisation) == [manager.id]:
        raise LastAdminError(f"{manager.email} is the only admin of {organisation.slug}")
    if reassign_to is not None and (reassign_to.id == manager.id or membership_of(session, reassign_to, organisation) is None):
        raise NotAMemberError(f"{reassign_to.email} cannot take over the items")
    items = list(session.scalars(select(ItemTracking).where(ItemTracking.organisation_id == organisation.id, ItemTracking.owner_id == manager.id)))
    for item in items:
        item.owner_id = reassign_to.id if reassign_to is not None else None
    session.delete(membership)
    if manager in session:
        session.expire(manager, ["memberships"])
    return len(items)


def rotate_token(session: Session, manager: Manager) -> str:
    """Replace a manager's API token (the old one stops working); return the new one."""
    token = new_api_token()
    manager.api_token_hash = hash_token(token)
    session.commit()
    return token


def set_password(session: Session, manager: Manager, password: str) -> None:
    """Set a manager's password for the manager area (after the rules; stored as a salted scrypt hash); every session of theirs ends."""
    from .sessions import end_all

    _check_password_rules(password, manager.email)
    manager.password_hash = generate_password_hash(password)
    end_all(session, manager.id)
    session.commit()


def manager_by_token(session: Session, token: str) -> Manager | None:
    """The manager whose API token this is, if any (compared by hash)."""
    if not token:
        return None
    return session.scalar(select(Manager).where(Manager.api_token_hash == hash_token(token)))


_STAND_IN_HASH: list[str] = []


def _stand_in_hash() -> str:
    """A hash made like every password's, checked when there is no account or no password, so that costs the same time."""
    if not _STAND_IN_HASH:
        _STAND_IN_HASH.append(generate_password_hash(secrets.token_urlsafe(16)))
    return _STAND_IN_HASH[0]


def check_password(manager: Manager | None, password: str) -> bool:
    """Whether `password` is the manager's password (False without a manager or a password, after the same work)."""
    if manager is None or not manager.password_hash:
        check_password_hash(_stand_in_hash(), password)
        return False
    return check_password_hash(manager.password_hash, password)


def visible_organisation(session: Session, manager: Manager, slug: str) -> Organisation | None:
    """The organisation `slug` if the manager may see it (a member, or an operator), else None."""
    query = select(Organisation).where(Organisation.slug == slug)
    if not manager.is_operator:
        query = query.join(Membership, Membership.organisation_id == Organisation.id).where(Membership.manager_id == manager.id)
    return session.scalar(query)


def visible_organisations(session: Session, manager: Manager) -> list[Organisation]:
    """All organisations the manager may see, by slug."""
    query = select(Organisation).order_by(Organisation.slug)
    if not manager.is_operator:
        query = query.join(Membership, Membership.organisation_id == Organisation.id).where(Membership.manager_id == manager.id)
    return list(session.scalars(query))
