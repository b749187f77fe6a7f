"""The manager API: checklists and history of the organisations a manager belongs to.

Authorised by `Authorization: Bearer <api token>`. A missing or unknown token is
401; an organisation the manager does not belong to is 404, exactly like one that
does not exist, so slugs cannot be probed. Assessment tokens are never listed here:
they are the respondents' capabilities.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from flask_babel import gettext

from ..engine.vocabulary import Surface
from ..exporters import FORMAT_RULE, Report
from ..i18n import N_, SUPPORTED_LOCALES, catalog, prompt_dict
from ..store import assessments as store
from ..store import events as event_log
from ..store import links, profiles, submissions
from ..store.db import session
from ..store.managers import is_admin_of, manager_by_token, visible_organisation, visible_organisations
from ..store.models import AnswerRevision, Assessment, Manager, Organisation
from ..store.organisations import OrganisationError, OrganisationExistsError, set_public_widget
from ..turns import FlowUnavailableError, NoMigrationError, is_plausible_key
from . import api as chat_api
from . import turn_service
from .api import read_json
from .errors import HTTP_MESSAGES, ApiError, locale_error, query_locale
from .items import after_change, manager_report
from .records import actor, note_access, record_info, self_assessment_stats, submission_dict
from .reports import assessment_documents, documents_data, export_response, org_ref

bp = Blueprint("manager_api", __name__, url_prefix="/api/v1/orgs")

HISTORY_LIMIT = 200
HISTORY_MAX = 1000
NO_CHECKLIST = N_("No assessment of this organisation has been completed yet.")
NO_MIGRATION = N_("The answers of version %(source)s cannot be carried over to version %(target)s of the questionnaire.")
BAD_LIMIT = N_('"limit" must be a whole number from 1 to %(max)s.')
INVALID_LINK = N_('Please check "%(field)s": a label has at most 100 characters; a link expires after 1 to 365 days.')
SUBMISSION_CLOSED = N_("This submission is not completed, or it was adopted or dismissed already.")
INVALID_ORGANISATION = N_("The organisation could not be created: %(reason)s")
INVALID_SETTINGS = N_('Please check "%(field)s": it must be true or false.')
API = "api"  # the surface the event log names for this blueprint


@bp.before_request
def authenticate() -> None:
    """Every manager endpoint needs a valid API token (401 otherwise)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    manager = manager_by_token(session(), token.strip()) if scheme.lower() == "bearer" and len(token) < 256 else None
    if manager is None:
        raise ApiError(401, "unauthorized", gettext(HTTP_MESSAGES[401]))
    g.manager = manager


@bp.after_request
def no_store(response):
    """Checklists and histories are confidential: never cache them."""
    response.headers["Cache-Control"] = "no-store"
    return response


def current_manager() -> Manager:
    """The manager authenticated for this request."""
    return g.manager


def _organisation(slug: str) -> Organisation:
    organisation = visible_organisation(session(), current_manager(), slug) if is_plausible_key(slug) else None
    if organisation is None:
        raise ApiError(404, "not_found", gettext(HTTP_MESSAGES[404]))
    return organisation


def admin_only(organisation: Organisation, what: str) -> None:
    """Go on only for the organisation's admins (operators count); a member gets 403, and the attempt is logged as access.denied."""
    manager = current_manager()
    if is_admin_of(session(), manager, organisation):
        return
    event_log.record(session(), actor(manager, API), "access.denied", organisation, what, path=request.path[:200])
    session().commit()
    raise ApiError(403, "forbidden", gettext(HTTP_MESSAGES[403]))


@bp.get("")
def list_organisations():
    """The organisations this manager may see."""
    organisations = visible_organisations(session(), current_manager())
    return jsonify(organisations=[{**org_ref(o), "locale": o.locale} for o in organisations])


def _latest_report(slug: str) -> tuple[Organisation, Assessment, Report]:
    """The organisation (404 unless visible), its latest completed assessment and that assessment's report."""
    organisation = _organisation(slug)
    assessment = store.record_of(session(), organisation)
    if assessment is None:
        raise ApiError(404, "no_completed_assessment", gettext(NO_CHECKLIST))
    locale = query_locale() or organisation.locale
    return organisation, assessment, manager_report(organisation, assessment, locale)  # FlowUnavailableError: 409


@bp.get("/<slug>/checklist")
def checklist(slug: str):
    """The checklist of record: recommendation, items, and which assessment it comes from and how (`?lang=de|en`)."""
    _org, assessment, report = _latest_report(slug)
    return jsonify({**report.data, "record": {**record_info(assessment), "version": assessment.version}})


@bp.get(f"/<slug>/checklist.<{FORMAT_RULE}:fmt>")
def checklist_export(slug: str, fmt: str):
    """The checklist as a file: PDF to file, XLSX/CSV to track in, Markdown, JSON (`?lang=de|en`)."""
    organisation, assessment, report = _latest_report(slug)
    note_access(current_manager(), API, "export.downloaded", organisation, f"checklist.{fmt}", format=fmt, assessment=assessment.id)
    return export_response(organisation, report, fmt)


@bp.get("/<slug>/documents")
def documents(slug: str):
    """The first-contact message, imprint snippet and record-of-processing entry, filled from the latest completed assessment."""
    organisation, assessment, report = _latest_report(slug)
    note_access(current_manager(), API, "document.viewed", organisation, "documents", assessment=assessment.id)
    return jsonify(documents_data(report, assessment_documents(organisation, assessment, report.tr)))


INVALID_PROFILE = N_("Please check these fields: %(fields)s")


def _profile_body(organisation: Organisation) -> dict[str, object]:
    """The organisation and its profile (every field; null where not filled in)."""
    profile = profiles.profile_of(session(), organisation)
    return {
        "org": org_ref(organisation),
        "profile": profile.as_dict() if profile is not None else profiles.empty_profile(),
        "updated_at": profile.updated_at.isoformat() if profile is not None else None,
    }


@bp.get("/<slug>/profile")
def get_profile(slug: str):
    """The organisation profile the documents use (representative, register, VAT ID, phone, DPO, professional details)."""
    return jsonify(_profile_body(_organisation(slug)))


@bp.patch("/<slug>/profile")
def patch_profile(slug: str):
    """Change any subset of the profile's fields (`null` or "" clears one); 422 names every wrong field, and nothing is stored."""
    organisation = _organisation(slug)
    changes = chat_api.read_json()
    try:
        profiles.update_profile(session(), organisation, changes)
    except profiles.ProfileError as exc:
        session().rollback()
        problems = [{"field": p.field, "code": p.code, "message": p.message(gettext)} for p in exc.problems]
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        raise ApiError(422, "invalid_profile", gettext(INVALID_PROFILE) % {"fields": summary}, {"fields": problems}) from exc
    return jsonify(_profile_body(organisation))


@bp.get("/<slug>/history")
def history(slug: str):
    """Assessments and answer revisions, newest first (`?limit=`, default 200, at most 1000)."""
    organisation = _organisation(slug)
    raw_limit = request.args.get("limit", str(HISTORY_LIMIT))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= HISTORY_MAX:
        raise ApiError(400, "invalid_limit", gettext(BAD_LIMIT) % {"max": HISTORY_MAX})
    assessments, revisions = store.history(session(), organisation, int(raw_limit))
    service = turn_service()

    def progress(assessment: Assessment) -> dict[str, int] | None:
        try:
            prompt = service.resume(assessment).prompt()
        except FlowUnavailableError:
            return None  # a removed flow version: the history stays readable, without progress
        return {"answered": prompt.answered, "total": prompt.total}

    return jsonify(
        org=org_ref(organisation),
        assessments=[{**a.summary(), "progress": progress(a)} for a in assessments],
        revisions=[revision_dict(r) for r in revisions],
    )


def revision_dict(revision: AnswerRevision) -> dict[str, Any]:
    """A revision as the history shows it: a migrated answer names the assessment and flow version it came from."""
    return {**revision.as_dict(), "migrated_from": revision.migrated_from, "migrated_from_version": revision.migrated_from_version}


@bp.post("/<slug>/reassessments")
def reassess(slug: str):
    """Start a re-assessment on the organisation's flow version from its checklist of record, with its answers migrated.

    The token and the wizard URL are shown only in this response: hand the URL to the
    respondent. Optional body `{"locale": "de"|"en"}` (default: the language of the
    assessment it starts from).
    """
    data = read_json(optional=True)
    raw_locale = data.get("locale")
    organisation = _organisation(slug)
    response_locale = query_locale()  # a wrong ?lang= is refused before anything is created
    if raw_locale is not None and raw_locale not in SUPPORTED_LOCALES:
        raise locale_error()
    source = store.record_of(session(), organisation)
    if source is None:
        raise ApiError(404, "no_completed_assessment", gettext(NO_CHECKLIST))
    try:
        started = turn_service().reassess(organisation, source, raw_locale or source.locale, Surface.API)
    except NoMigrationError as exc:
        raise ApiError(409, "no_migration", gettext(NO_MIGRATION) % {"source": exc.source_version, "target": exc.target_version}) from exc
    assessment, engine = started.conversation.assessment, started.conversation.engine
    tr = catalog(response_locale or assessment.locale, current_app.config["LOCALES_DIR"])
    body = {
        "token": assessment.token,
        "url": url_for("wizard.step", token=assessment.token, _external=True),
        "prompt": prompt_dict(started.conversation.prompt(), tr),
        "flow": {"id": engine.flow.id, "version": engine.flow.version},
        "prefilled": started.prefilled,
    }
    return jsonify(body), 201, {"Location": url_for("api.get_assessment", token=assessment.token, _external=True)}


# -- respondent links ------------------------------------------------------------------


@bp.post("/<slug>/respondent-links")
def create_respondent_link(slug: str):
    """Create a respondent link (`{label?, expires_days?}`; 30 days by default, at most 365); its token is shown only here."""
    organisation = _organisation(slug)
    data = read_json(optional=True)
    try:
        link, token = links.create_link(session(), organisation, actor(current_manager(), API), data.get("label"), data.get("expires_days"))
    except links.LinkInputError as exc:
        session().rollback()
        raise ApiError(400, "invalid_body", gettext(INVALID_LINK) % {"field": exc.field}, {"field": exc.field}) from exc
    url = url_for("respondent.respondent_start", token=token, _external=True)
    body = {**link.as_dict(), "token": token, "url": url}
    return jsonify(body), 201


@bp.get("/<slug>/respondent-links")
def list_respondent_links(slug: str):
    """The organisation's respondent links, newest first (never their tokens)."""
    organisation = _organisation(slug)
    return jsonify(links=[link.as_dict() for link in links.links_of(session(), organisation)])


@bp.delete("/<slug>/respondent-links/<int:link_id>")
def revoke_respondent_link(slug: str, link_id: int) -> Response:
    """Revoke a link: it starts nothing more, and the assessments started from it can no longer be changed."""
    organisation = _organisation(slug)
    link = links.link_of(session(), organisation, link_id)
    if link is None:
        raise ApiError(404, "not_found", gettext(HTTP_MESSAGES[404]))
    links.revoke(session(), link, actor(current_manager(), API))
    return Response(status=204)


# -- submissions: consented public self-assessments ----------------------------------------


@bp.get("/<slug>/submissions")
def list_submissions(slug: str):
    """The self-assessments whose respondents passed them on, not yet adopted or dismissed, newest first."""
    organisation = _organisation(slug)
    return jsonify(submissions=[submission_dict(a) for a in submissions.submissions(session(), organisation)])


def _submission(slug: str, assessment_id: int) -> tuple[Organisation, Assessment]:
    """The organisation and its consented self-assessment; 404 for anything else (another organisation's, unconsented)."""
    organisation = _organisation(slug)
    assessment = submissions.submission_of(session(), organisation, assessment_id)
    if assessment is None:
        raise ApiError(404, "not_found", gettext(HTTP_MESSAGES[404]))
    return organisation, assessment


def _closed_submission(exc: Exception) -> ApiError:
    session().rollback()
    return ApiError(409, "submission_closed", gettext(SUBMISSION_CLOSED))


@bp.post("/<slug>/submissions/<int:assessment_id>/adopt")
def adopt_submission(slug: str, assessment_id: int):
    """Make a submission the organisation's checklist of record (its respondent can no longer change it); 200 with the checklist."""
    read_json(optional=True)  # no body is needed; a broken one is refused like everywhere
    organisation, assessment = _submission(slug, assessment_id)
    try:
        submissions.adopt(session(), organisation, assessment, actor(current_manager(), API))
    except submissions.SubmissionStateError as exc:
        raise _closed_submission(exc) from exc
    after_change(organisation)  # a new checklist of record: today's progress
    report = manager_report(organisation, assessment, query_locale() or organisation.locale)  # with the tracking kept across records
    return jsonify({**report.data, "record": record_info(assessment)})


@bp.post("/<slug>/submissions/<int:assessment_id>/dismiss")
def dismiss_submission(slug: str, assessment_id: int) -> Response:
    """Take a submission off the list (deleted with the other self-assessments after the retention period)."""
    read_json(optional=True)  # no body is needed; a broken one is refused like everywhere
    organisation, assessment = _submission(slug, assessment_id)
    try:
        submissions.dismiss(session(), organisation, assessment, actor(current_manager(), API))
    except submissions.SubmissionStateError as exc:
        raise _closed_submission(exc) from exc
    return Response(status=204)


@bp.post("/<slug>/submissions/<int:assessment_id>/organisation")
def organisation_from_submission(slug: str, assessment_id: int):
    """Create a new organisation (a new client) from a submission (`{slug, name}`); it becomes that organisation's checklist of record."""
    data = read_json()
    new_slug, name = data.get("slug"), data.get("name")
    for field_name, value in (("slug", new_slug), ("name", name)):
        if not isinstance(value, str) or not value:
            template = chat_api.MESSAGES["invalid_body"]
            raise ApiError(400, "invalid_body", gettext(template) % {"field": field_name})
    organisation, assessment = _submission(slug, assessment_id)
    assert isinstance(new_slug, str) and isinstance(name, str)
    try:
        client = submissions.organisation_from(session(), organisation, assessment, actor(current_manager(), API), new_slug, name)
    except submissions.SubmissionStateError as exc:
        raise _closed_submission(exc) from exc
    except OrganisationExistsError as exc:
        session().rollback()
        raise ApiError(409, "organisation_exists", gettext(INVALID_ORGANISATION) % {"reason": str(exc)}) from exc
    except OrganisationError as exc:
        session().rollback()
        raise ApiError(422, "invalid_organisation", gettext(INVALID_ORGANISATION) % {"reason": str(exc)}) from exc
    after_change(client)
    return jsonify({**org_ref(client), "locale": client.locale, "record": record_info(assessment)}), 201


@bp.get("/<slug>/self-assessments")
def self_assessments(slug: str):
    """Anonymous aggregates of the public self-assessments: counts, recommendations, where unfinished ones stopped."""
    return jsonify(self_assessment_stats(_organisation(slug)))


@bp.get("/<slug>/events")
def list_events(slug: str):
    """The organisation's event log, newest first: who did what, when, from where (a member sees no account events and no addresses)."""
    organisation = _organisation(slug)
    events = [e.as_dict() for e in event_log.events_of(session(), organisation)]
    if not is_admin_of(session(), current_manager(), organisation):
        # Others' logins and addresses are for the admins (the audit log); members keep the record's history.
        events = [{**e, "address": None} for e in events if not e["action"].startswith(event_log.ACCOUNT_ACTIONS)]
    return jsonify(events=events)


@bp.get("/<slug>/settings")
def get_settings(slug: str):
    """The organisation's settings: whether its public embed key starts self-assessments."""
    organisation = _organisation(slug)
    return jsonify(org=org_ref(organisation), public_widget=organisation.public_widget)


@bp.patch("/<slug>/settings")
def patch_settings(slug: str):
    """Turn the public self-check on or off (`{"public_widget": false}`)."""
    organisation = _organisation(slug)
    data = read_json()
    value = data.get("public_widget")
    if not isinstance(value, bool):
        raise ApiError(400, "invalid_body", gettext(INVALID_SETTINGS) % {"field": "public_widget"})
    set_public_widget(session(), organisation, value, actor(current_manager(), API))
    return jsonify(org=org_ref(organisation), public_widget=organisation.public_widget)
