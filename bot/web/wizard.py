"""The step-by-step wizard: server-rendered pages that work without JavaScript.

Same engine, same assessments and the same turn transaction as the chat API; only
the edge differs: HTML forms (CSRF-protected), post/redirect/get, and a summary
page from which any answer can be changed.

Two ways in: `/w/<embed key>` starts a public self-assessment (the respondent's own
result, which they may pass on to the organisation or delete), `/r/<link token>` a
trusted assessment from a manager's respondent link (it becomes the organisation's
checklist of record when completed).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, g, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale, get_translations, gettext
from flask_login import current_user

from .. import result_mail
from ..effort import effort
from ..engine import DONE
from ..engine.values import INFO_VALUE
from ..engine.vocabulary import STATUS_ORDER, StepKind, Surface, TurnErrorCode
from ..exporters import build_report
from ..exporters.pdf import render_respondent
from ..i18n import N_, answer_rows, normalise_locale, prompt_dict, text, turn_error_message
from ..mail import mail_enabled
from ..results import respondent_result
from ..store import assessments as store
from ..store import links, managers, submissions
from ..store.db import session
from ..store.models import Organisation, RespondentLink
from ..turns import Accepted, Conflict, Conversation, Refused, is_closed, is_plausible_key
from . import turn_service
from .limits import create_limit, limiter, turn_limit
from .reports import assessment_documents, attachment, checklist_report

bp = Blueprint("wizard", __name__, url_prefix="/w")
# A manager's respondent link: /r/<token>.
respondent_bp = Blueprint("respondent", __name__, url_prefix="/r")

SURFACE = Surface.WIZARD
ACTIONS = ("next", "back", "skip")
# The generated texts that concern the respondent themself (the record of processing is the organisation's).
RESPONDENT_DOCUMENTS = ("first_contact_message", "imprint_snippet")
STALE_NOTE = N_("This question was already answered, perhaps in another window. Here is the current question.")
LINK_EXPIRED = N_("This link has expired or was withdrawn. Please ask the person who sent it to you for a new one.")
PUBLIC_OFF = N_("This organisation does not offer the public self-check at the moment.")
CONSENT_NOT_GIVEN = N_("Please tick the box to pass your result on, or leave the page as it is.")
CONSENT_BAD_EMAIL = N_("Please enter a valid e-mail address, for example info@example.de, or leave the field empty.")


@bp.after_request
@respondent_bp.after_request
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
    assessment = store.assessment_by_token(session(), token) if is_plausible_key(token) else None
    g.wizard_assessment = assessment
    if assessment is not None:
        g.assessment_locale = assessment.locale


def _conversation(token: str) -> Conversation:
    """The conversation of a token; 404 page when unknown. Its language drives the page."""
    assessment = g.get("wizard_assessment")
    if assessment is None:
        abort(404)
    conversation = turn_service().resume(assessment)  # FlowUnavailableError: the 409 page
    wanted = normalise_locale(request.args.get("lang"))
    if wanted:
        turn_service().switch_locale(conversation, wanted)  # the switch is remembered for the next visit
    g.assessment_locale = assessment.locale
    return conversation


def _step_url(token: str, **args: Any) -> str:
    return url_for("wizard.step", token=token, **args)


def _organisation(embed_key: str) -> Organisation:
    """The organisation of a public wizard link; 404 page when unknown, 403 when its public self-check is off."""
    organisation = store.organisation_by_embed_key(session(), embed_key) if is_plausible_key(embed_key) else None
    if organisation is None:
        abort(404)
    if not organisation.public_widget:
        abort(make_response(render_template("error.html", status=403, message=gettext(PUBLIC_OFF)), 403))
    return organisation


def _start_page(organisation: Organisation, action: str, link: RespondentLink | None = None):
    """The start page: what it is, how long it takes, and a Start button (whose POST goes to `action`).

    Opening a link creates nothing (link previews, crawlers and a curl do not start
    assessments); only the button's POST does.
    """
    engine = turn_service().engine_for_organisation(organisation)
    return render_template(
        "wizard/start.html",
        organisation=organisation,
        effort=effort(engine.flow),  # the real range over the flow's paths, as on the start page
        locale=str(get_locale()),
        action=action,
        link=link,
    )


def _start(organisation: Organisation, link: RespondentLink | None = None):
    locale = normalise_locale(request.form.get("lang")) or str(get_locale()) or organisation.locale
    conversation = turn_service().start(organisation, locale, SURFACE, link)
    return redirect(_step_url(conversation.assessment.token), code=303)


@bp.get("/<embed_key>")
def welcome(embed_key: str):
    """The start page of the public wizard link (a self-assessment: the respondent's own result)."""
    return _start_page(_organisation(embed_key), url_for("wizard.start", embed_key=embed_key))


@bp.post("/<embed_key>")
@limiter.limit(create_limit)
def start(embed_key: str):
    """Start a self-assessment for the organisation of this embed key and go to its first step."""
    return _start(_organisation(embed_key))


def _link(token: str) -> RespondentLink:
    """The usable respondent link of a token; 404 page when unknown, 410 when expired or revoked."""
    link = links.link_by_token(session(), token) if is_plausible_key(token) else None
    if link is None:
        abort(404)
    if not link.usable():
        abort(make_response(render_template("error.html", status=410, message=gettext(LINK_EXPIRED)), 410))
    return link


@respondent_bp.get("/<token>")
def respondent_start(token: str):
    """The start page of a manager's respondent link (trusted: the result becomes the organisation's checklist)."""
    link = _link(token)
    return _start_page(link.organisation, url_for("respondent.respondent_submit", token=token), link)


@respondent_bp.post("/<token>")
@limiter.limit(create_limit)
def respondent_submit(token: str):
    """Start an assessment from a respondent link and go to its first step."""
    link = _link(token)
    return _start(link.organisation, link)


@bp.get("/a/<token>")
def step(token: str):
    """The page of the current step, or the summary when the assessment is complete."""
    conversation = _conversation(token)
    if conversation.assessment.state == DONE:
        return _summary(conversation)
    return _render_step(conversation, from_summary=request.args.get("from") == "summary")


def _render_step(
    conversation: Conversation,
    *,
    error: str | None = None,
    typed: Any = None,
    note: str | None = None,
    from_summary: bool = False,
    status: int = 200,
):
    tr = get_translations()
    assessment, engine = conversation.assessment, conversation.engine
    prompt = conversation.prompt()
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
    conversation = _conversation(token)
    assessment, engine = conversation.assessment, conversation.engine
    action = request.form.get("action", "next")
    posted_step = request.form.get("step", "")
    from_summary = request.form.get("from") == "summary"
    if action not in ACTIONS:
        abort(400)
    step_def = engine.flow.step_by_id.get(posted_step)
    if posted_step != assessment.state or step_def is None:
        # Another window moved on, a double submit, or the summary's form of a finished flow: show the current page, store nothing.
        return _stale(conversation)
    value: Any
    if step_def.kind == StepKind.MULTI:
        value = request.form.getlist("value")
    elif step_def.kind == StepKind.INFO:
        value = INFO_VALUE
    else:
        value = request.form.get("value")
    service = turn_service()
    if action == "back":
        outcome = service.back(conversation, SURFACE, expected_step=posted_step)
    elif action == "skip":
        outcome = service.skip(conversation, posted_step, SURFACE, fast_forward=from_summary)
    else:
        outcome = service.answer(conversation, posted_step, value, SURFACE, fast_forward=from_summary)
    if isinstance(outcome, Conflict):
        if outcome.code == TurnErrorCode.ASSESSMENT_CLOSED:
            return _render_step(conversation, note=turn_error_message(outcome.error, get_translations(), engine), status=409)
        if outcome.code == TurnErrorCode.NO_PREVIOUS_STEP:
            return redirect(_step_url(token), code=303)
        return _stale(conversation)
    if isinstance(outcome, Refused):
        message = turn_error_message(outcome.error, get_translations(), engine)
        return _render_step(conversation, error=message, typed=value, from_summary=from_summary, status=422)
    keep = {"from": "summary"} if from_summary and assessment.state != DONE else {}
    return redirect(_step_url(token, **keep), code=303)


def _stale(conversation: Conversation):
    if conversation.assessment.state == DONE:
        return redirect(_step_url(conversation.assessment.token), code=303)
    return _render_step(conversation, note=gettext(STALE_NOTE), status=409)


@bp.post("/a/<token>/change")
@limiter.limit(turn_limit)
def change(token: str):
    """Go back to an earlier step from the summary to change its answer."""
    conversation = _conversation(token)
    outcome = turn_service().back(conversation, SURFACE, to=request.form.get("step", ""))
    if not isinstance(outcome, Accepted):
        return _stale(conversation)
    return redirect(_step_url(token, **{"from": "summary"}), code=303)


def _summary(
    conversation: Conversation,
    consent_error: str | None = None,
    contact_email: str | None = None,
    status: int = 200,
    mail_error: str | None = None,
    mail_address: str | None = None,
):
    """Every answer (with a way to change it), the recommendation and the checklist by status; for a self-assessment, consent and deletion."""
    assessment, engine = conversation.assessment, conversation.engine
    tr = get_translations()
    locale = str(get_locale())
    rows = answer_rows(engine.flow, engine.effective_answers(assessment.answers), tr, path=engine.path(assessment.answers))
    checklist = engine.checklist(assessment.answers)
    report = build_report(engine.flow, checklist, tr, locale)
    groups = [(status, report.status_labels[status], [i for i in report.data["items"] if i["status"] == status]) for status in STATUS_ORDER]
    result = respondent_result(engine, engine.effective_answers(assessment.answers), tr, checklist)
    documents = assessment_documents(assessment.organisation, assessment, tr, only=RESPONDENT_DOCUMENTS) if assessment.completed_answers else []
    manager_org = None
    if current_user.is_authenticated:
        # A logged-in manager of this organisation gets the exports right here.
        manager_org = managers.visible_organisation(session(), current_user.manager, assessment.organisation.slug)
    return render_template(
        "wizard/summary.html",
        manager_org=manager_org,
        assessment=assessment,
        closed=is_closed(assessment),
        result=result,
        documents=documents,
        rows=rows,
        report=report,
        groups=[g_ for g_ in groups if g_[2]],
        resume_url=_step_url(assessment.token, _external=True),
        locale=locale,
        consent_error=consent_error,
        contact_email=contact_email,
        # The result by e-mail: only where mail is on (the address would otherwise wait in the outbox).
        mail_on=mail_enabled(current_app.config) and assessment.completed_answers is not None,
        mail_error=mail_error,
        mail_address=mail_address,
        mail_queued=request.args.get("mailed") == "1" and mail_error is None,
    ), status


@bp.post("/a/<token>/consent")
@limiter.limit(turn_limit)
def consent(token: str):
    """Pass a completed self-assessment on to the organisation (a ticked box, an optional contact address)."""
    conversation = _conversation(token)
    assessment = conversation.assessment
    if not assessment.is_self_assessment or assessment.state != DONE or is_closed(assessment):
        return redirect(_step_url(token), code=303)
    email_field = request.form.get("contact_email", "")
    if request.form.get("consent") != "yes":
        return _summary(conversation, consent_error=gettext(CONSENT_NOT_GIVEN), contact_email=email_field, status=422)
    try:
        email = submissions.clean_contact_email(email_field)
    except ValueError:
        return _summary(conversation, consent_error=gettext(CONSENT_BAD_EMAIL), contact_email=email_field, status=422)
    submissions.give_consent(session(), assessment, email)
    return redirect(_step_url(token) + "#consent", code=303)


@bp.post("/a/<token>/result-mail")
@limiter.limit(turn_limit)
@limiter.shared_limit(result_mail.limit, result_mail.LIMIT_SCOPE, key_func=result_mail.assessment_key, deduct_when=result_mail.counts)
@limiter.shared_limit(result_mail.limit, result_mail.LIMIT_SCOPE, key_func=result_mail.address_key, deduct_when=result_mail.counts)
def result_by_mail(token: str):
    """Send the completed result once to the address typed in (queued in the outbox; the address is forgotten after sending)."""
    conversation = _conversation(token)
    assessment = conversation.assessment
    if assessment.state != DONE:
        return redirect(_step_url(token), code=303)
    typed = request.form.get("email", "")
    try:
        address = result_mail.clean_address(typed)
        result_mail.enqueue_result_mail(session(), conversation.engine, assessment, address)
    except result_mail.ResultMailError as exc:
        session().rollback()
        message = {"address": result_mail.BAD_ADDRESS, "mail_off": result_mail.MAIL_OFF}.get(exc.reason, result_mail.NOT_COMPLETED)
        status = 422 if exc.reason == "address" else 409
        return _summary(conversation, mail_error=gettext(message), mail_address=typed, status=status)
    return redirect(_step_url(token, mailed=1) + "#result-mail", code=303)


@bp.post("/a/<token>/delete")
@limiter.limit(turn_limit)
def delete(token: str):
    """The respondent deletes their own self-assessment; a page confirms it (the link then leads nowhere)."""
    conversation = _conversation(token)
    assessment = conversation.assessment
    if not assessment.is_self_assessment or is_closed(assessment):
        abort(409)
    submissions.delete_self_assessment(session(), assessment)
    return render_template("wizard/deleted.html", locale=str(get_locale()))


@bp.get("/a/<token>/result.pdf")
def result_pdf(token: str):
    """The respondent's result as a PDF: this assessment's checklist only (nothing managers add), in its language."""
    conversation = _conversation(token)
    assessment = conversation.assessment
    if assessment.completed_answers is None:
        abort(404)
    report = checklist_report(assessment.organisation, assessment, str(get_locale()))
    response = make_response(render_respondent(report))
    response.headers["Content-Type"] = "application/pdf"
    day = (assessment.completed_at or assessment.updated_at).strftime("%Y-%m-%d")
    response.headers["Content-Disposition"] = attachment(f"whatsapp-check-{day}.pdf")
    return response
