"""The outbox's sender: claims due mails and webhook deliveries, sends each, records the outcome (at least once)."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field

from flask import Flask, url_for
from sqlalchemy.orm import Session

from . import mail
from .store import db
from .store import notifications as store
from .store.models import OutboxMessage, WebhookEndpoint, utcnow

log = logging.getLogger(__name__)


@dataclass
class FlushReport:
    """What one pass over the outbox did."""

    sent: int = 0
    failed: int = 0  # attempts that failed (tried again later, or given up)
    gave_up: int = 0
    skipped_mail_off: int = 0
    errors: list[str] = field(default_factory=list)


def flush_outbox(app: Flask, limit: int = 500) -> FlushReport:
    """Send every due message (mails only while mail is on); call with an app context."""
    report = FlushReport()
    session = db.session()
    claim = float(app.config["OUTBOX_CLAIM_SECONDS"])
    started = utcnow()  # a row that failed in this pass is due again later, not in this loop
    channels = ("mail", "webhook") if mail.mail_enabled(app.config) else ("webhook",)  # mails wait until mail is on
    if not mail.mail_enabled(app.config):
        report.skipped_mail_off = store.pending_count(session, "mail")
    while True:
        ids = store.claim_due(session, claim, limit=min(limit, 100), now=started, channels=channels)
        if not ids:
            return report
        for message_id in ids:
            message = session.get(OutboxMessage, message_id)
            if message is None:  # deleted with its organisation meanwhile
                continue
            _send_one(app, session, message, report)
        limit -= len(ids)
        if limit <= 0:
            return report


def _send_one(app: Flask, session: Session, message: OutboxMessage, report: FlushReport) -> None:
    """Send one claimed message and record the outcome."""
    if message.channel == "mail":
        try:
            mail.send(app.config, render_mail(app, message))
        except (OSError, smtplib.SMTPException) as exc:
            _failed(app, session, message, f"{type(exc).__name__}: {exc}", None, report, mail=True)
            return
        forget = bool(message.payload.get("forget_recipient"))
        store.mark_sent(session, message, forget_recipient=forget)
        report.sent += 1
        return
    endpoint = session.get(WebhookEndpoint, message.webhook_id) if message.webhook_id is not None else None
    if endpoint is None:  # the webhook was deleted: nothing to deliver to
        message.status, message.claimed_until, message.last_error = "failed", None, "webhook deleted"
        session.commit()
        return
    from . import webhooks

    result = webhooks.deliver(app.config, endpoint, message.payload["id"], message.payload["body"])
    if result.ok:
        store.mark_sent(session, message, result.status_code)
        report.sent += 1
    else:
        _failed(app, session, message, result.error or "failed", result.status_code, report, mail=False)


def _failed(app: Flask, session: Session, message: OutboxMessage, error: str, code: int | None, report: FlushReport, *, mail: bool) -> None:
    """Record a failed attempt with the channel's delays (mail: the same schedule as webhooks)."""
    delays = [float(d) for d in app.config["WEBHOOK_RETRY_DELAYS"]]
    store.mark_failed(session, message, error, delays, code)
    report.failed += 1
    report.gave_up += message.status == "failed"
    report.errors.append(error)
    log.warning("%s %s (outbox %s) failed: %s", "mail" if mail else "webhook", message.event, message.id, error)


def render_mail(app: Flask, message: OutboxMessage) -> mail.EmailMessage:
    """The mail of an outbox row: its template and context in its language, with its unsubscribe link."""
    payload = message.payload
    unsubscribe = None
    if payload.get("unsubscribe"):
        manager_id, kind = payload["unsubscribe"]
        unsubscribe = url_for("notifications.unsubscribe", token=mail.unsubscribe_token(app, manager_id, kind), _external=True)
    assert message.recipient is not None
    return mail.render(payload["template"], message.locale, message.recipient, payload.get("context") or {}, unsubscribe=unsubscribe)
