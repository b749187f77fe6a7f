"""The embeddable chat widget: its loader, the frame that holds the conversation, and a demo host page.

`<script src="https://HOST/widget.js" data-embed-key="KEY" data-lang="de" defer></script>`
is all a web site needs. The script is a small loader (plain JavaScript, no build step):
it puts a launcher button and an iframe of `/widget/frame` on the host page. The whole
conversation, its assessment token and its answers live in that frame, on the app's own
origin, where the host page cannot read them (see docs/security.md, "The widget and framing").
The loader's styles are fetched with a content hash in the URL so they can be cached for
a year, while the loader itself is revalidated every few minutes.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, send_file, url_for
from flask_babel import get_locale, get_translations
from sqlalchemy import select

from ..i18n import N_
from ..store.db import session
from ..store.models import Organisation
from ..turns import is_plausible_key

bp = Blueprint("widget", __name__)

# The widget's own words (the questions come localised from the chat API). Kept here, not in the
# script, so that they live in the same catalogs as everything else.
TEXTS = {
    "title": N_("Data protection check for WhatsApp"),
    "open": N_("WhatsApp privacy check"),
    "close": N_("Close"),
    "close_chat": N_("Close the chat"),
    "intro": N_("Hello! A few short questions, and you will know how to use WhatsApp with your customers in line with the GDPR."),
    "resumed": N_("Welcome back: we continue where you stopped."),
    "progress": N_("Step {answered} of ~{total}"),
    "back": N_("Back"),
    "restart": N_("Start over"),
    "restart_title": N_("Start over?"),
    "restart_text": N_("You begin again with the first question. The answers you have given so far are not carried over."),
    "restart_confirm": N_("Yes, start over"),
    "restart_cancel": N_("No, keep my answers"),
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
    "result_recommendation": N_("We recommend"),
    "result_channel": N_("You chose"),
    "start_here": N_("What to do first"),
    "nothing_critical": N_("Nothing critical is left to do."),
    "result_page": N_("Your full result (new tab)"),
    "result_pdf": N_("Your result as a PDF (new tab)"),
    "offline": N_("The connection was interrupted. Your answers so far are saved."),
    "retry": N_("Try again"),
    "wait": N_("Too many requests. Please wait a moment and try again."),
    "language": N_("Language"),
    "error": N_("Something went wrong on our side. Your answers are safe; please try again."),
    "consent_title": N_("Pass on your result?"),
    "consent_hint": N_("Optional. Without it, {organisation} sees your result only in anonymous totals."),
    "consent_label": N_("Pass my result to {organisation} so they can contact me"),
    "consent_email": N_("Your e-mail address (optional)"),
    "consent_send": N_("Pass on my result"),
    "consent_missing": N_("Please tick the box first. If you would rather not, there is nothing more to do."),
    "consent_given": N_("Thank you. {organisation} has your result."),
    "consent_given_email": N_("Thank you. {organisation} has your result and can reach you at {email}."),
}

WIDGET_DIR = Path(__file__).resolve().parent.parent / "static" / "widget"
SCRIPT_MAX_AGE = 300  # the script's address never changes: revalidate it soon after a release
STYLE_MAX_AGE = 365 * 24 * 3600  # the styles are addressed by content hash: cache them for a year


# The origins the loader may name as the frame's parent (scheme, host, optional port; nothing else).
ORIGIN_PATTERN = re.compile(r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?$")
# The strict policy of every page (bot/web/main.py), with the frame's own frame-ancestors.
FRAME_POLICY = "default-src 'self'; frame-ancestors {ancestors}; base-uri 'none'; form-action 'self'"


@cache
def style_version() -> str:
    """A short content hash of widget.css (its cache-busting version)."""
    return hashlib.sha256((WIDGET_DIR / "widget.css").read_bytes()).hexdigest()[:12]


@cache
def frame_asset_version() -> str:
    """A short content hash of the frame's script and styles (their cache-busting version)."""
    content = (WIDGET_DIR / "frame.js").read_bytes() + (WIDGET_DIR / "frame.css").read_bytes()
    return hashlib.sha256(content).hexdigest()[:12]


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


def frame_ancestors(organisation: Organisation | None) -> str:
    """The CSP `frame-ancestors` of the chat frame: the organisation's allowed origins (and the app itself), else any page.

    Without an allow-list the widget may run on any web site, as before. An origin that
    could not be written into a policy safely is left out rather than widening the list;
    if none is left, only the app's own pages (the demo) may frame the chat.
    """
    allowed = organisation.allowed_origins.split() if organisation is not None else []
    if not allowed:
        return "*"
    usable = [origin.rstrip("/") for origin in allowed if ORIGIN_PATTERN.match(origin.rstrip("/"))]
    return " ".join(["'self'", *usable])


@bp.get("/widget/frame")
def frame() -> Response:
    """The page inside the widget's iframe: the whole conversation, on the app's origin.

    The query names the embed key, the language, the mode and the host page's origin
    (where the frame sends its open/close/resize/step messages). A respondent link is
    never in the query: the loader passes it in the URL fragment, which no server sees,
    so the frame cannot look up its organisation and lets any page frame it; the link is
    as secret as the page that embeds it.
    """
    embed_key = request.args.get("embed_key", "")
    organisation = None
    if embed_key and is_plausible_key(embed_key):
        organisation = session().scalar(select(Organisation).where(Organisation.embed_key == embed_key))
    parent_origin = request.args.get("origin", "")
    html = render_template(
        "widget/frame.html",
        embed_key=embed_key if is_plausible_key(embed_key) else "",  # an unknown key: the chat API says so
        mode="inline" if request.args.get("mode") == "inline" else "launcher",
        parent_origin=parent_origin if ORIGIN_PATTERN.match(parent_origin) else "",
        locale=str(get_locale()),
        asset_version=frame_asset_version(),
    )
    response = current_app.make_response(html)
    # Set before main.security_headers, whose defaults only fill in what is missing.
    response.headers["Content-Security-Policy"] = FRAME_POLICY.format(ancestors=frame_ancestors(organisation))
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/demo")
def demo() -> str:
    """A host page that embeds the widget for the demo organisation, as a customer's web site would."""
    organisation = session().scalar(select(Organisation).where(Organisation.slug == current_app.config.get("DEMO_ORGANISATION", "demo")))
    if organisation is None:
        abort(404)
    return render_template("demo.html", organisation=organisation, style_version=style_version(), locale=str(get_locale()))
