"""Queries across many organisations at once: a manager's own items, and the progress snapshots and tracking of a portfolio.

A consultant may look after hundreds of organisations: every function here answers
for all of them in one query, never one query per organisation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from .models import Evidence, EvidenceItem, ItemTracking, Manager, Membership, Organisation, ProgressSnapshot


@dataclass(frozen=True)
class OwnedItem:
    """One open item a manager takes care of, with its organisation."""

    organisation: Organisation
    tracking: ItemTracking


def owned_items(session: Session, manager: Manager) -> list[OwnedItem]:
    """The manager's items that are not closed, in the organisations the manager may see (member, or any as admin)."""
    query = (
        select(ItemTracking, Organisation)
        .join(Organisation, Organisation.id == ItemTracking.organisation_id)
        .where(ItemTracking.owner_id == manager.id, ItemTracking.workflow != "closed")
    )
    if not manager.is_operator:
        # An owner who left the organisation no longer sees its items (its pages are 404 for them too).
        member = exists().where(Membership.organisation_id == Organisation.id, Membership.manager_id == manager.id)
        query = query.where(member)
    return [OwnedItem(organisation, row) for row, organisation in session.execute(query)]


def expired_evidence(session: Session, organisation_ids: Iterable[int], today: date) -> set[tuple[int, str]]:
    """The (organisation id, item id) pairs that have evidence past its expiry date, in one query."""
    ids = sorted(set(organisation_ids))
    if not ids:
        return set()
    query = (
        select(EvidenceItem.organisation_id, EvidenceItem.item_id)
        .join(Evidence, Evidence.id == EvidenceItem.evidence_id)
        .where(EvidenceItem.organisation_id.in_(ids), Evidence.expires.is_not(None), Evidence.expires < today)
        .distinct()
    )
    return {(org, item) for org, item in session.execute(query)}


def active_risks(session: Session, organisation_ids: Iterable[int], today: date) -> set[tuple[int, str]]:
    """The (organisation id, item id) pairs whose risk acceptance still lasts, in one query."""
    ids = sorted(set(organisation_ids))
    if not ids:
        return set()
    query = select(ItemTracking.organisation_id, ItemTracking.item_id).where(
        ItemTracking.organisation_id.in_(ids),
        ItemTracking.risk_reason.is_not(None),
        ItemTracking.risk_until.is_not(None),
        ItemTracking.risk_until >= today,
    )
    return {(org, item) for org, item in session.execute(query)}


def snapshots(session: Session, organisation_ids: Iterable[int], start: date, end: date) -> dict[int, list[ProgressSnapshot]]:
    """Each organisation's snapshots from `start` to `end`, led by its last one before `start` (to carry forward), in one query."""
    ids = sorted(set(organisation_ids))
    if not ids:
        return {}
    earlier = aliased(ProgressSnapshot)
    last_before = (
        select(func.max(earlier.day))
        .where(earlier.organisation_id == ProgressSnapshot.organisation_id, earlier.day < start)
        .correlate(ProgressSnapshot)
        .scalar_subquery()
    )
    query = (
        select(ProgressSnapshot)
        .where(
            ProgressSnapshot.organisation_id.in_(ids),
            ProgressSnapshot.day <= end,
            or_(ProgressSnapshot.day >= start, and_(ProgressSnapshot.day < start, ProgressSnapshot.day == last_before)),
        )
        .order_by(ProgressSnapshot.organisation_id, ProgressSnapshot.day)
    )
    out: dict[int, list[ProgressSnapshot]] = {i: [] for i in ids}
    for row in session.scalars(query):
        out[row.organisation_id].append(row)
    return out


def daily(rows: Sequence[ProgressSnapshot], start: date, days: int) -> list[dict[str, Any]]:
    """One entry per day from `start` (as `tracking.progress` gives them): each day's counts carried forward, None before the first."""
    by_day = {row.day: row.counts for row in rows}
    current = next((row.counts for row in reversed(rows) if row.day < start), None)
    out = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        current = by_day.get(day, current)
        out.append({"day": day.isoformat(), "counts": current})
    return out
