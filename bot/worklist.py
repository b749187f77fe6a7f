"""The living checklist as managers see it: each item's assessed status beside its tracking, and the progress snapshots.

The answers decide an item's status (done, open, critical, not applicable); the
tracking overlay adds who takes care of it, by when, how far it is, the evidence
and comments, and a risk acceptance. Staleness has one definition, used by the
overview, the items and the reminders: the checklist of record is due for review
`REVIEW_INTERVAL_DAYS` after it was last confirmed (completed, adopted, re-assessed
or amended), and an item needs review when its evidence expired or the checklist is
due. Knows the store and the engine, not Flask.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from .engine import Checklist, FlowEngine
from .engine.vocabulary import ItemStatus
from .review import DEFAULT_REVIEW_INTERVAL_DAYS, review_due
from .store import tracking as store
from .store.models import Assessment, Evidence, ItemTracking, Organisation, utcnow


def review_date(confirmed_at: datetime | None, interval_days: int = DEFAULT_REVIEW_INTERVAL_DAYS) -> date | None:
    """The day the checklist of record falls due for review."""
    return (confirmed_at + timedelta(days=interval_days)).date() if confirmed_at is not None else None


def evidence_dict(evidence: Evidence, today: date) -> dict[str, Any]:
    """A piece of evidence as an item lists it."""
    return {
        "id": evidence.id,
        "name": evidence.name,
        "kind": evidence.kind,
        "sha256": evidence.sha256,
        "effective": evidence.effective.isoformat() if evidence.effective else None,
        "expires": evidence.expires.isoformat() if evidence.expires else None,
        "expired": evidence.expired(today),
    }


@dataclass(frozen=True)
class Overlay:
    """Everything tracked for an organisation, loaded in three queries: rows, evidence with its links, comment counts."""

    rows: Mapping[str, ItemTracking]
    evidence: Mapping[str, list[Evidence]]
    comments: Mapping[str, int]
    today: date
    due_for_review: bool
    all_evidence: list[Evidence] = field(default_factory=list)

    @classmethod
    def load(cls, session: Session, organisation: Organisation, record: Assessment | None, interval_days: int, now: datetime | None = None) -> Overlay:
        """Load the organisation's tracking as of `now`."""
        return cls.load_many(session, [(organisation, record)], interval_days, now)[organisation.id]

    @classmethod
    def load_many(
        cls, session: Session, records: list[tuple[Organisation, Assessment | None]], interval_days: int, now: datetime | None = None
    ) -> dict[int, Overlay]:
        """The tracking of many organisations (each with its checklist of record), in four queries whatever their number."""
        moment = now or utcnow()
        ids = [organisation.id for organisation, _record in records]
        rows = store.tracking_by_organisation(session, ids)
        evidence = store.evidence_by_organisation(session, ids)
        comments = store.comment_counts_by_organisation(session, ids)
        return {
            organisation.id: cls(
                rows=rows.get(organisation.id, {}),
                evidence=store.evidence_by_item(evidence.get(organisation.id, [])),
                comments=comments.get(organisation.id, {}),
                today=moment.date(),
                due_for_review=review_due(record.recorded_at if record is not None else None, moment, interval_days),
                all_evidence=evidence.get(organisation.id, []),
            )
            for organisation, record in records
        }

    def tracking(self, item_id: str) -> dict[str, Any]:
        """The item's `tracking` object of the manager API."""
        row = self.rows.get(item_id)
        evidence = self.evidence.get(item_id, [])
        return {
            "version": row.version if row is not None else 0,
            "owner": row.owner.email if row is not None and row.owner is not None else None,
            "due": row.due.isoformat() if row is not None and row.due is not None else None,
            "workflow": row.workflow if row is not None else "todo",
            "risk_acceptance": store.active_risk(row, self.today),
            "evidence": [evidence_dict(e, self.today) for e in evidence],
            "comments": self.comments.get(item_id, 0),
            "needs_review": self.due_for_review or any(e.expired(self.today) for e in evidence),
        }

    def quality(self, item_id: str) -> list[str]:
        """The item's quality flags: `closed_without_evidence`, `evidence_without_file`."""
        row = self.rows.get(item_id)
        evidence = self.evidence.get(item_id, [])
        flags = []
        if row is not None and row.workflow == "closed" and not evidence:
            flags.append("closed_without_evidence")
        if evidence and all(e.kind != "file" for e in evidence):
            flags.append("evidence_without_file")
        return flags


# A risk can be accepted, and an acceptance counts and shows, only while the answers leave its item open or critical.
RISK_STATUSES = frozenset({ItemStatus.OPEN, ItemStatus.CRITICAL})


def risk_accepted_count(overlay: Overlay, items: Iterable[tuple[str, str]]) -> int:
    """How many of the (item id, status) pairs are open or critical with a risk acceptance that still lasts."""
    return sum(1 for item_id, status in items if status in RISK_STATUSES and store.active_risk(overlay.rows.get(item_id), overlay.today) is not None)


def annotate(data: dict[str, Any], overlay: Overlay) -> dict[str, Any]:
    """Add each item's `tracking` and `quality`, and the summary's `risk_accepted`, to a checklist body (in place; returned)."""
    for item in data["items"]:
        item["tracking"] = overlay.tracking(item["id"])
        if item["status"] not in RISK_STATUSES:  # the answers settled it since: nothing left to accept
            item["tracking"]["risk_acceptance"] = None
        item["quality"] = overlay.quality(item["id"])
    data["summary"] = {**data["summary"], "risk_accepted": risk_accepted_count(overlay, ((i["id"], i["status"]) for i in data["items"]))}
    return data


def counts(checklist: Checklist, overlay: Overlay) -> dict[str, Any]:
    """A progress snapshot's counts: items per assessed status and per workflow state, and risks accepted."""
    status = Counter(str(s) for s in ItemStatus)
    status.subtract(status)
    workflow = Counter({state: 0 for state in store.WORKFLOW_STATES})
    for item in checklist.items:
        status[str(item.status)] += 1
        if item.status is not ItemStatus.NOT_APPLICABLE:
            row = overlay.rows.get(item.id)
            workflow[row.workflow if row is not None else "todo"] += 1
    return {
        "status": dict(status),
        "workflow": dict(workflow),
        "risk_accepted": risk_accepted_count(overlay, ((i.id, i.status) for i in checklist.items)),
    }


def snapshot(session: Session, engine_for: Callable[[Assessment], FlowEngine], organisation: Organisation, interval_days: int) -> None:
    """Write today's progress snapshot of the organisation from its checklist of record and tracking (nothing without a record)."""
    from .store.assessments import record_of

    record = record_of(session, organisation)
    if record is None or record.completed_answers is None:
        return
    checklist = engine_for(record).checklist(record.completed_answers)
    store.write_snapshot(session, organisation, counts(checklist, Overlay.load(session, organisation, record, interval_days)))
