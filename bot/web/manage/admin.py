"""Administration (operators only): create organisations and managers, and pin their flow version, with the same rules as the command line."""

from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import login_required

from ...i18n import N_, SUPPORTED_LOCALES
from ...store import managers
from ...store import organisations as organisation_store
from ...store.db import session
from ...store.models import ROLES, Organisation
from ..records import actor
from . import bp, me, page_locale

# The store's refusals (one line of English each, as the command line prints them), in the page's language.
ORGANISATION_ERRORS: dict[type[organisation_store.OrganisationError], str] = {
    organisation_store.InvalidSlugError: N_(
        "The short name may contain only lower-case letters a–z, digits and hyphens (1 to 63 characters, starting and ending with a letter or digit)."
    ),
    organisation_store.InvalidNameError: N_("Please give a display name: at most 200 characters, on one line."),
    organisation_store.InvalidLocaleError: N_("Please choose one of the offered languages."),
    organisation_store.OrganisationExistsError: N_("An organisation with this short name exists already."),
}
MANAGER_ERRORS: dict[type[managers.ManagerError], str] = {
    managers.InvalidEmailError: N_("Please give a valid e-mail address."),
    managers.InvalidRoleError: N_("Please choose one of the offered roles."),
    managers.PasswordNotAllowedError: N_(
        "The password must have at least 12 characters and must not be a common password (or leave it empty for API access only)."
    ),
    managers.ManagerExistsError: N_("A manager with this e-mail address exists already."),
}
UNKNOWN_FLOW = N_("Please choose one of the offered flow versions.")
NO_ORGANISATION = N_("Please choose one of the listed organisations.")


@bp.route("/admin", methods=["GET", "POST"])
@login_required
def admin() -> ResponseReturnValue:
    """Create organisations and managers (operators only)."""
    if not me().is_operator:
        abort(404)
    created: dict[str, str] = {}
    errors: list[str] = []
    form = request.form
    if request.method == "POST" and form.get("create") == "organisation":
        try:
            org = organisation_store.create_organisation(session(), form.get("slug", "").strip(), form.get("name", ""), form.get("locale") or "de")
        except organisation_store.OrganisationError as exc:
            errors.append(gettext(ORGANISATION_ERRORS[type(exc)]))
        else:
            created = {"kind": "organisation", "name": org.name, "secret": org.embed_key}
    elif request.method == "POST" and form.get("create") == "manager":
        slugs = form.getlist("orgs")
        orgs = [o for o in managers.visible_organisations(session(), me()) if o.slug in slugs]
        try:
            manager, token = managers.create_manager(
                session(), form.get("email", ""), orgs, password=form.get("password") or None, role=form.get("role") or None
            )
        except managers.ManagerError as exc:
            errors.append(gettext(MANAGER_ERRORS[type(exc)]))
        else:
            created = {"kind": "manager", "name": manager.email, "secret": token}
    elif request.method == "POST" and form.get("create") == "pin":
        pinned = _pin(form.get("org", ""), form.get("flow", ""), errors)
        if pinned is not None:
            created = {"kind": "pin", "name": pinned.name, "secret": organisation_store.flow_label(pinned)}
    status = 422 if errors else 200
    organisations = managers.visible_organisations(session(), me())
    flow_choices = organisation_store.flow_refs(current_app.extensions["engines"].engines)
    page = render_template(
        "manage/admin.html",
        created=created,
        errors=errors,
        organisations=organisations,
        roles=ROLES,
        locales=SUPPORTED_LOCALES,
        flow_choices=flow_choices,
        latest=organisation_store.LATEST,
        locale=page_locale(),
    )
    return page, status


def _pin(slug: str, reference: str, errors: list[str]) -> Organisation | None:
    """Pin (or with `latest` unpin) an organisation's flow version; a refusal is added to `errors` and changes nothing."""
    organisation = managers.visible_organisation(session(), me(), slug) if len(slug) <= 64 else None
    if organisation is None:
        errors.append(gettext(NO_ORGANISATION))
        return None
    try:
        choice = organisation_store.parse_flow_ref(reference, current_app.extensions["engines"].engines)
    except organisation_store.UnknownFlowError:
        errors.append(gettext(UNKNOWN_FLOW))
        return None
    organisation_store.pin_flow(session(), organisation, choice, actor(me(), "manage"))
    return organisation
