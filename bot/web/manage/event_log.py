"""The organisation's audit log in the manager area (admins only): who did what, when, from where; filters, pages, CSV.

The log is read-only here and everywhere in the app (bot/store/audit.py). A member who opens it
gets 403 with an explanation, and the attempt is itself logged (`access.denied`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_timezone, gettext
from flask_login import login_required

from ...exporters.csv import neutralise
from ...i18n import N_
from ...store import audit
from ...store.db import session
from ...store.models import Event, is_row_id, utcnow
from ..records import note_access
from ..reports import attachment
from . import admin_or_403, bp, kept_language, me, page_locale, visible_organisation_or_404

PAGE_SIZE = 50
CSV_MAX = 100_000
SURFACE = "manage"
ADMINS_ONLY = N_("Only the admins of %(name)s can read its audit log. Please ask one of them.")
BAD_FILTER = N_("Please check the filter: dates as YYYY-MM-DD, the “from” date not after the “to” date.")

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
    "organisation.two_factor_required": N_("Two-factor login requirement changed"),
    "assessment.completed": N_("Assessment no. %(assessment)s completed: the new checklist of record"),
    "submission.received": N_("Self-assessment no. %(assessment)s passed on to the organisation"),
    "webhook.created": N_("Webhook to “%(subject)s” created"),
    "webhook.deleted": N_("Webhook to “%(subject)s” deleted"),
    "answer.amended": N_("Answer amended in the checklist of record"),
    "item.updated": N_("Item %(subject)s updated"),
    "item.commented": N_("Comment on item %(subject)s"),
    "item.risk_accepted": N_("Risk of item %(subject)s accepted"),
    "item.risk_withdrawn": N_("Risk acceptance of item %(subject)s withdrawn"),
    "evidence.added": N_("Evidence “%(subject)s” added"),
    "evidence.linked": N_("Evidence “%(subject)s” linked"),
    "evidence.deleted": N_("Evidence “%(subject)s” deleted"),
    "evidence.downloaded": N_("Evidence “%(subject)s” downloaded"),
    "export.downloaded": N_("Export downloaded: %(subject)s"),
    "document.viewed": N_("Ready-to-paste texts viewed"),
    "document.downloaded": N_("Ready-to-paste text downloaded: %(subject)s"),
    "login.succeeded": N_("Logged in"),
    "login.failed": N_("Login failed (wrong password)"),
    "login.second_factor_failed": N_("Login failed (wrong second-factor code)"),
    "logout": N_("Logged out"),
    "password.changed": N_("Password changed"),
    "password.reset_requested": N_("Password reset requested"),
    "password.reset": N_("Password reset by e-mail link"),
    "two_factor.enabled": N_("Two-factor login turned on"),
    "two_factor.disabled": N_("Two-factor login turned off"),
    "recovery_codes.renewed": N_("New recovery codes created"),
    "recovery_code.used": N_("Recovery code used to log in"),
    "token.rotated": N_("New API token created"),
    "invitation.created": N_("Invitation sent to %(subject)s"),
    "invitation.revoked": N_("Invitation to %(subject)s revoked"),
    "invitation.accepted": N_("Invitation accepted by %(subject)s"),
    "membership.added": N_("%(subject)s added"),
    "membership.role_changed": N_("Role of %(subject)s changed"),
    "membership.removed": N_("%(subject)s removed from the organisation"),
    "access.denied": N_("Access refused: %(subject)s"),
    "audit.viewed": N_("Audit log read"),
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
CSV_HEADER = ("id", "at_utc", "actor", "action", "what", "target", "via", "address", "details")


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


def action_label(action: str) -> str:
    """An action's name in words for the filter (its placeholders as "…")."""
    if action not in ACTIONS:
        return action
    return re.sub(r"%\([a-z_]+\)s", "…", gettext(ACTIONS[action]))


def surface_label(via: str) -> str:
    """The surface an event came through, in words."""
    return gettext(SURFACES[via]) if via in SURFACES else via


def _day(value: str) -> date | None:
    """A YYYY-MM-DD date, or None when empty; ValueError when it is not one."""
    value = value.strip()
    if not value:
        return None
    if len(value) != 10:
        raise ValueError(value)
    return date.fromisoformat(value)


def parse_filter(args: Any, before_allowed: bool = True) -> tuple[audit.AuditFilter, dict[str, str]]:
    """The filter of the page's GET parameters (days in the page's time zone) and the values to show again; ValueError when one is wrong."""
    shown = {name: str(args.get(name, ""))[:254].replace("\x00", "") for name in ("actor", "action", "since", "until")}
    zone = get_timezone()
    since_day, until_day = _day(shown["since"]), _day(shown["until"])
    if since_day and until_day and since_day > until_day:
        raise ValueError("since after until")
    since = datetime.combine(since_day, time.min, zone) if since_day else None
    until = datetime.combine(until_day + timedelta(days=1), time.min, zone) if until_day else None
    before_text = str(args.get("before", "")).strip() if before_allowed else ""
    before = int(before_text) if before_text else None
    if before is not None and not is_row_id(before):
        raise ValueError(before_text)
    wanted = audit.AuditFilter(actor=shown["actor"] or None, action=shown["action"][:48] or None, since=since, until=until, before=before, limit=PAGE_SIZE)
    return wanted, shown


@bp.get("/orgs/<slug>/events")
@login_required
def events(slug: str) -> ResponseReturnValue:
    """The organisation's audit log, newest first, a page at a time, filtered by person, action and dates."""
    organisation = visible_organisation_or_404(slug)
    admin_or_403(organisation, "audit log", ADMINS_ONLY)
    error = None
    try:
        wanted, shown = parse_filter(request.args)
    except ValueError:
        wanted, shown, error = audit.AuditFilter(limit=PAGE_SIZE), {"actor": "", "action": "", "since": "", "until": ""}, gettext(BAD_FILTER)
    entries, next_before = audit.entries(session(), organisation.id, wanted)
    rows = [(event, describe(event), surface_label(event.via)) for event in entries]
    filters = {key: value for key, value in shown.items() if value}
    page = render_template(
        "manage/events.html",
        org=organisation,
        rows=rows,
        shown=shown,
        filters=filters,
        error=error,
        actors=audit.actors_of(session(), organisation.id),
        actions=[(action, action_label(action)) for action in audit.actions_of(session(), organisation.id)],
        next_before=next_before,
        first_page=wanted.before is None,
        zone=str(get_timezone()),
        locale=page_locale(),
        lang=kept_language(),
        link_args={**filters, **kept_language()},
    )
    return page, (422 if error else 200)


@bp.get("/orgs/<slug>/events.csv")
@login_required
def events_csv(slug: str) -> Response:
    """The filtered audit log as CSV (UTF-8 with BOM, `;`, no formulas), newest first; the download is itself logged."""
    organisation = visible_organisation_or_404(slug)
    admin_or_403(organisation, "audit log export", ADMINS_ONLY)
    try:
        wanted, _shown = parse_filter(request.args, before_allowed=False)
    except ValueError:
        abort(400, gettext(BAD_FILTER))
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    before: int | None = None
    written = 0
    while written < CSV_MAX:
        page, before = audit.entries(session(), organisation.id, audit.AuditFilter(**{**wanted.__dict__, "before": before, "limit": audit.PAGE_MAX}))
        for event in page:
            details = json.dumps(event.details or {}, ensure_ascii=False, sort_keys=True)
            cells = [event.id, event.created_at.isoformat(), event.actor, event.action, describe(event), event.subject, event.via, event.address, details]
            writer.writerow([neutralise(cell) for cell in cells])
        written += len(page)
        if before is None:
            break
    note_access(me(), SURFACE, "export.downloaded", organisation, "audit.csv", format="csv", entries=written)
    response = Response(buffer.getvalue())
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = attachment(f"audit-{organisation.slug}-{utcnow():%Y-%m-%d}.csv")
    response.headers["Cache-Control"] = "no-store"
    return response
