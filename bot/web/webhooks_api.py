"""The manager API of signed webhooks: create one (its secret shown once), list, read, delete, and see its deliveries.

Routes on the manager API's blueprint (Bearer token; another organisation's is 404).
A refused webhook names its field and problem in a localised 400/422 and stores nothing.
"""

from __future__ import annotations

from flask import Response, current_app, jsonify, url_for
from flask_babel import gettext

from ..i18n import N_
from ..store import webhooks as store
from ..store.db import session
from ..store.models import Organisation, WebhookEndpoint
from ..store.notifications import WEBHOOK_EVENTS
from .api import read_json
from .errors import HTTP_MESSAGES, ApiError
from .items_api import _bad_body, _only
from .manager_api import API, _organisation, admin_only, bp, current_manager
from .records import actor

# Why a webhook was refused, by the store's code; the manager area shows the same sentences.
WEBHOOK_ERRORS = {
    "invalid_url": N_(
        "Please check the address: it must be a complete web address such as https://example.com/hook "
        "(at most 2,000 characters, without user name, password, spaces or control characters)."
    ),
    "https_required": N_("The address must start with https://, so that the deliveries travel encrypted."),
    "unresolvable": N_("The server name in the address cannot be found. Please check the address."),
    "private_address": N_("The address leads into a private or local network. Webhooks are sent only to addresses on the public internet."),
    "metadata_address": N_("The address leads to a cloud server's internal metadata service. Webhooks are never sent there."),
    "events_required": N_("Please choose at least one event."),
    "unknown_event": N_("Please choose events from this list: %(allowed)s."),
    "too_many_webhooks": N_("An organisation can have at most %(max)s webhooks. Please delete one first."),
}


def webhook_message(exc: store.WebhookError) -> str:
    """The localised sentence for a refused webhook."""
    fallback = WEBHOOK_ERRORS["unknown_event" if exc.field == "events" else "invalid_url"]  # e.g. `wrong_type`
    template = WEBHOOK_ERRORS.get(exc.code, fallback)
    return gettext(template) % {"allowed": ", ".join(WEBHOOK_EVENTS), "max": store.MAX_PER_ORGANISATION}


def _refused(exc: store.WebhookError) -> ApiError:
    """A refused webhook as a 422 naming the field (the session is rolled back: nothing stored)."""
    session().rollback()
    details = {"field": exc.field, **({"allowed": list(WEBHOOK_EVENTS)} if exc.field == "events" else {})}
    return ApiError(422, exc.code, webhook_message(exc), details)


def _webhook(slug: str, webhook_id: int) -> tuple[Organisation, WebhookEndpoint]:
    """The organisation (404 unless visible) and its webhook (404 unless it has one with this id)."""
    organisation = _organisation(slug)
    endpoint = store.webhook_of(session(), organisation, webhook_id)
    if endpoint is None:
        raise ApiError(404, "not_found", gettext(HTTP_MESSAGES[404]))
    return organisation, endpoint


@bp.post("/<slug>/webhooks")
def create_webhook(slug: str):
    """Create a webhook (`{url, events}`): 201 with its secret in `whsec_…` form, shown only here; a refused target or event list is 422."""
    data = read_json()
    organisation = _organisation(slug)
    admin_only(organisation, "webhook creation")  # a webhook sends the organisation's events to another system
    _only(data, ("url", "events"))
    url, events = data.get("url"), data.get("events")
    if not isinstance(url, str):
        raise _bad_body("url")
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise _bad_body("events")
    try:
        endpoint, secret = store.create(session(), current_app.config, organisation, actor(current_manager(), API), url, events)
    except store.WebhookError as exc:
        raise _refused(exc) from exc
    location = url_for("manager_api.get_webhook", slug=organisation.slug, webhook_id=endpoint.id)
    return jsonify({**store.webhook_dict(endpoint), "secret": secret}), 201, {"Location": location}


@bp.get("/<slug>/webhooks")
def list_webhooks(slug: str):
    """The organisation's webhooks, oldest first (never their secrets)."""
    organisation = _organisation(slug)
    return jsonify(webhooks=[store.webhook_dict(e) for e in store.webhooks_of(session(), organisation)])


@bp.get("/<slug>/webhooks/<int:webhook_id>")
def get_webhook(slug: str, webhook_id: int):
    """One webhook (never its secret)."""
    _org, endpoint = _webhook(slug, webhook_id)
    return jsonify(store.webhook_dict(endpoint))


@bp.delete("/<slug>/webhooks/<int:webhook_id>")
def delete_webhook(slug: str, webhook_id: int) -> Response:
    """Delete a webhook with its deliveries (pending ones are not sent): 204."""
    organisation, endpoint = _webhook(slug, webhook_id)
    admin_only(organisation, "webhook deletion")
    store.delete(session(), organisation, endpoint, actor(current_manager(), API))
    return Response(status=204)


@bp.get("/<slug>/webhooks/<int:webhook_id>/deliveries")
def webhook_deliveries(slug: str, webhook_id: int):
    """The webhook's latest deliveries, newest first (at most 100): event, status, attempts, last response code, next attempt."""
    _org, endpoint = _webhook(slug, webhook_id)
    return jsonify(deliveries=[store.delivery_dict(m) for m in store.deliveries_of(session(), endpoint)])
