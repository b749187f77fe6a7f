"""The start page and the health endpoint."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for
from flask_babel import get_locale, get_translations
from sqlalchemy import select
from sqlalchemy import text as sql

from .. import edges, engines
from ..effort import Effort, effort
from ..i18n import text
from ..store.db import session
from ..store.models import Organisation

bp = Blueprint("main", __name__)


@bp.before_app_request
def refuse_nul_characters() -> None:
    """No NUL character gets past the edge: in the path it names nothing (404), in a form field it is refused (400).

    PostgreSQL refuses NUL in text where SQLite stores it, so without this a NUL in a
    token, slug or e-mail address would answer 500 on one database and 404 on the other.
    Query parameters are only ever compared or parsed, never stored or looked up; JSON
    bodies are checked field by field where they are read.
    """
    if "\x00" in request.path:
        abort(404)
    is_form = request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data")
    if is_form and any("\x00" in (key or "") or "\x00" in (value or "") for key, value in request.form.items(multi=True)):
        abort(400)


# No page of the app uses a device feature; a framed page (the widget's chat) cannot ask for one either.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in ("accelerometer", "camera", "display-capture", "geolocation", "gyroscope", "magnetometer", "microphone", "midi", "payment", "usb")
)
# Set on every response unless the view chose its own (a page with an inline-free CSP of its own, say).
DEFAULT_SECURITY_HEADERS = (
    ("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
)

# Paths whose responses are a manager's data (pages, API, exports): never kept in a browser or proxy cache.
PRIVATE_PREFIXES = ("/manage/", "/api/v1/")


@bp.after_app_request
def security_headers(response):
    """Strict defaults for every response: no third-party content, no sniffing, no device features; HSTS over HTTPS.

    HSTS goes only on responses the client received over HTTPS (directly, or through a
    trusted proxy's `X-Forwarded-Proto`): a browser ignores it over plain HTTP, and sending
    it from a local `make run` would pin localhost to HTTPS. Manager pages, the APIs and
    every download are `no-store`, whatever the view set. The server's own `Server`
    header is dropped by the servers' setup (bot/cli/server.py, bot/gunicorn_conf.py).
    """
    headers = response.headers
    present = {key.lower() for key, _value in headers.items()}  # one pass over the headers instead of one per check (every response)
    for key, value in DEFAULT_SECURITY_HEADERS:
        if key.lower() not in present:
            headers.add(key, value)
    if "permissions-policy" in present:
        headers.set("Permissions-Policy", PERMISSIONS_POLICY)
    else:
        headers.add("Permissions-Policy", PERMISSIONS_POLICY)
    max_age = int(current_app.config.get("HSTS_MAX_AGE") or 0)
    if max_age > 0 and "strict-transport-security" not in present and request.is_secure:
        headers.add("Strict-Transport-Security", f"max-age={max_age}")
    path = request.path
    download = "content-disposition" in present and headers.get("Content-Disposition", "").startswith("attachment")
    if path == "/manage" or path.startswith(PRIVATE_PREFIXES) or download:
        headers.set("Cache-Control", "no-store")
    if "location" in present:
        _public_location(response)
    return response


def _public_location(response) -> None:
    """An absolute `Location` on the request's own host (a routing redirect) points at PUBLIC_URL instead."""
    location = response.headers.get("Location")
    if not location:
        return
    own = request.host_url  # scheme://host/ + the script root
    if location.startswith(own):
        response.headers["Location"] = edges.public_url(current_app.config).base + "/" + location[len(own) :]


@bp.get("/")
def index() -> str:
    """Start page: what the product does, how long it takes, and the ways in.

    The start button begins the demo organisation's public self-check (a respondent's
    own result); without a demo organisation, or with its self-check off, the page says
    where a link comes from instead. Each flow's length is the real range over its
    paths (bot/effort.py).
    """
    tr = get_translations()
    latest = engines(current_app).latest()
    spans = [effort(e.flow) for e in latest]
    flows = [
        {"title": text(e.flow.title, tr), "version": e.flow.version, "effort": span, "item_count": len(e.flow.checklist)}
        for e, span in zip(latest, spans, strict=True)
    ]
    demo = session().scalar(select(Organisation).where(Organisation.slug == current_app.config.get("DEMO_ORGANISATION", "demo")))
    return render_template(
        "index.html",
        flows=flows,
        span=Effort(min(s.fewest for s in spans), max(s.most for s in spans)),  # over all flows (one today)
        start_url=url_for("wizard.start", embed_key=demo.embed_key) if demo is not None and demo.public_widget else None,
        demo=demo,
        locale=str(get_locale()),
    )


@bp.get("/healthz")
def health():
    """Machine-readable health: the loaded flow versions and the database."""
    try:
        session().execute(sql("SELECT 1"))
        database = "ok"
    except Exception as exc:  # report, do not crash: this is the health check
        database = f"error: {type(exc).__name__}"
    flows = [
        {"id": e.flow.id, "version": e.flow.version, "digest": e.flow.digest, "steps": len(e.flow.steps), "items": len(e.flow.checklist)}
        for e in engines(current_app).engines.values()
    ]
    status = 200 if database == "ok" else 503
    return jsonify(status="ok" if status == 200 else "degraded", database=database, flows=flows), status
