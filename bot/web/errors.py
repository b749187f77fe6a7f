"""Error handlers: JSON errors `{"error": {"code", "message"}}` for the API, pages otherwise."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from ..i18n import N_

HTTP_MESSAGES = {
    400: N_("The request could not be understood."),
    404: N_("This page or resource does not exist."),
    405: N_("This method is not allowed here."),
    413: N_("The request is too large (at most 64 KiB)."),
    415: N_("Please send JSON (Content-Type: application/json)."),
    429: N_("Too many requests. Please wait a moment and try again."),
    500: N_("Something went wrong on our side. Your answers are safe; please try again."),
}


def wants_json() -> bool:
    """API paths and JSON clients get JSON errors."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def handle_http_error(exc: HTTPException) -> tuple[object, int]:
    """Render an HTTP error as localised JSON or as a page."""
    status = exc.code or 500
    message = gettext(HTTP_MESSAGES.get(status, HTTP_MESSAGES[500 if status >= 500 else 400]))
    code = (exc.name or "error").lower().replace(" ", "_")
    if wants_json():
        return jsonify(error={"code": code, "message": message}), status
    return render_template("error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(HTTPException, handle_http_error)
