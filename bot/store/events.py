"""The append-only event log: who did what, when, from where (links, submissions, pins, deletions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from .models import Event, Manager, Organisation, utcnow


@dataclass(frozen=True)
class Actor:
    """Who acts and from where: a manager (or the command line), the surface, the client's address."""

    name: str  # the manager's e-mail, or "cli"
    via: str  # api, manage (the manager area), cli
    manager_id: int | None = None
    address: str | None = None

    @classmethod
    def manager(cls, manager: Manager, via: str, address: str | None) -> Actor:
        """A manager acting through the API or the manager area."""
        return cls(manager.email, via, manager.id, address)


CLI = Actor("cli", "cli")
# Actions about people's accounts rather than the record (logins, factors, tokens, refusals): the audit log shows them to admins only.
ACCOUNT_ACTIONS = ("login.", "logout", "password.", "two_factor.", "recovery_code", "token.", "access.", "audit.")


def record(session: Session, actor: Actor, action: str, organisation: Organisation | None, subject: str | None = None, **details: Any) -> Event:
    """Add an event to the session; it is committed with the change it records (never on its own, never updated)."""
    event = _entry(actor, action, organisation, subject, details)
    session.add(event)
    from . import notifications  # the notices and webhook deliveries it causes go into the same transaction

    notifications.on_event(session, event, organisation)
    return event


def record_many(session: Session, actor: Actor, action: str, organisations: list[Organisation], subject: str | None = None, **details: Any) -> None:
    """The same entry for each of `organisations` (an export of all of them), in one INSERT rather than one per organisation.

    Like `record`, but the entries are not returned: they are written as rows, not objects.
    """
    from . import notifications

    entries = [_entry(actor, action, organisation, subject, details) for organisation in organisations]
    if not entries:
        return
    session.execute(insert(Event), [{column: getattr(entry, column) for column in _COLUMNS} | {"created_at": utcnow()} for entry in entries])
    for entry, organisation in zip(entries, organisations, strict=True):
        notifications.on_event(session, entry, organisation)


_COLUMNS = ("organisation_id", "organisation_slug", "actor_id", "actor", "action", "subject", "details", "via", "address")


def _entry(actor: Actor, action: str, organisation: Organisation | None, subject: str | None, details: dict[str, Any]) -> Event:
    """The event as an object (added to the session by `record`, written as a row by `record_many`)."""
    return Event(
        organisation_id=organisation.id if organisation is not None else None,
        organisation_slug=organisation.slug if organisation is not None else None,
        actor_id=actor.manager_id,
        actor=actor.name,
        action=action,
        subject=subject,
        details=details,
        via=actor.via,
        address=actor.address,
    )


def events_of(session: Session, organisation: Organisation, limit: int = 200) -> list[Event]:
    """The organisation's events, newest first."""
    query = select(Event).where(Event.organisation_id == organisation.id).order_by(Event.created_at.desc(), Event.id.desc()).limit(limit)
    return list(session.scalars(query))
