"""The manager's organisations: the overview by attention, one organisation's checklist, exports, texts and comparison."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from flask import Response, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_translations, gettext
from flask_login import login_required

from ...documents import DOCUMENT_IDS, missing_details
from ...engine.vocabulary import Surface, TurnAction
from ...exporters import FORMAT_NAMES, STATUS_ORDER
from ...exporters import csv as csv_export
from ...exporters.markdown import escape as markdown_escape
from ...i18n import STATUS_LABELS, WORKFLOW_LABELS, answer_rows, answer_text, normalise_locale, text
from ...review import AnsweredQuestion, Attention, answer_changes, by_attention, review_due, status_changes
from ...store import assessments as store
from ...store import links as link_store
from ...store import managers, tracking
from ...store import submissions as submission_store
from ...store.db import session
from ...store.models import AnswerRevision, Assessment, Organisation, utcnow
from ...turns import FlowUnavailableError, NoMigrationError
from .. import turn_service
from ..items import manager_report, manager_reports, review_interval
from ..records import note_access
from ..reports import assessment_documents, attachment, export_response
from ..versions import is_outdated, latest_version, version_changes
from . import bp, me, page_locale, visible_organisation_or_404
from .results import provenance, started_via


def _status(organisation: Organisation, completed: Assessment | None, unfinished: Assessment | None) -> dict[str, Any]:
    """What a manager needs at a glance about one organisation."""
    service = turn_service()
    row: dict[str, Any] = {"org": organisation, "completed": completed, "unfinished": unfinished, "summary": None, "recommendation": None, "progress": None}
    if completed is not None:
        try:
            checklist = service.engine_for(completed).checklist(completed.completed_answers or {})
        except FlowUnavailableError:
            checklist = None
        if checklist is not None:
            row["summary"] = checklist.summary
            row["recommendation"] = checklist.recommendation.value
            row["recommendation_title"] = text(checklist.recommendation.title, get_translations())
        row["review_due"] = review_due(completed.recorded_at, utcnow(), review_interval())
        row["latest_version"] = latest_version(completed.flow_id)
        row["outdated"] = is_outdated(completed)
    if unfinished is not None:
        try:
            prompt = service.engine_for(unfinished).prompt(unfinished)
            row["progress"] = (prompt.answered, prompt.total)
        except FlowUnavailableError:
            pass
    return row


def _attention(row: dict[str, Any]) -> Attention:
    """The facts of an overview row that the attention rule sorts by."""
    summary = row["summary"] or {}
    return Attention(
        name=row["org"].name,
        critical=summary.get("critical", 0),
        review_due=row.get("review_due", False),
        completed=row["completed"] is not None,
        outdated=row.get("outdated", False),
    )


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    """The organisations of this manager, those that need attention first."""
    organisations = managers.visible_organisations(session(), me())
    latest = store.overview(session(), organisations)
    rows = by_attention((_status(o, *latest[o.id]) for o in organisations), _attention)
    return render_template("manage/index.html", rows=rows, locale=page_locale(), is_operator=me().is_operator)


@bp.get("/checklists.csv")
@login_required
def all_checklists() -> Response:
    """The latest checklist of every organisation of this manager in one CSV (to track many clients)."""
    organisations = managers.visible_organisations(session(), me())
    latest = store.overview(session(), organisations)
    locale = normalise_locale(request.args.get("lang")) or page_locale()
    records = [(org, record) for org in organisations if (record := latest[org.id][0]) is not None]
    reports = manager_reports(records, locale)
    note_access(me(), "manage", "export.downloaded", [org for org, _record in records], "checklists.csv", format="csv", scope="all")
    response = Response(csv_export.render_many(reports))
    response.headers["Content-Type"] = csv_export.MEDIA_TYPE
    response.headers["Content-Disposition"] = f'attachment; filename="wa-checklists-{utcnow():%Y-%m-%d}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


# The worklist's filters (GET parameters, so they work without JavaScript and can be bookmarked): name -> allowed values.
DUE_FILTERS = ("overdue", "soon")
SOON_DAYS = 30


def worklist_filters(args: Mapping[str, str], member_emails: list[str]) -> dict[str, str]:
    """The filters asked for, each one an allowed value or "" (any); an unknown value counts as "any"."""
    allowed = {
        "status": STATUS_ORDER,
        "owner": ("me", "nobody", *member_emails),
        "due": DUE_FILTERS,
        "workflow": tracking.WORKFLOW_STATES,
        "review": ("1",),
    }
    chosen = {name: args.get(name, "").strip() for name in allowed}
    if chosen["owner"] not in ("me", "nobody"):
        chosen["owner"] = chosen["owner"].lower()
    return {name: value if value in allowed[name] else "" for name, value in chosen.items()}


def worklist_matches(item: dict[str, Any], filters: Mapping[str, str], my_email: str, today: date) -> bool:
    """Whether an item of the manager report passes the worklist's filters."""
    t = item["tracking"]
    owner, due = (t["owner"] or "").lower(), date.fromisoformat(t["due"]) if t["due"] else None
    soon = today + timedelta(days=SOON_DAYS)
    checks = {
        "status": lambda v: item["status"] == v,
        "owner": lambda v: owner == my_email.lower() if v == "me" else (not owner if v == "nobody" else owner == v),
        # Overdue and "due soon" concern work still to do: a closed item is neither.
        "due": lambda v: due is not None and t["workflow"] != "closed" and (due < today if v == "overdue" else today <= due <= soon),
        "workflow": lambda v: t["workflow"] == v,
        "review": lambda _v: bool(t["needs_review"]),
    }
    return all(checks[name](value) for name, value in filters.items() if value)


def _amendments(record: Assessment, revisions: list[AnswerRevision]) -> list[dict[str, Any]]:
    """The answers managers changed on the checklist of record: when, who, the question and the new answer."""
    try:
        flow = turn_service().engine_for(record).flow
    except FlowUnavailableError:
        return []
    tr = get_translations()
    out = []
    for revision in revisions:
        if revision.action != TurnAction.AMEND or revision.assessment_id != record.id:
            continue
        step = flow.step_by_id.get(revision.step)
        out.append(
            {
                "at": revision.created_at,
                "by": revision.actor,
                "question": text(step.text, tr) if step is not None else revision.step,
                "answer": answer_text(step, revision.value, tr) if step is not None else revision.value,
            }
        )
    return out


@bp.get("/orgs/<slug>")
@login_required
def organisation(slug: str) -> ResponseReturnValue:
    """One organisation: its worklist (every item with status, owner, due date, workflow, evidence, flags; filters), links, exports and history."""
    org = visible_organisation_or_404(slug)
    latest = store.record_of(session(), org)
    report = None
    if latest is not None:
        try:
            report = manager_report(org, latest, page_locale())
        except FlowUnavailableError:
            report = None
    members = tracking.members(session(), org)
    filters = worklist_filters(request.args, [m.email.lower() for m in members])
    today = utcnow().date()
    groups = []
    shown = 0
    if report is not None:
        for status in STATUS_ORDER:
            items = [i for i in report.data["items"] if i["status"] == status]
            matching = [i for i in items if worklist_matches(i, filters, me().email, today)]
            shown += len(matching)
            if matching:
                sections: dict[str, list[dict[str, Any]]] = {}
                for item in matching:
                    sections.setdefault(report.item_sections.get(item["id"], ""), []).append(item)
                groups.append((status, report.status_labels[status], len(matching), len(items), sections))
    assessments, revisions = store.history(session(), org, 50)
    return render_template(
        "manage/organisation.html",
        org=org,
        report=report,
        result=report.data["result"] if report is not None else None,
        groups=groups,
        filters=filters,
        filtered=any(filters.values()),
        shown=shown,
        members=members,
        today=today,
        workflow_labels={state: gettext(label) for state, label in WORKFLOW_LABELS.items()},
        record=provenance(latest) if latest is not None else None,
        version_changes=version_changes(org, latest, get_translations()) if report is not None and latest is not None else None,
        history=[(a, started_via(a), a.respondent_link.label if a.respondent_link is not None else None) for a in assessments],
        amendments=_amendments(latest, revisions) if latest is not None else [],
        active_links=sum(1 for link in link_store.links_of(session(), org) if link.usable()),
        waiting=len(submission_store.submissions(session(), org)),
        formats=FORMAT_NAMES,
        locale=page_locale(),
    )


@bp.post("/orgs/<slug>/reassess")
@login_required
def reassess(slug: str) -> ResponseReturnValue:
    """Start a re-assessment from the checklist of record and show its link once, to hand to the respondent."""
    org = visible_organisation_or_404(slug)
    source = store.record_of(session(), org)
    if source is None:
        abort(404)
    try:
        started = turn_service().reassess(org, source, source.locale, Surface.WIZARD)
    except NoMigrationError:
        abort(409)
    assessment, engine = started.conversation.assessment, started.conversation.engine
    page = render_template(
        "manage/reassessment.html",
        org=org,
        link=url_for("wizard.step", token=assessment.token, _external=True),
        version=engine.flow.version,
        locale=page_locale(),
    )
    return page, 201, {"Cache-Control": "no-store"}


@bp.get("/orgs/<slug>/checklist.<any(pdf, csv, xlsx, md, json):fmt>")
@login_required
def export(slug: str, fmt: str) -> Response:
    """Download the latest checklist (`?lang=de|en`, default: the page language)."""
    org = visible_organisation_or_404(slug)
    latest = store.record_of(session(), org)
    if latest is None:
        abort(404)
    # A flow version that is no longer loaded raises FlowUnavailableError: the 409 page. The manager's report: with tracking.
    report = manager_report(org, latest, normalise_locale(request.args.get("lang")) or page_locale())
    note_access(me(), "manage", "export.downloaded", org, f"checklist.{fmt}", format=fmt, assessment=latest.id)
    return export_response(org, report, fmt)


@bp.get("/orgs/<slug>/documents")
@login_required
def documents(slug: str) -> ResponseReturnValue:
    """The ready-to-paste texts with copy buttons and downloads."""
    org = visible_organisation_or_404(slug)
    latest = store.record_of(session(), org)
    tr = get_translations()
    texts = assessment_documents(org, latest, tr) if latest is not None else []  # FlowUnavailableError: the 409 page
    missing = {d.id: missing_details(d.placeholders, tr) for d in texts}
    if latest is not None:
        note_access(me(), "manage", "document.viewed", org, "documents", assessment=latest.id)
    return render_template("manage/documents.html", org=org, documents=texts, missing=missing, latest=latest, locale=page_locale())


@bp.get("/orgs/<slug>/documents/<any(first_contact_message, imprint_snippet, ropa_entry):document_id>.<any(txt, md):ext>")
@login_required
def document_download(slug: str, document_id: str, ext: str) -> Response:
    """One document as a .txt or .md file (plain text either way: nothing in it is markup)."""
    org = visible_organisation_or_404(slug)
    latest = store.record_of(session(), org)
    if latest is None or document_id not in DOCUMENT_IDS:
        abort(404)
    document = next((d for d in assessment_documents(org, latest, get_translations()) if d.id == document_id), None)
    if document is None:
        abort(404)  # a flow version without this document
    note_access(me(), "manage", "document.downloaded", org, f"{document_id}.{ext}", assessment=latest.id)
    body = f"{document.title}\n\n{document.text}\n" if ext == "txt" else f"# {_md_escape(document.title)}\n\n{_md_escape(document.text)}\n"
    response = Response(body, mimetype="text/plain" if ext == "txt" else "text/markdown")
    response.headers["Content-Disposition"] = attachment(f"{org.slug}-{document_id}.{ext}")  # any stored slug, see docs/decisions.md
    return response


def _md_escape(text: str) -> str:
    """Markdown-escape each line of a document (line breaks are kept)."""
    return "\n".join(markdown_escape(line) for line in text.split("\n"))


@bp.get("/orgs/<slug>/compare")
@login_required
def compare(slug: str) -> ResponseReturnValue:
    """What changed between two assessments of one organisation: answers and item statuses."""
    org = visible_organisation_or_404(slug)
    ids = [v for v in (request.args.get("a", ""), request.args.get("b", "")) if v.isdigit()]
    chosen = [store.assessment_of(session(), org, int(v)) for v in ids]
    found = [a for a in chosen if a is not None]
    if len(found) != 2:
        abort(404)
    older, newer = sorted(found, key=lambda a: (a.created_at, a.id))
    tr = get_translations()
    sides = []
    for assessment in (older, newer):
        engine = turn_service().engine_for(assessment)  # FlowUnavailableError: the 409 page
        answers = assessment.completed_answers if assessment.completed_answers is not None else engine.effective_answers(assessment.answers)
        asked = {row["step"]: AnsweredQuestion(row["question"], row["answer"]) for row in answer_rows(engine.flow, answers, tr)}
        statuses = {item.id: str(item.status) for item in engine.checklist(answers).items}
        sides.append((engine.flow, asked, statuses))
    (_, older_asked, older_statuses), (newer_flow, newer_asked, newer_statuses) = sides
    labels = {status: gettext(label) for status, label in STATUS_LABELS.items()}
    changed_statuses = [
        {"id": change.id, "before": labels[change.before] if change.before else "–", "after": labels[change.after], "to": change.after}
        for change in status_changes(older_statuses, newer_statuses)
    ]
    return render_template(
        "manage/compare.html",
        org=org,
        older=older,
        newer=newer,
        answer_changes=answer_changes((step.id for step in newer_flow.steps), older_asked, newer_asked),
        status_changes=changed_statuses,
        locale=page_locale(),
    )
