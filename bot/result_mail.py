"""The respondent's result by e-mail: one outbox mail to the address they typed, which is forgotten once it is sent.

Respondents leave no address, so nothing is mailed to them unless they ask on the result
page (or through the chat API). The mail carries the organisation's name, the
recommendation and the checklist in the assessment's language, never the assessment token
(so no link to the result page, which needs it). The address is kept only on the outbox
row until it is sent (`forget_recipient`); the row's key and the rate limits use a keyed
hash of it, never the address itself.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from babel.dates import format_date
from flask import current_app, request
from sqlalchemy.orm import Session

from .engine import FlowEngine
from .engine.vocabulary import STATUS_ORDER, ItemStatus
from .exporters import build_report
from .i18n import N_, catalog
from .store import notifications
from .store.models import Assessment, utcnow
from .store.submissions import clean_contact_email

TEMPLATE = "result"
# Shared by the wizard's form and the chat API, so the two ways in count against one budget.
LIMIT_SCOPE = "result-mail"
DEFAULT_LIMIT = "3 per hour"

BAD_ADDRESS = N_("Please enter a valid e-mail address, for example info@example.de.")
NOT_COMPLETED = N_("Only a completed assessment's result can be sent by e-mail.")
MAIL_OFF = N_("Sending the result by e-mail is not available on this server. Please download it as a PDF instead.")


class ResultMailError(ValueError):
    """The result cannot be mailed: `reason` is "address", "not_completed" or "mail_off"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def digest(value: str) -> str:
    """A keyed SHA-256 of a value (HMAC with SECRET_KEY): a plain hash of an address could be reversed by trying addresses."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def clean_address(value: object) -> str:
    """The address as typed; ResultMailError("address") when it is missing or not an e-mail address."""
    try:
        address = clean_contact_email(value)
    except ValueError as exc:
        raise ResultMailError("address") from exc
    if address is None:
        raise ResultMailError("address")
    return address


# -- rate limits (Flask-Limiter key functions and limit) ---------------------------------------------------


def limit() -> str:
    """How many result mails one assessment, and one address, may ask for (RATELIMIT_RESULT_MAIL)."""
    return str(current_app.config.get("RATELIMIT_RESULT_MAIL") or DEFAULT_LIMIT)


def assessment_key() -> str:
    """The limit per assessment: a hash of the URL's token (the token itself never goes to the limiter's store)."""
    token = str((request.view_args or {}).get("token") or "")
    return "result-mail:assessment:" + digest(token)


def address_key() -> str:
    """The limit per address: a hash of the lower-cased address from the form (wizard) or the JSON body (API)."""
    value: Any = request.form.get("email") if request.form else None
    if value is None:
        body = request.get_json(silent=True)
        value = body.get("email") if isinstance(body, dict) else None
    address = value.strip().lower() if isinstance(value, str) else ""
    return "result-mail:address:" + digest(address)


def counts(response: Any) -> bool:
    """Only a mail actually queued uses up the budget (a mistyped address does not)."""
    return int(response.status_code) in (202, 303)


# -- the mail -----------------------------------------------------------------------------------------------


def context(engine: FlowEngine, assessment: Assessment, locales_dir: str) -> dict[str, Any]:
    """What the mail shows, in the assessment's language: organisation, recommendation, checklist by status."""
    assert assessment.completed_answers is not None
    locale = assessment.locale
    tr = catalog(locale, locales_dir)
    checklist = engine.checklist(assessment.completed_answers)
    report = build_report(engine.flow, checklist, tr, locale)
    groups = []
    for status in STATUS_ORDER:
        items = [i for i in report.data["items"] if i["status"] == status]
        if not items:
            continue
        # What to do matters for the open and critical items; for the rest the title is enough.
        with_action = status in (ItemStatus.CRITICAL, ItemStatus.OPEN)
        rows = [{"id": i["id"], "title": i["title"], "action": i["action"] if with_action else None} for i in items]
        groups.append({"status": str(status), "label": report.status_labels[status], "items": rows})
    completed = assessment.completed_at or utcnow()
    return {
        "organisation": assessment.organisation.name,
        "flow_title": report.flow_title,
        "completed_on": format_date(completed.date(), format="long", locale=locale),
        "recommendation": {"title": report.recommendation["title"], "text": report.recommendation["text"]},
        "groups": groups,
    }


def enqueue_result_mail(session: Session, engine: FlowEngine, assessment: Assessment, address: str) -> bool:
    """Queue the result mail to `address` and commit; False when the same mail went to it today already.

    Raises ResultMailError("not_completed") for an unfinished assessment and ("mail_off") without MAIL_SERVER
    (the address would wait in the outbox for a mail server that may never come).
    """
    from .mail import mail_enabled

    if assessment.completed_answers is None:
        raise ResultMailError("not_completed")
    if not mail_enabled(current_app.config):
        raise ResultMailError("mail_off")
    day = utcnow().date().isoformat()
    key = f"result:{assessment.id}:{digest(address.lower())[:40]}:{day}"
    payload = {"template": TEMPLATE, "context": context(engine, assessment, current_app.config["LOCALES_DIR"]), "forget_recipient": True}
    added = notifications.enqueue(
        session, "mail", key, TEMPLATE, payload, recipient=address, locale=assessment.locale, organisation_id=assessment.organisation_id
    )
    session.commit()
    return added is not None
