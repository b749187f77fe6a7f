"""A seeded database of the shape issue 20 measures: many organisations, a busy one, a long audit log.

One seed serves the page budgets in `bench/budgets.py` (200 organisations, 30 items each, 20
evidence records and 50 comments on the busiest organisation, 10,000 audit entries) and the
test that counts the queries of each page as the number of organisations grows
(`tests/test_query_budget.py`, with small numbers). Seeded directly with the models (bulk
inserts for the log): timing the seeding is not the point.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

CONSULTANT = "berater@example.de"
PASSWORD = "bench-password-2026"  # passes the password rules (12+ characters, not a common one)
BUSIEST = "org-000"


@dataclass(frozen=True)
class Shape:
    """How much to seed."""

    organisations: int = 200
    evidence: int = 20  # on the busiest organisation
    comments: int = 50  # on the busiest organisation
    audit_entries: int = 10_000  # half on the busiest organisation, the rest spread over all


@dataclass(frozen=True)
class Seeded:
    """What the measurements need: who logs in, with which API token, and the busiest organisation's busiest item."""

    email: str
    password: str
    token: str
    busiest: str
    item: str
    evidence_id: int
    organisations: int
    items_per_organisation: int


def longest_answers(engine: Any) -> dict[str, Any]:
    """A complete, long set of answers for a flow version (the longest path of the sample answer sets)."""
    from bot.engine import DONE
    from bot.engine.lint import answer_sets, play

    best: tuple[list[str], dict[str, Any]] = ([], {})
    for answers in answer_sets(engine.flow):
        model, path = play(engine, answers)
        if model.state == DONE and len(path) > len(best[0]):
            best = (path, {s: answers.get(s, "ok") for s in path})
    return best[1]


def seed(app: Any, shape: Shape = Shape()) -> Seeded:
    """Seed `shape` into the app's (empty, migrated) database; return what the measurements need.

    Every organisation has a checklist of record on the latest flow version, a manager of its
    own, the consultant as an admin, and a tracking row on each item (owners, due dates spread
    over -40..+40 days, some closed). The busiest organisation has the evidence (small PDF files,
    each linked to one or two items, expiring over the next year) and the comments; the audit
    entries are half the busiest organisation's, half spread over the others.
    """
    from sqlalchemy import insert

    from bot.store import db
    from bot.store.managers import create_manager
    from bot.store.models import Assessment, Event, Evidence, EvidenceItem, ItemComment, ItemTracking, Manager, Membership, Organisation, utcnow

    engine = app.extensions["engines"].get("whatsapp_gdpr")
    answers = longest_answers(engine)
    effective = engine.effective_answers(answers)
    item_ids = [item.id for item in engine.flow.checklist]
    now, today = utcnow(), date.today()
    with app.app_context():
        session = db.session()
        orgs = [Organisation(slug=f"org-{i:03d}", name=f"Betrieb {i} GmbH", locale="de") for i in range(shape.organisations)]
        # Managers without a password: hashing hundreds of passwords would time the seeding.
        owners = [Manager(email=f"chefin-{i:03d}@example.de", role="member", locale="de") for i in range(shape.organisations)]
        session.add_all([*orgs, *owners])
        session.flush()
        session.add_all(Membership(manager_id=m.id, organisation_id=o.id, role="admin") for m, o in zip(owners, orgs, strict=True))
        consultant, token = create_manager(session, CONSULTANT, orgs, password=PASSWORD, role="admin")
        record = {"flow_id": "whatsapp_gdpr", "flow_version": engine.flow.version, "state": "done", "answers": answers, "completed_answers": effective}
        times = {"created_at": now, "updated_at": now, "completed_at": now, "recorded_at": now}
        session.add_all(Assessment(organisation_id=o.id, locale="de", surface="api", started_via="respondent_link", **record, **times) for o in orgs)
        for i, org in enumerate(orgs):
            for n, item_id in enumerate(item_ids):
                owner = None if n % 10 == 9 else (consultant.id if n % 3 == 0 else owners[i].id)
                due = today + timedelta(days=(i * 31 + n * 7) % 81 - 40)
                workflow = "closed" if n % 11 == 10 else ("in_progress" if n % 2 else "todo")
                session.add(ItemTracking(organisation_id=org.id, item_id=item_id, owner_id=owner, due=due, workflow=workflow))
        busiest = orgs[0]
        evidence = []
        for e in range(shape.evidence):
            content = b"%PDF-1.4 " + bytes([e % 256]) * 2039
            piece = Evidence(organisation_id=busiest.id, kind="file", name=f"Nachweis {e + 1}.pdf", media_type="application/pdf", size=len(content),
                             sha256="0" * 64, content=content, effective=today - timedelta(days=30), expires=today + timedelta(days=20 + e * 17),
                             uploaded_by=CONSULTANT)  # fmt: skip
            linked = {item_ids[e % len(item_ids)], item_ids[0]} if e % 2 else {item_ids[e % len(item_ids)]}
            piece.links = [EvidenceItem(item_id=item, organisation_id=busiest.id) for item in sorted(linked)]
            evidence.append(piece)
        session.add_all(evidence)
        session.add_all(
            ItemComment(organisation_id=busiest.id, item_id=item_ids[c % 3], author_id=consultant.id, author=CONSULTANT, text=f"Kommentar {c + 1}")
            for c in range(shape.comments)
        )
        session.flush()
        entries = []
        for n in range(shape.audit_entries):
            org = busiest if n % 2 == 0 else orgs[n % len(orgs)]
            at = now - timedelta(minutes=shape.audit_entries - n)
            action = ("item.updated", "evidence.added", "comment.added", "export.downloaded", "manager.login")[n % 5]
            who = {"actor_id": consultant.id, "actor": CONSULTANT, "via": "manage", "address": "192.0.2.10"}
            where = {"organisation_id": org.id, "organisation_slug": org.slug}
            entries.append({"created_at": at, **where, "action": action, "subject": item_ids[n % len(item_ids)], "details": {"n": n}, **who})
        for start in range(0, len(entries), 1000):
            session.execute(insert(Event), entries[start : start + 1000])
        session.commit()
        return Seeded(CONSULTANT, PASSWORD, token, busiest.slug, item_ids[0], evidence[0].id if evidence else 0, shape.organisations, len(item_ids))
