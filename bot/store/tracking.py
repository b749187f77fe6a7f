"""The living checklist's overlay per organisation and item: owner, due date, workflow, risk acceptance, comments, evidence, progress.

Every change is validated first (TrackingError names the field and nothing is
stored), checked against the item's `version` (StaleTrackingError: someone else
changed it), and committed together with its entry in the event log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from . import events
from .models import Evidence, EvidenceItem, ItemComment, ItemTracking, Manager, Membership, Organisation, ProgressSnapshot, is_row_id, utcnow

WORKFLOW_STATES = ("todo", "in_progress", "in_review", "closed")
COMMENT_MAX_LENGTH = 4000
REASON_MAX_LENGTH = 2000
NAME_MAX_LENGTH = 200
URL_MAX_LENGTH = 2000
MAX_EVIDENCE_BYTES = 10 * 1024 * 1024


class TrackingError(ValueError):
    """A change cannot be stored as asked: `field` names the part that is wrong, `code` says how."""

    def __init__(self, field: str, code: str, **params: Any) -> None:
        """Name the field, the problem and its parameters."""
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code
        self.params = params


class StaleTrackingError(Exception):
    """Someone else changed the item since its `version` was read: nothing was stored."""


def _clean_text(value: object, field: str, limit: int, *, multiline: bool) -> str:
    """A required text: a string, not blank, within `limit`, without control characters (line breaks where allowed)."""
    if value is None:
        raise TrackingError(field, "required")
    if not isinstance(value, str):
        raise TrackingError(field, "wrong_type")
    allowed = {"\n", "\r", "\t"} if multiline else set()
    if any((ord(c) < 32 and c not in allowed) or ord(c) == 127 for c in value):
        raise TrackingError(field, "control_characters")
    if not value.strip():
        raise TrackingError(field, "required")
    if len(value) > limit:
        raise TrackingError(field, "too_long", limit=limit)
    return value.strip()


def parse_date(value: object, field: str, *, required: bool = False) -> date | None:
    """A date given as YYYY-MM-DD (None or "" for none, unless required)."""
    if value is None or value == "":
        if required:
            raise TrackingError(field, "required")
        return None
    if not isinstance(value, str) or len(value) != 10:
        raise TrackingError(field, "invalid_date")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise TrackingError(field, "invalid_date") from exc


# -- tracking rows ---------------------------------------------------------------------------


def tracking_of(session: Session, organisation: Organisation) -> dict[str, ItemTracking]:
    """The organisation's tracking rows by item id (items never tracked have none)."""
    return tracking_by_organisation(session, [organisation.id]).get(organisation.id, {})


def tracking_by_organisation(session: Session, organisation_ids: list[int]) -> dict[int, dict[str, ItemTracking]]:
    """The tracking rows of many organisations in one query: organisation id -> item id -> row."""
    query = select(ItemTracking).where(ItemTracking.organisation_id.in_(organisation_ids)).options(selectinload(ItemTracking.owner))
    out: dict[int, dict[str, ItemTracking]] = {}
    for row in session.scalars(query):
        out.setdefault(row.organisation_id, {})[row.item_id] = row
    return out


def tracking_for(session: Session, organisation: Organisation, item_id: str) -> ItemTracking | None:
    """One item's tracking row, if it was ever tracked."""
    return session.scalar(select(ItemTracking).where(ItemTracking.organisation_id == organisation.id, ItemTracking.item_id == item_id))


def member(session: Session, organisation: Organisation, email: str) -> Manager | None:
    """The manager with this e-mail who belongs to the organisation, if any."""
    query = (
        select(Manager)
        .join(Membership, Membership.manager_id == Manager.id)
        .where(Membership.organisation_id == organisation.id, func.lower(Manager.email) == email.strip().lower())
    )
    return session.scalar(query)


def members(session: Session, organisation: Organisation) -> list[Manager]:
    """The managers who belong to the organisation, by e-mail."""
    query = select(Manager).join(Membership, Membership.manager_id == Manager.id).where(Membership.organisation_id == organisation.id)
    return sorted(session.scalars(query), key=lambda m: m.email)


def _row_for_change(session: Session, organisation: Organisation, item_id: str, version: object) -> ItemTracking:
    """The item's row for a change at `version` (0: never tracked yet); StaleTrackingError when it moved on."""
    if version is None:
        raise TrackingError("version", "required")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise TrackingError("version", "wrong_type")
    row = tracking_for(session, organisation, item_id)
    current = row.version if row is not None else 0
    if version != current:
        raise StaleTrackingError(item_id)
    if row is None:
        row = ItemTracking(organisation_id=organisation.id, item_id=item_id, workflow="todo")
        session.add(row)
    return row


def _commit(session: Session) -> None:
    """Commit a tracking change; a concurrent writer (version counter or a new row for the same item) is a StaleTrackingError."""
    from sqlalchemy.orm.exc import StaleDataError

    try:
        session.commit()
    except (StaleDataError, IntegrityError) as exc:
        session.rollback()
        raise StaleTrackingError(str(exc)) from exc


def update_item(session: Session, organisation: Organisation, item_id: str, version: object, changes: Mapping[str, Any], actor: events.Actor) -> ItemTracking:
    """Change an item's owner (a member's e-mail), due date and workflow state; `None` clears owner and due.

    Raises TrackingError (nothing stored) or StaleTrackingError.
    """
    unknown = sorted(set(changes) - {"owner", "due", "workflow"})
    if unknown:
        raise TrackingError(unknown[0], "unknown_field")
    values: dict[str, Any] = {}
    if "owner" in changes:
        owner = changes["owner"]
        found = None
        if owner is not None:
            found = member(session, organisation, owner) if isinstance(owner, str) and "\x00" not in owner and len(owner) <= 254 else None
            if found is None:
                raise TrackingError("owner", "not_a_member")
        values["owner"] = found
    if "due" in changes:
        values["due"] = parse_date(changes["due"], "due")
    if "workflow" in changes:
        if changes["workflow"] not in WORKFLOW_STATES:
            raise TrackingError("workflow", "invalid_workflow", allowed=list(WORKFLOW_STATES))
        values["workflow"] = changes["workflow"]
    row = _row_for_change(session, organisation, item_id, version)
    before = {"owner": row.owner.email if row.owner is not None else None, "due": _iso(row.due), "workflow": row.workflow}
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    after = {"owner": row.owner.email if row.owner is not None else None, "due": _iso(row.due), "workflow": row.workflow}
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if not changed:  # the same values again (a form sent unchanged): no new version, no event
        session.rollback()
        return row
    events.record(session, actor, "item.updated", organisation, item_id, item=item_id, changes=changed)
    _commit(session)
    return row


def accept_risk(
    session: Session, organisation: Organisation, item_id: str, reason: object, until: object, actor: events.Actor, today: date | None = None
) -> ItemTracking:
    """Record that a manager accepts the item's risk for a reason until a date (today or later; it expires by itself)."""
    clean_reason = _clean_text(reason, "reason", REASON_MAX_LENGTH, multiline=True)
    until_date = parse_date(until, "until", required=True)
    assert until_date is not None
    if until_date < (today or utcnow().date()):
        raise TrackingError("until", "date_in_past")
    row = tracking_for(session, organisation, item_id)
    if row is None:
        row = ItemTracking(organisation_id=organisation.id, item_id=item_id, workflow="todo")
        session.add(row)
    row.risk_reason, row.risk_until, row.risk_by, row.risk_accepted_at = clean_reason, until_date, actor.name, utcnow()
    row.updated_at = utcnow()
    events.record(session, actor, "item.risk_accepted", organisation, item_id, item=item_id, reason=clean_reason, until=until_date.isoformat())
    _commit(session)
    return row


def clear_risk(session: Session, organisation: Organisation, item_id: str, actor: events.Actor) -> bool:
    """Withdraw the item's risk acceptance; False when there was none."""
    row = tracking_for(session, organisation, item_id)
    if row is None or row.risk_reason is None:
        return False
    reason = row.risk_reason
    row.risk_reason = row.risk_until = row.risk_by = row.risk_accepted_at = None
    row.updated_at = utcnow()
    events.record(session, actor, "item.risk_withdrawn", organisation, item_id, item=item_id, reason=reason)
    _commit(session)
    return True


def active_risk(row: ItemTracking | None, today: date) -> dict[str, Any] | None:
    """The item's risk acceptance while it lasts (`{reason, by, until}`), None when there is none or it expired."""
    if row is None or row.risk_reason is None or row.risk_until is None or row.risk_until < today:
        return None
    return {"reason": row.risk_reason, "by": row.risk_by, "until": row.risk_until.isoformat()}


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


# -- comments ---------------------------------------------------------------------------------


def add_comment(session: Session, organisation: Organisation, item_id: str, text: object, actor: events.Actor) -> ItemComment:
    """Add a comment (up to 4,000 characters; line breaks allowed) to the item."""
    clean = _clean_text(text, "text", COMMENT_MAX_LENGTH, multiline=True)
    comment = ItemComment(organisation_id=organisation.id, item_id=item_id, author_id=actor.manager_id, author=actor.name, text=clean)
    session.add(comment)
    session.flush()
    events.record(session, actor, "item.commented", organisation, item_id, item=item_id, comment=comment.id)
    session.commit()
    return comment


def comments_of(session: Session, organisation: Organisation, item_id: str) -> list[ItemComment]:
    """The item's comments, oldest first."""
    query = select(ItemComment).where(ItemComment.organisation_id == organisation.id, ItemComment.item_id == item_id).order_by(ItemComment.id)
    return list(session.scalars(query))


def comment_counts(session: Session, organisation: Organisation) -> dict[str, int]:
    """How many comments each item has."""
    return comment_counts_by_organisation(session, [organisation.id]).get(organisation.id, {})


def comment_counts_by_organisation(session: Session, organisation_ids: list[int]) -> dict[int, dict[str, int]]:
    """How many comments each item of many organisations has, in one query: organisation id -> item id -> count."""
    query = (
        select(ItemComment.organisation_id, ItemComment.item_id, func.count())
        .where(ItemComment.organisation_id.in_(organisation_ids))
        .group_by(ItemComment.organisation_id, ItemComment.item_id)
    )
    out: dict[int, dict[str, int]] = {}
    for organisation_id, item, count in session.execute(query):
        out.setdefault(organisation_id, {})[item] = count
    return out


# -- evidence ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceDates:
    """When a piece of evidence took effect and (optionally) when it expires."""

    effective: date | None
    expires: date | None

    @classmethod
    def parse(cls, effective: object, expires: object, today: date | None = None) -> EvidenceDates:
        """Read both dates (effective defaults to today); the expiry may not come before the effective date."""
        effective_date = parse_date(effective, "effective") or (today or utcnow().date())
        expires_date = parse_date(expires, "expires")
        if expires_date is not None and expires_date < effective_date:
            raise TrackingError("expires", "before_effective")
        return cls(effective_date, expires_date)


def clean_name(name: object) -> str:
    """An evidence name: up to 200 characters, one line."""
    return _clean_text(name, "name", NAME_MAX_LENGTH, multiline=False)


def clean_url(url: object) -> str:
    """A link to evidence: an https:// or http:// address of at most 2,000 characters."""
    from urllib.parse import urlsplit

    if not isinstance(url, str) or len(url) > URL_MAX_LENGTH or any(ord(c) <= 32 or ord(c) == 127 for c in url):
        raise TrackingError("url", "invalid_url")
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # a broken IPv6 literal ("http://[")
        raise TrackingError("url", "invalid_url") from exc
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise TrackingError("url", "invalid_url")
    return url


def add_file(
    session: Session,
    organisation: Organisation,
    item_id: str,
    name: str,
    content: bytes,
    media_type: str,
    dates: EvidenceDates,
    actor: events.Actor,
) -> Evidence:
    """Store an uploaded file (already checked: name, type, size) as evidence of the item."""
    digest = hashlib.sha256(content).hexdigest()
    evidence = Evidence(
        organisation_id=organisation.id,
        kind="file",
        name=name,
        media_type=media_type,
        size=len(content),
        sha256=digest,
        content=content,
        effective=dates.effective,
        expires=dates.expires,
        uploaded_by=actor.name,
    )
    return _add(session, organisation, item_id, evidence, actor)


def add_link(session: Session, organisation: Organisation, item_id: str, url: object, name: object, dates: EvidenceDates, actor: events.Actor) -> Evidence:
    """Store a link (say, to the signed contract in the document system) as evidence of the item."""
    clean = clean_url(url)
    label = clean_name(name) if name not in (None, "") else clean[:NAME_MAX_LENGTH]
    evidence = Evidence(
        organisation_id=organisation.id, kind="link", name=label, url=clean, effective=dates.effective, expires=dates.expires, uploaded_by=actor.name
    )
    return _add(session, organisation, item_id, evidence, actor)


def _add(session: Session, organisation: Organisation, item_id: str, evidence: Evidence, actor: events.Actor) -> Evidence:
    session.add(evidence)
    session.flush()
    session.add(EvidenceItem(evidence_id=evidence.id, item_id=item_id, organisation_id=organisation.id))
    events.record(session, actor, "evidence.added", organisation, evidence.name, evidence=evidence.id, item=item_id, kind=evidence.kind, sha256=evidence.sha256)
    session.commit()
    session.refresh(evidence, ["links"])
    return evidence


def link_evidence(session: Session, organisation: Organisation, item_id: str, evidence: Evidence, actor: events.Actor) -> Evidence:
    """Link existing evidence of the organisation to another item too (linking twice changes nothing)."""
    if item_id not in {link.item_id for link in evidence.links}:
        session.add(EvidenceItem(evidence_id=evidence.id, item_id=item_id, organisation_id=organisation.id))
        events.record(session, actor, "evidence.linked", organisation, evidence.name, evidence=evidence.id, item=item_id)
        session.commit()
        session.refresh(evidence, ["links"])
    return evidence


def evidence_by_id(session: Session, organisation: Organisation, evidence_id: int) -> Evidence | None:
    """One piece of the organisation's evidence (another organisation's, or an id no row can have, is None)."""
    if not is_row_id(evidence_id):  # PostgreSQL refuses to compare an INTEGER column with a larger number
        return None
    return session.scalar(select(Evidence).where(Evidence.id == evidence_id, Evidence.organisation_id == organisation.id).options(selectinload(Evidence.links)))


def evidence_of(session: Session, organisation: Organisation) -> list[Evidence]:
    """All of the organisation's evidence with the items it is linked to (without the files' bytes), newest first."""
    return evidence_by_organisation(session, [organisation.id]).get(organisation.id, [])


def evidence_by_organisation(session: Session, organisation_ids: list[int]) -> dict[int, list[Evidence]]:
    """The evidence of many organisations with its links (without the files' bytes), newest first, in two queries."""
    query = select(Evidence).where(Evidence.organisation_id.in_(organisation_ids)).options(selectinload(Evidence.links)).order_by(Evidence.id.desc())
    out: dict[int, list[Evidence]] = {}
    for evidence in session.scalars(query):
        out.setdefault(evidence.organisation_id, []).append(evidence)
    return out


def evidence_by_item(evidence: Iterable[Evidence]) -> dict[str, list[Evidence]]:
    """The evidence grouped by the items it is linked to (each list newest first)."""
    grouped: dict[str, list[Evidence]] = {}
    for piece in evidence:
        for link in piece.links:
            grouped.setdefault(link.item_id, []).append(piece)
    return grouped


def delete_evidence(session: Session, organisation: Organisation, evidence: Evidence, actor: events.Actor) -> None:
    """Delete the evidence and its file; the event log keeps its name, hash, who and when."""
    items = sorted(link.item_id for link in evidence.links)
    events.record(
        session, actor, "evidence.deleted", organisation, evidence.name, evidence=evidence.id, items=items, kind=evidence.kind, sha256=evidence.sha256
    )
    session.delete(evidence)  # its links go with it (the relationship's cascade; the foreign key's ON DELETE CASCADE for unloaded ones)
    session.commit()


# -- progress ---------------------------------------------------------------------------------


def write_snapshot(session: Session, organisation: Organisation, counts: dict[str, Any], day: date | None = None) -> None:
    """Keep today's counts (the last change of the day wins); committed with the caller's change or on its own."""
    today = day or utcnow().date()
    row = session.scalar(select(ProgressSnapshot).where(ProgressSnapshot.organisation_id == organisation.id, ProgressSnapshot.day == today))
    if row is None:
        session.add(ProgressSnapshot(organisation_id=organisation.id, day=today, counts=counts))
    elif row.counts != counts:
        row.counts = counts
        row.updated_at = utcnow()
    try:
        session.commit()
    except IntegrityError:  # a concurrent request wrote today's first snapshot: the next change writes it again
        session.rollback()


def progress(session: Session, organisation: Organisation, days: int, today: date | None = None) -> list[dict[str, Any]]:
    """One entry per day of the last `days` days (oldest first), each day's counts carried forward from the last change."""
    end = today or utcnow().date()
    start = end - timedelta(days=days - 1)
    query = select(ProgressSnapshot).where(ProgressSnapshot.organisation_id == organisation.id, ProgressSnapshot.day <= end).order_by(ProgressSnapshot.day)
    earlier = session.scalar(query.where(ProgressSnapshot.day < start).order_by(None).order_by(ProgressSnapshot.day.desc()).limit(1))
    by_day = {row.day: row.counts for row in session.scalars(query.where(ProgressSnapshot.day >= start))}
    current = earlier.counts if earlier is not None else None
    out = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        current = by_day.get(day, current)
        out.append({"day": day.isoformat(), "counts": current})
    return out
