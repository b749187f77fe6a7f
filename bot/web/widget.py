"""The embeddable chat widget: its script and styles, served by the app itself, and a demo host page.

`<script src="https://HOST/widget.js" data-embed-key="KEY" data-lang="de" defer></script>`
is all a web site needs. The script is plain JavaScript (no build step); its styles
live in a shadow root, fetched with a content hash in the URL so they can be cached
for a year, while the script itself is revalidated every few minutes.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, send_file, url_for
from flask_babel import get_locale, get_translations
from sqlalchemy import select

from ..i18n import N_
from ..store.db import session
from ..store.models import Organisation

bp = Blueprint("widget", __name__)

# The widget's own words (the questions come localised from the chat API). Kept here, not in the
# script, so that they live in the same catalogs as everything else.
TEXTS = {
    "title": N_("Data protection check for WhatsApp"),
    "open": N_("WhatsApp privacy check"),
    "close": N_("Close"),
    "intro": N_("Hello! A few short questions, and you will know how to use WhatsApp with your customers in line with the GDPR."),
    "resumed": N_("Welcome back: we continue where you stopped."),
    "progress": N_("Step {answered} of ~{total}"),
    "back": N_("Back"),
    "restart": N_("Start over"),
    "send": N_("Send"),
    "continue": N_("Continue"),
    "skip": N_("Skip"),
    "help": N_("Background and legal basis"),
    "why": N_("Why"),
    "choose_all": N_("Choose all that apply."),
    "exclusive": N_("only on its own"),
    "optional": N_("Optional: you can leave this empty."),
    "your_answer": N_("Your answer"),
    "skipped": N_("(skipped)"),
    "done_counts": N_("Critical: {critical} · To do: {open} · Done: {done} · Not applicable: {not_applicable}"),
    "offline": N_("The connection was interrupted. Your answers so far are saved."),
    "retry": N_("Try again"),
    "wait": N_("Too many requests. Please wait a moment and try again."),
    "language": N_("Language"),
    "error": N_("Something went wrong on our side. Your answers are safe; please try again."),
}

WIDGET_DIR = Path(__file__).resolve().parent.parent / "static" / "widget"
SCRIPT_MAX_AGE = 300  # the script's address never changes: revalidate it soon after a release
STYLE_MAX_AGE = 365 * 24 * 3600  # the styles are addressed by content hash: cache them for a year


@cache
def style_version() -> str:
    """A short content hash of widget.css (its cache-busting version)."""
    return hashlib.sha256((WIDGET_DIR / "widget.css").read_bytes()).hexdigest()[:12]


def _cross_origin(response: Response) -> Response:
    # Host pages on other sites load these files; they carry nothing private.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@bp.get("/widget.js")
def script() -> Response:
    """The widget script (revalidated after a few minutes; ETag for cheap revalidation)."""
    response = send_file(WIDGET_DIR / "widget.js", mimetype="text/javascript", max_age=SCRIPT_MAX_AGE, conditional=True, etag=True)
    response.headers["Cache-Control"] = f"public, max-age={SCRIPT_MAX_AGE}"
    return _cross_origin(response)


@bp.get("/widget.css")
def style() -> Response:
    """The widget styles; immutable when asked for by their current version (`?v=<hash>`)."""
    response = send_file(WIDGET_DIR / "widget.css", mimetype="text/css", conditional=True, etag=True)
    if request.args.get("v") == style_version():
        response.headers["Cache-Control"] = f"public, max-age={STYLE_MAX_AGE}, immutable"
    else:
        response.headers["Cache-Control"] = f"public, max-age={SCRIPT_MAX_AGE}"
    return _cross_origin(response)


@bp.get("/widget/texts.json")
def texts() -> Response:
    """The widget's words in `?lang=` (or the best browser language), and the versioned style address."""
    tr = get_translations()
    words = {key: tr.gettext(message) for key, message in TEXTS.items()}
    body = {"locale": str(get_locale()), "texts": words, "style": url_for("widget.style", v=style_version())}
    response = jsonify(body)
    response.headers["Cache-Control"] = f"public, max-age={SCRIPT_MAX_AGE}"
    response.vary.add("Accept-Language")
    return _cross_origin(response)


@bp.get("/demo")
def demo() -> str:
    """A host page that embeds the widget for the demo organisation, as a customer's web site would."""
    organisation = session().scalar(select(Organisation).where(Organisation.slug == current_app.config.get("DEMO_ORGANISATION", "demo")))
    if organisation is None:
        abort(404)
    return render_template("demo.html", organisation=organisation, style_version=style_version(), locale=str(get_locale()))
