"""The chat API (public, used by the widget): create, resume, answer and go back.

Authorised by the organisation's public embed key (create) and then by the
assessment token, a random capability. Prompts and error messages come in the
assessment's language (`?lang=` overrides it for one response). Each turn is one
transaction; a concurrent second writer gets 409 with the current prompt.
"""

from __future__ import annotations

import json
from typing import Any

from babel.support import Translations
from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import gettext

from .. import engines
from ..engine import FlowEngine, TurnError
from ..i18n import N_, SUPPORTED_LOCALES, catalog, prompt_dict, turn_error_message
from ..store import assessments as store
from ..store.db import session
from ..store.models import Assessment, Organisation, origin_allowed
from .errors import FLOW_UNAVAILABLE, HTTP_MESSAGES, ApiError, locale_error, query_locale
from .limits import create_limit, limiter, turn_limit

bp = Blueprint("api", __name__, url_prefix="/api/v1")

API_CHANNELS = ("api", "widget")
# Refusals that are about the state (someone else moved on), not about the value: 409.
CONFLICT_CODES = {"stale_step", "flow_finished", "no_previous_step"}

MESSAGES = {
    "malformed_json": N_("The request body is not valid JSON."),
    "invalid_body": N_("The request body must be a JSON object; check the field \"%(field)s\"."),
    "unknown_embed_key": N_("This embed key is unknown. Please check the snippet on your web page."),
    "unknown_assessment": N_("This assessment does not exist. Please check the link or start again."),
    "flow_unavailable": FLOW_UNAVAILABLE,
    "origin_not_allowed": N_("This web site may not use this organisation's questionnaire."),
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


def _check_origin(organisation: Organisation) -> None:
    """403 when the organisation keeps an origin allow-list and the browser's origin is not on it."""
    if not origin_allowed(organisation, request.headers.get("Origin")):
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

    With `optional`, an empty body is an empty object (for POST …/back).
    """
    raw = request.get_data(cache=True)  # over MAX_CONTENT_LENGTH: 413 before anything is read
    if optional and not raw.strip():
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


def _load(token: str) -> tuple[Assessment, FlowEngine, Translations]:
    """The assessment of a token with its engine and catalog; 404 when unknown."""
    assessment = store.assessment_by_token(session(), token) if len(token) <= 64 else None
    if assessment is None:
        raise _error(404, "unknown_assessment")
    _check_origin(assessment.organisation)
    tr = _translations(_response_locale(assessment))
    try:
        engine = store.engine_for(engines(current_app), assessment)
    except store.FlowVersionMissingError as exc:
        raise _error(409, "flow_unavailable", tr) from exc
    return assessment, engine, tr


def _prompt(engine: FlowEngine, assessment: Assessment, tr: Translations) -> dict[str, Any]:
    return prompt_dict(engine.prompt(assessment), tr)


def _turn_error(exc: TurnError, engine: FlowEngine, assessment: Assessment, tr: Translations) -> ApiError:
    """422 for a value the step does not take; 409 (with the current prompt) for a state conflict."""
    details: dict[str, Any] = {"step": exc.step}
    if "allowed" in exc.params:
        details["allowed"] = list(exc.params["allowed"])
    message = turn_error_message(exc, tr, engine)
    if exc.code in CONFLICT_CODES:
        return ApiError(409, exc.code, message, details, prompt=_prompt(engine, assessment, tr))
    return ApiError(422, exc.code, message, details)


def _assessment_body(assessment: Assessment, engine: FlowEngine, tr: Translations) -> dict[str, Any]:
    return {
        "token": assessment.token,
        "locale": assessment.locale,
        "flow": {"id": assessment.flow_id, "version": assessment.flow_version},
        "completed_at": assessment.completed_at.isoformat() if assessment.completed_at else None,
        "prompt": _prompt(engine, assessment, tr),
        "answers": engine.effective_answers(assessment.answers),
    }


# -- endpoints -------------------------------------------------------------------


@bp.post("/assessments")
@limiter.limit(create_limit)
def create_assessment():
    """Start an assessment for the organisation of `embed_key`."""
    data = read_json()
    embed_key = _field(data, "embed_key")
    if not embed_key:
        raise _error(400, "invalid_body", field="embed_key")
    locale = _locale_field(data, required=False)
    channel = _field(data, "channel", API_CHANNELS, "api") or "api"
    organisation = store.organisation_by_embed_key(session(), embed_key) if len(embed_key) <= 64 else None
    if organisation is None:
        raise _error(404, "unknown_embed_key")
    _check_origin(organisation)
    engine = engines(current_app).get(current_app.config["DEFAULT_FLOW"])
    assessment = store.start(session(), engine, organisation, locale or organisation.locale, channel)
    tr = _translations(_response_locale(assessment))
    body = {"token": assessment.token, "locale": assessment.locale, "prompt": _prompt(engine, assessment, tr)}
    return jsonify(body), 201, {"Location": url_for("api.get_assessment", token=assessment.token, _external=True)}


@bp.get("/assessments/<token>")
def get_assessment(token: str):
    """Resume: the current prompt and the answers that count so far."""
    assessment, engine, tr = _load(token)
    return jsonify(_assessment_body(assessment, engine, tr))


@bp.patch("/assessments/<token>")
@limiter.limit(turn_limit)
def update_assessment(token: str):
    """Change the assessment's language (the widget's and wizard's DE/EN switch)."""
    data = read_json()
    assessment, engine, tr = _load(token)
    locale = _locale_field(data, required=True, tr=tr)
    if locale != assessment.locale:
        store.set_locale(session(), assessment, locale)
    tr = _translations(query_locale() or locale)
    return jsonify(_assessment_body(assessment, engine, tr))


@bp.post("/assessments/<token>/answers")
@limiter.limit(turn_limit)
def answer(token: str):
    """Answer the current step; 409 if `step` is not the current one, 422 if the value is invalid."""
    data = read_json()
    step = _field(data, "step")
    if step is None:
        raise _error(400, "invalid_body", field="step")
    return _turn(token, "answer", data, step=step, value=data.get("value"))


@bp.post("/assessments/<token>/back")
@limiter.limit(turn_limit)
def back(token: str):
    """Go back one step; the old answer stays (pre-selected) and the history keeps everything.

    An optional body `{"step": <current step>}` guards against a stale tab (409).
    """
    data = read_json(optional=True)
    step = _field(data, "step")
    return _turn(token, "back", data, step=step)


def _turn(token: str, action: str, data: dict[str, Any], step: str | None, value: Any = None):
    channel = _field(data, "channel", API_CHANNELS, "api") or "api"
    assessment, engine, tr = _load(token)
    if action == "back" and step is not None and step != assessment.state:
        exc = TurnError("stale_step", step, current=assessment.state)
        raise _turn_error(exc, engine, assessment, tr)
    try:
        store.take_turn(session(), engine, assessment, action, channel, step=step, value=value)
    except TurnError as exc:
        raise _turn_error(exc, engine, assessment, tr) from exc
    except store.StaleAssessmentError as exc:
        store.reload(session(), assessment)
        raise _turn_error(TurnError("stale_step", step, current=assessment.state), engine, assessment, tr) from exc
    return jsonify(prompt=_prompt(engine, assessment, tr))
