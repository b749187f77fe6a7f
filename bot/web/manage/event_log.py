"""The organisation's event log in the manager area, read-only: who did what, when, from where (the latest 50)."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue
from flask_babel import get_timezone, gettext
from flask_login import login_required

from ...i18n import N_
from ...store import events as event_store
from ...store.db import session
from ...store.models import Event
from . import bp, page_locale, visible_organisation_or_404

SHOWN = 50
# What happened, in words; %(subject)s and the details' names are filled in. An action missing here shows its id.
ACTIONS: dict[str, str] = {
    "respondent_link.created": N_("Respondent link “%(subject)s” created"),
    "respondent_link.revoked": N_("Respondent link “%(subject)s” revoked"),
    "submission.adopted": N_("Submission (assessment no. %(assessment)s) adopted as the checklist of record"),
    "submission.dismissed": N_("Submission (assessment no. %(assessment)s) dismissed"),
    "submission.organisation_created": N_("New client organisation “%(client)s” created from a submission (assessment no. %(assessment)s)"),
    "organisation.created_from_submission": N_("Organisation created from a submission to “%(source)s” (assessment no. %(assessment)s)"),
    "organisation.pin_changed": N_("Questionnaire version for new assessments: %(after)s (before: %(before)s)"),
    "organisation.deleted": N_("Organisation deleted"),
    "assessment.completed": N_("Assessment no. %(assessment)s completed: the new checklist of record"),
    "submission.received": N_("Self-assessment no. %(assessment)s passed on to the organisation"),
    "webhook.created": N_("Webhook to “%(subject)s” created"),
    "webhook.deleted": N_("Webhook to “%(subject)s” deleted"),
}
# The same, for an event without a subject (a link without a label).
UNLABELLED = {
    "respondent_link.created": N_("Respondent link without a label created"),
    "respondent_link.revoked": N_("Respondent link without a label revoked"),
}
# The public self-check's setting, by the subject its event records.
PUBLIC_WIDGET = {"on": N_("Public self-check turned on"), "off": N_("Public self-check turned off")}
SURFACES = {
    "api": N_("API"),
    "manage": N_("Manager area"),
    "cli": N_("Command line"),
    "wizard": N_("Wizard"),
    "widget": N_("Chat widget"),
    "respondent": N_("Respondent"),
}


def describe(event: Event) -> str:
    """What an event did, in the page's language (its subject and details are people's text: the template escapes them)."""
    if event.subject is None and event.action in UNLABELLED:
        return gettext(UNLABELLED[event.action])
    if event.action == "settings.public_widget" and event.subject in PUBLIC_WIDGET:
        return gettext(PUBLIC_WIDGET[event.subject])
    template = ACTIONS.get(event.action)
    if template is None:
        return event.action
    subject = event.subject or ""
    values = {key: str(value) for key, value in (event.details or {}).items()}
    try:
        return gettext(template) % {"assessment": "?", "client": "?", "source": "?", "after": "?", "before": "?", **values, "subject": subject}
    except (KeyError, ValueError, TypeError):
        return event.action  # details of an unexpected shape: the action id still says what happened


@bp.get("/orgs/<slug>/events")
@login_required
def events(slug: str) -> ResponseReturnValue:
    """The organisation's latest events, newest first."""
    organisation = visible_organisation_or_404(slug)
    rows = [
        (event, describe(event), gettext(SURFACES[event.via]) if event.via in SURFACES else event.via)
        for event in event_store.events_of(session(), organisation, SHOWN)
    ]
    return render_template("manage/events.html", org=organisation, rows=rows, shown=SHOWN, zone=str(get_timezone()), locale=page_locale())
