"""The manager area in a real browser (Debian's Chromium): log in, overview, organisation, texts, compare; axe-core."""

from __future__ import annotations

import pytest

from bot.store import db
from bot.store.managers import create_manager
from bot.store.models import Organisation
from tests.apiclient import Api
from tests.conftest import add_respondent_link, screenshot, serious_accessibility_violations
from tests.test_api import INTERNAL_ONLY
from tests.test_flow_walks import GOLDEN

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PASSWORD = "correct horse battery"


@pytest.fixture
def base(live_server) -> str:
    """The live server with an organisation, two assessments completed on version 1 (now superseded) and an admin manager."""
    url, app = live_server
    with app.app_context():
        session = db.session()
        org = Organisation(slug="acme", name="Bäckerei Muster GmbH", locale="de", flow_version=1)
        session.add(org)
        session.commit()
        create_manager(session, "anna@example.de", [org], password=PASSWORD, role="admin")
    key = add_respondent_link(app, "acme")
    api = Api(app)
    for answers in (INTERNAL_ONLY, {**GOLDEN[1][1], "company_name": "Bäckerei Muster GmbH"}):
        token, prompt = api.start(key, locale="de")
        api.finish(token, answers, prompt)
    with app.app_context():  # version 2 ships: the organisation follows the latest version again
        session = db.session()
        session.get(Organisation, org.id).flow_version = None
        session.commit()
    return url


def test_manager_area_in_the_browser(browser, base):
    context = browser.new_context(locale="de-DE")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
    problems: dict[str, list[str]] = {}

    page.goto(base + "/manage/")
    assert page.url.startswith(base + "/manage/login")
    problems["login"] = serious_accessibility_violations(page)
    page.fill("#email", "anna@example.de")
    page.fill("#password", "wrong")
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'error-summary'", timeout=5000)
    problems["login error"] = serious_accessibility_violations(page)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert page.locator("main").get_attribute("data-page") == "organisations"
    assert page.locator("tr[data-org=acme]").count() == 1
    problems["overview"] = serious_accessibility_violations(page)
    screenshot(page, "manage-overview-de")

    with page.expect_navigation():
        page.click("tr[data-org=acme] a")
    assert page.locator("li[data-item]").count() == 26  # the checklist of record, made with version 1
    assert "Version 1" in page.locator("main").inner_text()  # said so, with what version 2 changes
    assert page.locator("#version-changes tr[data-item]").count() == 30
    problems["organisation"] = serious_accessibility_violations(page)
    screenshot(page, "manage-organisation-de")

    with page.expect_download() as download:
        page.click("a[href$='checklist.pdf']")
    assert download.value.suggested_filename.startswith("wa-checklist-acme-") and download.value.suggested_filename.endswith(".pdf")

    with page.expect_navigation():
        page.click("button:has-text('Vergleichen')")
    assert page.locator("main").get_attribute("data-page") == "compare"
    assert page.locator("tr[data-item]").count() > 0
    problems["compare"] = serious_accessibility_violations(page)
    page.go_back()

    with page.expect_navigation():
        page.click("a[href$='/documents']")
    first = page.locator("section[data-document=first_contact_message]")
    first.locator("button.copy").click()  # visible only with JavaScript and a clipboard
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("Hallo") and "Bäckerei Muster GmbH" in copied
    problems["documents"] = serious_accessibility_violations(page)
    screenshot(page, "manage-documents-de")

    page.goto(base + "/manage/orgs/acme/profile")
    assert page.locator("main").get_attribute("data-page") == "profile"
    page.fill("#profile-vat_id", "DE 123")
    with page.expect_navigation():
        page.click("button.primary[type=submit]")
    assert page.locator("#error-summary").count() == 1  # refused, named, nothing stored
    problems["profile with an error"] = serious_accessibility_violations(page)
    screenshot(page, "manage-profile-error-de")

    page.goto(base + "/manage/orgs/acme")
    with page.expect_navigation():
        page.click("form.reassess button[type=submit]")
    assert page.locator("main").get_attribute("data-page") == "reassessment"
    link = page.input_value("#reassessment-link")
    problems["re-assessment link"] = serious_accessibility_violations(page)
    page.goto(link)
    assert page.locator("main").get_attribute("data-step") == "sector"  # only what is new is asked, in path order
    problems["re-assessment in the wizard"] = serious_accessibility_violations(page)
    screenshot(page, "wizard-reassessment-de")

    page.goto(base + "/manage/admin?lang=en")
    problems["admin"] = serious_accessibility_violations(page)
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(base + "/manage/orgs/acme")
    problems["organisation on a phone"] = serious_accessibility_violations(page)
    screenshot(page, "manage-organisation-phone-de")

    assert {k: v for k, v in problems.items() if v} == {}
    assert outside == []
    context.close()
