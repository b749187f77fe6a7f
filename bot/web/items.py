"""What the manager API and the manager area share about the living checklist: item bodies, errors, progress.

One place reads an item with its derivation, the answers that would make it done,
its tracking, comments and evidence, so the JSON and the pages never disagree.
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, request
from flask_babel import gettext

from .. import worklist
from ..engine.amendment import derivation, fixes
from ..engine.vocabulary import ItemStatus
from ..evidence_files import EXTENSIONS, media_type_of
from ..exporters import Report
from ..i18n import N_, WORKFLOW_LABELS, answer_text, text  # noqa: F401 (WORKFLOW_LABELS: the manager area imports it from here)
from ..store import assessments as store
from ..store import tracking
from ..store.db import session
from ..store.models import Assessment, Organisation
from ..turns import FlowUnavailableError
from . import turn_service
from .errors import ApiError
from .reports import checklist_report

ITEM_ID = re.compile(r"^[A-Z]{2,5}-\d{2,3}$")

# Localised messages of refused tracking changes, by TrackingError code.
TRACKING_ERRORS = {
    "wrong_type": N_('Please check "%(field)s": it has the wrong format.'),
    "control_characters": N_('"%(field)s" must not contain control characters.'),
    "required": N_('Please fill in "%(field)s".'),
    "too_long": N_('"%(field)s" is too long: at most %(limit)s characters.'),
    "invalid_date": N_('"%(field)s" must be a date like 2026-12-31.'),
    "not_a_member": N_("The owner must be a manager of this organisation."),
    "invalid_workflow": N_('"workflow" must be one of: %(allowed)s.'),
    "date_in_past": N_('"%(field)s" must be today or a later day.'),
    "before_effective": N_("The expiry date must not be before the effective date."),
    "invalid_url": N_("Please enter a web address that starts with https:// or http://."),
    "unknown_field": N_('"%(field)s" cannot be changed here.'),
    "file_type": N_("This kind of file is not accepted. Please upload a PDF, PNG, JPEG, WebP, DOCX, XLSX, ODT or plain text file."),
    "file_too_large": N_("The file is too large: at most 10 MB."),
    "file_required": N_("Please choose a file (it must not be empty)."),
    "unknown_evidence": N_("This evidence does not exist in this organisation."),
    "risk_not_open": N_("Only the risk of an open or critical item can be accepted."),
}
NO_CHECKLIST = N_("No assessment of this organisation has been completed yet.")
UNKNOWN_ITEM = N_("This checklist item does not exist.")
STALE_ITEM = N_("Someone else changed this item in the meantime. Here is the current state; please apply your change again.")


def tracking_message(exc: tracking.TrackingError) -> str:
    """The localised message of a refused tracking change."""
    params = {"field": exc.field, **exc.params}
    if isinstance(params.get("allowed"), list):
        params["allowed"] = ", ".join(params["allowed"])
    return gettext(TRACKING_ERRORS.get(exc.code, TRACKING_ERRORS["wrong_type"])) % params


def tracking_error(exc: tracking.TrackingError) -> ApiError:
    """A refused tracking change as an API error (422, or 413 for a file over the limit); the session is rolled back."""
    session().rollback()
    status = 413 if exc.code == "file_too_large" else 422
    return ApiError(status, exc.code, tracking_message(exc), {"field": exc.field})


def review_interval() -> int:
    """Days after its last confirmation that the checklist of record is due for review."""
    return int(current_app.config.get("REVIEW_INTERVAL_DAYS") or worklist.DEFAULT_REVIEW_INTERVAL_DAYS)


def record_or_404(organisation: Organisation) -> Assessment:
    """The organisation's checklist of record; 404 `no_completed_assessment` when there is none."""
    record = store.record_of(session(), organisation)
    if record is None:
        raise ApiError(404, "no_completed_assessment", gettext(NO_CHECKLIST))
    return record


def overlay(organisation: Organisation, record: Assessment | None) -> worklist.Overlay:
    """The organisation's tracking, as of now."""
    return worklist.Overlay.load(session(), organisation, record, review_interval())


def manager_report(organisation: Organisation, record: Assessment, locale: str, tracked: worklist.Overlay | None = None) -> Report:
    """The checklist of record as managers see it: the report with each item's tracking (raises FlowUnavailableError).

    `tracked`: the organisation's tracking when it was loaded already (`manager_reports` loads many at once).
    """
    report = checklist_report(organisation, record, locale)
    worklist.annotate(report.data, tracked if tracked is not None else overlay(organisation, record))
    review = worklist.review_date(record.recorded_at, review_interval())
    report.data["review"] = {"confirmed_at": record.recorded_at.isoformat() if record.recorded_at else None, "due": review.isoformat() if review else None}
    return report


def manager_reports(records: list[tuple[Organisation, Assessment]], locale: str) -> list[Report]:
    """The managers' reports of many organisations (their tracking loaded in four queries); a removed flow version is left out."""
    overlays = worklist.Overlay.load_many(session(), list(records), review_interval())
    reports = []
    for organisation, record in records:
        try:
            reports.append(manager_report(organisation, record, locale, overlays[organisation.id]))
        except FlowUnavailableError:
            continue
    return reports


def check_item(record: Assessment, item_id: str) -> None:
    """404 `unknown_item` unless the record's checklist has this item."""
    engine = turn_service().engine_for(record)
    if not ITEM_ID.match(item_id) or all(i.id != item_id for i in engine.flow.checklist):
        raise ApiError(404, "unknown_item", gettext(UNKNOWN_ITEM))


def item_body(organisation: Organisation, record: Assessment, item_id: str, locale: str) -> dict[str, Any]:
    """One item of the checklist of record with its tracking, comments, evidence, derivation and the answers that would make it done."""
    report = manager_report(organisation, record, locale)
    item = next(i for i in report.data["items"] if i["id"] == item_id)
    engine = turn_service().engine_for(record)
    flow, tr, answers = engine.flow, report.tr, record.completed_answers or {}

    def question(step_id: str | None) -> str | None:
        step = flow.step_by_id.get(step_id or "")
        return text(step.text, tr) if step is not None else None

    def answer(step_id: str | None, value: Any) -> str | None:
        step = flow.step_by_id.get(step_id or "")
        return answer_text(step, value, tr) if step is not None else None

    why = derivation(flow, answers, item_id)
    conditions = [
        {
            "kind": c.kind,
            "step": c.target if c.kind == "step" else None,
            "op": c.op,
            "values": list(c.values),
            "answer": c.actual,
            "question": question(c.target) if c.kind == "step" else None,
            "answer_text": answer(c.target, c.actual) if c.kind == "step" else None,
        }
        for c in why.conditions
    ]
    to_done = [] if item["status"] == ItemStatus.DONE else fixes(flow, answers, item_id)
    by_id = {e.id: e for e in tracking.evidence_of(session(), organisation)}  # two queries, however much evidence the item has
    evidence = [by_id.get(e["id"]) for e in item["tracking"]["evidence"]]
    return {
        "org": report.data["org"],
        "record": {"assessment": record.id, "version": record.version},
        "item": item,
        "derivation": {"rule": why.rule, "status": str(why.status), "conditions": conditions},
        "fixes": [
            {
                "step": f.step,
                "value": f.value,
                "question": question(f.step),
                "answer_text": answer(f.step, f.value),
                "other_items": f.other_items,
                "changes_recommendation": f.changes_recommendation,
            }
            for f in to_done
        ],
        "comments": [c.as_dict() for c in tracking.comments_of(session(), organisation, item_id)],
        "evidence": [e.as_dict() for e in evidence if e is not None],
        "workflow_states": list(tracking.WORKFLOW_STATES),
    }


def require_open_item(record: Assessment, item_id: str) -> None:
    """A risk can be accepted only for an item whose answers leave it open or critical (TrackingError otherwise)."""
    checklist = turn_service().engine_for(record).checklist(record.completed_answers or {})
    status = next((i.status for i in checklist.items if i.id == item_id), None)
    if status not in (ItemStatus.OPEN, ItemStatus.CRITICAL):
        raise tracking.TrackingError("item", "risk_not_open")


def evidence_limit() -> int:
    """The largest evidence file accepted, in bytes (MAX_EVIDENCE_BYTES)."""
    return int(current_app.config.get("MAX_EVIDENCE_BYTES") or tracking.MAX_EVIDENCE_BYTES)


def uploaded_file() -> tuple[str, bytes, str]:
    """The request's uploaded evidence file: its name, bytes and type (checked by content); raises TrackingError naming the field.

    The manager API and the manager area both read uploads here, so they accept exactly the same files.
    """
    upload = request.files.get("file")
    if upload is None:
        raise tracking.TrackingError("file", "file_required")
    limit = evidence_limit()
    content = upload.stream.read(limit + 1)
    if len(content) > limit:
        raise tracking.TrackingError("file", "file_too_large")
    if not content:
        raise tracking.TrackingError("file", "file_required")
    media_type = media_type_of(content)
    if media_type is None:
        raise tracking.TrackingError("file", "file_type")
    name = tracking.clean_name(request.form.get("name") or upload.filename or ("evidence" + EXTENSIONS[media_type]))
    return name, content, media_type


def after_change(organisation: Organisation) -> None:
    """Keep today's progress snapshot current after a tracking change."""
    turn_service().snapshot(organisation)
