"""The audit log: the event log read as who did what, when, from where, with filters, pages and retention.

Entries are the rows of `event` (bot/store/events.py writes them with the change they record,
never updates or deletes them). An account event (a login, a second factor, a new password) is
written once for each organisation of the manager, so every organisation's admins see it; a
manager without organisations (an operator) gets one entry without organisation. The retention
job deletes entries older than AUDIT_RETENTION_DAYS (default 730 days, 2 years); entries of a
deleted organisation stay until then (they carry its id and slug, no foreign key).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .events import Actor, record
from .models import Event, Manager, Membership, Organisation, utcnow

DEFAULT_RETENTION_DAYS = 730
PAGE_MAX = 500
# Changes to an account's security that its owner is told about by mail at once (ASVS 2.2.3, 2.5.5): a thief who
# changes them cannot do so unnoticed. The mail says what, when and from where, and how to react; it cannot be turned off.
SECURITY_NOTICES = frozenset(
    {"password.changed", "password.reset", "two_factor.enabled", "two_factor.disabled", "recovery_codes.renewed", "recovery_code.used", "token.rotated"}
)


def record_for_manager(session: Session, manager: Manager, action: str, actor: Actor, subject: str | None = None, **details: Any) -> list[Event]:
    """Add an account event (not committed) to each of the manager's organisations, or one without organisation when they have none.

    A change to the account's security also queues a notice mail to the manager (SECURITY_NOTICES), in the same transaction.
    """
    if action in SECURITY_NOTICES:
        _queue_security_notice(session, manager, action, actor)
    organisations = list(session.scalars(select(Organisation).join(Membership).where(Membership.manager_id == manager.id).order_by(Organisation.id)))
    if not organisations:
        return [record(session, actor, action, None, subject, **details)]
    return [record(session, actor, action, organisation, subject, **details) for organisation in organisations]


def _queue_security_notice(session: Session, manager: Manager, action: str, actor: Actor) -> None:
    """Queue the mail telling the manager about a change to their account's security (what, when, from which address)."""
    from . import notifications

    at = utcnow()
    context = {"action": action, "at": at.isoformat(), "address": actor.address}
    payload = {"template": "security_notice", "context": context, "forget_recipient": True}
    key = f"security:{manager.id}:{action}:{secrets.token_hex(8)}"
    notifications.enqueue(session, "mail", key, "security_notice", payload, recipient=manager.email, locale=manager.locale)


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to show: by person (e-mail), action (exact, or a prefix ending in "."), time range and page."""

    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before: int | None = None  # the id of the last entry of the previous page
    limit: int = 100


def entries(session: Session, organisation_id: int, wanted: AuditFilter) -> tuple[list[Event], int | None]:
    """One page of the organisation's entries, newest first, and the `before` of the next page (None: no more)."""
    query = select(Event).where(Event.organisation_id == organisation_id)
    if wanted.actor:
        query = query.where(Event.actor == wanted.actor.strip().lower() if "@" in wanted.actor else Event.actor == wanted.actor.strip())
    if wanted.action:
        query = query.where(Event.action.startswith(wanted.action, autoescape=True) if wanted.action.endswith(".") else Event.action == wanted.action)
    if wanted.since is not None:
        query = query.where(Event.created_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(Event.created_at < wanted.until)
    if wanted.before is not None:
        query = query.where(Event.id < wanted.before)
    limit = max(1, min(wanted.limit, PAGE_MAX))
    rows = list(session.scalars(query.order_by(Event.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def actors_of(session: Session, organisation_id: int) -> list[str]:
    """Everyone who appears in the organisation's log (for the filter), alphabetically."""
    return sorted(set(session.scalars(select(Event.actor).where(Event.organisation_id == organisation_id).distinct())))


def actions_of(session: Session, organisation_id: int) -> list[str]:
    """Every action in the organisation's log (for the filter), alphabetically."""
    return sorted(set(session.scalars(select(Event.action).where(Event.organisation_id == organisation_id).distinct())))


def purge(session: Session, older_than: datetime) -> int:
    """Delete the entries older than the retention period (the retention job; not committed); how many."""
    result = session.execute(delete(Event).where(Event.created_at < older_than))
    return int(getattr(result, "rowcount", 0) or 0)
