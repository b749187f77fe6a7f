"""The chat API (public, used by the widget): create, resume, answer and go back.

Started with the organisation's public embed key (a self-assessment, the
respondent's own) or with a manager's respondent link (trusted: it becomes the
organisation's checklist of record); then authorised by the assessment token, a
random capability stored only as a hash. Prompts and error messages come in the
assessment's language (`?lang=` overrides it for one response). Each turn is one
transaction; a concurrent second writer gets 409 with the current prompt.
"""

from __future__ import annotations

import json
from typing import Any

from babel.support import Translations
from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from flask_babel import gettext

from .. import edges, result_mail
from ..engine import Prompt, TurnError
from ..engine.vocabulary import PromptKind, Surface, TurnErrorCode
from ..i18n import N_, SUPPORTED_LOCALES, catalog, prompt_dict, turn_error_message
from ..results import respondent_result
from ..store import assessments as store
from ..store import links, submissions
from ..store.db import session
from ..store.models import Assessment, Organisation, RespondentLink, origin_allowed
from ..turns import Accepted, Conflict, Conversation, TurnOutcome, is_closed, is_plausible_key
from . import turn_service
from .errors import HTTP_MESSAGES, ApiError, locale_error, query_locale
from .limits import create_limit, limiter, turn_limit

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# The surfaces that use the chat API (the public field is called `channel`).
API_SURFACES = (Surface.API, Surface.WIDGET)

MESSAGES = {
    "malformed_json": N_("The request body is not valid JSON."),
    "invalid_body": N_("The request body must be a JSON object; check the field \"%(field)s\"."),
    "unknown_embed_key": N_("This embed key is unknown. Please check the snippet on your web page."),
    "unknown_assessment": N_("This assessment does not exist. Please check the link or start again."),
    "origin_not_allowed": N_("This web site may not use this organisation's questionnaire."),
    "unknown_respondent_link": N_("This link is unknown. Please check it or ask the person who sent it to you."),
    "respondent_link_expired": N_("This link has expired or was withdrawn. Please ask the person who sent it to you for a new one."),
    "public_widget_off": N_("This organisation does not offer the public self-check at the moment."),
    "not_a_self_assessment": N_("Only a completed self-assessment of your own can be passed on or deleted here."),
    "invalid_email": N_("Please enter a valid e-mail address, for example info@example.de, or leave the field empty."),
}


@bp.after_request
def no_store_and_cors(response):
    """Never cache (tokens and answers); let the widget call from other sites (CORS, no cookies involved).

    The widget runs on the organisation's own web site, so the chat API answers any
    origin unless the organisation keeps an allow-list; the actual request is then
    refused with 403 when its origin is not on it (see `_check_origin`).
    """
    response.headers["Cache-Control"] = "no-store"
    origin = request.headers.get("Origin")
    if origin and not g.get("origin_refused"):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "Location, Retry-After"
        response.vary.add("Origin")
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, PATCH"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = "600"
    return response


def _check_origin(allowed_origins: str) -> None:
    """403 when the organisation keeps an origin allow-list and the browser's origin is neither on it nor the app's own.

    The widget's conversation runs in a frame served by the app itself, so its requests
    come from the app's origin; the allow-list limits which sites may frame it.
    """
    origin = request.headers.get("Origin")
    public = edges.public_url(current_app.config)
    if origin is not None and origin.rstrip("/") in (request.host_url.rstrip("/"), f"{public.scheme}://{public.netloc}"):
        return
    if not origin_allowed(allowed_origins, origin):
        g.origin_refused = True
        raise _error(403, "origin_not_allowed")


# -- request helpers -------------------------------------------------------------


def _error(status: int, code: str, tr: Translations | None = None, details: dict[str, Any] | None = None, **params: Any) -> ApiError:
    """An ApiError with the localised message of `code` (request language unless `tr`)."""
    template = tr.gettext(MESSAGES[code]) if tr is not None else gettext(MESSAGES[code])
    return ApiError(status, code, template % params if params else template, details)


def _locale_field(data: dict[str, Any], required: bool, tr: Translations | None = None) -> str | None:
    """The body's `locale`, exactly `de` or `en`; 422 naming the languages when it is not one (or missing but required)."""
    raw = data.get("locale")
    locale = raw if isinstance(raw, str) and raw in SUPPORTED_LOCALES else None
    if locale is None and (required or raw is not None):
        raise locale_error(tr)
    return locale


def read_json(optional: bool = False) -> dict[str, Any]:
    """The request's JSON object: 415 for another content type, 400 for broken JSON or a non-object.

    With `optional`, an empty body is an empty object (for POST …/back); white space alone is no JSON (400).
    """
    raw = request.get_data(cache=True)  # over MAX_CONTENT_LENGTH: 413 before anything is read
    if optional and not raw:
        return {}
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", gettext(HTTP_MESSAGES[415]))
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise _error(400, "malformed_json") from exc
    if not isinstance(data, dict):
        raise _error(400, "invalid_body", field="{}")
    return data


def _field(data: dict[str, Any], name: str, allowed: tuple[str, ...] | None = None, default: str | None = None) -> str | None:
    """A string field of the body (400 when it has another type)."""
    value = data.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str) or (allowed is not None and value not in allowed):
        raise _error(400, "invalid_body", field=name)
    return value


def _translations(locale: str) -> Translations:
    return catalog(locale, current_app.config["LOCALES_DIR"])


def _response_locale(assessment: Assessment) -> str:
    return query_locale() or assessment.locale


def _open(token: str) -> tuple[Conversation, Translations]:
    """The conversation of a token and the response's catalog; 404 when unknown."""
    conversation = turn_service().open(token)
    if conversation is None:
        raise _error(404, "unknown_assessment")
    _check_origin(conversation.assessment.allowed_origins)
    return conversation, _translations(_response_locale(conversation.assessment))


def prompt_body(conversation: Conversation, prompt: Prompt, tr: Translations) -> dict[str, Any]:
    """The public prompt; the finished flow's carries the respondent's `result` (what to do first, where to read and download it)."""
    body = prompt_dict(prompt, tr)
    assessment = conversation.assessment
    if prompt.kind == PromptKind.DONE and assessment.completed_answers is not None:
        result = respondent_result(conversation.engine, assessment.completed_answers, tr).as_dict()
        result["page_url"] = url_for("wizard.step", token=assessment.token, _external=True)
        result["pdf_url"] = url_for("wizard.result_pdf", token=assessment.token, _external=True)
        body["result"] = result
    return body


def _outcome_response(outcome: TurnOutcome, tr: Translations):
    """200 with the next prompt; 422 for a value the step does not take; 409 (with the current prompt) for a conflict."""
    if isinstance(outcome, Accepted):
        return jsonify(prompt=prompt_body(outcome.conversation, outcome.prompt, tr))
    error, engine = outcome.error, outcome.conversation.engine
    details: dict[str, Any] = {"step": error.step}
    if "allowed" in error.params:
        details["allowed"] = list(error.params["allowed"])
    message = turn_error_message(error, tr, engine)
    if isinstance(outcome, Conflict):
        raise ApiError(409, error.code, message, details, prompt=prompt_dict(outcome.prompt, tr))
    raise ApiError(422, error.code, message, details)


def _assessment_body(conversation: Conversation, tr: Translations) -> dict[str, Any]:
    assessment, engine = conversation.assessment, conversation.engine
    return {
        "token": assessment.token,
        "locale": assessment.locale,
        "flow": {"id": assessment.flow_id, "version": assessment.flow_version},
        "completed_at": assessment.completed_at.isoformat() if assessment.completed_at else None,
        "prompt": prompt_body(conversation, conversation.prompt(), tr),
        "answers": engine.effective_answers(assessment.answers),
        "self_assessment": assessment.is_self_assessment,
        "closed": is_closed(assessment),
        "organisation": {"name": assessment.organisation.name},
        "consent": _consent_body(assessment),
    }


def _consent_body(assessment: Assessment) -> dict[str, Any]:
    return {"given_at": assessment.consented_at.isoformat() if assessment.consented_at else None, "contact_email": assessment.contact_email}


# -- endpoints -------------------------------------------------------------------


@bp.post("/assessments")
@limiter.limit(create_limit)
def create_assessment():
    """Start an assessment: a self-assessment with the public `embed_key`, or a trusted one with a `respondent_link`."""
    data = read_json()
    given = [name for name in ("embed_key", "respondent_link") if name in data]
    if len(given) != 1 or not isinstance(data[given[0]], str) or not data[given[0]]:  # exactly one of the two, a text
        raise _error(400, "invalid_body", field=given[-1] if given else "embed_key")
    embed_key, link_token = data.get("embed_key"), data.get("respondent_link")
    locale = _locale_field(data, required=False)
    surface = _surface(data)
    link: RespondentLink | None = None
    if link_token:
        link = usable_link(link_token)
        organisation = link.organisation
    else:
        assert embed_key is not None
        organisation = public_organisation(embed_key)
    _check_origin(organisation.allowed_origins)
    conversation = turn_service().start(organisation, locale or organisation.locale, surface, link)
    assessment = conversation.assessment
    tr = _translations(_response_locale(assessment))
    body = {"token": assessment.token, "locale": assessment.locale, "prompt": prompt_dict(conversation.prompt(), tr)}
    return jsonify(body), 201, {"Location": url_for("api.get_assessment", token=assessment.token, _external=True)}


def usable_link(token: str) -> RespondentLink:
    """The respondent link of a token: 404 when unknown, 410 when expired or revoked."""
    link = links.link_by_token(session(), token) if is_plausible_key(token) else None
    if link is None:
        raise _error(404, "unknown_respondent_link")
    if not link.usable():
        raise _error(410, "respondent_link_expired")
    return link


def public_organisation(embed_key: str) -> Organisation:
    """The organisation of a public embed key: 404 when unknown, 403 when its public self-check is off."""
    organisation = store.organisation_by_embed_key(session(), embed_key) if is_plausible_key(embed_key) else None
    if organisation is None:
        raise _error(404, "unknown_embed_key")
    if not organisation.public_widget:
        raise _error(403, "public_widget_off")
    return organisation


@bp.get("/assessments/<token>")
def get_assessment(token: str):
    """Resume: the current prompt and the answers that count so far."""
    conversation, tr = _open(token)
    return jsonify(_assessment_body(conversation, tr))


@bp.patch("/assessments/<token>")
@limiter.limit(turn_limit)
def update_assessment(token: str):
    """Change the assessment's language (the widget's and wizard's DE/EN switch)."""
    data = read_json()
    conversation, tr = _open(token)
    locale = _locale_field(data, required=True, tr=tr)
    assert locale is not None  # required: refused above when missing
    turn_service().switch_locale(conversation, locale)
    return jsonify(_assessment_body(conversation, _translations(query_locale() or locale)))


@bp.post("/assessments/<token>/answers")
@limiter.limit(turn_limit)
def answer(token: str):
    """Answer the current step; 409 if `step` is not the current one, 422 if the value is invalid.

    `value` is required; `null` (or a blank text) skips an optional step.
    """
    data = read_json()
    step = _field(data, "step")
    if step is None:
        raise _error(400, "invalid_body", field="step")
    surface = _surface(data)
    conversation, tr = _open(token)
    if "value" not in data:  # required by the document: null skips, leaving it out is a mistake
        error = TurnError(TurnErrorCode.VALUE_REQUIRED, step)
        raise ApiError(422, error.code, turn_error_message(error, tr, conversation.engine), {"step": step})
    return _outcome_response(turn_service().answer(conversation, step, data["value"], surface), tr)


@bp.post("/assessments/<token>/back")
@limiter.limit(turn_limit)
def back(token: str):
    """Go back one step; the old answer stays (pre-selected) and the history keeps everything.

    An optional body `{"step": <current step>}` guards against a stale tab (409).
    """
    data = read_json(optional=True)
    step = _field(data, "step")
    surface = _surface(data)
    conversation, tr = _open(token)
    return _outcome_response(turn_service().back(conversation, surface, expected_step=step), tr)


def _surface(data: dict[str, Any]) -> Surface:
    """The surface a request comes from: the body's `channel` (its public name), api when absent."""
    return Surface(_field(data, "channel", API_SURFACES, Surface.API) or Surface.API)


@bp.post("/assessments/<token>/consent")
@limiter.limit(turn_limit)
def consent(token: str):
    """Pass a completed self-assessment to the organisation so it can get in touch (optional `contact_email`)."""
    data = read_json(optional=True)
    conversation, tr = _open(token)
    assessment = conversation.assessment
    if "contact_email" in data and data["contact_email"] is not None and not isinstance(data["contact_email"], str):
        raise _error(400, "invalid_body", tr, field="contact_email")
    try:
        email = submissions.clean_contact_email(data.get("contact_email"))
    except ValueError as exc:
        raise _error(422, "invalid_email", tr, {"field": "contact_email"}) from exc
    if is_closed(assessment):
        raise _error(409, "not_a_self_assessment", tr)
    try:
        submissions.give_consent(session(), assessment, email)
    except submissions.SubmissionStateError as exc:
        raise _error(409, "not_a_self_assessment", tr) from exc
    return jsonify(_consent_body(assessment))


@bp.delete("/assessments/<token>")
@limiter.limit(turn_limit)
def delete_assessment(token: str) -> Response:
    """The respondent deletes their own self-assessment (not once the organisation adopted it)."""
    conversation, tr = _open(token)
    try:
        submissions.delete_self_assessment(session(), conversation.assessment)
    except submissions.SubmissionStateError as exc:
        raise _error(409, "not_a_self_assessment", tr) from exc
    return Response(status=204)


@bp.post("/assessments/<token>/result-mail")
@limiter.limit(turn_limit)
@limiter.shared_limit(result_mail.limit, result_mail.LIMIT_SCOPE, key_func=result_mail.assessment_key, deduct_when=result_mail.counts)
@limiter.shared_limit(result_mail.limit, result_mail.LIMIT_SCOPE, key_func=result_mail.address_key, deduct_when=result_mail.counts)
def result_by_mail(token: str):
    """Send the completed result once to `email` (202: queued; the address is not kept after sending)."""
    data = read_json()
    conversation, tr = _open(token)
    if not isinstance(data.get("email"), str):
        raise _error(400, "invalid_body", tr, field="email")
    try:
        address = result_mail.clean_address(data["email"])
        result_mail.enqueue_result_mail(session(), conversation.engine, conversation.assessment, address)
    except result_mail.ResultMailError as exc:
        session().rollback()
        if exc.reason == "address":
            raise ApiError(422, "invalid_email", tr.gettext(result_mail.BAD_ADDRESS), {"field": "email"}) from exc
        message = result_mail.MAIL_OFF if exc.reason == "mail_off" else result_mail.NOT_COMPLETED
        code = "mail_off" if exc.reason == "mail_off" else "not_completed"
        raise ApiError(409, code, tr.gettext(message)) from exc
    return jsonify(queued=True), 202
