"""An organisation's webhooks in the database: create (target checked, secret stored encrypted), list, get, delete, deliveries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import webhooks as signing
from . import events
from .models import Organisation, OutboxMessage, WebhookEndpoint, is_row_id
from .notifications import WEBHOOK_EVENTS

MAX_PER_ORGANISATION = 10
DELIVERIES_SHOWN = 100


class WebhookError(ValueError):
    """A webhook cannot be created as asked: `field` names the part that is wrong, `code` says how."""

    def __init__(self, field: str, code: str) -> None:
        """Name the field and the problem."""
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


def clean_events(raw: object) -> list[str]:
    """The event types as a list without repeats, in the order of WEBHOOK_EVENTS; WebhookError unless a non-empty list of known ones."""
    if not isinstance(raw, list) or not all(isinstance(e, str) for e in raw):
        raise WebhookError("events", "wrong_type")
    if not raw:
        raise WebhookError("events", "events_required")
    if any(e not in WEBHOOK_EVENTS for e in raw):
        raise WebhookError("events", "unknown_event")
    return [e for e in WEBHOOK_EVENTS if e in raw]


def host_of(url: str) -> str:
    """The host of a stored URL (what the event log and the lists name; paths may carry a receiver's token)."""
    return urlsplit(url).hostname or ""


def create(
    session: Session, config: Mapping[str, Any], organisation: Organisation, actor: events.Actor, url: object, event_types: object
) -> tuple[WebhookEndpoint, str]:
    """Check, store and log a new webhook, and commit; return it and its secret (shown once, stored only encrypted).

    Everything is checked before anything is stored: the events (known, at least one), the
    number of webhooks, then the URL with the SSRF guard (which resolves its host).
    """
    if not isinstance(url, str):
        raise WebhookError("url", "wrong_type")
    chosen = clean_events(event_types)
    count = session.scalar(select(func.count()).select_from(WebhookEndpoint).where(WebhookEndpoint.organisation_id == organisation.id)) or 0
    if count >= MAX_PER_ORGANISATION:
        raise WebhookError("url", "too_many_webhooks")
    problem = signing.check_target(url, bool(config.get("WEBHOOK_ALLOW_PRIVATE")))
    if problem is not None:
        raise WebhookError("url", problem)
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(
        organisation_id=organisation.id,
        url=url,
        events=chosen,
        secret_encrypted=signing.encrypt_secret(config, secret),
        created_by=actor.name,
    )
    session.add(endpoint)
    session.flush()
    host = host_of(url)
    events.record(session, actor, "webhook.created", organisation, host, webhook=endpoint.id, host=host, events=chosen)
    session.commit()
    return endpoint, secret


def webhooks_of(session: Session, organisation: Organisation) -> list[WebhookEndpoint]:
    """The organisation's webhooks, oldest first."""
    query = select(WebhookEndpoint).where(WebhookEndpoint.organisation_id == organisation.id).order_by(WebhookEndpoint.id)
    return list(session.scalars(query))


def webhook_of(session: Session, organisation: Organisation, webhook_id: int) -> WebhookEndpoint | None:
    """A webhook by id, only if it belongs to this organisation."""
    if not is_row_id(webhook_id):  # PostgreSQL refuses to compare an INTEGER column with a larger number
        return None
    return session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.id == webhook_id, WebhookEndpoint.organisation_id == organisation.id))


def delete(session: Session, organisation: Organisation, endpoint: WebhookEndpoint, actor: events.Actor) -> None:
    """Delete a webhook and log it, and commit; its deliveries go with it (the outbox's foreign key cascades, on SQLite too)."""
    host = host_of(endpoint.url)
    events.record(session, actor, "webhook.deleted", organisation, host, webhook=endpoint.id, host=host)
    session.delete(endpoint)
    session.commit()


def deliveries_of(session: Session, endpoint: WebhookEndpoint, limit: int = DELIVERIES_SHOWN) -> list[OutboxMessage]:
    """The webhook's deliveries, newest first."""
    query = select(OutboxMessage).where(OutboxMessage.webhook_id == endpoint.id).order_by(OutboxMessage.id.desc()).limit(limit)
    return list(session.scalars(query))


def deliveries_by_webhook(session: Session, endpoints: list[WebhookEndpoint], per_webhook: int) -> dict[int, list[OutboxMessage]]:
    """The latest deliveries of each webhook (for the manager area's list; one query per webhook, at most ten webhooks)."""
    return {endpoint.id: deliveries_of(session, endpoint, per_webhook) for endpoint in endpoints}


def webhook_dict(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """A webhook as the API shows it (never its secret)."""
    return {"id": endpoint.id, "url": endpoint.url, "events": list(endpoint.events), "created_at": endpoint.created_at.isoformat()}


def delivery_dict(message: OutboxMessage) -> dict[str, Any]:
    """A delivery as the API shows it."""
    return {
        "id": message.id,
        "event": message.event,
        "status": message.status,
        "attempts": message.attempts,
        "last_response_code": message.last_response_code,
        "last_error": message.last_error,
        "next_attempt_at": message.next_attempt_at.isoformat() if message.status == "pending" else None,
        "created_at": message.created_at.isoformat(),
        "sent_at": message.sent_at.isoformat() if message.sent_at is not None else None,
    }
