"""Webhooks in the manager area: add one (its secret shown once), see each one's latest deliveries, delete one."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import login_required

from ...i18n import N_
from ...store import webhooks as store
from ...store.db import session
from ...store.models import Organisation, WebhookEndpoint
from ...store.notifications import WEBHOOK_EVENTS
from ..records import actor
from ..webhooks_api import webhook_message
from . import admin_or_403, bp, kept_language, me, page_locale, visible_organisation_or_404

SURFACE = "manage"  # the surface the event log names for the manager area
DELIVERIES_SHOWN = 10
# What each event type means, in words for the form's checkboxes and the list.
EVENT_LABELS = {
    "assessment.completed": N_("An assessment was completed and is now the checklist"),
    "submission.received": N_("A visitor passed on their self-check to you"),
    "item.updated": N_("An item was changed (owner, due date, state, comment, evidence, risk)"),
    "item.due": N_("An item is due soon or overdue"),
    "evidence.expiring": N_("Evidence expires soon or has expired"),
    "review.due": N_("The checklist is due for its yearly review"),
}
STATUS_LABELS = {"pending": N_("will be tried again"), "sent": N_("delivered"), "failed": N_("failed, no more attempts")}
DELETED = N_("The webhook to %(host)s has been deleted. Nothing more is sent to it.")


def _page(
    organisation: Organisation,
    *,
    created: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    endpoints = store.webhooks_of(session(), organisation)
    deliveries = store.deliveries_by_webhook(session(), endpoints, DELIVERIES_SHOWN)
    rows = [{"webhook": e, "host": store.host_of(e.url), "deliveries": deliveries[e.id]} for e in endpoints]
    page = render_template(
        "manage/webhooks.html",
        org=organisation,
        rows=rows,
        created=created,
        errors=errors or {},
        form=form or {"url": "", "events": []},
        event_labels={key: gettext(label) for key, label in EVENT_LABELS.items()},
        status_labels={key: gettext(label) for key, label in STATUS_LABELS.items()},
        events=WEBHOOK_EVENTS,
        full=len(endpoints) >= store.MAX_PER_ORGANISATION,
        max_webhooks=store.MAX_PER_ORGANISATION,
        locale=page_locale(),
    )
    return page, status


@bp.get("/orgs/<slug>/webhooks")
@login_required
def webhooks(slug: str) -> ResponseReturnValue:
    """The organisation's webhooks with their latest deliveries, and the form for a new one."""
    return _page(visible_organisation_or_404(slug))


@bp.post("/orgs/<slug>/webhooks")
@login_required
def create_webhook(slug: str) -> ResponseReturnValue:
    """Create a webhook and show its secret once (201); a refused field is named and nothing is created (422)."""
    organisation = visible_organisation_or_404(slug)
    admin_or_403(organisation, "webhook creation")  # a webhook sends the organisation's events to another system
    form = {"url": request.form.get("url", "").strip(), "events": request.form.getlist("events")}
    try:
        endpoint, secret = store.create(session(), current_app.config, organisation, actor(me(), SURFACE), form["url"], form["events"])
    except store.WebhookError as exc:
        session().rollback()
        return _page(organisation, errors={exc.field: webhook_message(exc)}, form=form, status=422)
    return _page(organisation, created={"webhook": endpoint, "secret": secret}, status=201)


def _webhook_or_404(slug: str, webhook_id: int) -> tuple[Organisation, WebhookEndpoint]:
    """The organisation the manager may see and its webhook; 404 for anything else."""
    organisation = visible_organisation_or_404(slug)
    endpoint = store.webhook_of(session(), organisation, webhook_id)
    if endpoint is None:
        abort(404)
    return organisation, endpoint


@bp.get("/orgs/<slug>/webhooks/<int:webhook_id>/delete")
@login_required
def confirm_delete_webhook(slug: str, webhook_id: int) -> ResponseReturnValue:
    """Ask before deleting a webhook: it cannot be undone (a new one gets a new secret)."""
    organisation, endpoint = _webhook_or_404(slug, webhook_id)
    return render_template("manage/delete_webhook.html", org=organisation, webhook=endpoint, host=store.host_of(endpoint.url))


@bp.post("/orgs/<slug>/webhooks/<int:webhook_id>/delete")
@login_required
def delete_webhook(slug: str, webhook_id: int) -> ResponseReturnValue:
    """Delete a webhook with its deliveries and return to the list, which says so."""
    organisation, endpoint = _webhook_or_404(slug, webhook_id)
    admin_or_403(organisation, "webhook deletion")
    host = store.host_of(endpoint.url)
    store.delete(session(), organisation, endpoint, actor(me(), SURFACE))
    flash(gettext(DELETED) % {"host": host})
    return redirect(url_for("manage.webhooks", slug=organisation.slug, **kept_language()), code=303)
