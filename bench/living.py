"""Benchmark: the living checklist. A heavily tracked organisation's page and checklist JSON, a consultant's "my items", a 10 MB upload.

Targets (docs/performance.md), on this machine's single process, in-process HTTP (Flask's test client):
- the checklist JSON (GET /api/v1/orgs/<slug>/checklist) of an organisation whose 30 items each carry
  20 evidence records and 50 comments (600 evidence, 1,500 comments): <= 250 ms;
- the organisation's page in the manager area (the worklist) with the same data: <= 400 ms;
- "my items" of a consultant with 200 organisations (3 items each assigned to them): <= 1 s;
- a 10 MB evidence upload through the API (multipart, type check, SHA-256, stored in the database): <= 1.5 s.
Each is the median of a few rounds; run on SQLite and, when it answers, PostgreSQL.
"""

from __future__ import annotations

import io
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.exports import _median_ms  # noqa: E402
from bench.http_turns import database, pg_up, scenario  # noqa: E402

TARGETS_MS = {"checklist_json_ms": 250.0, "organisation_page_ms": 400.0, "my_items_ms": 1000.0, "upload_10mb_ms": 1500.0}
ITEMS_EVIDENCE, ITEMS_COMMENTS, CONSULTANT_ORGS, OWNED_PER_ORG = 20, 50, 200, 3


def _seed(app: Any, organisations: int) -> tuple[str, str]:
    """The tracked organisation `heavy` and `organisations` client organisations of one consultant.

    Returns the consultant's API token and the heavy organisation's first item.
    """
    from bot.store import db
    from bot.store.managers import create_manager
    from bot.store.models import Assessment, Evidence, EvidenceItem, ItemComment, ItemTracking, Organisation, utcnow

    engine = app.extensions["engines"].get("whatsapp_gdpr")
    _path, answers = scenario()
    effective = engine.effective_answers(answers)
    item_ids = [item.id for item in engine.flow.checklist]
    now, today = utcnow(), date.today()
    with app.app_context():
        session = db.session()
        heavy = Organisation(slug="heavy", name="Viel Nachweis GmbH", locale="de")
        clients = [Organisation(slug=f"client-{i:03d}", name=f"Mandant {i} GmbH", locale="de") for i in range(organisations)]
        session.add_all([heavy, *clients])
        session.flush()
        consultant, token = create_manager(session, "berater@example.de", [heavy, *clients], password="bench-password")
        done = {"flow_id": "whatsapp_gdpr", "flow_version": engine.flow.version, "state": "done", "answers": answers, "locale": "de", "surface": "api"}
        times = {"created_at": now, "updated_at": now, "completed_at": now, "recorded_at": now, "started_via": "respondent_link"}
        session.add_all(Assessment(organisation_id=o.id, completed_answers=effective, **done, **times) for o in [heavy, *clients])
        for n, item in enumerate(item_ids):
            session.add(ItemTracking(organisation_id=heavy.id, item_id=item, owner_id=consultant.id, due=today + timedelta(days=n), workflow="in_progress"))
            for e in range(ITEMS_EVIDENCE):
                evidence = Evidence(organisation_id=heavy.id, kind="file", name=f"Nachweis {item}-{e}.pdf", media_type="application/pdf", size=1024,
                                    sha256="0" * 64, content=b"%PDF-1.4 " + b"x" * 1015, effective=today, expires=today + timedelta(days=365 - e),
                                    uploaded_by="berater@example.de")  # fmt: skip
                session.add(evidence)
                session.flush()
                session.add(EvidenceItem(evidence_id=evidence.id, item_id=item, organisation_id=heavy.id))
            session.add_all(
                ItemComment(organisation_id=heavy.id, item_id=item, author="berater@example.de", text=f"Kommentar {c} zu {item}") for c in range(ITEMS_COMMENTS)
            )
        for i, client in enumerate(clients):
            for k in range(OWNED_PER_ORG):
                due = today + timedelta(days=(i * OWNED_PER_ORG + k) % 60 - 10)
                session.add(
                    ItemTracking(organisation_id=client.id, item_id=item_ids[(i + k * 7) % len(item_ids)], owner_id=consultant.id, due=due, workflow="todo")
                )
        session.commit()
    return token, item_ids[0]


def run_one(kind: str, rounds: int = 5, organisations: int = CONSULTANT_ORGS) -> dict[str, Any]:
    """Seed a fresh database of `kind` and time the four operations."""
    from bot import create_app
    from bot.store import db

    with database(kind) as url:
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
        db.upgrade(app)
        token, first_item = _seed(app, organisations)
        client = app.test_client()
        auth = {"Authorization": f"Bearer {token}"}
        result: dict[str, Any] = {"database": kind, "organisations": organisations, "evidence_per_item": ITEMS_EVIDENCE, "comments_per_item": ITEMS_COMMENTS}

        def checklist() -> None:
            response = client.get("/api/v1/orgs/heavy/checklist", headers=auth)
            assert response.status_code == 200 and len(response.get_json()["items"][0]["tracking"]["evidence"]) == ITEMS_EVIDENCE, response.status_code

        checklist()  # warm up
        result["checklist_json_ms"] = _median_ms(checklist, rounds)
        client.post("/manage/login", data={"email": "berater@example.de", "password": "bench-password"})

        def page(path: str) -> None:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)

        page("/manage/orgs/heavy")
        result["organisation_page_ms"] = _median_ms(lambda: page("/manage/orgs/heavy"), rounds)
        rules = {rule.rule for rule in app.url_map.iter_rules()}
        if "/manage/my-items" in rules:
            page("/manage/my-items")
            result["my_items_ms"] = _median_ms(lambda: page("/manage/my-items"), rounds)
        content = b"%PDF-1.7\n" + bytes(range(256)) * (10 * 1024 * 1024 // 256 - 1)
        content = content[: 10 * 1024 * 1024]

        def upload() -> None:
            data = {"file": (io.BytesIO(content), "vertrag.pdf"), "expires": (date.today() + timedelta(days=365)).isoformat()}
            response = client.post(f"/api/v1/orgs/heavy/items/{first_item}/evidence", data=data, headers=auth, content_type="multipart/form-data")
            assert response.status_code == 201, (response.status_code, response.get_data()[:200])

        result["upload_10mb_ms"] = _median_ms(upload, max(3, rounds // 2))
        app.extensions["db_engine"].dispose()
    return result


def run(rounds: int = 5, organisations: int = CONSULTANT_ORGS, databases: tuple[str, ...] = ("sqlite", "postgres")) -> list[dict[str, Any]]:
    """Every database that answers."""
    return [run_one(kind, rounds, organisations) for kind in databases if kind != "postgres" or pg_up()]


def describe(results: list[dict[str, Any]]) -> str:
    """A readable report."""
    labels = {"checklist_json_ms": "checklist JSON", "organisation_page_ms": "organisation page", "my_items_ms": "my items", "upload_10mb_ms": "10 MB upload"}
    lines = []
    for result in results:
        parts = []
        for key, label in labels.items():
            if key in result:
                verdict = "meets" if result[key] <= TARGETS_MS[key] else "MISSES"
                parts.append(f"{label} {result[key]:.0f} ms ({verdict} <= {TARGETS_MS[key]:.0f})")
        sizes = f"30 items x {result['evidence_per_item']} evidence x {result['comments_per_item']} comments; {result['organisations']} organisations"
        head = f"living checklist on {result['database']} ({sizes}):"
        lines.append(head + "\n  " + "; ".join(parts))
    return "\n".join(lines)


if __name__ == "__main__":
    print(describe(run(databases=tuple(sys.argv[1:]) or ("sqlite", "postgres"))))
