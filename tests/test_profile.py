"""The organisation profile: its validation (bot/store/profiles.py), the manager API, the manager area, export and deletion."""

from __future__ import annotations

import json
import re

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from bot.cli import cli
from bot.store import db
from bot.store.managers import create_manager
from bot.store.models import PROFILE_FIELDS, Organisation, OrganisationProfile
from bot.store.profiles import ProfileError, valid_phone, valid_url, valid_vat_id, validate_changes

PASSWORD = "correct horse battery"
FILLED = {
    "representative": "Erika Muster",
    "register_court": "Amtsgericht Köln",
    "register_number": "HRB 12345",
    "vat_id": "de 123 456 789",
    "business_id": "de123456789-00001",
    "phone": "+49 (221) 123 45-67",
    "dpo_contact": "Max Schutz, datenschutz@example.de",
}


# -- the rules, without a database -----------------------------------------------------


@pytest.mark.parametrize(
    "vat_id",
    ["DE123456789", "ATU12345678", "FR40303265045", "NL123456789B01", "EL123456789", "ESX1234567X", "IE1234567WA", "SE123456789001", "XI123456789"],
)
def test_vat_ids_in_their_countrys_format_are_accepted(vat_id):
    assert valid_vat_id(vat_id)


@pytest.mark.parametrize("vat_id", ["DE12345678", "DE1234567890", "DEX23456789", "123456789", "US123456789", "GR123456789", "ATU1234567", "NL123456789A01", ""])
def test_malformed_vat_ids_are_refused(vat_id):
    assert not valid_vat_id(vat_id)


@pytest.mark.parametrize(("phone", "ok"), [("+49 30 1234567", True), ("(0221) 123/45-67", True), ("123456", True), ("12345", False),
                                          ("+49 30 1234567 ext. 5", False), ("0049+30123456", False), ("1" * 21, False), ("", False)])  # fmt: skip
def test_phone_numbers(phone, ok):
    assert valid_phone(phone) is ok


@pytest.mark.parametrize(("url", "ok"), [("https://www.brak.de/berufsrecht/", True), ("http://example.de", True), ("ftp://example.de", False),
                                        ("javascript:alert(1)", False), ("https://", False), ("www.example.de", False), ("https://a b.de", False)])  # fmt: skip
def test_rules_urls(url, ok):
    assert valid_url(url) is ok


def test_values_are_trimmed_ids_compacted_and_blank_clears():
    cleaned = validate_changes({**FILLED, "chamber": "  ", "professional_title": None})
    assert cleaned["vat_id"] == "DE123456789" and cleaned["business_id"] == "DE123456789-00001"
    assert cleaned["representative"] == "Erika Muster" and cleaned["chamber"] is None and cleaned["professional_title"] is None


def test_every_problem_is_reported_at_once():
    with pytest.raises(ProfileError) as caught:
        validate_changes({"vat_id": "DE1", "phone": "abc", "ceo": "x", "representative": "x" * 201, "chamber": 5, "register_court": "A\x00B"})
    found = {(p.field, p.code) for p in caught.value.problems}
    assert found == {("vat_id", "invalid_vat_id"), ("phone", "invalid_phone"), ("ceo", "unknown_field"), ("representative", "too_long"),
                     ("chamber", "not_text"), ("register_court", "control_character")}  # fmt: skip


def test_every_limit_is_enforced_exactly():
    for name, limit in PROFILE_FIELDS.items():
        if name in ("vat_id", "business_id", "phone", "professional_rules_url"):
            continue  # their formats are shorter than their limits
        assert validate_changes({name: "x" * limit})[name] == "x" * limit
        with pytest.raises(ProfileError):
            validate_changes({name: "x" * (limit + 1)})


# -- the manager API, on SQLite and PostgreSQL ------------------------------------------


def _patch(world, slug, body, token=None, **kwargs):
    headers = {"Authorization": f"Bearer {token or world.anna}", **kwargs.pop("headers", {})}
    return world.api.call("PATCH", f"/api/v1/orgs/{slug}/profile", body, headers=headers, **kwargs)


def _profile(world, slug="acme", token=None):
    response = world.api.manager(f"/api/v1/orgs/{slug}/profile", token or world.anna)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_profile_starts_empty_and_takes_any_subset(world):
    empty = _profile(world)
    assert empty == {"org": {"slug": "acme", "name": "ACME GmbH"}, "profile": dict.fromkeys(PROFILE_FIELDS), "updated_at": None}
    saved = _patch(world, "acme", FILLED)
    assert saved.status_code == 200, saved.get_json()
    profile = saved.get_json()["profile"]
    assert profile["vat_id"] == "DE123456789" and profile["phone"] == "+49 (221) 123 45-67" and profile["chamber"] is None
    assert saved.get_json()["updated_at"] is not None
    assert _profile(world)["profile"] == profile
    cleared = _patch(world, "acme", {"phone": None, "register_number": "", "chamber": "Rechtsanwaltskammer Köln"}).get_json()["profile"]
    assert cleared == {**profile, "phone": None, "register_number": None, "chamber": "Rechtsanwaltskammer Köln"}
    assert _profile(world, "other", world.otto)["profile"] == dict.fromkeys(PROFILE_FIELDS)  # per organisation


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("representative", "x" * 201, "too_long"),
        ("dpo_contact", "x" * 301, "too_long"),
        ("representative", "Erika\x00Muster", "control_character"),
        ("vat_id", "DE12345678", "invalid_vat_id"),
        ("vat_id", "123456789", "invalid_vat_id"),
        ("business_id", "DE12345678-1", "invalid_business_id"),
        ("phone", "call me", "invalid_phone"),
        ("phone", "12 34", "invalid_phone"),
        ("professional_rules_url", "javascript:alert(1)", "invalid_url"),
        ("ceo", "Erika", "unknown_field"),
        ("phone", 4930123456, "not_text"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_nothing_is_stored(world, field, value, code):
    before = _patch(world, "acme", FILLED).get_json()
    response = _patch(world, "acme", {"register_court": "Amtsgericht Bonn", field: value}, headers={"Accept-Language": "de"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_profile"
    assert [(f["field"], f["code"]) for f in error["fields"]] == [(field, code)]
    assert field in error["message"] and "Bitte" in error["message"]  # localised (German here)
    assert _profile(world) == before  # nothing stored, not even the valid field beside it
    with world.app.app_context():
        assert db.session().scalar(select(func.count()).select_from(OrganisationProfile)) == 1


def test_a_foreign_organisations_profile_is_404_like_a_missing_one(world):
    for method in ("GET", "PATCH"):
        body = {"phone": "+49 30 1234567"} if method == "PATCH" else None
        call = world.api.call
        foreign = call(method, "/api/v1/orgs/other/profile", body, headers={"Authorization": f"Bearer {world.anna}"})
        missing = call(method, "/api/v1/orgs/no-such-org/profile", body, headers={"Authorization": f"Bearer {world.anna}"})
        assert foreign.status_code == missing.status_code == 404
        assert foreign.get_json() == missing.get_json()
        assert call(method, "/api/v1/orgs/acme/profile", body).status_code == 401
    assert _profile(world, "other", world.otto)["profile"]["phone"] is None  # nothing stored for the foreign one
    assert _patch(world, "other", {"phone": "+44 20 7946 0000"}, token=world.root).status_code == 200  # an admin may


def test_a_body_that_is_not_a_json_object_is_refused(world):
    headers = {"Authorization": f"Bearer {world.anna}"}
    assert world.api.call("PATCH", "/api/v1/orgs/acme/profile", raw="{broken", headers=headers).status_code == 400
    assert world.api.call("PATCH", "/api/v1/orgs/acme/profile", body=["phone"], headers=headers).status_code == 400
    assert world.api.call("PATCH", "/api/v1/orgs/acme/profile", raw="phone=1", content_type="text/plain", headers=headers).status_code == 415
    assert _profile(world)["updated_at"] is None


# -- the manager area -------------------------------------------------------------------


def _page(response) -> BeautifulSoup:
    return BeautifulSoup(response.data.decode(), "html.parser")


@pytest.fixture
def browser(world):
    """A browser in which a manager of acme (with a password) is logged in."""
    with world.app.app_context():
        session = db.session()
        acme = session.scalar(select(Organisation).where(Organisation.slug == "acme"))
        create_manager(session, "paula@acme.example", [acme], password=PASSWORD)
    client = world.app.test_client()
    token = _page(client.get("/manage/login")).find("input", attrs={"name": "csrf_token"})["value"]
    assert client.post("/manage/login", data={"csrf_token": token, "email": "paula@acme.example", "password": PASSWORD}).status_code == 303
    return client


def _form(client, url="/manage/orgs/acme/profile") -> dict[str, str]:
    form = _page(client.get(url)).find("form", attrs={"action": url})
    return {i["name"]: i.get("value", "") for i in form.find_all("input")}


def test_the_profile_page_is_linked_saves_and_shows_the_values(world, browser):
    assert _page(browser.get("/manage/orgs/acme")).find("a", href="/manage/orgs/acme/profile") is not None
    soup = _page(browser.get("/manage/orgs/acme/profile"))
    assert soup.find("h1").get_text() == "Organisationsprofil"
    assert soup.find("label", attrs={"for": "profile-vat_id"}).get_text() == "Umsatzsteuer-Identifikationsnummer"
    form = {**_form(browser), **FILLED}
    response = browser.post("/manage/orgs/acme/profile", data=form)
    assert response.status_code == 303 and response.headers["Location"].endswith("/manage/orgs/acme/profile?saved=1")
    shown = _page(browser.get(response.headers["Location"]))
    assert shown.find(id="saved") is not None
    assert shown.find("input", attrs={"name": "vat_id"})["value"] == "DE123456789"
    assert _profile(world)["profile"]["representative"] == "Erika Muster"
    # an emptied field is cleared
    assert browser.post("/manage/orgs/acme/profile", data={**_form(browser), "phone": ""}).status_code == 303
    assert _profile(world)["profile"]["phone"] is None


def test_the_page_refuses_bad_fields_by_name_and_stores_nothing(world, browser):
    browser.post("/manage/orgs/acme/profile", data={**_form(browser), **FILLED})
    before = _profile(world)
    bad = {**_form(browser), "vat_id": "DE12", "phone": "0800-WHATSAPP", "representative": "x" * 201, "register_court": "Amtsgericht Bonn"}
    response = browser.post("/manage/orgs/acme/profile", data=bad)
    assert response.status_code == 422
    soup = _page(response)
    summary = soup.find(id="error-summary").get_text(" ", strip=True)
    assert "Umsatzsteuer-Identifikationsnummer" in summary and "Telefon" in summary and "Vertreten durch" in summary
    assert soup.find("input", attrs={"name": "vat_id"})["aria-invalid"] == "true"
    assert soup.find("input", attrs={"name": "register_court"})["value"] == "Amtsgericht Bonn"  # what was typed stays in the form
    assert _profile(world) == before
    english = browser.post("/manage/orgs/acme/profile?lang=en", data=bad)
    assert "VAT identification number" in _page(english).find(id="error-summary").get_text()


def test_the_page_needs_csrf_and_hides_foreign_organisations(world, browser):
    form = {k: v for k, v in {**_form(browser), **FILLED}.items() if k != "csrf_token"}
    assert browser.post("/manage/orgs/acme/profile", data=form).status_code == 400
    assert _profile(world)["updated_at"] is None
    assert browser.get("/manage/orgs/other/profile").status_code == 404
    assert browser.post("/manage/orgs/other/profile", data={**_form(browser), "phone": "+49 30 1234567"}).status_code == 404
    assert world.app.test_client().get("/manage/orgs/acme/profile").status_code == 302  # to the login


# -- export and deletion ----------------------------------------------------------------


def test_export_org_includes_the_profile_and_delete_org_removes_it(world, tmp_path):
    _patch(world, "acme", FILLED)
    runner = world.app.test_cli_runner()
    target = tmp_path / "acme.json"
    assert runner.invoke(cli, ["export-org", "acme", "-o", str(target)]).exit_code == 0
    exported = json.loads(target.read_text("utf-8"))
    assert exported["profile"]["representative"] == "Erika Muster" and exported["profile"]["vat_id"] == "DE123456789"
    other = tmp_path / "other.json"
    assert runner.invoke(cli, ["export-org", "other", "-o", str(other)]).exit_code == 0
    assert json.loads(other.read_text("utf-8"))["profile"] is None
    assert runner.invoke(cli, ["delete-org", "acme", "--yes"]).exit_code == 0
    with world.app.app_context():
        assert db.session().scalar(select(func.count()).select_from(OrganisationProfile)) == 0


# -- the documents use the assessment's flow version and the profile ---------------------


def _completed(world, slug: str, version: int, answers: dict) -> None:
    """A completed assessment of `slug` on flow version `version` (stored directly: only the documents are under test)."""
    from bot.store.models import Assessment, utcnow

    with world.app.app_context():
        session = db.session()
        org = session.scalar(select(Organisation).where(Organisation.slug == slug))
        now = utcnow()
        session.add(Assessment(organisation_id=org.id, flow_id="whatsapp_gdpr", flow_version=version, state="done", answers=answers,
                               locale="de", completed_at=now, completed_answers=answers, updated_at=now,
                               started_via="respondent_link", recorded_at=now))  # fmt: skip
        session.commit()


DOCUMENT_ANSWERS = {"purpose": "customer", "channel": "business_app", "company_name": "ACME GmbH", "initiator": "customers_only", "sector": "general"}


def test_documents_follow_the_flow_version_and_use_the_profile(world, browser):
    _patch(world, "acme", FILLED)
    _completed(world, "acme", 2, DOCUMENT_ANSWERS)
    body = world.api.manager("/api/v1/orgs/acme/documents?lang=en", world.anna).get_json()
    texts = {d["id"]: d for d in body["documents"]}
    assert "Represented by: Erika Muster" in texts["imprint_snippet"]["text"]
    assert "Business ID (W-IdNr.): DE123456789-00001" in texts["imprint_snippet"]["text"]
    assert "processing based on Art. 6(1)(f) GDPR (Art. 21(1) GDPR)" in texts["first_contact_message"]["text"]
    page = _page(browser.get("/manage/orgs/acme/documents"))
    imprint = page.find("section", attrs={"data-document": "imprint_snippet"})
    assert "Vertreten durch: Erika Muster" in imprint.find("textarea").get_text()
    hint = imprint.find("p", class_="hint").get_text()
    assert re.fullmatch(r"1 Angabe fehlt|\d+ Angaben fehlen", hint), hint  # the German plural
    download = browser.get("/manage/orgs/acme/documents/imprint_snippet.txt").data.decode()
    assert "Wirtschafts-Identifikationsnummer: DE123456789-00001" in download
    # an organisation whose latest checklist is version 1 keeps version 1's texts
    _completed(world, "other", 1, {**DOCUMENT_ANSWERS, "regulated_sector": "no"})
    v1 = {d["id"]: d["text"] for d in world.api.manager("/api/v1/orgs/other/documents?lang=en", world.otto).get_json()["documents"]}
    assert "You have the right to object to this processing at any time (Art. 21 GDPR)." in v1["first_contact_message"]
    assert "W-IdNr." not in v1["imprint_snippet"]
