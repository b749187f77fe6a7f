"""The organisation profile in the manager area: a form for what the ready-to-paste texts need beyond the answers."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import login_required

from ...store import profiles
from ...store.db import session
from ...store.models import PROFILE_FIELDS
from . import bp, page_locale, visible_organisation_or_404

# Fields shown only to organisations bound to professional secrecy in the documents, grouped on the form.
PROFESSIONAL_FIELDS = ("chamber", "professional_title", "professional_rules_url")


@bp.route("/orgs/<slug>/profile", methods=["GET", "POST"])
@login_required
def profile(slug: str) -> ResponseReturnValue:
    """Show and save the organisation profile; a refused field is named, and nothing is stored (422)."""
    org = visible_organisation_or_404(slug)
    errors: dict[str, str] = {}
    values: dict[str, str | None]
    if request.method == "POST":
        submitted: dict[str, str | None] = {name: request.form.get(name, "") for name in PROFILE_FIELDS}
        try:
            profiles.update_profile(session(), org, submitted)
        except profiles.ProfileError as exc:
            session().rollback()
            errors = {p.field: p.message(gettext) for p in exc.problems}
            values = submitted
        else:
            return redirect(url_for("manage.profile", slug=org.slug, saved=1), code=303)
    else:
        values = profiles.profile_fields(session(), org)
    page = render_template(
        "manage/profile.html",
        org=org,
        values=values,
        errors=errors,
        labels={name: gettext(label) for name, label in profiles.FIELD_LABELS.items()},
        limits=PROFILE_FIELDS,
        general_fields=[name for name in PROFILE_FIELDS if name not in PROFESSIONAL_FIELDS],
        professional_fields=PROFESSIONAL_FIELDS,
        saved=request.method == "GET" and request.args.get("saved") == "1",
        locale=page_locale(),
    )
    return page, 422 if errors else 200
