"""The step-by-step wizard: server-rendered pages that work without JavaScript.

Same engine, same assessments and the same turn transaction as the chat API; only
the edge differs: HTML forms (CSRF-protected), post/redirect/get, and a summary
page from which any answer can be changed.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import get_locale, get_translations, gettext
from flask_login import current_user

from .. import engines
from ..engine import DONE, FlowEngine, TurnError
from ..exporters import STATUS_ORDER, build_report
from ..i18n import N_, answer_rows, normalise_locale, prompt_dict, text, turn_error_message
from ..store import assessments as store
from ..store import managers
from ..store.db import session
from ..store.models import Assessment
from .limits import create_limit, limiter, turn_limit

bp = Blueprint("wizard", __name__, url_prefix="/w")

CHANNEL = "wizard"
ACTIONS = ("next", "back", "skip")
STALE_NOTE = N_("This question was already answered, perhaps in another window. Here is the current question.")


@bp.after_request
def no_store(response):
    """A wizard page shows someone's answers under a capability URL: never cache it (shared caches, history)."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.url_value_preprocessor
def load_assessment(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Load the assessment of the URL's token first, so that even a refused form (CSRF) speaks its language."""
    token = (values or {}).get("token")
    if token is None:
        return
    assessment = store.assessment_by_token(session(), token) if len(token) <= 64 else None
    g.wizard_assessment = assessment
    if assessment is not None:
        g.assessment_locale = assessment.locale


def _assessment(token: str) -> tuple[Assessment, FlowEngine]:
    """The assessment of a token and its engine; 404 page when unknown. Its language drives the page."""
    assessment = g.get("wizard_assessment")
    if assessment is None or assessment.token != token:
        abort(404)
    wanted = normalise_locale(request.args.get("lang"))
    if wanted and wanted != assessment.locale:
        store.set_locale(session(), assessment, wanted)  # the switch is remembered for the next visit
    g.assessment_locale = assessment.locale
    try:
        return assessment, store.engine_for(engines(current_app), assessment)
    except store.FlowVersionMissingError:
        abort(409)


def _step_url(token: str, **args: Any) -> str:
    return url_for("wizard.step", token=token, **args)


@bp.get("/<embed_key>")
@limiter.limit(create_limit)
def start(embed_key: str):
    """Start a new assessment for the organisation of this embed key and go to its first step."""
    organisation = store.organisation_by_embed_key(session(), embed_key) if len(embed_key) <= 64 else None
    if organisation is None:
        abort(404)
    locale = normalise_locale(request.args.get("lang")) or request.accept_languages.best_match(("de", "en")) or organisation.locale
    engine = engines(current_app).get(current_app.config["DEFAULT_FLOW"])
    assessment = store.start(session(), engine, organisation, locale, CHANNEL)
    return redirect(_step_url(assessment.token), code=303)


@bp.get("/a/<token>")
def step(token: str):
    """The page of the current step, or the summary when the assessment is complete."""
    assessment, engine = _assessment(token)
    if assessment.state == DONE:
        return _summary(assessment, engine)
    return _render_step(assessment, engine, from_summary=request.args.get("from") == "summary")


def _render_step(
    assessment: Assessment,
    engine: FlowEngine,
    *,
    error: str | None = None,
    typed: Any = None,
    note: str | None = None,
    from_summary: bool = False,
    status: int = 200,
):
    tr = get_translations()
    prompt = engine.prompt(assessment)
    view = prompt_dict(prompt, tr)
    shown = typed if typed is not None else view["value"]
    selected = set(shown) if isinstance(shown, list) else {shown} if shown else set()
    sections = [{"id": s.id, "title": text(s.title, tr)} for s in engine.flow.sections]
    step_def = engine.flow.step_by_id[prompt.step]
    return (
        render_template(
            "wizard/step.html",
            assessment=assessment,
            prompt=view,
            validator=step_def.validator,
            selected=selected,
            typed_text=shown if isinstance(shown, str) else "",
            error=error,
            note=note,
            sections=sections,
            current_section=prompt.section,
            from_summary=from_summary,
            resume_url=_step_url(assessment.token, _external=True),
            locale=str(get_locale()),
        ),
        status,
    )


@bp.post("/a/<token>")
@limiter.limit(turn_limit)
def submit(token: str):
    """Take the posted answer (next), skip or back; redirect to the next page (post/redirect/get)."""
    assessment, engine = _assessment(token)
    action = request.form.get("action", "next")
    posted_step = request.form.get("step", "")
    from_summary = request.form.get("from") == "summary"
    if action not in ACTIONS:
        abort(400)
    if posted_step != assessment.state:
        # Another window moved on (or a double submit): show the current step, store nothing.
        return _stale(assessment, engine)
    step_def = engine.flow.step_by_id[posted_step]
    value: Any
    if step_def.kind == "multi":
        value = request.form.getlist("value")
    elif step_def.kind == "info":
        value = "ok"
    else:
        value = request.form.get("value")
    trigger = {"next": "answer", "back": "back", "skip": "skip"}[action]
    try:
        answer = value if trigger == "answer" else None
        store.take_turn(session(), engine, assessment, trigger, CHANNEL, step=posted_step, value=answer, fast_forward=from_summary)
    except TurnError as exc:
        if exc.code in ("stale_step", "flow_finished"):
            return _stale(assessment, engine)
        if exc.code == "no_previous_step":
            return redirect(_step_url(token), code=303)
        message = turn_error_message(exc, get_translations(), engine)
        return _render_step(assessment, engine, error=message, typed=value, from_summary=from_summary, status=422)
    except store.StaleAssessmentError:
        store.reload(session(), assessment)
        return _stale(assessment, engine)
    keep = {"from": "summary"} if from_summary and assessment.state != DONE else {}
    return redirect(_step_url(token, **keep), code=303)


def _stale(assessment: Assessment, engine: FlowEngine):
    if assessment.state == DONE:
        return redirect(_step_url(assessment.token), code=303)
    return _render_step(assessment, engine, note=gettext(STALE_NOTE), status=409)


@bp.post("/a/<token>/change")
@limiter.limit(turn_limit)
def change(token: str):
    """Go back to an earlier step from the summary to change its answer."""
    assessment, engine = _assessment(token)
    target = request.form.get("step", "")
    try:
        store.take_turn(session(), engine, assessment, "back", CHANNEL, to=target)
    except TurnError:
        return _stale(assessment, engine)
    except store.StaleAssessmentError:
        store.reload(session(), assessment)
        return _stale(assessment, engine)
    return redirect(_step_url(token, **{"from": "summary"}), code=303)


def _summary(assessment: Assessment, engine: FlowEngine):
    """Every answer (with a way to change it), the recommendation and the checklist by status."""
    tr = get_translations()
    locale = str(get_locale())
    rows = answer_rows(engine.flow, engine.effective_answers(assessment.answers), tr, path=engine.path(assessment.answers))
    report = build_report(engine.flow, engine.checklist(assessment.answers), tr, locale)
    groups = [(status, report.status_labels[status], [i for i in report.data["items"] if i["status"] == status]) for status in STATUS_ORDER]
    manager_org = None
    if current_user.is_authenticated:
        # A logged-in manager of this organisation gets the exports right here.
        manager_org = managers.visible_organisation(session(), current_user.manager, assessment.organisation.slug)
    return render_template(
        "wizard/summary.html",
        manager_org=manager_org,
        assessment=assessment,
        rows=rows,
        report=report,
        groups=[g_ for g_ in groups if g_[2]],
        resume_url=_step_url(assessment.token, _external=True),
        locale=locale,
    )
