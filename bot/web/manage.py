"""The manager area: log in, see which organisations need attention, read and export their checklists.

Server-rendered (works without JavaScript; a small script only adds copy buttons),
session login with Flask-Login, CSRF on every form. A manager sees only the
organisations they belong to; anything else is 404, exactly like a missing page.
Admins see every organisation and can create organisations and managers here too.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale, get_translations, gettext
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from sqlalchemy import select

from .. import engines
from ..documents import DOCUMENT_IDS
from ..documents import generate as generate_documents
from ..exporters import FORMAT_NAMES, STATUS_ORDER
from ..exporters import csv as csv_export
from ..exporters.markdown import escape as markdown_escape
from ..i18n import N_, STATUS_LABELS, SUPPORTED_LOCALES, answer_rows, normalise_locale, text
from ..store import assessments as store
from ..store import managers
from ..store.db import session
from ..store.models import ROLES, Assessment, Manager, Organisation, utcnow
from .limits import limiter, login_account, login_limit
from .reports import checklist_report, export_response

bp = Blueprint("manage", __name__, url_prefix="/manage")
login_manager = LoginManager()
login_manager.login_view = "manage.login"
login_manager.login_message = N_("Please log in to see this page.")
login_manager.session_protection = "strong"

REVIEW_AFTER = timedelta(days=365)
LOGIN_FAILED = N_("The e-mail address or the password is not correct.")


class SignedInManager(UserMixin):
    """The logged-in manager as Flask-Login sees it (the model stays free of web concerns)."""

    def __init__(self, manager: Manager) -> None:
        """Wrap a manager row."""
        self.manager = manager
        self.id = str(manager.id)


@login_manager.user_loader
def load_manager(manager_id: str) -> SignedInManager | None:
    """Reload the manager of the session (None logs them out)."""
    manager = session().get(Manager, int(manager_id)) if manager_id.isdigit() else None
    return SignedInManager(manager) if manager is not None else None


def init_app(app: Any) -> None:
    """Attach Flask-Login; the login message is localised when it is shown."""
    login_manager.init_app(app)
    login_manager.localize_callback = gettext


def me() -> Manager:
    """The manager of this request."""
    return current_user.manager


def _organisation(slug: str) -> Organisation:
    organisation = managers.visible_organisation(session(), me(), slug) if len(slug) <= 64 else None
    if organisation is None:
        abort(404)
    return organisation


def _locale() -> str:
    return str(get_locale())


def _safe_next(target: str | None) -> str:
    """Only local paths are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("manage.index")


# -- login -----------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, key_func=login_account, methods=["POST"])
def login():
    """Log in with e-mail and password."""
    error = None
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "")[:254]
        password = request.form.get("password", "")[:1024]
        manager = managers.manager_by_email(session(), email)
        if manager is not None and managers.check_password(manager, password):
            login_user(SignedInManager(manager))
            return redirect(_safe_next(request.args.get("next")), code=303)
        error = gettext(LOGIN_FAILED)
    status = 401 if error else 200
    return render_template("manage/login.html", error=error, email=email, locale=_locale()), status


@bp.post("/logout")
def logout():
    """Log out (a POST with a CSRF token, so no other site can log you out)."""
    logout_user()
    return redirect(url_for("manage.login"), code=303)


# -- organisations ---------------------------------------------------------------------


def _status(organisation: Organisation, completed: Assessment | None, unfinished: Assessment | None) -> dict[str, Any]:
    """What a manager needs at a glance about one organisation."""
    registry = engines(current_app)
    row: dict[str, Any] = {"org": organisation, "completed": completed, "unfinished": unfinished, "summary": None, "recommendation": None, "progress": None}
    if completed is not None:
        try:
            engine = store.engine_for(registry, completed)
        except store.FlowVersionMissingError:
            engine = None
        if engine is not None:
            checklist = engine.checklist(completed.completed_answers or {})
            row["summary"] = checklist.summary
            row["recommendation"] = checklist.recommendation.value
            row["recommendation_title"] = text(checklist.recommendation.title, get_translations())
        row["review_due"] = completed.completed_at is not None and completed.completed_at + REVIEW_AFTER <= utcnow()
    if unfinished is not None:
        try:
            prompt = store.engine_for(registry, unfinished).prompt(unfinished)
            row["progress"] = (prompt.answered, prompt.total)
        except store.FlowVersionMissingError:
            pass
    # Attention first: critical items, then a due review, then never completed, then the rest.
    summary = row["summary"] or {}
    row["attention"] = (-(summary.get("critical", 0)), not row.get("review_due", False), completed is not None, organisation.name.lower())
    return row


@bp.get("/")
@login_required
def index():
    """The organisations of this manager, those that need attention first."""
    organisations = managers.visible_organisations(session(), me())
    latest = store.overview(session(), organisations)
    rows = sorted((_status(o, *latest[o.id]) for o in organisations), key=lambda r: r["attention"])
    return render_template("manage/index.html", rows=rows, locale=_locale(), is_admin=me().is_admin)


@bp.get("/checklists.csv")
@login_required
def all_checklists() -> Response:
    """The latest checklist of every organisation of this manager in one CSV (to track many clients)."""
    organisations = managers.visible_organisations(session(), me())
    latest = store.overview(session(), organisations)
    locale = normalise_locale(request.args.get("lang")) or _locale()
    reports = []
    for org in organisations:
        completed = latest[org.id][0]
        if completed is None:
            continue
        try:
            reports.append(checklist_report(org, completed, locale))
        except store.FlowVersionMissingError:
            continue
    response = Response(csv_export.render_many(reports))
    response.headers["Content-Type"] = csv_export.MEDIA_TYPE
    response.headers["Content-Disposition"] = f'attachment; filename="wa-checklists-{utcnow():%Y-%m-%d}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/orgs/<slug>")
@login_required
def organisation(slug: str):
    """One organisation: its checklist by status and area, the links to hand out, exports and history."""
    org = _organisation(slug)
    latest = store.latest_completed(session(), org)
    report = None
    if latest is not None:
        try:
            report = checklist_report(org, latest, _locale())
        except store.FlowVersionMissingError:
            report = None
    groups = []
    if report is not None:
        for status in STATUS_ORDER:
            items = [i for i in report.data["items"] if i["status"] == status]
            if items:
                sections: dict[str, list[dict[str, Any]]] = {}
                for item in items:
                    sections.setdefault(report.item_sections.get(item["id"], ""), []).append(item)
                groups.append((status, report.status_labels[status], len(items), sections))
    assessments, _revisions = store.history(session(), org, 50)
    return render_template(
        "manage/organisation.html",
        org=org,
        report=report,
        groups=groups,
        assessments=assessments,
        wizard_url=url_for("wizard.start", embed_key=org.embed_key, _external=True),
        widget_snippet=_widget_snippet(org),
        formats=FORMAT_NAMES,
        locale=_locale(),
    )


def _widget_snippet(org: Organisation) -> str | None:
    """The one-line embed code, once the widget is served by this app."""
    if "widget.script" not in current_app.view_functions:
        return None
    src = url_for("widget.script", _external=True)
    return f'<script src="{src}" data-embed-key="{org.embed_key}" data-lang="{org.locale}" defer></script>'


@bp.get("/orgs/<slug>/checklist.<any(pdf, csv, xlsx, md, json):fmt>")
@login_required
def export(slug: str, fmt: str) -> Response:
    """Download the latest checklist (`?lang=de|en`, default: the page language)."""
    org = _organisation(slug)
    latest = store.latest_completed(session(), org)
    if latest is None:
        abort(404)
    try:
        report = checklist_report(org, latest, normalise_locale(request.args.get("lang")) or _locale())
    except store.FlowVersionMissingError:
        abort(409)
    return export_response(org, report, fmt)


@bp.get("/orgs/<slug>/documents")
@login_required
def documents(slug: str):
    """The ready-to-paste texts with copy buttons and downloads."""
    org = _organisation(slug)
    latest = store.latest_completed(session(), org)
    texts = generate_documents(latest.completed_answers or {}, get_translations()) if latest is not None else []
    return render_template("manage/documents.html", org=org, documents=texts, latest=latest, locale=_locale())


@bp.get("/orgs/<slug>/documents/<any(first_contact_message, imprint_snippet, ropa_entry):document_id>.<any(txt, md):ext>")
@login_required
def document_download(slug: str, document_id: str, ext: str) -> Response:
    """One document as a .txt or .md file (plain text either way: nothing in it is markup)."""
    org = _organisation(slug)
    latest = store.latest_completed(session(), org)
    if latest is None or document_id not in DOCUMENT_IDS:
        abort(404)
    document = next(d for d in generate_documents(latest.completed_answers or {}, get_translations()) if d.id == document_id)
    body = f"{document.title}\n\n{document.text}\n" if ext == "txt" else f"# {_md_escape(document.title)}\n\n{_md_escape(document.text)}\n"
    response = Response(body, mimetype="text/plain" if ext == "txt" else "text/markdown")
    response.headers["Content-Disposition"] = f'attachment; filename="{org.slug}-{document_id}.{ext}"'
    return response


def _md_escape(text: str) -> str:
    """Markdown-escape each line of a document (line breaks are kept)."""
    return "\n".join(markdown_escape(line) for line in text.split("\n"))


@bp.get("/orgs/<slug>/compare")
@login_required
def compare(slug: str):
    """What changed between two assessments of one organisation: answers and item statuses."""
    org = _organisation(slug)
    ids = [v for v in (request.args.get("a", ""), request.args.get("b", "")) if v.isdigit()]
    chosen = [store.assessment_of(session(), org, int(v)) for v in ids]
    if len(chosen) != 2 or any(a is None for a in chosen):
        abort(404)
    older, newer = sorted(chosen, key=lambda a: (a.created_at, a.id))
    registry = engines(current_app)
    tr = get_translations()
    sides = []
    for assessment in (older, newer):
        try:
            engine = store.engine_for(registry, assessment)
        except store.FlowVersionMissingError:
            abort(409)
        answers = assessment.completed_answers if assessment.completed_answers is not None else engine.effective_answers(assessment.answers)
        checklist = engine.checklist(answers)
        rows = {r["step"]: r for r in answer_rows(engine.flow, answers, tr)}
        sides.append({"assessment": assessment, "answers": rows, "statuses": {i.id: i.status for i in checklist.items}, "engine": engine})
    flow = sides[1]["engine"].flow
    answer_changes = []
    for step in flow.steps:
        before, after = sides[0]["answers"].get(step.id), sides[1]["answers"].get(step.id)
        old = before["answer"] if before else None
        new = after["answer"] if after else None
        if old != new:
            question = (after or before)["question"]
            answer_changes.append({"step": step.id, "question": question, "before": old, "after": new})
    labels = {s: gettext(label) for s, label in STATUS_LABELS.items()}
    status_changes = [
        {"id": item_id, "before": labels[sides[0]["statuses"][item_id]], "after": labels[sides[1]["statuses"][item_id]], "to": sides[1]["statuses"][item_id]}
        for item_id in sides[1]["statuses"]
        if sides[0]["statuses"].get(item_id) != sides[1]["statuses"][item_id]
    ]
    return render_template(
        "manage/compare.html", org=org, older=older, newer=newer, answer_changes=answer_changes, status_changes=status_changes, locale=_locale()
    )


# -- administration (admins only) ----------------------------------------------------------


def _admin() -> None:
    if not me().is_admin:
        abort(404)


@bp.route("/admin", methods=["GET", "POST"])
@login_required
def admin():
    """Create organisations and managers (admins only)."""
    _admin()
    created: dict[str, str] = {}
    errors: list[str] = []
    form = request.form
    if request.method == "POST" and form.get("create") == "organisation":
        slug, name, locale = form.get("slug", "").strip().lower(), form.get("name", "").strip(), normalise_locale(form.get("locale")) or "de"
        if not slug or len(slug) > 64 or not slug.replace("-", "").replace("_", "").isalnum() or not name or len(name) > 200:
            errors.append(gettext(N_("Please give a short name (lower-case letters, digits, - or _) and a display name.")))
        elif session().scalar(select(Organisation).where(Organisation.slug == slug)) is not None:
            errors.append(gettext(N_("An organisation with this short name exists already.")))
        else:
            org = Organisation(slug=slug, name=name, locale=locale)
            session().add(org)
            session().commit()
            created = {"kind": "organisation", "name": org.name, "secret": org.embed_key}
    elif request.method == "POST" and form.get("create") == "manager":
        email, password, role = form.get("email", "").strip(), form.get("password", ""), form.get("role", "member")
        slugs = form.getlist("orgs")
        orgs = [o for o in managers.visible_organisations(session(), me()) if o.slug in slugs]
        if "@" not in email or len(email) > 254 or role not in ROLES or (password and len(password) < 10):
            errors.append(gettext(N_("Please give an e-mail address, a role and, if you set a password, at least 10 characters.")))
        else:
            try:
                manager, token = managers.create_manager(session(), email, orgs, password=password or None, role=role)
            except managers.ManagerExistsError:
                errors.append(gettext(N_("A manager with this e-mail address exists already.")))
            else:
                created = {"kind": "manager", "name": manager.email, "secret": token}
    status = 422 if errors else 200
    organisations = managers.visible_organisations(session(), me())
    page = render_template(
        "manage/admin.html", created=created, errors=errors, organisations=organisations, roles=ROLES, locales=SUPPORTED_LOCALES, locale=_locale()
    )
    return page, status
