"""Respondent links in the manager area: create one (its address shown once), list them without tokens, revoke one after confirming."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import login_required
from sqlalchemy import func, select

from ...i18n import N_
from ...store import links as link_store
from ...store.db import session
from ...store.models import Assessment, Organisation, RespondentLink, utcnow
from ..records import actor
from . import bp, kept_language, me, page_locale, visible_organisation_or_404

# The store's refusals by field, in the page's language.
BAD_LABEL = N_("The label may have at most %(max)s characters, without line breaks or other control characters.")
BAD_DAYS = N_("Please give a whole number of days from 1 to %(max)s.")
REVOKED = N_("The link “%(label)s” has been revoked: it starts nothing more.")
REVOKED_UNLABELLED = N_("The link has been revoked: it starts nothing more.")
SURFACE = "manage"  # the surface the event log names for the manager area


def link_status(link: RespondentLink) -> str:
    """active, expired or revoked (revoked wins: it was a decision)."""
    if link.revoked_at is not None:
        return "revoked"
    return "active" if link.usable(utcnow()) else "expired"


def _uses(organisation: Organisation) -> dict[int, int]:
    """How many assessments each of the organisation's links started (one query)."""
    query = (
        select(Assessment.respondent_link_id, func.count())
        .where(Assessment.organisation_id == organisation.id, Assessment.respondent_link_id.is_not(None))
        .group_by(Assessment.respondent_link_id)
    )
    return {link_id: count for link_id, count in session().execute(query) if link_id is not None}


def _snippet(token: str) -> str | None:
    """The widget's one line for a page that is not public (an intranet), once the widget is served by this app."""
    if "widget.script" not in current_app.view_functions:
        return None
    return f'<script src="{url_for("widget.script", _external=True)}" data-respondent-link="{token}" defer></script>'


def _page(
    organisation: Organisation,
    *,
    created: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    uses = _uses(organisation)
    rows = [{"link": link, "status": link_status(link), "uses": uses.get(link.id, 0)} for link in link_store.links_of(session(), organisation)]
    page = render_template(
        "manage/links.html",
        org=organisation,
        rows=rows,
        created=created,
        errors=errors or {},
        form=form or {"label": "", "expires_days": str(link_store.DEFAULT_EXPIRES_DAYS)},
        label_max=link_store.LABEL_MAX_LENGTH,
        days_max=link_store.MAX_EXPIRES_DAYS,
        locale=page_locale(),
    )
    return page, status


@bp.get("/orgs/<slug>/links")
@login_required
def links(slug: str) -> ResponseReturnValue:
    """The organisation's respondent links (never their tokens) and the form for a new one."""
    return _page(visible_organisation_or_404(slug))


@bp.post("/orgs/<slug>/links")
@login_required
def create_link(slug: str) -> ResponseReturnValue:
    """Create a respondent link and show its address and widget line once (201); a refused field is named, nothing is created (422)."""
    organisation = visible_organisation_or_404(slug)
    form = {"label": request.form.get("label", ""), "expires_days": request.form.get("expires_days", "")}
    errors: dict[str, str] = {}
    label: str | None = None
    days = link_store.DEFAULT_EXPIRES_DAYS
    try:
        label = link_store.clean_label(form["label"])
    except link_store.LinkInputError:
        errors["label"] = gettext(BAD_LABEL) % {"max": link_store.LABEL_MAX_LENGTH}
    try:
        days = link_store.clean_expires_days(form["expires_days"])
    except link_store.LinkInputError:
        errors["expires_days"] = gettext(BAD_DAYS) % {"max": link_store.MAX_EXPIRES_DAYS}
    if errors:
        return _page(organisation, errors=errors, form=form, status=422)
    link, token = link_store.create_link(session(), organisation, actor(me(), SURFACE), label, days)
    created = {"link": link, "url": url_for("respondent.respondent_start", token=token, _external=True), "snippet": _snippet(token)}
    return _page(organisation, created=created, status=201)


def _link_or_404(organisation: Organisation, link_id: int) -> RespondentLink:
    link = link_store.link_of(session(), organisation, link_id)
    if link is None:
        abort(404)
    return link


@bp.get("/orgs/<slug>/links/<int:link_id>/revoke")
@login_required
def confirm_revoke(slug: str, link_id: int) -> ResponseReturnValue:
    """Ask before revoking: what revoking a link does, with the button that does it."""
    organisation = visible_organisation_or_404(slug)
    link = _link_or_404(organisation, link_id)
    return render_template("manage/revoke_link.html", org=organisation, link=link, status=link_status(link), locale=page_locale())


@bp.post("/orgs/<slug>/links/<int:link_id>/revoke")
@login_required
def revoke_link(slug: str, link_id: int) -> ResponseReturnValue:
    """Revoke a link (again: no change) and return to the list, which says so."""
    organisation = visible_organisation_or_404(slug)
    link = _link_or_404(organisation, link_id)
    link_store.revoke(session(), link, actor(me(), SURFACE))
    flash(gettext(REVOKED) % {"label": link.label} if link.label else gettext(REVOKED_UNLABELLED))
    return redirect(url_for("manage.links", slug=organisation.slug, **kept_language()), code=303)
