"""The living checklist through the manager API (SQLite and PostgreSQL): tracking, amendments, comments, evidence, risk acceptance, progress.

Every response is checked against the OpenAPI document (tests/apiclient.py); every
refusal names its field and stores nothing (all tables counted before and after);
another organisation's manager gets 404 on every new route.
"""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.evidence_files import media_type_of
from bot.store import db
from bot.store.managers import create_manager
from bot.store.models import (
    AnswerRevision,
    Assessment,
    Event,
    Evidence,
    EvidenceItem,
    ItemComment,
    ItemTracking,
    Organisation,
    ProgressSnapshot,
    utcnow,
)
from bot.web.openapi import document
from bot.web.reports import attachment
from tests.test_flow_walks import GOLDEN
from tests.test_trusted_results import PLATFORM, bearer, checklist, complete, manager_call

ACME = "/api/v1/orgs/acme"
APP_ON_A_PHONE = GOLDEN[0][1]  # version 1: the Business App, everything in place (no BSP steps asked)

# Small files of each accepted kind, made here (their bytes are compared after the download).
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
TEXT = "Auftragsverarbeitungsvertrag unterschrieben am 3. März.\n".encode()


def docx() -> bytes:
    """A minimal Word document: a ZIP package whose manifest names the main document."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/word/document.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        package.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


# -- helpers ----------------------------------------------------------------------------------


@pytest.fixture
def acme(world):
    """The world with acme's checklist of record: the online shop on the Platform through a BSP (v1; WA-05 done)."""
    complete(world, world.acme_link, PLATFORM)
    return world


def get_item(world, item_id: str = "WA-05", slug: str = "acme", token: str | None = None) -> dict[str, Any]:
    """The item as the manager API shows it (200 asserted)."""
    response = manager_call(world, "GET", f"/api/v1/orgs/{slug}/items/{item_id}?lang=en", token=token)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def patch(world, body: dict[str, Any], item_id: str = "WA-05", token: str | None = None):
    """PATCH the item's tracking as anna (unless another token)."""
    return manager_call(world, "PATCH", f"{ACME}/items/{item_id}?lang=en", body, token)


def error(response, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """Assert the refusal's status, code and (when given) field; return the error object."""
    body = response.get_json()
    assert (response.status_code, body["error"]["code"]) == (status, code), body
    if field is not None:
        assert body["error"]["field"] == field, body
    assert body["error"]["message"]
    return body["error"]


def upload(world, content: bytes, filename: str = "vertrag.pdf", item_id: str = "WA-05", token: str | None = None, slug: str = "acme", **form: str):
    """Upload a file as evidence (multipart); the response is checked against the OpenAPI document."""
    path = f"/api/v1/orgs/{slug}/items/{item_id}/evidence"
    data: dict[str, Any] = {"file": (io.BytesIO(content), filename), **form}
    response = world.api.client.post(path, data=data, headers=bearer(token or world.anna), content_type="multipart/form-data")
    world.api.check("POST", path, response)
    return response


def events(world, slug: str = "acme", token: str | None = None) -> list[dict[str, Any]]:
    """The organisation's event log, newest first."""
    return manager_call(world, "GET", f"/api/v1/orgs/{slug}/events", token=token).get_json()["events"]


STORED_TABLES = (ItemTracking, ItemComment, Evidence, EvidenceItem, ProgressSnapshot, AnswerRevision, Event, Assessment)


def stored(world) -> dict[str, Any]:
    """Everything a refused request must leave alone: row counts, the tracking rows and the assessments' answers and versions."""
    with world.app.app_context():
        session = db.session()
        counts = {table.__tablename__: session.scalar(select(func.count()).select_from(table)) for table in STORED_TABLES}
        tracking = [
            (t.item_id, t.owner_id, t.due, t.workflow, t.risk_reason, t.risk_until, t.version)
            for t in session.scalars(select(ItemTracking).order_by(ItemTracking.id))
        ]
        assessments = [(a.id, a.version, a.answers, a.completed_answers) for a in session.scalars(select(Assessment).order_by(Assessment.id))]
        snapshots = [(s.day, s.counts) for s in session.scalars(select(ProgressSnapshot).order_by(ProgressSnapshot.id))]
        return {"counts": counts, "tracking": tracking, "assessments": assessments, "snapshots": snapshots}


def in_db(world, statement) -> None:
    """Run one statement against the test database (to move a date into the past)."""
    with world.app.app_context():
        session = db.session()
        session.execute(statement)
        session.commit()


def summary_item(world, item_id: str = "WA-05") -> dict[str, Any]:
    """The item as the checklist of record lists it."""
    return next(i for i in checklist(world)["items"] if i["id"] == item_id)


# -- tracking: owner, due date, workflow --------------------------------------------------------


def test_owner_due_and_workflow_are_set_and_cleared_with_the_version(acme):
    before = get_item(acme)
    assert before["item"]["tracking"] == {
        "version": 0, "owner": None, "due": None, "workflow": "todo", "risk_acceptance": None, "evidence": [], "comments": 0, "needs_review": False,
    }  # fmt: skip
    assert before["workflow_states"] == ["todo", "in_progress", "in_review", "closed"]
    response = patch(acme, {"version": 0, "owner": "Anna@ACME.example", "due": "2026-12-31", "workflow": "in_progress"})
    assert response.status_code == 200, response.get_json()
    tracking = response.get_json()["item"]["tracking"]
    assert (tracking["owner"], tracking["due"], tracking["workflow"], tracking["version"]) == ("anna@acme.example", "2026-12-31", "in_progress", 1)
    assert summary_item(acme)["tracking"] == tracking  # the checklist shows the same overlay
    assert summary_item(acme)["status"] == "done"  # the assessed status is the answers', not the workflow's
    # null clears owner and due; the workflow stays as it was
    cleared = patch(acme, {"version": 1, "owner": None, "due": None}).get_json()["item"]["tracking"]
    assert (cleared["owner"], cleared["due"], cleared["workflow"], cleared["version"]) == (None, None, "in_progress", 2)
    before = stored(acme)
    unchanged = patch(acme, {"version": 2, "due": "", "workflow": "in_progress"})  # the same values again: no new version, no event
    assert unchanged.status_code == 200 and unchanged.get_json()["item"]["tracking"] == cleared
    assert patch(acme, {"version": 2}).status_code == 200 and stored(acme) == before
    entries = [e for e in events(acme) if e["action"] == "item.updated"]
    assert entries[-1]["details"]["changes"] == {"owner": [None, "anna@acme.example"], "due": [None, "2026-12-31"], "workflow": ["todo", "in_progress"]}
    assert entries[-2]["details"]["changes"] == {"owner": ["anna@acme.example", None], "due": ["2026-12-31", None]}
    assert all(e["actor"] == "anna@acme.example" and e["subject"] == "WA-05" for e in entries)
    # today's progress snapshot follows the workflow (only applicable items are counted there)
    today = manager_call(acme, "GET", f"{ACME}/progress?days=1").get_json()["days"][-1]["counts"]
    assert today["workflow"]["in_progress"] == 1 and sum(today["workflow"].values()) == 26 - today["status"]["not_applicable"]


def test_a_stale_version_is_409_with_the_current_item_and_nothing_is_lost(acme):
    assert patch(acme, {"version": 0, "workflow": "in_review"}).status_code == 200
    before = stored(acme)
    response = patch(acme, {"version": 0, "workflow": "closed", "due": "2027-01-31"})
    error(response, 409, "stale_item")
    current = response.get_json()["item"]
    assert current["item"]["id"] == "WA-05" and current["item"]["tracking"]["workflow"] == "in_review" and current["item"]["tracking"]["version"] == 1
    assert stored(acme) == before
    assert patch(acme, {"version": 1, "workflow": "closed"}).status_code == 200  # applied again on the current version


def test_two_managers_racing_on_one_item_one_wins_the_other_gets_409(acme):
    with acme.app.app_context():
        session = db.session()
        _bea, bea = create_manager(session, "bea@acme.example", [session.scalar(select(Organisation).where(Organisation.slug == "acme"))])
    # Both read version 0; anna writes first; bea's change on the same version is refused with the current item.
    assert get_item(acme, token=bea)["item"]["tracking"]["version"] == 0
    assert patch(acme, {"version": 0, "owner": "anna@acme.example"}).status_code == 200
    refused = patch(acme, {"version": 0, "owner": "bea@acme.example"}, token=bea)
    assert error(refused, 409, "stale_item") and refused.get_json()["item"]["item"]["tracking"]["owner"] == "anna@acme.example"
    # At the same moment, in two threads, on the new row (version 0) and on an existing one (version 1): exactly one wins.
    for item_id, version in (("WA-04", 0), ("WA-04", 1)):
        barrier, results = threading.Barrier(2), []

        def change(
            token: str, owner: str, item_id: str = item_id, version: int = version, barrier: threading.Barrier = barrier, results: list = results
        ) -> None:
            client = acme.app.test_client()
            barrier.wait()
            due = f"2027-0{version + 1}-{10 + len(owner)}"  # a change whoever owned it before: each writer its own date
            response = client.patch(f"{ACME}/items/{item_id}", json={"version": version, "owner": owner, "due": due}, headers=bearer(token))
            results.append((response.status_code, owner))

        threads = [threading.Thread(target=change, args=args) for args in ((acme.anna, "anna@acme.example"), (bea, "bea@acme.example"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(status for status, _owner in results) == [200, 409], results
        winner = next(owner for status, owner in results if status == 200)
        tracking = get_item(acme, item_id)["item"]["tracking"]
        assert (tracking["owner"], tracking["version"]) == (winner, version + 1)


# -- amendments of the checklist of record -------------------------------------------------------


def amend(world, step: str, value: Any, token: str | None = None, **extra: Any):
    """POST an amendment as anna (unless another token)."""
    return manager_call(world, "POST", f"{ACME}/answers?lang=en", {"step": step, "value": value, **extra}, token)


def test_an_amended_answer_changes_the_status_the_history_and_the_event_log(acme):
    record_version = checklist(acme)["record"]["version"]
    assert get_item(acme)["fixes"] == []  # done: nothing to fix
    response = amend(acme, "bsp_dpa", "none", version=record_version)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["changed"] is True and body["record"]["version"] == record_version + 1
    assert next(i for i in body["items"] if i["id"] == "WA-05")["status"] == "critical"
    assert summary_item(acme)["status"] == "critical"  # the checklist of record itself changed
    item = get_item(acme)
    assert item["derivation"]["status"] == "critical" and item["derivation"]["conditions"][0]["answer"] == "none"
    assert {"step": "bsp_dpa", "value": "signed"} in [{"step": f["step"], "value": f["value"]} for f in item["fixes"]]
    revision = manager_call(acme, "GET", f"{ACME}/history").get_json()["revisions"][0]
    assert {k: revision[k] for k in ("action", "step", "value", "by", "seq")} == {
        "action": "amend", "step": "bsp_dpa", "value": "none", "by": "anna@acme.example", "seq": record_version + 1,
    }  # fmt: skip
    entry = events(acme)[0]
    assert (entry["action"], entry["actor"], entry["details"]["before"], entry["details"]["after"]) == ("answer.amended", "anna@acme.example", "signed", "none")
    # the contract is signed now: amended back, done again; the same value again changes nothing
    assert amend(acme, "bsp_dpa", "signed").get_json()["changed"] is True
    assert summary_item(acme)["status"] == "done"
    before = stored(acme)
    again = amend(acme, "bsp_dpa", "signed")
    assert again.status_code == 200 and again.get_json()["changed"] is False
    assert stored(acme) == before


@pytest.mark.parametrize(
    ("answers", "step", "value", "opened"),
    [
        (APP_ON_A_PHONE, "channel", "business_platform", ["provider", "meta_local_storage"]),
        ({**{k: v for k, v in PLATFORM.items() if not k.startswith("bsp_")}, "provider": "direct"}, "provider", "bsp", ["bsp_hosting", "bsp_dpa"]),
    ],
    ids=["channel opens the Platform's steps", "provider opens the BSP's steps"],
)
def test_an_amendment_that_would_open_unanswered_steps_is_refused(world, answers, step, value, opened):
    complete(world, world.acme_link, answers)
    before = stored(world)
    refused = error(amend(world, step, value), 422, "amendment_opens_steps")
    assert refused["steps"] == opened and refused["step"] == step
    assert stored(world) == before


@pytest.mark.parametrize(
    ("step", "value", "status", "code"),
    [
        ("device", "company_device", 422, "step_not_asked"),  # the App's question: not on the Platform's path
        ("nope", "x", 422, "step_not_asked"),
        ("recommendation", "ok", 422, "step_not_asked"),  # an info step is not an answer
        ("bsp_dpa", "bogus", 422, "invalid_value"),
        ("bsp_dpa", ["signed"], 422, "wrong_type"),
        ("bsp_dpa", 5, 422, "wrong_type"),
        ("bsp_dpa", None, 422, "not_optional"),
        ("bsp_dpa", "signed\x00", 422, "invalid_value"),
        ("bsp_name", "x" * 2001, 422, "text_too_long"),
        ("bsp_dpa\x00", "none", 422, "step_not_asked"),
        ("", "none", 400, "invalid_body"),
        (7, "none", 400, "invalid_body"),
        ("x" * 65, "none", 400, "invalid_body"),
    ],
)
def test_a_wrong_amendment_is_refused_and_stores_nothing(acme, step, value, status, code):
    before = stored(acme)
    refused = error(amend(acme, step, value), status, code)
    if code == "invalid_value":
        assert refused["allowed"] == ["signed", "in_progress", "none"]
    assert stored(acme) == before


def test_a_text_amendment_is_taken_like_a_turn_even_with_a_nul_character(acme):
    """A text answer is stored as given, like the chat API's turns (PostgreSQL's json type keeps it too), and read back exactly."""
    assert amend(acme, "bsp_name", "Beispiel\x00GmbH <b>").status_code == 200
    with acme.app.app_context():
        record = db.session().scalar(select(Assessment))
        assert record.completed_answers["bsp_name"] == record.answers["bsp_name"] == "Beispiel\x00GmbH <b>"
    assert manager_call(acme, "GET", f"{ACME}/history").get_json()["revisions"][0]["value"] == "Beispiel\x00GmbH <b>"


def test_an_amendment_needs_a_checklist_of_record_and_the_current_version(world):
    error(amend(world, "bsp_dpa", "none"), 404, "no_completed_assessment")
    complete(world, world.acme_link, PLATFORM)
    version = checklist(world)["record"]["version"]
    assert amend(world, "bsp_dpa", "in_progress", version=version).status_code == 200
    before = stored(world)
    response = amend(world, "bsp_dpa", "none", version=version)  # read before the change above
    error(response, 409, "stale_step")
    current = response.get_json()["checklist"]
    assert current["record"]["version"] == version + 1 and next(i for i in current["items"] if i["id"] == "WA-05")["status"] == "open"
    assert stored(world) == before


def test_an_amendment_while_a_reassessment_is_open_goes_to_the_record_and_the_reassessment_follows(acme):
    started = manager_call(acme, "POST", f"{ACME}/reassessments", {"locale": "en"})
    assert started.status_code == 201, started.get_json()
    token = started.get_json()["token"]
    assert acme.api.get(token)["answers"]["bsp_dpa"] == "signed"
    assert amend(acme, "bsp_dpa", "none").status_code == 200
    assert summary_item(acme)["status"] == "critical"  # the record changed, not the open re-assessment only
    assert acme.api.get(token)["answers"]["bsp_dpa"] == "none"  # its carried-over answer follows
    asked = acme.api.finish(token, PLATFORM)
    assert "bsp_dpa" not in asked  # never asked again, so completing it keeps the amendment
    after = checklist(acme)
    assert after["record"]["via"] == "reassessment" and next(i for i in after["items"] if i["id"] == "WA-05")["status"] == "critical"


# -- comments -----------------------------------------------------------------------------------


def test_comments_are_kept_as_typed_returned_as_json_and_counted(acme):
    path = f"{ACME}/items/WA-05/comments"
    typed = '<script>alert("x")</script>\n=HYPERLINK("http://evil.example","AVV")\t& "Anführungszeichen"'
    first = manager_call(acme, "POST", path, {"text": typed})
    assert first.status_code == 201 and first.mimetype == "application/json"
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    assert b"<script>" not in first.data or first.get_json()["text"] == typed  # JSON, never a page that renders it
    assert (first.get_json()["text"], first.get_json()["author"], first.get_json()["item"]) == (typed, "anna@acme.example", "WA-05")
    longest = "ä" * 4000
    assert manager_call(acme, "POST", path, {"text": longest}).status_code == 201
    listed = manager_call(acme, "GET", path).get_json()["comments"]
    assert [c["text"] for c in listed] == [typed, longest]  # oldest first
    assert get_item(acme)["comments"] == listed and summary_item(acme)["tracking"]["comments"] == 2
    assert [e["action"] for e in events(acme)[:2]] == ["item.commented", "item.commented"]
    before = stored(acme)
    error(manager_call(acme, "POST", path, {"text": "ä" * 4001}), 422, "too_long", "text")
    error(manager_call(acme, "POST", path, {"text": "  \n "}), 422, "required", "text")
    error(manager_call(acme, "POST", path, {}), 422, "required", "text")
    assert stored(acme) == before


# -- evidence -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "filename", "media_type", "download_name"),
    [
        (PDF, "AVV Beispiel BSP.pdf", "application/pdf", "AVV Beispiel BSP.pdf"),
        (PNG, "screenshot.png", "image/png", "screenshot.png"),
        (docx(), "Vertrag", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Vertrag.docx"),
        (TEXT, "notiz.txt", "text/plain; charset=utf-8", "notiz.txt"),
        (PDF, "vertrag.txt", "application/pdf", "vertrag.txt.pdf"),  # the type is the content's; the download says so
    ],
    ids=["pdf", "png", "docx", "text", "pdf named txt"],
)
def test_an_uploaded_file_is_stored_and_served_only_as_a_download_with_its_exact_bytes(acme, content, filename, media_type, download_name):
    response = upload(acme, content, filename, effective="2026-03-03", expires="2028-03-02")
    assert response.status_code == 201, response.get_json()
    evidence = response.get_json()
    assert (evidence["kind"], evidence["media_type"], evidence["size"], evidence["name"]) == ("file", media_type, len(content), filename)
    assert evidence["sha256"] == hashlib.sha256(content).hexdigest() and evidence["items"] == ["WA-05"]
    assert (evidence["effective"], evidence["expires"], evidence["uploaded_by"]) == ("2026-03-03", "2028-03-02", "anna@acme.example")
    download = acme.api.client.get(f"{ACME}/evidence/{evidence['id']}", headers=bearer(acme.anna))
    assert download.status_code == 200 and download.data == content
    assert hashlib.sha256(download.data).hexdigest() == evidence["sha256"]
    assert download.headers["Content-Type"] == media_type
    assert (
        download.headers["Content-Type"].split(";")[0]
        in document()["paths"]["/api/v1/orgs/{slug}/evidence/{evidence_id}"]["get"]["responses"]["200"]["content"]
    )
    disposition = download.headers["Content-Disposition"]
    assert disposition == attachment(download_name) and disposition.startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"] and download.headers["Cache-Control"] == "no-store"
    listed = summary_item(acme)["tracking"]["evidence"]
    assert listed == [
        {
            "id": evidence["id"],
            "name": filename,
            "kind": "file",
            "sha256": evidence["sha256"],
            "effective": "2026-03-03",
            "expires": "2028-03-02",
            "expired": False,
        }
    ]
    downloaded, entry = events(acme)[:2]  # each download is in the audit log too, with the file's name
    assert (downloaded["action"], downloaded["subject"], downloaded["details"]) == ("evidence.downloaded", filename, {"evidence": evidence["id"]})
    assert (entry["action"], entry["details"]["sha256"], entry["details"]["item"]) == ("evidence.added", evidence["sha256"], "WA-05")


def test_a_link_is_evidence_too_and_evidence_is_linked_to_a_second_item(acme):
    path = f"{ACME}/items/WA-05/evidence"
    link = manager_call(acme, "POST", path, {"url": "https://dms.example/avv/17", "name": "AVV im DMS", "expires": "2030-12-31"})
    assert link.status_code == 201, link.get_json()
    body = link.get_json()
    assert (body["kind"], body["url"], body["name"], body["sha256"], body["media_type"], body["effective"]) == (
        "link", "https://dms.example/avv/17", "AVV im DMS", None, None, utcnow().date().isoformat(),
    )  # fmt: skip
    facts = manager_call(acme, "GET", f"{ACME}/evidence/{body['id']}")  # a link has no file: its facts as JSON
    assert facts.status_code == 200 and facts.get_json()["url"] == "https://dms.example/avv/17"
    assert summary_item(acme)["quality"] == ["evidence_without_file"]
    unnamed = manager_call(acme, "POST", path, {"url": "http://intranet.example/x"}).get_json()
    assert unnamed["name"] == "http://intranet.example/x"
    # the signed contract also proves WA-04: linked, not copied; linking twice changes nothing
    file_id = upload(acme, PDF).get_json()["id"]
    second = manager_call(acme, "POST", f"{ACME}/items/WA-04/evidence", {"evidence_id": file_id})
    assert second.status_code == 201 and second.get_json()["items"] == ["WA-04", "WA-05"]
    before = stored(acme)
    assert manager_call(acme, "POST", f"{ACME}/items/WA-04/evidence", {"evidence_id": file_id}).get_json()["items"] == ["WA-04", "WA-05"]
    assert stored(acme) == before
    assert [e["id"] for e in summary_item(acme, "WA-04")["tracking"]["evidence"]] == [file_id]
    assert events(acme)[0]["action"] == "evidence.linked"


def test_deleting_evidence_deletes_the_file_and_the_event_log_keeps_its_name_and_hash(acme):
    evidence = upload(acme, PDF, "AVV.pdf").get_json()
    manager_call(acme, "POST", f"{ACME}/items/WA-04/evidence", {"evidence_id": evidence["id"]})
    assert manager_call(acme, "DELETE", f"{ACME}/evidence/{evidence['id']}").status_code == 204
    error(manager_call(acme, "GET", f"{ACME}/evidence/{evidence['id']}"), 404, "not_found")
    error(manager_call(acme, "DELETE", f"{ACME}/evidence/{evidence['id']}"), 404, "not_found")
    with acme.app.app_context():
        session = db.session()
        assert session.scalar(select(func.count()).select_from(Evidence)) == 0 and session.scalar(select(func.count()).select_from(EvidenceItem)) == 0
    assert summary_item(acme)["tracking"]["evidence"] == [] and summary_item(acme, "WA-04")["tracking"]["evidence"] == []
    entry = events(acme)[0]
    assert (entry["action"], entry["subject"], entry["actor"]) == ("evidence.deleted", "AVV.pdf", "anna@acme.example")
    assert entry["details"]["sha256"] == hashlib.sha256(PDF).hexdigest() and entry["details"]["items"] == ["WA-04", "WA-05"]


MB = 1024 * 1024


@pytest.mark.parametrize(
    ("content", "filename", "status", "code"),
    [
        (b"%PDF-" + b"0" * (10 * MB - 4), "big.pdf", 413, "file_too_large"),  # one byte over 10 MB: read up to the limit
        (b"%PDF-" + b"0" * (11 * MB), "bigger.pdf", 413, "file_too_large"),  # over the route's body limit: refused before it is read
        (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "contract.pdf", 422, "file_type"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "contract.pdf", 422, "file_type"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "logo.png", 422, "file_type"),
        (b"PK\x03\x04not really a zip", "contract.docx", 422, "file_type"),
        (b"MZ\x90\x00\x03\x00\x00\x00", "tool.pdf", 422, "file_type"),
        (b"", "empty.pdf", 422, "file_required"),
    ],
    ids=["10 MB and a byte", "11 MB", "html named pdf", "svg named pdf", "svg named png", "broken zip", "executable", "empty"],
)
def test_a_file_that_is_too_large_or_not_an_allowed_kind_is_refused(acme, content, filename, status, code):
    before = stored(acme)
    error(upload(acme, content, filename), status, code, "file")
    assert stored(acme) == before


def test_exactly_10_mb_is_accepted(acme):
    content = b"%PDF-" + b"0" * (10 * MB - 5)
    evidence = upload(acme, content, "scan.pdf").get_json()
    assert evidence["size"] == 10 * MB
    assert acme.api.client.get(f"{ACME}/evidence/{evidence['id']}", headers=bearer(acme.anna)).data == content


def test_the_64_kib_json_limit_still_holds_everywhere_else(acme):
    big = {"text": "x" * (65 * 1024)}
    error(manager_call(acme, "POST", f"{ACME}/items/WA-05/comments", big), 413, "body_too_large")
    error(manager_call(acme, "POST", f"{ACME}/items/WA-05/evidence", {"url": "https://x.example/" + "a" * 65 * 1024}), 413, "body_too_large")
    error(manager_call(acme, "PATCH", f"{ACME}/items/WA-05", {"version": 0, "owner": "a" * 65 * 1024}), 413, "body_too_large")
    # a file sent to a route that takes none: the body limit there stays 64 KiB
    response = acme.api.client.post(
        f"{ACME}/items/WA-05/comments", data={"file": (io.BytesIO(PDF * 2000), "a.pdf")}, headers=bearer(acme.anna), content_type="multipart/form-data"
    )
    acme.api.check("POST", f"{ACME}/items/WA-05/comments", response)
    error(response, 413, "body_too_large")
    assert stored(acme)["counts"]["evidence"] == 0


# -- risk acceptance ------------------------------------------------------------------------------


def test_a_risk_is_accepted_until_a_date_counted_apart_and_expires_by_itself(acme):
    path = f"{ACME}/items/WA-05/risk-acceptance?lang=en"
    assert amend(acme, "bsp_dpa", "none").status_code == 200  # critical: the contract is not signed
    today = utcnow().date()
    accepted = manager_call(acme, "PUT", path, {"reason": "Managing director: until the BSP signs, no customer data.", "until": today.isoformat()})
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["item"]["tracking"]["risk_acceptance"] == {
        "reason": "Managing director: until the BSP signs, no customer data.", "by": "anna@acme.example", "until": today.isoformat(),
    }  # fmt: skip
    body = checklist(acme)
    assert body["summary"]["risk_accepted"] == 1 and body["summary"]["critical"] == 1  # still counted under its assessed status
    assert next(i for i in body["items"] if i["id"] == "WA-05")["status"] == "critical"
    assert events(acme)[0]["action"] == "item.risk_accepted"
    # yesterday's acceptance has expired: it disappears from the item and the count by itself
    in_db(acme, update(ItemTracking).values(risk_until=today - timedelta(days=1)))
    assert get_item(acme)["item"]["tracking"]["risk_acceptance"] is None and checklist(acme)["summary"]["risk_accepted"] == 0
    # withdrawn: 204, then there is none to withdraw
    assert manager_call(acme, "PUT", path, {"reason": "Bis zur Prüfung", "until": (today + timedelta(days=30)).isoformat()}).status_code == 200
    assert manager_call(acme, "DELETE", f"{ACME}/items/WA-05/risk-acceptance").status_code == 204
    assert get_item(acme)["item"]["tracking"]["risk_acceptance"] is None and events(acme)[0]["action"] == "item.risk_withdrawn"
    error(manager_call(acme, "DELETE", f"{ACME}/items/WA-05/risk-acceptance"), 404, "not_found")


def test_only_an_open_or_critical_items_risk_can_be_accepted_and_a_settled_one_stops_counting(acme):
    path = f"{ACME}/items/WA-05/risk-acceptance?lang=en"
    until = (utcnow().date() + timedelta(days=30)).isoformat()
    assert next(i for i in checklist(acme)["items"] if i["id"] == "WA-05")["status"] == "done"
    before = stored(acme)
    error(manager_call(acme, "PUT", path, {"reason": "Nothing to accept", "until": until}), 422, "risk_not_open", "item")
    assert stored(acme) == before
    assert amend(acme, "bsp_dpa", "none").status_code == 200  # the contract is missing: critical
    assert manager_call(acme, "PUT", path, {"reason": "Until the BSP signs", "until": until}).status_code == 200
    assert checklist(acme)["summary"]["risk_accepted"] == 1
    assert amend(acme, "bsp_dpa", "signed").status_code == 200  # signed since: nothing left to accept
    body = checklist(acme)
    assert body["summary"]["risk_accepted"] == 0
    assert next(i for i in body["items"] if i["id"] == "WA-05")["tracking"]["risk_acceptance"] is None


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"reason": "Too late", "until": "yesterday"}, "invalid_date", "until"),
        ({"reason": "Too late", "until": "PAST"}, "date_in_past", "until"),
        ({"until": "FUTURE"}, "required", "reason"),
        ({"reason": "   ", "until": "FUTURE"}, "required", "reason"),
        ({"reason": "Ok"}, "required", "until"),
        ({"reason": "x" * 2001, "until": "FUTURE"}, "too_long", "reason"),
        ({"reason": ["Ok"], "until": "FUTURE"}, "wrong_type", "reason"),
        ({"reason": "Ok", "until": "31.12.2030"}, "invalid_date", "until"),
        ({"reason": "Ok", "until": 20301231}, "invalid_date", "until"),
        ({"reason": "Ok", "until": "FUTURE", "by": "root@example.org"}, "unknown_field", "by"),
    ],
)
def test_a_wrong_risk_acceptance_is_refused_naming_the_field(acme, body, code, field):
    dates = {"PAST": (utcnow().date() - timedelta(days=1)).isoformat(), "FUTURE": (utcnow().date() + timedelta(days=1)).isoformat()}
    body = {k: dates.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    before = stored(acme)
    error(manager_call(acme, "PUT", f"{ACME}/items/WA-10/risk-acceptance", body), 422, code, field)
    assert stored(acme) == before


# -- staleness: needs review ----------------------------------------------------------------------


def test_an_item_needs_review_when_its_evidence_expired_or_the_checklist_is_due(acme):
    assert upload(acme, PDF, "AVV 2020.pdf", effective="2020-01-01", expires="2020-12-31").status_code == 201
    upload(acme, PDF, "Meta terms.pdf", item_id="WA-04", effective="2026-01-01")
    items = {i["id"]: i["tracking"] for i in checklist(acme)["items"]}
    assert items["WA-05"]["needs_review"] is True and items["WA-05"]["evidence"][0]["expired"] is True
    assert items["WA-04"]["needs_review"] is False and not any(t["needs_review"] for i, t in items.items() if i != "WA-05")
    body = checklist(acme)
    interval = acme.app.config["REVIEW_INTERVAL_DAYS"]
    confirmed = date.fromisoformat(body["review"]["confirmed_at"][:10])
    assert date.fromisoformat(body["review"]["due"]) == confirmed + timedelta(days=interval)
    # the checklist of record was last confirmed longer ago than the review interval: every item needs review
    in_db(acme, update(Assessment).values(recorded_at=utcnow() - timedelta(days=interval + 1)))
    body = checklist(acme)
    assert all(i["tracking"]["needs_review"] for i in body["items"]) and date.fromisoformat(body["review"]["due"]) < utcnow().date()
    # amending an answer confirms the record again
    assert amend(acme, "bsp_dpa", "in_progress").status_code == 200
    items = {i["id"]: i["tracking"] for i in checklist(acme)["items"]}
    assert items["WA-05"]["needs_review"] is True and items["WA-04"]["needs_review"] is False


# -- progress over time --------------------------------------------------------------------------


def test_progress_has_one_entry_per_day_carried_forward(acme):
    path = f"{ACME}/progress"
    today = utcnow().date()
    entries = manager_call(acme, "GET", path).get_json()["days"]
    assert len(entries) == 90 and entries[-1]["day"] == today.isoformat() and entries[0]["day"] == (today - timedelta(days=89)).isoformat()
    assert patch(acme, {"version": 0, "workflow": "closed"}).status_code == 200
    summary = checklist(acme)["summary"]
    latest = manager_call(acme, "GET", path + "?days=1").get_json()["days"]
    assert [e["day"] for e in latest] == [today.isoformat()]
    assert latest[0]["counts"]["status"] == {k: summary[k] for k in ("done", "open", "critical", "not_applicable")}
    assert latest[0]["counts"]["workflow"]["closed"] == 1
    # a snapshot ten days ago is carried forward over the days without a change
    with acme.app.app_context():
        session = db.session()
        organisation = session.scalar(select(Organisation).where(Organisation.slug == "acme"))
        old = {
            "status": {"done": 1, "open": 2, "critical": 3, "not_applicable": 20},
            "workflow": {"todo": 6, "in_progress": 0, "in_review": 0, "closed": 0},
            "risk_accepted": 0,
        }
        session.add(ProgressSnapshot(organisation_id=organisation.id, day=today - timedelta(days=10), counts=old))
        session.commit()
    entries = manager_call(acme, "GET", path + "?days=12").get_json()["days"]
    assert [e["counts"] for e in entries[:1]] == [None]  # before the first snapshot
    assert all(e["counts"] == old for e in entries[1:11]) and entries[11]["counts"] == latest[0]["counts"]
    assert len(manager_call(acme, "GET", path + "?days=730").get_json()["days"]) == 730


@pytest.mark.parametrize("days", ["0", "731", "-1", "abc", "1.5", "", "9" * 30, "%00"])
def test_progress_refuses_a_wrong_number_of_days(acme, days):
    error(manager_call(acme, "GET", f"{ACME}/progress?days={days}"), 400, "invalid_days")


# -- bad input: a clear 4xx naming the field, and nothing stored -----------------------------------

NUL = "\x00"
BAD_INPUT = [
    # tracking
    ("PATCH", "items/WA-05", {"version": 0, "owner": "otto@other.example"}, 422, "not_a_member", "owner"),
    ("PATCH", "items/WA-05", {"version": 0, "owner": "root@example.org"}, 422, "not_a_member", "owner"),  # an admin sees acme but is no member
    ("PATCH", "items/WA-05", {"version": 0, "owner": "nobody@acme.example"}, 422, "not_a_member", "owner"),
    ("PATCH", "items/WA-05", {"version": 0, "owner": 5}, 422, "not_a_member", "owner"),
    ("PATCH", "items/WA-05", {"version": 0, "due": "31.12.2026"}, 422, "invalid_date", "due"),
    ("PATCH", "items/WA-05", {"version": 0, "due": "2026-02-30"}, 422, "invalid_date", "due"),
    ("PATCH", "items/WA-05", {"version": 0, "due": 20261231}, 422, "invalid_date", "due"),
    ("PATCH", "items/WA-05", {"version": 0, "workflow": "done"}, 422, "invalid_workflow", "workflow"),
    ("PATCH", "items/WA-05", {"version": 0, "workflow": None}, 422, "invalid_workflow", "workflow"),
    ("PATCH", "items/WA-05", {"version": "0", "workflow": "closed"}, 422, "wrong_type", "version"),
    ("PATCH", "items/WA-05", {"version": True, "workflow": "closed"}, 422, "wrong_type", "version"),
    ("PATCH", "items/WA-05", {"workflow": "closed"}, 422, "required", "version"),
    ("PATCH", "items/WA-05", {"version": 0, "status": "done"}, 422, "unknown_field", "status"),
    ("PATCH", "items/WA-05", {"version": 0, "risk_reason": "x"}, 422, "unknown_field", "risk_reason"),
    ("PATCH", "items/WA-99", {"version": 0, "workflow": "closed"}, 404, "unknown_item", None),
    ("PATCH", "items/wa-05", {"version": 0, "workflow": "closed"}, 404, "unknown_item", None),
    ("PATCH", "items/WA-05", ["version", 0], 400, "invalid_body", None),
    # NUL in every text field (PostgreSQL refuses it in text: a clean 4xx on both databases)
    ("PATCH", "items/WA-05", {"version": 0, "owner": "anna@acme.example" + NUL}, 422, "not_a_member", "owner"),
    ("PATCH", "items/WA-05", {"version": 0, "due": "2026-12-3" + NUL}, 422, "invalid_date", "due"),
    ("PATCH", "items/WA-05", {"version": 0, "workflow": "closed" + NUL}, 422, "invalid_workflow", "workflow"),
    ("PATCH", "items/WA-05", {"version": 0, "own" + NUL + "er": "anna@acme.example"}, 422, "unknown_field", "own\x00er"),
    ("POST", "items/WA-05/comments", {"text": "a" + NUL + "b"}, 422, "control_characters", "text"),
    ("PUT", "items/WA-10/risk-acceptance", {"reason": "a" + NUL, "until": "2030-01-01"}, 422, "control_characters", "reason"),
    ("PUT", "items/WA-10/risk-acceptance", {"reason": "ok", "until": "2030-01-0" + NUL}, 422, "invalid_date", "until"),
    ("POST", "items/WA-05/evidence", {"url": "https://dms.example/" + NUL}, 422, "invalid_url", "url"),
    ("POST", "items/WA-05/evidence", {"url": "https://dms.example/a", "name": "AVV" + NUL}, 422, "control_characters", "name"),
    ("POST", "items/WA-05/evidence", {"url": "https://dms.example/a", "effective": NUL}, 422, "invalid_date", "effective"),
    ("POST", "items/WA-05/evidence", {"url": "https://dms.example/a", "expires": "2030-01-01" + NUL}, 422, "invalid_date", "expires"),
    ("POST", "answers", {"step": "bsp_dpa" + NUL, "value": "none"}, 422, "step_not_asked", None),
    ("POST", "answers", {"step": "bsp_dpa", "value": "none" + NUL}, 422, "invalid_value", None),
    # wrong JSON types
    ("POST", "items/WA-05/comments", {"text": 5}, 422, "wrong_type", "text"),
    ("POST", "items/WA-05/comments", {"text": ["a"]}, 422, "wrong_type", "text"),
    ("POST", "items/WA-05/comments", "text", 400, "invalid_body", None),
    ("POST", "items/WA-05/evidence", {"url": 5}, 422, "invalid_url", "url"),
    ("POST", "items/WA-05/evidence", {"url": "javascript:alert(1)"}, 422, "invalid_url", "url"),
    ("POST", "items/WA-05/evidence", {"url": "https://"}, 422, "invalid_url", "url"),
    ("POST", "items/WA-05/evidence", {"url": "http://["}, 422, "invalid_url", "url"),  # a broken IPv6 literal (schemathesis found a 500)
    ("POST", "items/WA-05/evidence", {"url": "https://dms.example/a", "name": {"a": 1}}, 422, "wrong_type", "name"),
    ("POST", "items/WA-05/evidence", {"url": "https://dms.example/a", "name": "x" * 201}, 422, "too_long", "name"),
    ("POST", "items/WA-05/evidence", {"url": "https://dms.example/a", "effective": "2026-05-01", "expires": "2026-04-30"}, 422, "before_effective", "expires"),
    ("POST", "items/WA-05/evidence", {"evidence_id": "1"}, 422, "unknown_evidence", "evidence_id"),
    ("POST", "items/WA-05/evidence", {"evidence_id": True}, 422, "unknown_evidence", "evidence_id"),
    ("POST", "items/WA-05/evidence", {"evidence_id": 999999}, 422, "unknown_evidence", "evidence_id"),
    ("POST", "items/WA-05/evidence", {"evidence_id": 2**31}, 422, "unknown_evidence", "evidence_id"),  # beyond an INTEGER column (PostgreSQL)
    ("POST", "items/WA-05/evidence", {"evidence_id": -1}, 422, "unknown_evidence", "evidence_id"),
    ("POST", "items/WA-05/evidence", {"evidence_id": 10**30}, 422, "unknown_evidence", "evidence_id"),
    ("GET", "evidence/2147483648", None, 404, "not_found", None),
    ("DELETE", "evidence/2147483648", None, 404, "not_found", None),
    ("GET", "evidence/99999999999999999999999", None, 404, "not_found", None),
    ("POST", "answers", {"step": "bsp_dpa"}, 400, "invalid_body", "value"),
    ("POST", "answers", {"step": "bsp_dpa", "value": "none", "version": "3"}, 400, "invalid_body", "version"),
    # extra fields
    ("POST", "items/WA-05/comments", {"text": "ok", "author": "root@example.org"}, 422, "unknown_field", "author"),
    ("POST", "items/WA-05/evidence", {"url": "https://dms.example/a", "sha256": "0" * 64}, 422, "unknown_field", "sha256"),
    ("POST", "items/WA-05/evidence", {"evidence_id": 1, "item": "WA-04"}, 422, "unknown_field", "item"),
    ("POST", "answers", {"step": "bsp_dpa", "value": "none", "surface": "wizard"}, 422, "unknown_field", "surface"),
    # unknown items on every item route
    ("GET", "items/WA-99", None, 404, "unknown_item", None),
    ("GET", "items/WA-99/comments", None, 404, "unknown_item", None),
    ("POST", "items/WA-99/comments", {"text": "ok"}, 404, "unknown_item", None),
    ("POST", "items/WA-99/evidence", {"url": "https://dms.example/a"}, 404, "unknown_item", None),
    ("PUT", "items/WA-99/risk-acceptance", {"reason": "ok", "until": "2030-01-01"}, 404, "unknown_item", None),
    ("DELETE", "items/WA-99/risk-acceptance", None, 404, "unknown_item", None),
    ("PUT", "items/'%20OR%201=1/risk-acceptance", {"reason": "ok", "until": "2030-01-01"}, 404, "unknown_item", None),
    # a wrong language is refused before anything is stored
    ("PATCH", "items/WA-05?lang=fr", {"version": 0, "workflow": "closed"}, 422, "invalid_locale", None),
    ("PUT", "items/WA-10/risk-acceptance?lang=fr", {"reason": "ok", "until": "2030-01-01"}, 422, "invalid_locale", None),
    ("POST", "answers?lang=fr", {"step": "bsp_dpa", "value": "none"}, 422, "invalid_locale", None),
]


@pytest.mark.parametrize(("method", "where", "body", "status", "code", "field"), BAD_INPUT, ids=[f"{m} {w} {b!r}"[:80] for m, w, b, *_ in BAD_INPUT])
def test_bad_input_is_a_clear_refusal_and_stores_nothing(acme, method, where, body, status, code, field):
    before = stored(acme)
    error(manager_call(acme, method, f"{ACME}/{where}", body), status, code, field)
    assert stored(acme) == before


@pytest.mark.parametrize(
    ("form", "filename", "status", "code", "field"),
    [
        ({"name": "AVV" + NUL}, "avv.pdf", 400, "bad_request", None),  # the edge refuses NUL in any form field
        ({}, "avv" + NUL + ".pdf", 422, "control_characters", "name"),
        ({"name": "x" * 201}, "avv.pdf", 422, "too_long", "name"),
        ({"effective": "1.1.2026"}, "avv.pdf", 422, "invalid_date", "effective"),
        ({"effective": "2026-05-01", "expires": "2026-04-30"}, "avv.pdf", 422, "before_effective", "expires"),
        ({"owner": "anna@acme.example"}, "avv.pdf", 422, "unknown_field", "owner"),
    ],
)
def test_bad_upload_fields_are_refused_and_store_nothing(acme, form, filename, status, code, field):
    before = stored(acme)
    error(upload(acme, PDF, filename, **form), status, code, field)
    assert stored(acme) == before


def test_an_upload_without_a_file_or_in_another_format_is_refused(acme):
    before = stored(acme)
    path = f"{ACME}/items/WA-05/evidence"
    response = acme.api.client.post(path, data={"name": "AVV"}, headers=bearer(acme.anna), content_type="multipart/form-data")
    acme.api.check("POST", path, response)
    error(response, 422, "file_required", "file")
    error(acme.api.call("POST", path, raw=PDF, content_type="application/pdf", headers=bearer(acme.anna)), 415, "unsupported_media_type")
    assert stored(acme) == before


def test_without_a_checklist_of_record_the_item_routes_are_404_and_progress_is_empty(world):
    for method, where, body in [
        ("GET", "items/WA-05", None),
        ("PATCH", "items/WA-05", {"version": 0, "workflow": "closed"}),
        ("GET", "items/WA-05/comments", None),
        ("POST", "items/WA-05/comments", {"text": "ok"}),
        ("POST", "items/WA-05/evidence", {"url": "https://dms.example/a"}),
        ("PUT", "items/WA-10/risk-acceptance", {"reason": "ok", "until": "2030-01-01"}),
        ("POST", "answers", {"step": "bsp_dpa", "value": "none"}),
    ]:
        error(manager_call(world, method, f"{ACME}/{where}", body), 404, "no_completed_assessment")
    assert all(day["counts"] is None for day in manager_call(world, "GET", f"{ACME}/progress?days=3").get_json()["days"])


# -- tenant isolation -------------------------------------------------------------------------------


def test_another_organisations_manager_gets_404_on_every_new_route_and_changes_nothing(acme):
    evidence = upload(acme, PDF, "AVV.pdf").get_json()
    assert manager_call(acme, "POST", f"{ACME}/items/WA-05/comments", {"text": "intern"}).status_code == 201
    assert manager_call(acme, "PUT", f"{ACME}/items/WA-10/risk-acceptance", {"reason": "ok", "until": "2030-01-01"}).status_code == 200
    complete(acme, acme.other_link, PLATFORM)  # other has a checklist of record too: only the organisation decides
    before = stored(acme)
    routes = [
        ("GET", f"{ACME}/items/WA-05", None),
        ("PATCH", f"{ACME}/items/WA-05", {"version": 1, "owner": "otto@other.example"}),
        ("POST", f"{ACME}/answers", {"step": "bsp_dpa", "value": "none"}),
        ("GET", f"{ACME}/items/WA-05/comments", None),
        ("POST", f"{ACME}/items/WA-05/comments", {"text": "hallo"}),
        ("POST", f"{ACME}/items/WA-05/evidence", {"url": "https://evil.example/"}),
        ("POST", f"{ACME}/items/WA-05/evidence", {"evidence_id": evidence["id"]}),
        ("GET", f"{ACME}/evidence/{evidence['id']}", None),
        ("DELETE", f"{ACME}/evidence/{evidence['id']}", None),
        ("PUT", f"{ACME}/items/WA-10/risk-acceptance", {"reason": "mine now", "until": "2030-01-01"}),
        ("DELETE", f"{ACME}/items/WA-10/risk-acceptance", None),
        ("GET", f"{ACME}/progress", None),
        # acme's evidence under other's slug, where otto is a member
        ("GET", f"/api/v1/orgs/other/evidence/{evidence['id']}", None),
        ("DELETE", f"/api/v1/orgs/other/evidence/{evidence['id']}", None),
    ]
    for method, path, body in routes:
        response = manager_call(acme, method, path, body, token=acme.otto)
        assert (response.status_code, response.get_json()["error"]["code"]) == (404, "not_found"), (method, path, response.get_json())
    upload_response = upload(acme, PDF, token=acme.otto)
    error(upload_response, 404, "not_found")
    # linking acme's evidence to other's item: not other's evidence
    error(manager_call(acme, "POST", "/api/v1/orgs/other/items/WA-05/evidence", {"evidence_id": evidence["id"]}, token=acme.otto), 422, "unknown_evidence")
    assert stored(acme) == before
    # and the identical answer for an organisation that does not exist
    missing = manager_call(acme, "GET", "/api/v1/orgs/nowhere/items/WA-05", token=acme.otto).get_json()
    assert missing == manager_call(acme, "GET", f"{ACME}/items/WA-05", token=acme.otto).get_json()


# -- the type of a file is read from its content -------------------------------------------------


def office(manifest: str, parts: dict[str, str], mimetype: str | None = None) -> bytes:
    """A ZIP package like an office document (ODT keeps its type in a first `mimetype` entry)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        if mimetype is not None:
            package.writestr("mimetype", mimetype)
        if manifest:
            package.writestr("[Content_Types].xml", manifest)
        for name, content in parts.items():
            package.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PDF, "application/pdf"),
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (office("spreadsheetml.sheet.main+xml", {"xl/workbook.xml": "<workbook/>"}), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (office("", {"content.xml": "<office/>"}, mimetype="application/vnd.oasis.opendocument.text"), "application/vnd.oasis.opendocument.text"),
        (TEXT, "text/plain; charset=utf-8"),
        (b"\xef\xbb\xbfNotiz mit BOM\r\n", "text/plain; charset=utf-8"),
        (b"<html><body>hi</body></html>", None),
        (b"\xef\xbb\xbf<!DOCTYPE html>", None),
        (b"  \n<SVG xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"<?xml version='1.0'?><note/>", None),
        (b"Notiz\x00mit NUL", None),
        (b"\xff\xfeU\x00T\x00F\x00", None),  # UTF-16: not plain UTF-8 text
        (office("wordprocessingml.document.main+xml", {}), None),  # the manifest names a document the package lacks
        (office("", {"index.html": "<script/>"}), None),  # any other ZIP
        (b"GIF89a\x01\x00\x01\x00", None),
        (b"", None),
    ],
    ids=[
        "pdf",
        "png",
        "jpeg",
        "webp",
        "docx",
        "xlsx",
        "odt",
        "text",
        "text with bom",
        "html",
        "html with bom",
        "svg",
        "xml",
        "nul",
        "utf-16",
        "docx without document",
        "zip",
        "gif",
        "empty",
    ],
)
def test_the_content_decides_the_type(content, expected):
    assert media_type_of(content) == expected
