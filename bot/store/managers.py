"""Managers: creation, API tokens (stored hashed), and which organisations they may see."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .models import ROLES, Manager, Membership, Organisation, hash_token, new_api_token

EMAIL_MAX_LENGTH = 254
PASSWORD_MIN_LENGTH = 10


class ManagerError(ValueError):
    """A manager cannot be created as asked; the message says why in one line."""


class ManagerExistsError(ManagerError):
    """A manager with this e-mail address exists already."""


class InvalidEmailError(ManagerError):
    """The e-mail address is not one."""


class InvalidRoleError(ManagerError):
    """The role is not one of ROLES."""


class PasswordTooShortError(ManagerError):
    """The password has fewer than PASSWORD_MIN_LENGTH characters."""


def normalise_email(email: str) -> str:
    """E-mail addresses are compared case-insensitively."""
    return email.strip().lower()


def manager_by_email(session: Session, email: str) -> Manager | None:
    """The manager with this e-mail address, if any."""
    return session.scalar(select(Manager).where(Manager.email == normalise_email(email)))


def create_manager(session: Session, email: str, organisations: list[Organisation], password: str | None = None, role: str = "member") -> tuple[Manager, str]:
    """Validate and store a manager who belongs to `organisations`; return it and its API token (shown once).

    Nothing is stored when a ManagerError is raised.
    """
    email = normalise_email(email)
    if "@" not in email or len(email) > EMAIL_MAX_LENGTH:
        raise InvalidEmailError(f"{email!r} is not an e-mail address")
    if role not in ROLES:
        raise InvalidRoleError(f"the role must be one of {', '.join(ROLES)}")
    if password is not None and len(password) < PASSWORD_MIN_LENGTH:
        raise PasswordTooShortError(f"the password must have at least {PASSWORD_MIN_LENGTH} characters")
    if manager_by_email(session, email) is not None:
        raise ManagerExistsError(f"a manager {email!r} exists already")
    token = new_api_token()
    manager = Manager(
        email=email,
        password_hash=generate_password_hash(password) if password else None,
        api_token_hash=hash_token(token),
        role=role,
    )
    manager.memberships = [Membership(organisation=org) for org in organisations]
    session.add(manager)
    session.commit()
    return manager, token


def add_membership(session: Session, manager: Manager, organisation: Organisation) -> bool:
    """Let a manager see one more organisation; False when they already do."""
    if any(m.organisation_id == organisation.id for m in manager.memberships):
        return False
    manager.memberships.append(Membership(organisation=organisation))
    session.commit()
    return True


def rotate_token(session: Session, manager: Manager) -> str:
    """Replace a manager's API token (the old one stops working); return the new one."""
    token = new_api_token()
    manager.api_token_hash = hash_token(token)
    session.commit()
    return token


def set_password(session: Session, manager: Manager, password: str) -> None:
    """Set a manager's password for the manager area (stored as a salted hash); every session of theirs ends."""
    from .sessions import end_all

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
    """The organisation `slug` if the manager may see it (member or admin), else None."""
    query = select(Organisation).where(Organisation.slug == slug)
    if not manager.is_admin:
        query = query.join(Membership, Membership.organisation_id == Organisation.id).where(Membership.manager_id == manager.id)
    return session.scalar(query)


def visible_organisations(session: Session, manager: Manager) -> list[Organisation]:
    """All organisations the manager may see, by slug."""
    query = select(Organisation).order_by(Organisation.slug)
    if not manager.is_admin:
        query = query.join(Membership, Membership.organisation_id == Organisation.id).where(Membership.manager_id == manager.id)
    return list(session.scalars(query))
