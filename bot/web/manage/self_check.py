"""The public self-check in the manager area: the setting, the submissions a manager adopts or dismisses or turns into a client, and anonymous aggregates.

A public self-assessment is its respondent's own. Managers see one only once its
respondent passed it on (a submission); all others count only in the aggregates,
which name no person, answer or address.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_translations, gettext
from flask_login import login_required

from ...exporters import STATUS_ORDER
from ...i18n import N_, answer_rows
from ...store import organisations as organisation_store
from ...store import submissions as submission_store
from ...store.db import session
from ...store.models import Assessment, Organisation
from .. import turn_service
from ..items import after_change
from ..records import actor, result_of, self_assessment_stats
from ..reports import checklist_report
from . import bp, kept_language, me, page_locale, visible_organisation_or_404
from .admin import ORGANISATION_ERRORS
from .results import recommendation_titles, step_titles

SURFACE = "manage"  # the surface the event log names for the manager area
TURNED_ON = N_("The public self-check is on: the public link and the widget start self-assessments.")
TURNED_OFF = N_("The public self-check is off: the public link and the widget start nothing.")
ADOPTED = N_("The submission is now the checklist of record of %(name)s. Its respondent can no longer change it.")
DISMISSED = N_("The submission has been dismissed. It is deleted with the other self-assessments after the retention period.")
CLIENT_CREATED = N_("The organisation %(name)s has been created with this submission as its checklist. You are one of its managers.")
SUBMISSION_CLOSED = N_("This submission was adopted or dismissed already (perhaps by someone else just now), or it is not completed. Nothing was changed.")


def _widget_snippet(organisation: Organisation) -> str | None:
    """The one-line embed code for a public web site, once the widget is served by this app."""
    if "widget.script" not in current_app.view_functions:
        return None
    src = url_for("widget.script", _external=True)
    return f'<script src="{src}" data-embed-key="{organisation.embed_key}" data-lang="{organisation.locale}" defer></script>'


def _named_counts(counts: dict[str, int], names: dict[str, Any]) -> list[tuple[str, Any, int]]:
    """Counts by id with what the page shows for each id (the id itself when the flow no longer knows it), most first."""
    return [(key, names.get(key, key), count) for key, count in counts.items()]


@bp.get("/orgs/<slug>/self-check")
@login_required
def self_check(slug: str) -> ResponseReturnValue:
    """The public self-check: on or off, its link and widget line, the submissions waiting, and the anonymous aggregates."""
    organisation = visible_organisation_or_404(slug)
    waiting = [(assessment, result_of(assessment)) for assessment in submission_store.submissions(session(), organisation)]
    stats = self_assessment_stats(organisation)
    return render_template(
        "manage/self_check.html",
        org=organisation,
        submissions=waiting,
        stats=stats,
        recommendations=_named_counts(stats["recommendations"], recommendation_titles(organisation)),
        stopped_at=_named_counts(stats["stopped_at"], step_titles(organisation)),
        wizard_url=url_for("wizard.welcome", embed_key=organisation.embed_key, _external=True),
        widget_snippet=_widget_snippet(organisation),
        locale=page_locale(),
    )


@bp.post("/orgs/<slug>/self-check")
@login_required
def public_widget_setting(slug: str) -> ResponseReturnValue:
    """Turn the public self-check on or off (logged like the API's setting); anything but on/off is 400."""
    organisation = visible_organisation_or_404(slug)
    choice = request.form.get("public_widget")
    if choice not in ("on", "off"):
        abort(400)
    organisation_store.set_public_widget(session(), organisation, choice == "on", actor(me(), SURFACE))
    flash(gettext(TURNED_ON if organisation.public_widget else TURNED_OFF))
    return redirect(url_for("manage.self_check", slug=organisation.slug, **kept_language()), code=303)


def _submission(slug: str, assessment_id: int) -> tuple[Organisation, Assessment]:
    """The organisation and its consented self-assessment; 404 for anything else (another organisation's, not passed on)."""
    organisation = visible_organisation_or_404(slug)
    assessment = submission_store.submission_of(session(), organisation, assessment_id)
    if assessment is None:
        abort(404)
    return organisation, assessment


def _closed(organisation: Organisation) -> ResponseReturnValue:
    """The 409 page: the submission cannot be acted on any more; nothing changed."""
    session().rollback()
    page = render_template("manage/submission_closed.html", org=organisation, message=gettext(SUBMISSION_CLOSED), locale=page_locale())
    return page, 409


def _is_open(assessment: Assessment) -> bool:
    return assessment.completed_at is not None and assessment.adopted_at is None and assessment.dismissed_at is None


def _submission_page(
    organisation: Organisation, assessment: Assessment, *, errors: list[str] | None = None, form: dict[str, str] | None = None, status: int = 200
) -> ResponseReturnValue:
    report = checklist_report(organisation, assessment, page_locale())  # FlowUnavailableError: the 409 page
    engine = turn_service().engine_for(assessment)
    groups = []
    for item_status in STATUS_ORDER:
        items = [item for item in report.data["items"] if item["status"] == item_status]
        if items:
            groups.append((item_status, report.status_labels[item_status], items))
    page = render_template(
        "manage/submission.html",
        org=organisation,
        submission=assessment,
        result=result_of(assessment),
        report=report,
        groups=groups,
        answers=answer_rows(engine.flow, assessment.completed_answers or {}, get_translations()),
        errors=errors or [],
        form=form or {"slug": "", "name": ""},
        locale=page_locale(),
    )
    return page, status


@bp.get("/orgs/<slug>/submissions/<int:assessment_id>")
@login_required
def submission(slug: str, assessment_id: int) -> ResponseReturnValue:
    """One submission: its result and checklist, with adopt, dismiss and "new client organisation"."""
    organisation, assessment = _submission(slug, assessment_id)
    if not _is_open(assessment):
        return _closed(organisation)
    return _submission_page(organisation, assessment)


@bp.post("/orgs/<slug>/submissions/<int:assessment_id>/adopt")
@login_required
def adopt_submission(slug: str, assessment_id: int) -> ResponseReturnValue:
    """Make a submission the organisation's checklist of record, then show the organisation (which names it so)."""
    organisation, assessment = _submission(slug, assessment_id)
    try:
        submission_store.adopt(session(), organisation, assessment, actor(me(), SURFACE))
    except submission_store.SubmissionStateError:
        return _closed(organisation)
    after_change(organisation)  # a new checklist of record: today's progress
    flash(gettext(ADOPTED) % {"name": organisation.name})
    return redirect(url_for("manage.organisation", slug=organisation.slug, **kept_language()), code=303)


@bp.post("/orgs/<slug>/submissions/<int:assessment_id>/dismiss")
@login_required
def dismiss_submission(slug: str, assessment_id: int) -> ResponseReturnValue:
    """Take a submission off the list and return to it."""
    organisation, assessment = _submission(slug, assessment_id)
    try:
        submission_store.dismiss(session(), organisation, assessment, actor(me(), SURFACE))
    except submission_store.SubmissionStateError:
        return _closed(organisation)
    flash(gettext(DISMISSED))
    return redirect(url_for("manage.self_check", slug=organisation.slug, **kept_language()), code=303)


@bp.post("/orgs/<slug>/submissions/<int:assessment_id>/organisation")
@login_required
def client_from_submission(slug: str, assessment_id: int) -> ResponseReturnValue:
    """Create a new client organisation whose checklist is this submission; the manager becomes its member. A refused slug or name: 422, nothing created."""
    organisation, assessment = _submission(slug, assessment_id)
    form = {"slug": request.form.get("slug", "").strip(), "name": request.form.get("name", "")}
    if not _is_open(assessment):
        return _closed(organisation)
    try:
        client = submission_store.organisation_from(session(), organisation, assessment, actor(me(), SURFACE), form["slug"], form["name"])
    except submission_store.SubmissionStateError:
        return _closed(organisation)
    except organisation_store.OrganisationError as exc:
        session().rollback()
        return _submission_page(organisation, assessment, errors=[gettext(ORGANISATION_ERRORS[type(exc)])], form=form, status=422)
    after_change(client)
    flash(gettext(CLIENT_CREATED) % {"name": client.name})
    return redirect(url_for("manage.organisation", slug=client.slug, **kept_language()), code=303)
