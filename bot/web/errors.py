"""Error handlers: JSON errors `{"error": {"code", "message"}}` for the API, pages otherwise."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_babel import force_locale, get_locale, gettext
from werkzeug.exceptions import HTTPException

from ..edges import accepts_large_body
from ..i18n import N_, SUPPORTED_LOCALES, normalise_locale
from ..turns import AssessmentExpiredError, FlowUnavailableError

HTTP_MESSAGES = {
    400: N_("The request could not be understood."),
    401: N_("Please sign in: send your API token as \"Authorization: Bearer <token>\"."),
    403: N_("You may not do this: it is reserved for the organisation's admins."),
    404: N_("This page or resource does not exist."),
    405: N_("This method is not allowed here."),
    413: N_("The request is too large (at most 64 KiB)."),
    415: N_("Please send JSON (Content-Type: application/json)."),
    429: N_("Too many requests. Please wait a moment and try again."),
    500: N_("Something went wrong on our side. Your answers are safe; please try again."),
}

FILE_TOO_LARGE = N_("The file is too large: at most 10 MB.")
INVALID_LOCALE = N_("This language is not available; choose one of: %(allowed)s.")
FLOW_UNAVAILABLE = N_("This assessment uses a version of the questionnaire that is no longer available.")
ASSESSMENT_EXPIRED = N_("This link has expired: the assessment was left unfinished for too long. Please start a new one.")

# Stable error codes of the JSON API, by HTTP status (the specific ones are raised as ApiError).
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    500: "server_error",
}


class ApiError(Exception):
    """A refused API request: HTTP status, stable code, localised message, extra fields.

    `details` go inside the error object (e.g. `step`, `allowed`); `extra` beside it
    at the top level (e.g. the current `prompt` of a 409).
    """

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None, **extra: Any) -> None:
        """Keep the parts of the error response."""
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.extra = extra


def wants_json() -> bool:
    """API paths and JSON clients get JSON errors."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def locale_error(tr: Any = None) -> ApiError:
    """422 `invalid_locale` naming the languages (in the request's language unless `tr`)."""
    allowed = list(SUPPORTED_LOCALES)
    template = tr.gettext(INVALID_LOCALE) if tr is not None else gettext(INVALID_LOCALE)
    return ApiError(422, "invalid_locale", template % {"allowed": ", ".join(allowed)}, {"allowed": allowed})


def query_locale() -> str | None:
    """The JSON APIs' `?lang=`: None when absent, 422 unless exactly one of the supported languages.

    Strict like the OpenAPI document says (`de` or `en`), so a typo is an error, not a
    silently different language.
    """
    raw = request.args.get("lang")
    if raw is None:
        return None
    if raw not in SUPPORTED_LOCALES:
        raise locale_error()
    return raw


def handle_api_error(exc: ApiError) -> tuple[Response, int, dict[str, str]]:
    """Render an ApiError as JSON."""
    headers = {"WWW-Authenticate": 'Bearer realm="wa-onboarding"'} if exc.status == 401 else {}
    return jsonify(error={"code": exc.code, "message": exc.message, **exc.details}, **exc.extra), exc.status, headers


def handle_http_error(exc: HTTPException) -> Any:
    """Render an HTTP error as localised JSON or as a page."""
    status = exc.code or 500
    message = gettext(HTTP_MESSAGES.get(status, HTTP_MESSAGES[500 if status >= 500 else 400]))
    code, details = HTTP_CODES.get(status, "error"), {}
    if status == 413 and accepts_large_body(current_app, request.endpoint):  # an upload route: its own limit, named by field
        code, details, message = "file_too_large", {"field": "file"}, gettext(FILE_TOO_LARGE)
    if wants_json():
        response = jsonify(error={"code": code, "message": message, **details})
        response.status_code = status
        for name, value in exc.get_headers():
            if name.lower() not in ("content-type", "content-length"):
                response.headers[name] = value
        return response
    return render_template("error.html", status=status, message=message), status


def handle_flow_unavailable(exc: FlowUnavailableError) -> Any:
    """409 `flow_unavailable` (JSON or page) in the assessment's language: its flow version is no longer loaded."""
    with force_locale(normalise_locale(request.args.get("lang")) or exc.locale or str(get_locale())):
        message = gettext(FLOW_UNAVAILABLE)
    if wants_json():
        return handle_api_error(ApiError(409, "flow_unavailable", message))
    return render_template("error.html", status=409, message=message), 409


def handle_assessment_expired(exc: AssessmentExpiredError) -> Any:
    """410 `assessment_expired` (JSON or page) in the assessment's language: an unfinished assessment was idle too long."""
    with force_locale(normalise_locale(request.args.get("lang")) or exc.locale or str(get_locale())):
        message = gettext(ASSESSMENT_EXPIRED)
    if wants_json():
        return handle_api_error(ApiError(410, "assessment_expired", message))
    return render_template("error.html", status=410, message=message), 410


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(AssessmentExpiredError, handle_assessment_expired)
    app.register_error_handler(FlowUnavailableError, handle_flow_unavailable)
    app.register_error_handler(HTTPException, handle_http_error)
