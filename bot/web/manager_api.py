"""The manager API: checklists and history of the organisations a manager belongs to.

Authorised by `Authorization: Bearer <api token>`. A missing or unknown token is
401; an organisation the manager does not belong to is 404, exactly like one that
does not exist, so slugs cannot be probed. Assessment tokens are never listed here:
they are the respondents' capabilities.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import gettext

from ..engine.vocabulary import Surface
from ..exporters import FORMAT_RULE, Report
from ..i18n import N_, SUPPORTED_LOCALES, catalog, prompt_dict
from ..store import assessments as store
from ..store import profiles
from ..store.db import session
from ..store.managers import manager_by_token, visible_organisation, visible_organisations
from ..store.models import AnswerRevision, Assessment, Manager, Organisation
from ..turns import FlowUnavailableError, NoMigrationError, is_plausible_key
from . import api as chat_api
from . import turn_service
from .api import read_json
from .errors import HTTP_MESSAGES, ApiError, locale_error, query_locale
from .reports import assessment_documents, checklist_report, documents_data, export_response, org_ref

bp = Blueprint("manager_api", __name__, url_prefix="/api/v1/orgs")

HISTORY_LIMIT = 200
HISTORY_MAX = 1000
NO_CHECKLIST = N_("No assessment of this organisation has been completed yet.")
NO_MIGRATION = N_("The answers of version %(source)s cannot be carried over to version %(target)s of the questionnaire.")
BAD_LIMIT = N_('"limit" must be a whole number from 1 to %(max)s.')


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


@bp.get("")
def list_organisations():
    """The organisations this manager may see."""
    organisations = visible_organisations(session(), current_manager())
    return jsonify(organisations=[{**org_ref(o), "locale": o.locale} for o in organisations])


def _latest_report(slug: str) -> tuple[Organisation, Assessment, Report]:
    """The organisation (404 unless visible), its latest completed assessment and that assessment's report."""
    organisation = _organisation(slug)
    assessment = store.latest_completed(session(), organisation)
    if assessment is None:
        raise ApiError(404, "no_completed_assessment", gettext(NO_CHECKLIST))
    locale = query_locale() or organisation.locale
    return organisation, assessment, checklist_report(organisation, assessment, locale)  # FlowUnavailableError: 409


@bp.get("/<slug>/checklist")
def checklist(slug: str):
    """The recommendation and checklist of the latest completed assessment (`?lang=de|en`)."""
    _org, _assessment, report = _latest_report(slug)
    return jsonify(report.data)


@bp.get(f"/<slug>/checklist.<{FORMAT_RULE}:fmt>")
def checklist_export(slug: str, fmt: str):
    """The checklist as a file: PDF to file, XLSX/CSV to track in, Markdown, JSON (`?lang=de|en`)."""
    organisation, _assessment, report = _latest_report(slug)
    return export_response(organisation, report, fmt)


@bp.get("/<slug>/documents")
def documents(slug: str):
    """The first-contact message, imprint snippet and record-of-processing entry, filled from the latest completed assessment."""
    organisation, assessment, report = _latest_report(slug)
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
    source = store.latest_completed(session(), organisation)
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
