"""Notifications in the database: each manager's settings, notices (the sent-log) and the outbox of mails and webhook deliveries.

Nothing that matters lives only in the task queue: a notice or an outbox row is added in
the same transaction as the change that causes it, and the worker sends what is unsent.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import (
    CADENCES,
    NOTIFICATION_KINDS,
    Event,
    Manager,
    Membership,
    Notice,
    NotificationSetting,
    Organisation,
    OutboxMessage,
    WebhookEndpoint,
    utcnow,
)

# What a manager receives unless they chose otherwise: their own items daily, completions at once, no weekly digest.
DEFAULT_CADENCE = {"reminders": "daily", "completions": "immediately", "digest": "off"}
# The digest is a summary made by the daily or weekly run; "immediately" makes no sense for it.
ALLOWED_CADENCES = {"reminders": CADENCES, "completions": CADENCES, "digest": ("off", "daily", "weekly")}

# The webhook event types an organisation can subscribe to.
WEBHOOK_EVENTS = ("assessment.completed", "submission.received", "item.updated", "item.due", "evidence.expiring", "review.due")

# Event-log actions that make a new checklist of record, and those that change an item (webhook `item.updated`).
RECORD_ACTIONS = ("assessment.completed", "submission.adopted", "organisation.created_from_submission")
ITEM_ACTIONS = ("item.updated", "item.risk_accepted", "item.risk_withdrawn", "item.commented", "evidence.linked", "evidence.added")


class NotificationSettingError(ValueError):
    """A kind or cadence that does not exist (`field`: kind or cadence)."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


# -- settings -------------------------------------------------------------------------------------


def cadences(session: Session, manager_id: int) -> dict[str, str]:
    """The manager's cadence per kind (defaults filled in)."""
    rows = session.scalars(select(NotificationSetting).where(NotificationSetting.manager_id == manager_id))
    return DEFAULT_CADENCE | {row.kind: row.cadence for row in rows}


def cadences_of(session: Session, manager_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """The cadences of many managers in one query."""
    ids = list(set(manager_ids))
    result = {manager_id: dict(DEFAULT_CADENCE) for manager_id in ids}
    if ids:
        for row in session.scalars(select(NotificationSetting).where(NotificationSetting.manager_id.in_(ids))):
            result[row.manager_id][row.kind] = row.cadence
    return result


def set_cadences(session: Session, manager: Manager, chosen: dict[str, object]) -> dict[str, str]:
    """Store the manager's cadences (`{kind: cadence}`; all checked before any is stored) and commit."""
    for kind, cadence in chosen.items():
        if kind not in NOTIFICATION_KINDS:
            raise NotificationSettingError("kind")
        if cadence not in ALLOWED_CADENCES[kind]:
            raise NotificationSettingError("cadence")
    existing = {row.kind: row for row in session.scalars(select(NotificationSetting).where(NotificationSetting.manager_id == manager.id))}
    for kind, cadence in chosen.items():
        if kind in existing:
            existing[kind].cadence = str(cadence)
        else:
            session.add(NotificationSetting(manager_id=manager.id, kind=kind, cadence=str(cadence)))
    session.commit()
    return cadences(session, manager.id)


def turn_off(session: Session, manager_id: int, kind: str) -> bool:
    """Turn one kind off for a manager (the unsubscribe link); False when the manager is gone."""
    if session.get(Manager, manager_id) is None or kind not in NOTIFICATION_KINDS:
        return False
    set_cadences(session, session.get(Manager, manager_id), {kind: "off"})  # type: ignore[arg-type]
    return True


# -- notices ----------------------------------------------------------------------------------------


def members_of(session: Session, organisation_id: int) -> list[Manager]:
    """The managers who belong to an organisation (admins see every organisation but are told only about their own)."""
    query = select(Manager).join(Membership, Membership.manager_id == Manager.id).where(Membership.organisation_id == organisation_id).order_by(Manager.id)
    return list(session.scalars(query))


def add_notice(session: Session, manager_id: int, organisation: Organisation | None, kind: str, topic: str, key: str, data: dict[str, Any]) -> bool:
    """Add a notice unless the manager already had one with this key (the sent-log); True when added."""
    exists = session.scalar(select(Notice.id).where(Notice.manager_id == manager_id, Notice.key == key))
    if exists is not None:
        return False
    try:
        with session.begin_nested():  # a concurrent worker may have added the same key meanwhile
            session.add(
                Notice(manager_id=manager_id, organisation_id=organisation.id if organisation else None, kind=kind, topic=topic, key=key, data=data)
            )
    except IntegrityError:
        return False
    return True


def notify_members(
    session: Session, organisation: Organisation, kind: str, topic: str, key: str, data: dict[str, Any], *, skip: int | None = None
) -> int:
    """Add a notice for every member of the organisation who has not turned the kind off (`skip`: the manager who acted)."""
    members = [m for m in members_of(session, organisation.id) if m.id != skip]
    settings = cadences_of(session, [m.id for m in members])
    added = 0
    for manager in members:
        if settings[manager.id][kind] != "off":
            added += add_notice(session, manager.id, organisation, kind, topic, key, data)
    return added


# -- the outbox -------------------------------------------------------------------------------------


def enqueue(
    session: Session,
    channel: str,
    key: str,
    event: str,
    payload: dict[str, Any],
    *,
    organisation_id: int | None = None,
    webhook_id: int | None = None,
    recipient: str | None = None,
    locale: str = "de",
) -> OutboxMessage | None:
    """Add a message to send (in the caller's transaction); None when one with this key exists already."""
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
        return None
    message = OutboxMessage(
        channel=channel,
        key=key,
        event=event,
        payload=payload,
        organisation_id=organisation_id,
        webhook_id=webhook_id,
        recipient=recipient,
        locale=locale,
        status="pending",
        attempts=0,
        next_attempt_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        return None
    session.info["outbox_added"] = True  # after the commit, the worker is nudged (bot/queue.py)
    return message


def enqueue_many(session: Session, messages: list[dict[str, Any]]) -> int:
    """Add many messages in one INSERT (each a dict of columns: channel, key, event, payload, ...); a key that exists is left out.

    For the jobs, which add hundreds at once: one key lookup per 500 keys, then one statement.
    Two runs adding the same key at once cannot happen (a job's run is claimed), so a clash
    would raise and roll the run back rather than be skipped silently.
    """
    fresh: dict[str, dict[str, Any]] = {}
    for message in messages:
        fresh.setdefault(message["key"], message)
    keys = list(fresh)
    for start in range(0, len(keys), 500):
        for key in session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(keys[start : start + 500]))):
            fresh.pop(key, None)
    if not fresh:
        return 0
    now = utcnow()
    defaults = {"organisation_id": None, "webhook_id": None, "recipient": None, "locale": "de", "status": "pending", "attempts": 0}
    rows = [{**defaults, **message, "next_attempt_at": now, "created_at": now} for message in fresh.values()]
    session.execute(insert(OutboxMessage), rows)
    session.info["outbox_added"] = True
    return len(rows)


def claim_due(
    session: Session, claim_seconds: float, limit: int = 100, now: datetime | None = None, channels: Iterable[str] = ("mail", "webhook")
) -> list[int]:
    """Claim up to `limit` messages of these channels due by `now` (each for `claim_seconds`) and commit; their ids.

    A claim is one conditional UPDATE per row, so of two workers only one gets a row.
    """
    now = now or utcnow()
    free = or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < utcnow())
    due = and_(OutboxMessage.status == "pending", OutboxMessage.channel.in_(list(channels)), OutboxMessage.next_attempt_at <= now, free)
    candidates = list(session.scalars(select(OutboxMessage.id).where(due).order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)))
    claimed = []
    for message_id in candidates:
        result = session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id, due).values(claimed_until=utcnow() + timedelta(seconds=claim_seconds)),
            execution_options={"synchronize_session": False},
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(message_id)
    session.commit()
    return claimed


def pending_count(session: Session, channel: str) -> int:
    """How many messages of a channel wait to be sent."""
    query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.channel == channel, OutboxMessage.status == "pending")
    return int(session.scalar(query) or 0)


def mark_sent(session: Session, message: OutboxMessage, response_code: int | None = None, *, forget_recipient: bool = False) -> None:
    """Record a successful send (a respondent's address is forgotten now) and commit."""
    message.status = "sent"
    message.attempts += 1
    message.sent_at = utcnow()
    message.claimed_until = None
    message.last_response_code = response_code
    message.last_error = None
    if forget_recipient:
        message.recipient = None
    session.commit()


def mark_failed(session: Session, message: OutboxMessage, error: str, delays: list[float], response_code: int | None = None) -> None:
    """Record a failed attempt: try again after the next delay, or give up after the last; commit."""
    message.attempts += 1
    message.claimed_until = None
    message.last_error = error[:500]
    message.last_response_code = response_code
    if message.attempts > len(delays):
        message.status = "failed"
        if message.payload.get("forget_recipient"):
            message.recipient = None
    else:
        message.next_attempt_at = utcnow() + timedelta(seconds=delays[message.attempts - 1])
    session.commit()


# -- causes: the event log ----------------------------------------------------------------------------


def new_message_id() -> str:
    """A Standard Webhooks message id (the same on every retry of one delivery)."""
    return "msg_" + secrets.token_urlsafe(18)


def webhook_payload(event_type: str, organisation: Organisation, data: dict[str, Any], at: datetime | None = None) -> dict[str, Any]:
    """A webhook body: `{type, timestamp, data: {organisation, ...}}` (never a token or a free-text answer)."""
    return {"type": event_type, "timestamp": (at or utcnow()).isoformat(), "data": {"organisation": organisation.slug, **data}}


def webhook_messages(
    organisation: Organisation, endpoints: Iterable[WebhookEndpoint], event_type: str, data: dict[str, Any], key: str | None = None
) -> list[dict[str, Any]]:
    """The outbox rows (as column values) of one event for the organisation's endpoints subscribed to its type.

    `key` (e.g. the reminder's key) makes a repeated cause add nothing: one delivery per cause and endpoint.
    """
    rows = []
    for endpoint in endpoints:
        if event_type not in endpoint.events:
            continue
        message_id = new_message_id()
        unique = f"webhook:{endpoint.id}:{key}" if key else f"webhook:{endpoint.id}:{message_id}"
        payload = {"id": message_id, "body": webhook_payload(event_type, organisation, data)}
        row = {"channel": "webhook", "key": unique, "event": event_type, "payload": payload}
        rows.append(row | {"organisation_id": organisation.id, "webhook_id": endpoint.id})
    return rows


def endpoints_of(session: Session, organisation_ids: Iterable[int]) -> dict[int, list[WebhookEndpoint]]:
    """The webhook endpoints of many organisations in one query."""
    found: dict[int, list[WebhookEndpoint]] = {}
    ids = list(set(organisation_ids))
    if ids:
        query = select(WebhookEndpoint).where(WebhookEndpoint.organisation_id.in_(ids)).order_by(WebhookEndpoint.id)
        for endpoint in session.scalars(query):
            found.setdefault(endpoint.organisation_id, []).append(endpoint)
    return found


def fire_webhooks(session: Session, organisation: Organisation, event_type: str, data: dict[str, Any], key: str | None = None) -> int:
    """Add a delivery for every webhook of the organisation subscribed to the event type; how many."""
    endpoints = endpoints_of(session, [organisation.id]).get(organisation.id, [])
    return enqueue_many(session, webhook_messages(organisation, endpoints, event_type, data, key))


def on_event(session: Session, event: Event, organisation: Organisation | None) -> None:
    """Turn an event-log entry into notices and webhook deliveries, in the same transaction."""
    if organisation is None:
        return
    with session.no_autoflush:  # the caller's pending change is flushed (and its version checked) at its own commit
        _on_event(session, event, organisation)


def _on_event(session: Session, event: Event, organisation: Organisation) -> None:
    action, details = event.action, event.details
    if action in RECORD_ACTIONS:
        assessment = details.get("assessment")
        data = {"assessment": assessment, "source": action, "organisation_name": organisation.name}
        notify_members(session, organisation, "completions", "checklist_recorded", f"recorded:{organisation.id}:{assessment}", data, skip=event.actor_id)
        fire_webhooks(session, organisation, "assessment.completed", {"assessment": assessment, "source": action.split(".")[0]})
    elif action == "submission.received":
        assessment = details.get("assessment")
        data = {"assessment": assessment, "organisation_name": organisation.name}
        notify_members(session, organisation, "completions", "submission_received", f"submission:{organisation.id}:{assessment}", data)
        fire_webhooks(session, organisation, "submission.received", {"submission": assessment})
    elif action in ITEM_ACTIONS:
        item = details.get("item")  # every item and evidence event names the item it concerns
        if item:
            fire_webhooks(session, organisation, "item.updated", {"item": item, "change": action})
