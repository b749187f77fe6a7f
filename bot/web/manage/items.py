"""The manager area's item page: why an item has its status, the answers that make it done, owner, due date, workflow, comments, evidence and risk acceptance.

Server-rendered forms (POST, then redirect to GET), CSRF on each. Every refused change
names its field in the page's language with a 4xx and stores nothing; a stale
version shows the current values beside what the manager typed. Changes of the
answers go through the turn service as amendments of the checklist of record.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_translations, gettext
from flask_login import current_user, login_required
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ...edges import large_body
from ...engine.amendment import asked_steps
from ...engine.vocabulary import StepKind, Surface
from ...i18n import N_, STATUS_LABELS, WORKFLOW_LABELS, answer_text, text, turn_error_message
from ...store import assessments as store
from ...store import tracking
from ...store.db import session
from ...store.models import Assessment, Organisation, utcnow
from ...turns import Amended, Conflict
from .. import turn_service
from ..errors import handle_http_error
from ..items import ITEM_ID, STALE_ITEM, TRACKING_ERRORS, after_change, item_body, require_open_item, tracking_message, uploaded_file
from ..items_api import file_response
from ..records import actor, note_access
from . import bp, kept_language, me, page_locale, visible_organisation_or_404

SURFACE = "manage"  # the surface the event log names for the manager area
UPLOAD_ENDPOINT = "manage.item_upload"

AMENDED = N_("The answer has been changed: “%(question)s” is now “%(answer)s”. The checklist of record and its exports follow it.")
UNCHANGED = N_("That is the answer already: nothing was changed.")
TRACKING_SAVED = N_("Owner, due date and workflow have been saved.")
COMMENT_ADDED = N_("Your comment has been added.")
EVIDENCE_ADDED = N_("The evidence “%(name)s” has been added.")
EVIDENCE_LINKED = N_("The evidence “%(name)s” is now linked to this item too.")
EVIDENCE_DELETED = N_("The evidence “%(name)s” and its file have been deleted; the event log keeps its name and fingerprint.")
RISK_ACCEPTED = N_("The risk has been accepted until %(until)s.")
RISK_WITHDRAWN = N_("The risk acceptance has been withdrawn.")
NO_ANSWER = N_("Please choose an answer.")


def _item_or_404(slug: str, item_id: str) -> tuple[Organisation, Assessment]:
    """The organisation and its checklist of record if this manager may see them and the record's checklist has the item; 404 otherwise."""
    organisation = visible_organisation_or_404(slug)
    record = store.record_of(session(), organisation)
    if record is None or not ITEM_ID.match(item_id):
        abort(404)
    flow = turn_service().engine_for(record).flow  # FlowUnavailableError: the 409 page
    if all(i.id != item_id for i in flow.checklist):
        abort(404)
    return organisation, record


@bp.app_template_filter("isodate")
def isodate(value: str | date | None) -> datetime | date | None:
    """An ISO date or timestamp (as the item bodies carry them) as a date or datetime, for the date filters of the pages."""
    if not value or not isinstance(value, str):
        return value or None
    return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)


def _derivation(body: dict[str, Any], record: Assessment) -> list[dict[str, str]]:
    """Why the item has its status in plain words: each fact it rests on as a question and its answer."""
    lines = []
    for condition in body["derivation"]["conditions"]:
        if condition["kind"] == "step":
            answer = condition["answer_text"] if condition["answer_text"] is not None else gettext("no answer")
            lines.append({"question": condition["question"] or condition["step"], "answer": answer, "step": condition["step"]})
        elif condition["kind"] == "recommendation":
            lines.append({"question": gettext("The recommended channel"), "answer": _recommendation_title(record), "step": ""})
        else:  # a reason or a named condition of the flow (say, "a data protection impact assessment is required")
            lines.append({"question": gettext("A condition of the questionnaire"), "answer": condition["step"] or condition["kind"], "step": ""})
    return lines


def _change_form(record: Assessment, step_id: str | None) -> dict[str, Any]:
    """The steps on the record's path that a manager can change, and the chosen one's current answer and options."""
    engine = turn_service().engine_for(record)
    answers = record.completed_answers or {}
    tr = get_translations()
    steps = [s for s in asked_steps(engine.flow, answers) if s.kind != StepKind.INFO]
    chosen = next((s for s in steps if s.id == step_id), None)
    out: dict[str, Any] = {"steps": [{"id": s.id, "question": text(s.text, tr)} for s in steps], "step": None}
    if chosen is not None:
        current = answers.get(chosen.id)
        out["step"] = {
            "id": chosen.id,
            "kind": str(chosen.kind),
            "question": text(chosen.text, tr),
            "optional": chosen.optional,
            "current": current,
            "current_text": answer_text(chosen, current, tr),
            "options": [{"value": o.value, "label": text(o.label, tr) or o.value} for o in chosen.options],
        }
    return out


def _page(
    organisation: Organisation,
    record: Assessment,
    item_id: str,
    *,
    errors: dict[str, tuple[str, str]] | None = None,
    form: dict[str, Any] | None = None,
    stale: bool = False,
    status: int = 200,
) -> ResponseReturnValue:
    """Render the item page; `errors` maps a form to (the id of the field to fix, the message)."""
    body = item_body(organisation, record, item_id, page_locale())
    item = body["item"]
    expired = {e["id"]: e["expired"] for e in item["tracking"]["evidence"]}
    evidence = [{**e, "expired": expired.get(e["id"], False)} for e in body["evidence"]]
    linked = {e["id"] for e in evidence}
    others = [e for e in tracking.evidence_of(session(), organisation) if e.id not in linked]
    because = _derivation(body, record)
    delete_id = request.args.get("delete", "")
    confirm_delete = next((e for e in evidence if delete_id.isdigit() and e["id"] == int(delete_id)), None)
    status_label = STATUS_LABELS[item["status"]]  # translated where it is defined (bot/i18n.py)
    page = render_template(
        "manage/item.html",
        org=organisation,
        item=item,
        status_label=gettext(status_label),
        derivation=body["derivation"],
        because=because,
        fixes=body["fixes"],
        change=_change_form(record, request.args.get("change") or (form or {}).get("step")),
        suggested=next((line["step"] for line in because if line["step"]), ""),
        record_version=body["record"]["version"],
        members=tracking.members(session(), organisation),
        workflow_labels={state: gettext(label) for state, label in WORKFLOW_LABELS.items()},
        comments=body["comments"],
        evidence=evidence,
        other_evidence=others,
        confirm_delete=confirm_delete,
        risk=item["tracking"]["risk_acceptance"],
        errors=errors or {},
        form=form or {},
        stale=stale,
        today=utcnow().date(),
        locale=page_locale(),
    )
    return page, status, {"Cache-Control": "no-store"}


def _recommendation_title(record: Assessment) -> str:
    """The title of the record's recommendation, in the page's language."""
    engine = turn_service().engine_for(record)
    return text(engine.checklist(record.completed_answers or {}).recommendation.title, get_translations()) or ""


def _back(organisation: Organisation, item_id: str, anchor: str) -> ResponseReturnValue:
    """Back to the item page (POST/redirect/GET), at the part that changed."""
    return redirect(url_for("manage.item", slug=organisation.slug, item_id=item_id, **kept_language()) + "#" + anchor, code=303)


def _refused(
    organisation: Organisation, record: Assessment, item_id: str, part: str, exc: tracking.TrackingError, field_id: str, form: dict[str, Any]
) -> ResponseReturnValue:
    """A refused change: nothing stored, the page with the message naming the field (413 for a file too large, else 422)."""
    session().rollback()
    status = 413 if exc.code == "file_too_large" else 422
    return _page(organisation, record, item_id, errors={part: (field_id, tracking_message(exc))}, form=form, status=status)


@bp.get("/orgs/<slug>/items/<item_id>")
@login_required
def item(slug: str, item_id: str) -> ResponseReturnValue:
    """One item of the checklist of record: why it has its status, the answers that would make it done, and its tracking."""
    organisation, record = _item_or_404(slug, item_id)
    return _page(organisation, record, item_id)


@bp.post("/orgs/<slug>/items/<item_id>/answers")
@login_required
def item_amend(slug: str, item_id: str) -> ResponseReturnValue:
    """Amend one answer of the checklist of record (a fix button or the change form), as this manager's revision."""
    organisation, record = _item_or_404(slug, item_id)
    engine = turn_service().engine_for(record)
    step_id = request.form.get("step", "")[:64]
    step = engine.flow.step_by_id.get(step_id)
    value: Any = request.form.getlist("value") if step is not None and step.kind == StepKind.MULTI else request.form.get("value")
    form = {"step": step_id, "value": value}
    if value is None:
        return _page(organisation, record, item_id, errors={"answer": ("change-value", gettext(NO_ANSWER))}, form=form, status=422)
    raw_version = request.form.get("version", "")
    version = int(raw_version) if raw_version.isdigit() and len(raw_version) < 12 else -1  # an unreadable version is a stale one
    outcome = turn_service().amend(record, step_id, value, Surface.MANAGE, actor(me(), SURFACE), expected_version=version)
    if isinstance(outcome, Amended):
        if outcome.changed and step is not None:
            tr = get_translations()
            answers = record.completed_answers or {}
            flash(gettext(AMENDED) % {"question": text(step.text, tr), "answer": answer_text(step, answers.get(step_id), tr) or "–"})
        else:
            flash(gettext(UNCHANGED))
        return _back(organisation, item_id, "status")  # the turn service wrote today's progress snapshot
    message = turn_error_message(outcome.error, get_translations(), outcome.conversation.engine)
    return _page(organisation, record, item_id, errors={"answer": ("change-step", message)}, form=form, status=409 if isinstance(outcome, Conflict) else 422)


@bp.post("/orgs/<slug>/items/<item_id>/tracking")
@login_required
def item_update(slug: str, item_id: str) -> ResponseReturnValue:
    """Save owner, due date and workflow together; a stale version shows the current values and keeps what was typed (409)."""
    organisation, record = _item_or_404(slug, item_id)
    form = {name: request.form.get(name, "") for name in ("owner", "due", "workflow", "version")}
    changes = {"owner": form["owner"] or None, "due": form["due"] or None, "workflow": form["workflow"]}
    version: object = int(form["version"]) if form["version"].isdigit() and len(form["version"]) < 12 else form["version"]
    try:
        tracking.update_item(session(), organisation, item_id, version, changes, actor(me(), SURFACE))
    except tracking.TrackingError as exc:
        field_id = {"owner": "tracking-owner", "due": "tracking-due", "workflow": "tracking-workflow"}.get(exc.field, "tracking-owner")
        return _refused(organisation, record, item_id, "tracking", exc, field_id, form)
    except tracking.StaleTrackingError:
        session().rollback()
        return _page(organisation, record, item_id, errors={"tracking": ("tracking-owner", gettext(STALE_ITEM))}, form=form, stale=True, status=409)
    after_change(organisation)
    flash(gettext(TRACKING_SAVED))
    return _back(organisation, item_id, "tracking")


@bp.post("/orgs/<slug>/items/<item_id>/comments")
@login_required
def item_comment(slug: str, item_id: str) -> ResponseReturnValue:
    """Add a comment (up to 4,000 characters, line breaks kept)."""
    organisation, record = _item_or_404(slug, item_id)
    form = {"text": request.form.get("text", "")}
    try:
        tracking.add_comment(session(), organisation, item_id, form["text"], actor(me(), SURFACE))
    except tracking.TrackingError as exc:
        return _refused(organisation, record, item_id, "comment", exc, "comment-text", form)
    # A comment changes none of the progress counts: no snapshot to write.
    flash(gettext(COMMENT_ADDED))
    return _back(organisation, item_id, "comments")


EVIDENCE_FIELDS = {"file": "upload-file", "name": "upload-name", "effective": "upload-effective", "expires": "upload-expires"}


@bp.post("/orgs/<slug>/items/<item_id>/evidence")
@large_body  # the app raises the body limit for this route before the CSRF check reads the form
@login_required
def item_upload(slug: str, item_id: str) -> ResponseReturnValue:
    """Upload a file as evidence (PDF, images, office documents or plain text; at most 10 MB; the type is read from the content)."""
    organisation, record = _item_or_404(slug, item_id)
    form = {name: request.form.get(name, "") for name in ("name", "effective", "expires")}
    try:
        name, content, media_type = uploaded_file()
        dates = tracking.EvidenceDates.parse(form["effective"], form["expires"])
        evidence = tracking.add_file(session(), organisation, item_id, name, content, media_type, dates, actor(me(), SURFACE))
    except tracking.TrackingError as exc:
        return _refused(organisation, record, item_id, "upload", exc, EVIDENCE_FIELDS.get(exc.field, "upload-file"), form)
    after_change(organisation)
    flash(gettext(EVIDENCE_ADDED) % {"name": evidence.name})
    return _back(organisation, item_id, "evidence")


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge) -> Any:
    """An upload over the limit: the item page saying so at the upload form (413); elsewhere the usual page."""
    if request.endpoint != UPLOAD_ENDPOINT or not current_user.is_authenticated:
        return handle_http_error(exc)
    try:
        organisation, record = _item_or_404(**(request.view_args or {}))
        template = TRACKING_ERRORS["file_too_large"]  # translated where it is defined (bot/web/items.py)
        message = gettext(template)
        return _page(organisation, record, str((request.view_args or {}).get("item_id")), errors={"upload": ("upload-file", message)}, status=413)
    except HTTPException as other:
        return handle_http_error(other)


@bp.post("/orgs/<slug>/items/<item_id>/evidence/link")
@login_required
def item_link(slug: str, item_id: str) -> ResponseReturnValue:
    """Add a link (say, to the signed contract in the document system) as evidence."""
    organisation, record = _item_or_404(slug, item_id)
    form = {name: request.form.get(name, "") for name in ("url", "name", "effective", "expires")}
    try:
        dates = tracking.EvidenceDates.parse(form["effective"], form["expires"])
        evidence = tracking.add_link(session(), organisation, item_id, form["url"], form["name"], dates, actor(me(), SURFACE))
    except tracking.TrackingError as exc:
        return _refused(organisation, record, item_id, "link", exc, f"link-{exc.field}" if exc.field in form else "link-url", form)
    after_change(organisation)
    flash(gettext(EVIDENCE_ADDED) % {"name": evidence.name})
    return _back(organisation, item_id, "evidence")


@bp.post("/orgs/<slug>/items/<item_id>/evidence/existing")
@login_required
def item_link_existing(slug: str, item_id: str) -> ResponseReturnValue:
    """Link evidence the organisation has already (for another item) to this item too."""
    organisation, record = _item_or_404(slug, item_id)
    raw = request.form.get("evidence_id", "")
    existing = tracking.evidence_by_id(session(), organisation, int(raw)) if raw.isdigit() and len(raw) < 12 else None
    if existing is None:
        return _refused(organisation, record, item_id, "existing", tracking.TrackingError("evidence_id", "unknown_evidence"), "existing-evidence", {})
    tracking.link_evidence(session(), organisation, item_id, existing, actor(me(), SURFACE))
    after_change(organisation)
    flash(gettext(EVIDENCE_LINKED) % {"name": existing.name})
    return _back(organisation, item_id, "evidence")


@bp.post("/orgs/<slug>/items/<item_id>/evidence/<int:evidence_id>/delete")
@login_required
def item_delete_evidence(slug: str, item_id: str, evidence_id: int) -> ResponseReturnValue:
    """Delete evidence and its file after the page asked (`?delete=<id>` shows the question); every item it was linked to loses it."""
    organisation, _record = _item_or_404(slug, item_id)
    evidence = tracking.evidence_by_id(session(), organisation, evidence_id)
    if evidence is None:
        abort(404)
    name = evidence.name
    tracking.delete_evidence(session(), organisation, evidence, actor(me(), SURFACE))
    after_change(organisation)
    flash(gettext(EVIDENCE_DELETED) % {"name": name})
    return _back(organisation, item_id, "evidence")


@bp.get("/orgs/<slug>/evidence/<int:evidence_id>")
@login_required
def evidence_download(slug: str, evidence_id: int) -> Response:
    """An evidence file, always as a download (attachment, nosniff); another organisation's or a link's is 404."""
    organisation = visible_organisation_or_404(slug)
    evidence = tracking.evidence_by_id(session(), organisation, evidence_id)
    if evidence is None or evidence.kind != "file":
        abort(404)
    note_access(me(), SURFACE, "evidence.downloaded", organisation, evidence.name, evidence=evidence.id)
    return file_response(evidence)


@bp.post("/orgs/<slug>/items/<item_id>/risk")
@login_required
def item_accept_risk(slug: str, item_id: str) -> ResponseReturnValue:
    """Accept the item's risk for a reason until a date (today or later); it expires by itself."""
    organisation, record = _item_or_404(slug, item_id)
    form = {name: request.form.get(name, "") for name in ("reason", "until")}
    try:
        require_open_item(record, item_id)
        row = tracking.accept_risk(session(), organisation, item_id, form["reason"], form["until"], actor(me(), SURFACE))
    except tracking.TrackingError as exc:
        return _refused(organisation, record, item_id, "risk", exc, "risk-until" if exc.field == "until" else "risk-reason", form)
    except tracking.StaleTrackingError:
        return _page(organisation, record, item_id, errors={"risk": ("risk-reason", gettext(STALE_ITEM))}, form=form, status=409)
    after_change(organisation)
    until = row.risk_until
    flash(gettext(RISK_ACCEPTED) % {"until": _format_date(until)})
    return _back(organisation, item_id, "risk")


def _format_date(value: date | None) -> str:
    """A date in the page's language (long form)."""
    from flask_babel import format_date

    return format_date(value, "long") if value is not None else ""


@bp.post("/orgs/<slug>/items/<item_id>/risk/withdraw")
@login_required
def item_withdraw_risk(slug: str, item_id: str) -> ResponseReturnValue:
    """Withdraw the item's risk acceptance (nothing to withdraw: the page as it is)."""
    organisation, _record = _item_or_404(slug, item_id)
    if tracking.clear_risk(session(), organisation, item_id, actor(me(), SURFACE)):
        after_change(organisation)
        flash(gettext(RISK_WITHDRAWN))
    return _back(organisation, item_id, "risk")
