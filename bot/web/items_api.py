"""The manager API of the living checklist: items with their tracking, amendments, comments, evidence, risk acceptance, progress.

Routes on the manager API's blueprint (Bearer token; another organisation's is 404).
Every refused change names its field in a localised 4xx and stores nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, current_app, jsonify, request
from flask_babel import gettext
from werkzeug.exceptions import RequestEntityTooLarge

from ..edges import large_body
from ..engine.vocabulary import Surface
from ..evidence_files import EXTENSIONS
from ..i18n import N_, catalog, turn_error_message
from ..store import tracking
from ..store.db import session
from ..store.events import Actor
from ..store.models import Evidence, Organisation
from ..turns import Amended, Conflict
from .api import MESSAGES, read_json
from .errors import HTTP_MESSAGES, ApiError, query_locale
from .items import STALE_ITEM, after_change, check_item, item_body, manager_report, record_or_404, require_open_item, tracking_error, uploaded_file
from .manager_api import API, _organisation, bp, current_manager
from .records import actor, note_access, record_info
from .reports import attachment

BAD_DAYS = N_('"days" must be a whole number from 1 to %(max)s.')
PROGRESS_DAYS, PROGRESS_MAX = 90, 730


def _locale(organisation: Organisation) -> str:
    return query_locale() or organisation.locale


def _only(data: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    """Refuse a field the route does not take (a misspelt field must not be dropped silently): 422 `unknown_field`."""
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise tracking_error(tracking.TrackingError(unknown[0][:64], "unknown_field"))


def _item(slug: str, item_id: str):
    organisation = _organisation(slug)
    record = record_or_404(organisation)
    check_item(record, item_id)
    return organisation, record


def _bad_body(field: str) -> ApiError:
    """400 `invalid_body` naming the field."""
    template = MESSAGES["invalid_body"]  # translated where it is defined (bot/web/api.py)
    return ApiError(400, "invalid_body", gettext(template) % {"field": field}, {"field": field})


@bp.get("/<slug>/items/<item_id>")
def get_item(slug: str, item_id: str):
    """One item with its tracking, comments, evidence, why it has its status and the answers that would make it done."""
    organisation, record = _item(slug, item_id)
    return jsonify(item_body(organisation, record, item_id, _locale(organisation)))


@bp.patch("/<slug>/items/<item_id>")
def patch_item(slug: str, item_id: str):
    """Change the owner, due date or workflow state (`{version, owner?, due?, workflow?}`; null clears); a stale version is 409 with the current item."""
    data = read_json()
    organisation, record = _item(slug, item_id)
    locale = _locale(organisation)  # a wrong ?lang= is refused before anything is stored
    changes = {k: v for k, v in data.items() if k != "version"}
    try:
        tracking.update_item(session(), organisation, item_id, data.get("version"), changes, actor(current_manager(), API))
    except tracking.TrackingError as exc:
        raise tracking_error(exc) from exc
    except tracking.StaleTrackingError as exc:
        session().rollback()
        current = item_body(organisation, record, item_id, locale)
        raise ApiError(409, "stale_item", gettext(STALE_ITEM), item=current) from exc
    after_change(organisation)
    return jsonify(item_body(organisation, record, item_id, locale))


@bp.post("/<slug>/answers")
def amend_answer(slug: str):
    """Amend one answer of the checklist of record (`{step, value, version?}`): 200 with the checklist, recorded as this manager's revision."""
    from . import turn_service

    data = read_json()
    organisation = _organisation(slug)
    _only(data, ("step", "value", "version"))
    step, value, version = data.get("step"), data.get("value"), data.get("version")
    if not isinstance(step, str) or not step or len(step) > 64:
        raise _bad_body("step")
    if "value" not in data:  # null clears an optional step; leaving it out is a mistake, as in a turn
        raise _bad_body("value")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise _bad_body("version")
    record = record_or_404(organisation)
    locale = _locale(organisation)
    outcome = turn_service().amend(record, step, value, Surface.API, actor(current_manager(), API), expected_version=version)
    if isinstance(outcome, Amended):
        report = manager_report(organisation, record, locale)
        return jsonify({**report.data, "record": {**record_info(record), "version": record.version}, "changed": outcome.changed})
    tr = catalog(locale, current_app.config["LOCALES_DIR"])
    message = turn_error_message(outcome.error, tr, outcome.conversation.engine)
    details = {"step": step, **{k: v for k, v in outcome.error.params.items() if k in ("allowed", "steps", "limit")}}
    if isinstance(outcome, Conflict):
        report = manager_report(organisation, record, locale)
        raise ApiError(409, outcome.code, message, details, checklist={**report.data, "record": {**record_info(record), "version": record.version}})
    raise ApiError(422, outcome.code, message, details)


@bp.get("/<slug>/items/<item_id>/comments")
def list_comments(slug: str, item_id: str):
    """The item's comments, oldest first."""
    organisation, _record = _item(slug, item_id)
    return jsonify(comments=[c.as_dict() for c in tracking.comments_of(session(), organisation, item_id)])


@bp.post("/<slug>/items/<item_id>/comments")
def add_comment(slug: str, item_id: str):
    """Add a comment (`{text}`, up to 4,000 characters) to the item: 201 with the comment."""
    data = read_json()
    organisation, _record = _item(slug, item_id)
    _only(data, ("text",))
    try:
        comment = tracking.add_comment(session(), organisation, item_id, data.get("text"), actor(current_manager(), API))
    except tracking.TrackingError as exc:
        raise tracking_error(exc) from exc
    return jsonify(comment.as_dict()), 201


@bp.post("/<slug>/items/<item_id>/evidence")
@large_body
def add_evidence(slug: str, item_id: str):
    """Add evidence to the item: a file (multipart `file`, `name?`, `effective?`, `expires?`; at most 10 MB), a link (JSON
    `{url, name?, effective?, expires?}`) or existing evidence (JSON `{evidence_id}`): 201 with the evidence."""
    organisation, _record = _item(slug, item_id)
    who = actor(current_manager(), API)
    try:
        if request.mimetype == "multipart/form-data":
            evidence = _upload(organisation, item_id, who)
        else:
            if (request.content_length or 0) > int(current_app.config["MAX_CONTENT_LENGTH"]):  # the upload limit is for files only
                raise ApiError(413, "body_too_large", gettext(HTTP_MESSAGES[413]))
            data = read_json()
            _only(data, ("evidence_id",) if "evidence_id" in data else ("url", "name", "effective", "expires"))
            if "evidence_id" in data:
                evidence_id = data["evidence_id"]
                existing = (
                    tracking.evidence_by_id(session(), organisation, evidence_id)
                    if isinstance(evidence_id, int) and not isinstance(evidence_id, bool)
                    else None
                )
                if existing is None:
                    raise tracking.TrackingError("evidence_id", "unknown_evidence")
                evidence = tracking.link_evidence(session(), organisation, item_id, existing, who)
            else:
                dates = tracking.EvidenceDates.parse(data.get("effective"), data.get("expires"))
                evidence = tracking.add_link(session(), organisation, item_id, data.get("url"), data.get("name"), dates, who)
    except tracking.TrackingError as exc:
        raise tracking_error(exc) from exc
    after_change(organisation)
    return jsonify(evidence.as_dict()), 201


def _upload(organisation: Organisation, item_id: str, who: Actor) -> Evidence:
    """Read and check an uploaded file (type by content, size, name, dates), then store it."""
    try:  # the app raised the body limit for this route (bot/edges.py: large_body) before any hook read the form
        form = request.form
        files = request.files
    except RequestEntityTooLarge as exc:
        raise tracking.TrackingError("file", "file_too_large") from exc
    _only({**form, **{key: "" for key in files if key != "file"}}, ("name", "effective", "expires"))
    name, content, media_type = uploaded_file()
    dates = tracking.EvidenceDates.parse(form.get("effective"), form.get("expires"))
    return tracking.add_file(session(), organisation, item_id, name, content, media_type, dates, who)


@bp.get("/<slug>/evidence/<int:evidence_id>")
def download_evidence(slug: str, evidence_id: int):
    """The evidence's file, always as a download (a link's evidence: its facts as JSON)."""
    organisation = _organisation(slug)
    evidence = tracking.evidence_by_id(session(), organisation, evidence_id)
    if evidence is None:
        raise ApiError(404, "not_found", gettext(HTTP_MESSAGES[404]))
    if evidence.kind != "file":
        return jsonify(evidence.as_dict())
    note_access(current_manager(), API, "evidence.downloaded", organisation, evidence.name, evidence=evidence.id)
    return file_response(evidence)


def file_response(evidence: Evidence) -> Response:
    """An evidence file as a download that no browser renders: attachment, its checked type, nosniff, a sandbox."""
    response = Response(evidence.content or b"", mimetype=None)
    response.headers["Content-Type"] = evidence.media_type or "application/octet-stream"
    name = evidence.name
    extension = EXTENSIONS.get(evidence.media_type or "", "")
    if extension and not name.lower().endswith(extension):
        name += extension
    response.headers["Content-Disposition"] = attachment(name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.delete("/<slug>/evidence/<int:evidence_id>")
def delete_evidence(slug: str, evidence_id: int) -> Response:
    """Delete the evidence and its file (the event log keeps its name, hash, who and when)."""
    organisation = _organisation(slug)
    evidence = tracking.evidence_by_id(session(), organisation, evidence_id)
    if evidence is None:
        raise ApiError(404, "not_found", gettext(HTTP_MESSAGES[404]))
    tracking.delete_evidence(session(), organisation, evidence, actor(current_manager(), API))
    after_change(organisation)
    return Response(status=204)


@bp.put("/<slug>/items/<item_id>/risk-acceptance")
def accept_risk(slug: str, item_id: str):
    """Accept the item's risk (`{reason, until}`; until today or later): 200 with the item. It expires by itself."""
    data = read_json()
    organisation, record = _item(slug, item_id)
    locale = _locale(organisation)  # a wrong ?lang= is refused before anything is stored
    _only(data, ("reason", "until"))
    try:
        require_open_item(record, item_id)
        tracking.accept_risk(session(), organisation, item_id, data.get("reason"), data.get("until"), actor(current_manager(), API))
    except tracking.TrackingError as exc:
        raise tracking_error(exc) from exc
    after_change(organisation)
    return jsonify(item_body(organisation, record, item_id, locale))


@bp.delete("/<slug>/items/<item_id>/risk-acceptance")
def withdraw_risk(slug: str, item_id: str) -> Response:
    """Withdraw the item's risk acceptance (204; 404 when there is none)."""
    organisation, _record = _item(slug, item_id)
    if not tracking.clear_risk(session(), organisation, item_id, actor(current_manager(), API)):
        raise ApiError(404, "not_found", gettext(HTTP_MESSAGES[404]))
    after_change(organisation)
    return Response(status=204)


@bp.get("/<slug>/progress")
def get_progress(slug: str):
    """One entry per day (`?days=`, default 90, at most 730), each day's counts carried forward from the last change."""
    organisation = _organisation(slug)
    raw = request.args.get("days", str(PROGRESS_DAYS))
    if not raw.isdigit() or not 1 <= int(raw) <= PROGRESS_MAX:
        raise ApiError(400, "invalid_days", gettext(BAD_DAYS) % {"max": PROGRESS_MAX})
    return jsonify(org={"slug": organisation.slug, "name": organisation.name}, days=tracking.progress(session(), organisation, int(raw)))
