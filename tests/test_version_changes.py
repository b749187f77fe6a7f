"""What version 2 changes, per organisation: a checklist made with version 1 says so everywhere it is shown.

The manager area (banner, item-by-item comparison, overview order), the manager API's
`assessment.latest_version` and every export's header, with the real whatsapp_gdpr v1 → v2.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess

import openpyxl
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from bot.review import NEEDS_ANSWER, compare_versions
from bot.store import db
from bot.store.managers import create_manager
from bot.store.models import Organisation
from tests.apiclient import Api
from tests.conftest import add_respondent_link, skip_or_fail
from tests.test_flow_walks import GOLDEN

PASSWORD = "correct horse battery"
DENTAL_V1 = GOLDEN[1][1]  # purpose both, sensitive data, marketing-free service updates, imprint missing: WA-12 critical in v1
# The same practice answered on version 2: a § 203 profession without safeguards, so it has critical items too.
DENTAL_V2 = {
    **{step: value for step, value in DENTAL_V1.items() if step != "regulated_sector"},
    "sector": "professional_secrecy",
    "secrecy_safeguards": "none",
    "optout": "no",
    "meta_ai": "no",
    "works_council": "none",
    "sick_notes": "eau",
    "internal_messenger": "none",
}
BANNER_DE = "Mit Version 1 des Fragebogens erstellt – aktuell ist Version 2."
NOTICE = {
    "de": "Mit Version 1 des Fragebogens erstellt; aktuell ist Version 2 – bitte starten Sie eine erneute Prüfung.",
    "en": "Made with version 1 of the questionnaire; version 2 is current – please re-assess.",
}


def _finish(app, slug: str, answers: dict, pin: int | None = None) -> None:
    """Complete an assessment of `slug` with `answers`, on version `pin` (pinned for the walk, unpinned after)."""
    with app.app_context():
        session = db.session()
        org = session.scalar(select(Organisation).where(Organisation.slug == slug))
        org.flow_version = pin
        session.commit()
    key = add_respondent_link(app, slug)
    api = Api(app)
    token, prompt = api.start(key, locale="de")
    api.finish(token, answers, prompt)
    with app.app_context():
        session = db.session()
        session.scalar(select(Organisation).where(Organisation.slug == slug)).flow_version = None
        session.commit()


@pytest.fixture
def area(app):
    """`dental` completed on version 1 (now outdated), `alpha` completed on version 2 with critical items, `beta` never; Anna sees all three."""
    with app.app_context():
        session = db.session()
        names = [("dental", "Zahnarztpraxis Dr. Weiß"), ("alpha", "Alpha KG"), ("beta", "Beta GmbH")]
        orgs = [Organisation(slug=slug, name=name, locale="de") for slug, name in names]
        session.add_all(orgs)
        session.commit()
        _manager, token = create_manager(session, "anna@example.de", orgs, password=PASSWORD)
    _finish(app, "dental", DENTAL_V1, pin=1)
    _finish(app, "alpha", DENTAL_V2)
    app.config["ANNA_TOKEN"] = token
    return app


@pytest.fixture
def anna(area):
    """A browser in which Anna is logged in."""
    from tests.test_manage import log_in

    client = area.test_client()
    assert log_in(client, "anna@example.de", PASSWORD).status_code == 303
    return client


def page(response) -> BeautifulSoup:
    """Parse an HTML response."""
    assert response.status_code == 200
    return BeautifulSoup(response.data.decode(), "html.parser")


def test_the_overview_puts_a_checklist_of_an_older_version_first_with_its_reason(anna):
    rows = page(anna.get("/manage/")).select("tr[data-org]")
    # alpha has critical items on version 2, beta never completed: the version-1 checklist comes first all the same.
    assert [r["data-org"] for r in rows] == ["dental", "alpha", "beta"]
    assert int(rows[1].find(attrs={"data-critical": True})["data-critical"]) > 0
    reason = rows[0].find(attrs={"data-outdated": True})
    assert reason["data-outdated"] == "1" and reason.get_text(strip=True) == "Version 1 – aktuell ist Version 2"
    assert rows[1].find(attrs={"data-outdated": True}) is None


def test_the_organisation_page_says_which_version_and_compares_item_by_item(area, anna):
    soup = page(anna.get("/manage/orgs/dental"))
    banner = soup.find(id="older-version")
    assert BANNER_DE in banner.get_text(" ", strip=True)
    assert (banner["data-version"], banner["data-latest-version"]) == ("1", "2")
    assert banner.find("a", href="#version-changes")
    rows = {tr["data-item"]: tr for tr in soup.select("#version-changes tr[data-item]")}
    assert list(rows) == [f"WA-{n:02d}" for n in range(1, 31)]
    # WA-12: a missing imprint is critical in version 1, open in version 2; decided by the migrated answers alone.
    assert (rows["WA-12"]["data-before"], rows["WA-12"]["data-after"]) == ("critical", "open")
    # New items that new questions decide (optout and secrecy_safeguards are on this path; the sector is asked again).
    for item in ("WA-27", "WA-28", "WA-30"):
        assert (rows[item]["data-before"], rows[item]["data-after"]) == ("", NEEDS_ANSWER), item
        assert "braucht eine Antwort" in rows[item].get_text()
        assert "neu in Version 2" in rows[item].get_text()
    # The page shows exactly what the pure comparison decides.
    engines = area.extensions["engines"]
    comparison = compare_versions(engines.get("whatsapp_gdpr", 1), engines.get("whatsapp_gdpr", 2), DENTAL_V1)
    assert {i: (tr["data-before"], tr["data-after"]) for i, tr in rows.items()} == {c.id: (c.before or "", c.after or "") for c in comparison.items}
    questions = [li.get_text(strip=True) for li in soup.select("#version-changes ul.open-questions li")]
    assert len(questions) == len(comparison.open_steps) and all(questions)
    assert comparison.open_steps[0] == "sector"  # asked again, whatever version 1's answer was


def test_a_checklist_of_the_current_version_has_no_banner(anna):
    soup = page(anna.get("/manage/orgs/alpha"))
    assert soup.find(id="older-version") is None and soup.find(id="version-changes") is None


def test_a_pinned_organisation_is_told_why_a_re_assessment_stays_on_its_version(area, anna):
    with area.app_context():
        session = db.session()
        session.scalar(select(Organisation).where(Organisation.slug == "dental")).flow_version = 1
        session.commit()
    banner = page(anna.get("/manage/orgs/dental")).find(id="older-version")
    assert "auf Version 1 festgelegt" in banner.get_text(" ", strip=True)


def test_the_pages_in_english(anna):
    soup = page(anna.get("/manage/orgs/dental?lang=en"))
    assert "Made with version 1 of the questionnaire – version 2 is current." in soup.find(id="older-version").get_text(" ", strip=True)
    assert "needs an answer" in soup.select_one("#version-changes tr[data-item=WA-30]").get_text()


def test_the_manager_api_names_the_latest_version(area):
    api = Api(area)
    token = area.config["ANNA_TOKEN"]
    for slug, version in (("dental", 1), ("alpha", 2)):
        response = api.manager(f"/api/v1/orgs/{slug}/checklist", token)  # checked against the OpenAPI document
        assert response.status_code == 200
        assessment = response.get_json()["assessment"]
        assert (assessment["version"], assessment["latest_version"]) == (version, 2)


def _download(area, slug: str, fmt: str, lang: str):
    response = area.test_client().get(f"/api/v1/orgs/{slug}/checklist.{fmt}?lang={lang}", headers={"Authorization": f"Bearer {area.config['ANNA_TOKEN']}"})
    assert response.status_code == 200, response.data[:300]
    return response


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_export_names_the_versions_in_its_header(area, lang):
    notice = NOTICE[lang]
    raw = _download(area, "dental", "csv", lang).data.decode().removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(raw), delimiter=";"))
    assert rows[0] == [notice] and rows[1] == [] and rows[2][0] == "Organisation"
    assert len(rows) == 3 + 26  # the notice, a blank line, the header and version 1's 26 items

    markdown = _download(area, "dental", "md", lang).data.decode()
    assert f"> **{notice}**" in markdown and markdown.index(notice) < markdown.index("WA-01")

    workbook = openpyxl.load_workbook(io.BytesIO(_download(area, "dental", "xlsx", lang).data))
    about = workbook.worksheets[-1]  # "About", after the checklist and (for managers) the worklist
    assert notice in [row[1].value for row in about.iter_rows()]
    assert notice in workbook.worksheets[0].oddHeader.left.text  # printed above every page of the checklist

    data = json.loads(_download(area, "dental", "json", lang).data)
    assert (data["assessment"]["version"], data["assessment"]["latest_version"]) == (1, 2)

    if shutil.which("pdftotext") is None:
        skip_or_fail("pdftotext is missing (apt-get install poppler-utils)")
    pdf = _download(area, "dental", "pdf", lang).data
    text = " ".join(subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode().split())
    assert notice in text


def test_exports_of_the_current_version_have_no_notice(area):
    rows = list(csv.reader(io.StringIO(_download(area, "alpha", "csv", "de").data.decode().removeprefix("\ufeff")), delimiter=";"))
    assert rows[0][0] == "Organisation"
    assert "Fragebogens erstellt" not in _download(area, "alpha", "md", "de").data.decode()


def test_the_csv_of_all_checklists_names_the_organisation_on_an_older_version(anna):
    raw = anna.get("/manage/checklists.csv?lang=de").data.decode().removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(raw), delimiter=";"))
    assert rows[0] == [f"Zahnarztpraxis Dr. Weiß: {NOTICE['de']}"] and rows[1] == [] and rows[2][0] == "Organisation"
    assert {r[0] for r in rows[3:]} == {"Zahnarztpraxis Dr. Weiß", "Alpha KG"}


def test_the_pages_with_the_banner_and_the_comparison_have_no_inline_code(anna):
    """The checks of tests/test_manage.py's page walk, on the pages as they look with a version-1 checklist."""
    for url in ("/manage/", "/manage/orgs/dental"):
        response = anna.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        soup = page(response)
        assert all(s.get("src") and not s.string for s in soup.find_all("script")), url
        assert not soup.find_all("style") and not soup.find_all(style=True), url
        assert [(tag.name, attr) for tag in soup.find_all(True) for attr in tag.attrs if attr.lower().startswith("on")] == [], url
        ids = [tag["id"] for tag in soup.find_all(id=True)]
        assert len(ids) == len(set(ids)), url  # ids are unique (the banner links to one)
