"""The audit log in the manager API: `GET /api/v1/orgs/<slug>/audit` for the organisation's admins (members 403, others 404)."""

from __future__ import annotations

import re
from typing import Any

from flask import jsonify, request, url_for
from flask_babel import gettext

from ..i18n import N_
from ..store import audit
from ..store.db import session
from ..store.models import Event, is_row_id
from .errors import ApiError
from .manager_api import _organisation, admin_only, bp

AUDIT_LIMIT = 100
BAD_LIMIT = N_('"limit" must be a whole number from 1 to %(max)s.')
BAD_BEFORE = N_('"before" must be the id of an entry (a whole number from 1 to 2147483647).')
BAD_ACTION = N_('"action" must be an action name like login.failed, or a prefix ending in a dot like login.')
BAD_ACTOR = N_('"actor" must be an e-mail address, "cli" or "respondent" (at most 254 characters).')
ACTION_PATTERN = re.compile(r"[a-z_]+(\.[a-z_]*)*")


def entry_dict(event: Event) -> dict[str, Any]:
    """One entry as the API shows it: id, time, who, what, on which target, from where, details (never secrets or answers)."""
    return {
        "id": event.id,
        "at": event.created_at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "target": event.subject,
        "via": event.via,
        "address": event.address,
        "details": event.details or {},
    }


def _parameters() -> audit.AuditFilter:
    """The query's filter; 400 with a named field when a value is not allowed."""
    args = request.args
    raw_limit = args.get("limit", str(AUDIT_LIMIT))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= audit.PAGE_MAX:
        raise ApiError(400, "invalid_limit", gettext(BAD_LIMIT) % {"max": audit.PAGE_MAX}, {"field": "limit"})
    raw_before = args.get("before")
    if raw_before is not None and not (raw_before.isdigit() and len(raw_before) <= 10 and is_row_id(int(raw_before))):
        raise ApiError(400, "invalid_before", gettext(BAD_BEFORE), {"field": "before"})
    action = args.get("action")
    if action is not None and (len(action) > 48 or not ACTION_PATTERN.fullmatch(action)):
        raise ApiError(400, "invalid_action", gettext(BAD_ACTION), {"field": "action"})
    who = args.get("actor")
    if who is not None and (not who or len(who) > 254):
        raise ApiError(400, "invalid_actor", gettext(BAD_ACTOR), {"field": "actor"})
    return audit.AuditFilter(actor=who, action=action, before=int(raw_before) if raw_before else None, limit=int(raw_limit))


@bp.get("/<slug>/audit")
def audit_log(slug: str):
    """The organisation's audit log, newest first, a page at a time (`limit`, `before`, `action`, `actor`); `next` is the next page's URL."""
    organisation = _organisation(slug)
    admin_only(organisation, "audit log")
    wanted = _parameters()
    # Nobody's name holds a NUL character (and PostgreSQL refuses one in a query): such a filter matches nothing.
    entries, next_before = ([], None) if "\x00" in (wanted.actor or "") else audit.entries(session(), organisation.id, wanted)
    following = None
    if next_before is not None:
        kept: dict[str, Any] = {name: request.args[name] for name in ("limit", "action", "actor") if name in request.args}
        following = url_for("manager_api.audit_log", slug=organisation.slug, before=next_before, **kept)
    return jsonify(entries=[entry_dict(event) for event in entries], next=following)
