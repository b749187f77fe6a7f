"""The manager area's worklist and item page through HTTP (SQLite and PostgreSQL): filters, why an item has its status,
amending an answer with a fix, owner/due/workflow with a stale version, comments, evidence, risk acceptance, isolation, CSRF."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from bot.store import db
from bot.store.managers import create_manager, manager_by_email, set_password
from bot.store.models import Evidence, ItemComment, ItemTracking, Organisation, utcnow
from tests.test_trusted_results import APP_BUT_PLATFORM, checklist, complete, manager_call

PASSWORD = "correct horse battery"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
HOSTILE = "<script>alert(1)</script> =SUM(A1)"


def page(response) -> BeautifulSoup:
    """Parse an HTML response."""
    return BeautifulSoup(response.data.decode(), "html.parser")


def log_in(client, email: str) -> None:
    """Log in to the manager area as a browser would (the login form with its CSRF token)."""
    token = page(client.get("/manage/login")).find("input", attrs={"name": "csrf_token"})["value"]
    response = client.post("/manage/login", data={"csrf_token": token, "email": email, "password": PASSWORD})
    assert response.status_code == 303, response.data[:500]


def csrf(client, url: str) -> str:
    """The CSRF token of a page's forms."""
    return page(client.get(url)).find("input", attrs={"name": "csrf_token"})["value"]


@pytest.fixture
def site(world):
    """acme's checklist of record (12 critical items), Anna and Bea as its managers with passwords, Anna logged in."""
    complete(world, world.acme_link, APP_BUT_PLATFORM)
    with world.app.app_context():
        session = db.session()
        acme = session.scalar(select(Organisation).where(Organisation.slug == "acme"))
        create_manager(session, "bea@acme.example", [acme], password=PASSWORD)
        for email in ("anna@acme.example", "otto@other.example"):
            set_password(session, manager_by_email(session, email), PASSWORD)
    client = world.app.test_client()
    log_in(client, "anna@acme.example")
    world.client = client
    return world


ITEM = "/manage/orgs/acme/items/WA-02"  # critical: "device" = private_device; done with company_device


def post(site, url: str, data: dict | None = None, *, form_page: str = ITEM, **kwargs):
    """POST a manager-area form with the CSRF token of `form_page`."""
    return site.client.post(url, data={"csrf_token": csrf(site.client, form_page), **(data or {})}, **kwargs)


def api(site, method: str, path: str, body: dict, status: int = 200) -> dict:
    """Call acme's manager API as Anna (expecting `status`): the way a script would set up tracking."""
    response = manager_call(site, method, f"/api/v1/orgs/acme/{path}", body)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def tracked(site, item_id: str) -> dict | None:
    """The stored tracking of an acme item: owner, due, workflow, version (None when it was never tracked)."""
    with site.app.app_context():
        session = db.session()
        row = session.scalar(select(ItemTracking).join(Organisation).where(Organisation.slug == "acme", ItemTracking.item_id == item_id))
        if row is None:
            return None
        return {
            "owner": row.owner.email if row.owner else None,
            "due": row.due.isoformat() if row.due else None,
            "workflow": row.workflow,
            "version": row.version,
        }


def count(site, model) -> int:
    """How many rows of a model are stored."""
    with site.app.app_context():
        return db.session().scalar(select(func.count()).select_from(model))


def worklist(site, query: str = "") -> dict[str, BeautifulSoup]:
    """The worklist's items by id (English page)."""
    soup = page(site.client.get(f"/manage/orgs/acme?lang=en&{query}"))
    return {li["data-item"]: li for li in soup.select("li[data-item]")}


def test_the_worklist_shows_each_item_with_its_tracking_and_filters_without_javascript(site):
    today = utcnow().date()
    yesterday, soon = (today - timedelta(days=1)).isoformat(), (today + timedelta(days=10)).isoformat()
    api(site, "PATCH", "items/WA-02", {"version": 0, "owner": "anna@acme.example", "due": yesterday, "workflow": "in_progress"})
    api(site, "PATCH", "items/WA-03", {"version": 0, "owner": "bea@acme.example", "due": soon})
    api(site, "PATCH", "items/WA-04", {"version": 0, "workflow": "closed"})
    api(site, "PUT", "items/WA-09/risk-acceptance", {"reason": "Ab Q3", "until": soon})
    link = {"url": "https://dms.example/avv", "name": "AVV", "effective": "2020-01-01", "expires": "2020-12-31"}  # expired: needs review
    api(site, "POST", "items/WA-07/evidence", link, 201)

    items = worklist(site)
    assert len(items) == 26 and {i: li["data-status"] for i, li in items.items()} == {i["id"]: i["status"] for i in checklist(site)["items"]}
    wa02 = items["WA-02"]
    assert wa02.find(attrs={"data-fact": "owner"}).get_text() == "anna@acme.example"
    assert wa02.find(attrs={"data-fact": "workflow"}).get_text() == "In progress"
    assert wa02.find(attrs={"data-flag": "overdue"}) is not None and "Overdue since" in wa02.get_text()
    assert wa02.find("a")["href"] == "/manage/orgs/acme/items/WA-02?lang=en"
    assert "Critical" in wa02.select_one(".badge").get_text()
    risk = items["WA-09"].find(attrs={"data-flag": "risk_accepted"})
    assert risk is not None and "Risk accepted until" in risk.get_text() and "anna@acme.example" in risk.get_text()  # in words, not colour only
    assert items["WA-04"].find(attrs={"data-flag": "closed_without_evidence"}) is not None
    wa07 = items["WA-07"]
    assert wa07.find(attrs={"data-flag": "evidence_without_file"}) is not None and wa07.find(attrs={"data-flag": "needs_review"}) is not None
    assert wa07.find(attrs={"data-fact": "evidence"}).get_text() == "1"
    assert items["WA-01"].find(attrs={"data-fact": "owner"}).get_text() == "nobody" and items["WA-01"].find(class_="flags") is None

    assert set(worklist(site, "owner=me")) == {"WA-02"}
    assert set(worklist(site, "owner=bea@acme.example")) == {"WA-03"}
    assert len(worklist(site, "owner=nobody")) == 24
    assert set(worklist(site, "due=overdue")) == {"WA-02"}
    assert set(worklist(site, "due=soon")) == {"WA-03"}
    assert set(worklist(site, "review=1")) == {"WA-07"}
    assert set(worklist(site, "workflow=closed")) == {"WA-04"}
    critical = worklist(site, "status=critical")
    assert len(critical) == 12 and {li["data-status"] for li in critical.values()} == {"critical"}
    assert set(worklist(site, "status=critical&owner=me&due=overdue")) == {"WA-02"}
    assert len(worklist(site, "status=bogus&owner=otto@other.example&due=never")) == 26  # unknown values: no filter
    soup = page(site.client.get("/manage/orgs/acme?lang=en&owner=me"))
    assert soup.find(id="filter-owner").find("option", selected=True)["value"] == "me"
    assert soup.find(attrs={"data-shown": True})["data-shown"] == "1"
    assert soup.find("form", class_="worklist-filters")["method"] == "get"
    assert soup.find(attrs={"data-count": "risk_accepted"}).get_text() == "1"


def statements(site, url: str) -> int:
    """How many SQL statements a GET of `url` runs."""
    from sqlalchemy import event

    seen: list[str] = []
    engine = site.app.extensions["db_engine"]
    listener = lambda *args: seen.append(args[2])  # noqa: E731 (before_cursor_execute: conn, cursor, statement, ...)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert site.client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def test_the_worklist_reads_the_tracking_in_a_fixed_number_of_queries(site):
    api(site, "PATCH", "items/WA-01", {"version": 0, "owner": "anna@acme.example"})
    api(site, "POST", "items/WA-01/comments", {"text": "eins"}, 201)
    api(site, "POST", "items/WA-01/evidence", {"url": "https://dms.example/1"}, 201)
    few = statements(site, "/manage/orgs/acme")
    for item in ("WA-02", "WA-03", "WA-04", "WA-05", "WA-06"):
        api(site, "PATCH", f"items/{item}", {"version": 0, "owner": "bea@acme.example", "workflow": "in_progress"})
        for n in range(3):
            api(site, "POST", f"items/{item}/comments", {"text": f"Kommentar {n}"}, 201)
            api(site, "POST", f"items/{item}/evidence", {"url": f"https://dms.example/{item}/{n}"}, 201)
    assert statements(site, "/manage/orgs/acme") == few  # no query per item, comment or evidence


def test_the_item_page_explains_the_status_and_a_fix_amends_the_checklist_of_record(site):
    response = site.client.get(ITEM + "?lang=en")
    soup = page(response)
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert not soup.find_all(style=True) and all(s.get("src") and not s.string for s in soup.find_all("script"))
    assert soup.find("main")["data-status"] == "critical"
    because = soup.select("[data-because]")
    assert [li["data-because"] for li in because] == ["device"]
    assert because[0].get_text() == "On which phone does WhatsApp run? – On a private phone"  # "<question> – <answer>"
    fix = soup.select_one("li[data-fix=device] form")
    fields = {i["name"]: i["value"] for i in fix.find_all("input")}
    assert fields["step"] == "device" and fields["value"] == "company_device" and fields["version"].isdigit()

    stale = post(site, "/manage/orgs/acme/items/WA-02/answers?lang=en", {**fields, "version": "0"})
    assert stale.status_code == 409 and page(stale).find(attrs={"data-error": "answer"}) is not None
    assert next(i for i in checklist(site)["items"] if i["id"] == "WA-02")["status"] == "critical"  # nothing changed

    response = site.client.post("/manage/orgs/acme/items/WA-02/answers?lang=en", data=fields)
    assert response.status_code == 303 and response.headers["Location"].endswith("/manage/orgs/acme/items/WA-02?lang=en#status")
    after = page(site.client.get(ITEM + "?lang=en"))
    assert after.find("main")["data-status"] == "done" and "On a company phone" in after.find(id="done-note").get_text()
    assert next(i for i in checklist(site)["items"] if i["id"] == "WA-02")["status"] == "done"
    history = site.api.manager("/api/v1/orgs/acme/history", site.anna).get_json()
    assert {k: history["revisions"][0][k] for k in ("action", "step", "channel", "by")} == {
        "action": "amend",
        "step": "device",
        "channel": "manage",
        "by": "anna@acme.example",
    }
    amendment = page(site.client.get("/manage/orgs/acme?lang=en")).select_one("tr[data-amendment]")
    assert amendment.find(attrs={"data-by": True}).get_text() == "anna@acme.example" and "On a company phone" in amendment.get_text()


def test_a_refused_amendment_is_named_and_changes_nothing(site):
    before = checklist(site)
    version = page(site.client.get(ITEM)).select_one("li[data-fix=device] input[name=version]")["value"]
    opens = post(site, "/manage/orgs/acme/items/WA-02/answers?lang=en", {"step": "channel", "value": "business_platform", "version": version})
    assert opens.status_code == 422
    assert "re-assessment" in page(opens).find(attrs={"data-error": "answer"}).get_text().lower()
    not_asked = post(site, "/manage/orgs/acme/items/WA-02/answers?lang=en", {"step": "provider", "value": "x", "version": version})
    assert not_asked.status_code == 422
    bad_value = post(site, "/manage/orgs/acme/items/WA-02/answers?lang=en", {"step": "device", "value": "tablet", "version": version})
    assert bad_value.status_code == 422 and page(bad_value).find(attrs={"data-error": "answer"}) is not None
    assert checklist(site)["items"] == before["items"]


def test_the_change_form_offers_the_questions_on_the_path(site):
    soup = page(site.client.get(ITEM + "?lang=en&change=address_book"))
    form = soup.find("form", attrs={"data-change": "address_book"})
    assert form is not None and {i["value"] for i in form.select("input[type=radio]")} >= {"no_access", "full_access"}
    assert form.select_one("input[type=radio][checked]")["value"] == "full_access"
    steps = [o["value"] for o in soup.find(id="change-step").find_all("option")]
    suggested = page(site.client.get(ITEM)).find(id="change-step").find("option", selected=True)["value"]
    assert suggested == "device"  # the question the status rests on comes preselected
    assert "device" in steps and "provider" not in steps  # only questions asked on this path
    fields = {"step": "address_book", "value": "no_access", "version": form.find("input", attrs={"name": "version"})["value"]}
    assert post(site, "/manage/orgs/acme/items/WA-02/answers", fields).status_code == 303
    assert next(i for i in checklist(site)["items"] if i["id"] == "WA-03")["status"] == "done"
    multi = page(site.client.get(ITEM + "?lang=en&change=security_measures")).find("form", attrs={"data-change": "security_measures"})
    assert multi.select("input[type=checkbox]")


def test_owner_due_and_workflow_are_saved_together_refused_by_field_and_stale_versions_keep_the_entries(site):
    url = "/manage/orgs/acme/items/WA-02/tracking?lang=en"
    due = (utcnow().date() + timedelta(days=14)).isoformat()
    soup = page(site.client.get(ITEM))
    assert [o["value"] for o in soup.find(id="tracking-owner").find_all("option")] == ["", "anna@acme.example", "bea@acme.example"]  # members only
    response = post(site, url, {"version": "0", "owner": "bea@acme.example", "due": due, "workflow": "in_progress"})
    assert response.status_code == 303 and response.headers["Location"].endswith("#tracking")
    assert tracked(site, "WA-02") == {"owner": "bea@acme.example", "due": due, "workflow": "in_progress", "version": 1}

    outsider = post(site, url, {"version": "1", "owner": "otto@other.example", "due": due, "workflow": "closed"})
    assert outsider.status_code == 422
    error = page(outsider).find(attrs={"data-error": "tracking"})
    assert "The owner must be a manager of this organisation." in error.get_text() and error.find("a")["href"] == "#tracking-owner"
    bad_date = post(site, url, {"version": "1", "owner": "", "due": "31.12.2026", "workflow": "closed"})
    assert bad_date.status_code == 422 and '"due"' in page(bad_date).find(attrs={"data-error": "tracking"}).get_text()
    bad_state = post(site, url, {"version": "1", "owner": "", "due": "", "workflow": "done"})
    assert bad_state.status_code == 422 and "workflow" in page(bad_state).find(attrs={"data-error": "tracking"}).get_text()
    assert tracked(site, "WA-02") == {"owner": "bea@acme.example", "due": due, "workflow": "in_progress", "version": 1}  # nothing stored

    stale = post(site, url, {"version": "0", "owner": "anna@acme.example", "due": "2030-01-31", "workflow": "in_review"})
    assert stale.status_code == 409
    soup = page(stale)
    note = soup.find(attrs={"data-stale": True}).get_text()
    assert "Someone else changed this item" in note and "bea@acme.example" in note  # the current values
    form = soup.find("form", class_="tracking")
    assert form.find("input", attrs={"name": "version"})["value"] == "1"  # the current version: saving again applies the entries
    assert form.find(id="tracking-due")["value"] == "2030-01-31"  # what was typed stays
    assert form.find(id="tracking-owner").find("option", selected=True)["value"] == "anna@acme.example"
    assert tracked(site, "WA-02")["owner"] == "bea@acme.example"


def test_comments_are_escaped_and_keep_their_line_breaks(site):
    response = post(site, "/manage/orgs/acme/items/WA-02/comments", {"text": HOSTILE + "\nzweite Zeile"})
    assert response.status_code == 303 and response.headers["Location"].endswith("#comments")
    raw = site.client.get(ITEM).data.decode()
    assert "<script>alert(1)</script>" not in raw and "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    comment = page(site.client.get(ITEM)).select_one("li[data-comment] .multiline")
    assert comment.get_text() == HOSTILE + "\nzweite Zeile" and "multiline" in comment["class"]
    assert "anna@acme.example" in page(site.client.get(ITEM)).select_one("li[data-comment]").get_text()
    empty = post(site, "/manage/orgs/acme/items/WA-02/comments?lang=en", {"text": "   "})
    assert empty.status_code == 422 and '"text"' in page(empty).find(attrs={"data-error": "comment"}).get_text()
    assert count(site, ItemComment) == 1
    assert worklist(site)["WA-02"].find(attrs={"data-fact": "comments"}).get_text() == "1"


def upload(site, content: bytes, filename: str, item: str = "WA-02", **fields):
    """Upload a file through the item page's form."""
    data = {"csrf_token": csrf(site.client, ITEM), "file": (io.BytesIO(content), filename), **fields}
    return site.client.post(f"/manage/orgs/acme/items/{item}/evidence?lang=en", data=data, content_type="multipart/form-data")


def test_evidence_is_uploaded_downloaded_as_an_attachment_and_deleted_after_asking(site):
    response = upload(site, PDF, "avv.pdf", name=HOSTILE, effective="2026-01-01", expires="2099-12-31")
    assert response.status_code == 303 and response.headers["Location"].endswith("#evidence")
    soup = page(site.client.get(ITEM + "?lang=en"))
    entry = soup.select_one("li[data-evidence]")
    evidence_id = entry["data-evidence"]
    assert HOSTILE in entry.get_text() and "<script>" not in str(entry).replace("&lt;script&gt;", "")
    import hashlib

    assert hashlib.sha256(PDF).hexdigest()[:12] in entry.get_text() and "anna@acme.example" in entry.get_text()
    download = site.client.get(entry.find("a", attrs={"download": True})["href"])
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment") and download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Type"] == "application/pdf"

    html = upload(site, b"<!doctype html><html><script>alert(1)</script></html>", "contract.pdf")
    assert html.status_code == 422 and "This kind of file is not accepted" in page(html).find(attrs={"data-error": "upload"}).get_text()
    past = upload(site, PDF, "b.pdf", effective="2026-02-01", expires="2026-01-01")
    assert past.status_code == 422 and page(past).find(attrs={"data-error": "upload"}).find("a")["href"] == "#upload-expires"
    nothing = site.client.post(
        "/manage/orgs/acme/items/WA-02/evidence?lang=en", data={"csrf_token": csrf(site.client, ITEM)}, content_type="multipart/form-data"
    )
    assert nothing.status_code == 422
    assert count(site, Evidence) == 1

    ask = page(site.client.get(f"{ITEM}?lang=en&delete={evidence_id}"))
    confirm = ask.find(attrs={"data-confirm-delete": evidence_id})
    assert confirm is not None and confirm.find("form")["method"] == "post"
    assert count(site, Evidence) == 1  # asking deletes nothing
    deleted = post(site, confirm.find("form")["action"])
    assert deleted.status_code == 303 and count(site, Evidence) == 0
    assert site.client.get(f"/manage/orgs/acme/evidence/{evidence_id}").status_code == 404
    with site.app.app_context():
        from bot.store.models import Event

        event = db.session().scalar(select(Event).where(Event.action == "evidence.deleted"))
        assert event is not None


def test_an_upload_over_the_limit_is_a_clear_413_at_the_form(site):
    site.app.config["MAX_EVIDENCE_BYTES"] = 1000
    slightly = upload(site, PDF + b"x" * 2000, "big.pdf")  # within the body allowance, over the file limit
    assert slightly.status_code == 413 and "at most 10 MB" in page(slightly).find(attrs={"data-error": "upload"}).get_text()
    far = upload(site, PDF + b"x" * 200_000, "huge.pdf")  # over the body limit: refused before the form is read
    assert far.status_code == 413
    assert page(far).find(attrs={"data-error": "upload"}) is not None and page(far).find(id="upload-file") is not None
    assert count(site, Evidence) == 0
    # the raised limit is the upload route's only: another form of the manager area keeps 64 KiB
    too_long = site.client.post("/manage/orgs/acme/items/WA-02/comments", data={"csrf_token": "x", "text": "x" * 100_000})
    assert too_long.status_code == 413


def test_links_and_existing_evidence(site):
    bad = post(site, "/manage/orgs/acme/items/WA-02/evidence/link?lang=en", {"url": "javascript:alert(1)", "name": "x"})
    assert bad.status_code == 422 and page(bad).find(attrs={"data-error": "link"}).find("a")["href"] == "#link-url"
    assert post(site, "/manage/orgs/acme/items/WA-02/evidence/link", {"url": "https://dms.example/avv", "name": "AVV"}).status_code == 303
    evidence_id = page(site.client.get(ITEM)).select_one("li[data-evidence]")["data-evidence"]
    other_item = page(site.client.get("/manage/orgs/acme/items/WA-03"))
    assert other_item.find(id="existing-evidence").find("option")["value"] == evidence_id
    linked = post(site, "/manage/orgs/acme/items/WA-03/evidence/existing", {"evidence_id": evidence_id})
    assert linked.status_code == 303
    assert page(site.client.get("/manage/orgs/acme/items/WA-03")).select_one(f"li[data-evidence='{evidence_id}']") is not None
    assert post(site, "/manage/orgs/acme/items/WA-03/evidence/existing", {"evidence_id": "99999"}).status_code == 422
    assert site.client.get(f"/manage/orgs/acme/evidence/{evidence_id}").status_code == 404  # a link has no file to download


def test_a_risk_is_accepted_until_a_day_shown_distinctly_and_withdrawn(site):
    url = "/manage/orgs/acme/items/WA-02/risk?lang=en"
    yesterday, later = (utcnow().date() - timedelta(days=1)).isoformat(), (utcnow().date() + timedelta(days=90)).isoformat()
    past = post(site, url, {"reason": "Bis Q3", "until": yesterday})
    assert past.status_code == 422 and page(past).find(attrs={"data-error": "risk"}).find("a")["href"] == "#risk-until"
    assert page(past).find(id="risk-reason").get_text() == "Bis Q3"  # what was typed stays
    no_reason = post(site, url, {"reason": "", "until": later})
    assert no_reason.status_code == 422 and page(no_reason).find(attrs={"data-error": "risk"}).find("a")["href"] == "#risk-reason"
    assert tracked(site, "WA-02") is None  # nothing stored
    assert post(site, url, {"reason": HOSTILE, "until": later}).status_code == 303
    soup = page(site.client.get(ITEM + "?lang=en"))
    box = soup.find(class_="risk-accepted")
    assert box["data-risk-until"] == later and "anna@acme.example" in box.get_text() and HOSTILE in box.get_text()
    assert soup.find(attrs={"data-flag": "risk_accepted"}) is not None
    assert post(site, "/manage/orgs/acme/items/WA-02/risk/withdraw").status_code == 303
    assert page(site.client.get(ITEM)).find(class_="risk-accepted") is None


def test_another_organisations_items_and_evidence_are_not_found(site):
    complete(site, site.other_link, APP_BUT_PLATFORM)
    foreign = manager_call(site, "POST", "/api/v1/orgs/other/items/WA-02/evidence", {"url": "https://other.example/x", "name": "Other's"}, token=site.otto)
    assert foreign.status_code == 201
    other_id = foreign.get_json()["id"]
    with site.app.app_context():  # a file of the other organisation too
        session = db.session()
        other = session.scalar(select(Organisation).where(Organisation.slug == "other"))
        from bot.store import events, tracking

        file_id = tracking.add_file(session, other, "WA-02", "x.pdf", PDF, "application/pdf", tracking.EvidenceDates.parse(None, None), events.CLI).id
    for url in (
        "/manage/orgs/other/items/WA-02",
        f"/manage/orgs/other/evidence/{file_id}",
        f"/manage/orgs/acme/evidence/{file_id}",
        "/manage/orgs/acme/items/WA-99",
        "/manage/orgs/acme/items/x",
    ):
        assert site.client.get(url).status_code == 404, url
    token = csrf(site.client, ITEM)
    for url, data in [
        ("/manage/orgs/other/items/WA-02/comments", {"text": "x"}),
        ("/manage/orgs/other/items/WA-02/tracking", {"version": "0", "workflow": "closed"}),
        ("/manage/orgs/other/items/WA-02/answers", {"step": "device", "value": "company_device", "version": "1"}),
        ("/manage/orgs/other/items/WA-02/risk", {"reason": "x", "until": "2099-01-01"}),
        (f"/manage/orgs/other/items/WA-02/evidence/{other_id}/delete", {}),
        (f"/manage/orgs/acme/items/WA-02/evidence/{other_id}/delete", {}),
    ]:
        assert site.client.post(url, data={"csrf_token": token, **data}).status_code == 404, url
    linked = site.client.post("/manage/orgs/acme/items/WA-02/evidence/existing", data={"csrf_token": token, "evidence_id": str(other_id)})
    assert linked.status_code == 422
    assert count(site, Evidence) == 2 and tracked(site, "WA-02") is None


@pytest.mark.parametrize(
    "path",
    ["answers", "tracking", "comments", "evidence", "evidence/link", "evidence/existing", "risk", "risk/withdraw", "evidence/1/delete"],
)
def test_a_form_without_its_csrf_token_is_refused(site, path):
    response = site.client.post(f"/manage/orgs/acme/items/WA-02/{path}", data={"text": "x", "version": "0", "workflow": "closed"})
    assert response.status_code == 400
    assert count(site, ItemComment) == 0 and tracked(site, "WA-02") is None


def test_the_manager_areas_exports_carry_the_tracking(site):
    api(site, "PATCH", "items/WA-02", {"version": 0, "owner": "anna@acme.example", "workflow": "in_progress"})
    exported = json.loads(site.client.get("/manage/orgs/acme/checklist.json").data)
    item = next(i for i in exported["items"] if i["id"] == "WA-02")
    assert item["tracking"]["owner"] == "anna@acme.example" and item["tracking"]["workflow"] == "in_progress"


def test_the_item_page_needs_a_login_and_a_checklist_of_record(site):
    assert site.app.test_client().get(ITEM).status_code == 302
    otto = site.app.test_client()
    log_in(otto, "otto@other.example")
    assert otto.get("/manage/orgs/other/items/WA-02").status_code == 404  # "other" has no completed assessment yet
    assert otto.get(ITEM).status_code == 404
