"""Password reset by e-mail: a single-use link (only its hash is stored) valid 1 hour; the same answer whether or not the address exists.

Asking for a link does the same work for any address (a token is made, hashed and sealed)
and only a known account gets a row, a mail and an event. Using a link sets the new
password (the rules of bot/store/passwords.py), ends every session of that manager and
every other link of theirs, and is logged as an account event. A reset does not skip
two-factor login: the next login still asks for the second factor.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..secret_links import seal
from . import audit, managers, notifications
from .events import Actor
from .models import Manager, PasswordReset, hash_token, utcnow
from .passwords import check_rules

VALID_FOR = timedelta(hours=1)
TEMPLATE = "password_reset"
TOKEN_MAX_LENGTH = 100  # a longer path segment names no reset (tokens are 43 characters)


class ResetUnusableError(ValueError):
    """The link was used, has expired or belongs to no account."""


def _new_token() -> str:
    while True:
        token = secrets.token_urlsafe(32)
        if not token.startswith("-"):
            return token


def request_reset(
    session: Session,
    config: Mapping[str, Any],
    email: str,
    address: str | None,
    link_for: Callable[[str], str],
    *,
    send_mail: bool = True,
) -> bool:
    """Queue a reset mail for the account with this address and commit; whether one was queued (never shown to the asker).

    An unknown address (or mail off, or `send_mail` False when the address is over its limit) gets
    the same token, hash and sealed link, then nothing is stored: the asker learns nothing.
    """
    token = _new_token()
    token_hash = hash_token(token)
    sealed = seal(config, link_for(token))
    manager = managers.manager_by_email(session, email)
    if manager is None or not send_mail:
        session.rollback()
        return False
    now = utcnow()
    reset = PasswordReset(token_hash=token_hash, manager_id=manager.id, created_at=now, expires_at=now + VALID_FOR)
    session.add(reset)
    context = {"email": manager.email, "sealed_link": sealed, "minutes": int(VALID_FOR.total_seconds() // 60)}
    payload = {"template": TEMPLATE, "context": context, "forget_recipient": True}
    notifications.enqueue(session, "mail", f"password-reset:{token_hash[:40]}", TEMPLATE, payload, recipient=manager.email, locale=manager.locale)
    audit.record_for_manager(session, manager, "password.reset_requested", Actor("anonymous", "manage", None, address), manager.email)
    session.commit()
    return True


def reset_by_token(session: Session, token: str) -> PasswordReset | None:
    """The reset of a link's token (compared by hash), used or not."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    return session.scalar(select(PasswordReset).where(PasswordReset.token_hash == hash_token(token)))


def usable(reset: PasswordReset, now: datetime | None = None) -> bool:
    """Whether the link may still set a password (unused and not expired)."""
    return reset.used_at is None and reset.expires_at > (now or utcnow())


def reset_password(session: Session, reset: PasswordReset, password: str, address: str | None) -> Manager:
    """Set the manager's new password with this link, end every session and every other link of theirs, log it, and commit.

    Raises bot.store.passwords.PasswordRuleError (nothing changed) and ResetUnusableError (used or expired meanwhile).
    """
    manager = session.get(Manager, reset.manager_id)
    if manager is None:
        raise ResetUnusableError("gone")
    check_rules(password, manager.email)
    now = utcnow()
    claimed = session.execute(
        update(PasswordReset).where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None), PasswordReset.expires_at > now).values(used_at=now),
        execution_options={"synchronize_session": False},
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise ResetUnusableError("used")
    # Every other link of theirs ends too: a mail that leaked must not reset the new password.
    session.execute(
        update(PasswordReset).where(PasswordReset.manager_id == manager.id, PasswordReset.used_at.is_(None)).values(used_at=now),
        execution_options={"synchronize_session": False},
    )
    session.expire(reset, ["used_at"])
    audit.record_for_manager(session, manager, "password.reset", Actor.manager(manager, "manage", address), manager.email)
    managers.set_password(session, manager, password)  # ends every session of theirs; commits
    return manager
