"""The living checklist in a real browser (Debian's Chromium) on a phone and a desktop: the worklist and its filter, an item's
owner, due date and workflow, an evidence upload, a fix button that amends the answer, a risk acceptance; axe-core on each state."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.store import db
from bot.store.managers import create_manager
from bot.store.models import Organisation, utcnow
from tests.apiclient import Api
from tests.conftest import add_respondent_link, screenshot, serious_accessibility_violations
from tests.test_trusted_results import APP_BUT_PLATFORM

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PASSWORD = "correct horse battery"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


@pytest.fixture
def base(live_server) -> str:
    """The live server with acme's checklist of record (12 critical items, flow version 1) and two of its managers."""
    url, app = live_server
    with app.app_context():
        session = db.session()
        org = Organisation(slug="acme", name="Bäckerei Muster GmbH", locale="de", flow_version=1)
        session.add(org)
        session.commit()
        create_manager(session, "anna@example.de", [org], password=PASSWORD)
        create_manager(session, "bea@example.de", [org], password=PASSWORD)
    api = Api(app)
    token, prompt = api.start(add_respondent_link(app, "acme"), locale="de")
    api.finish(token, APP_BUT_PLATFORM, prompt)
    return url


def no_overflow(page) -> bool:
    """Nothing is wider than the screen (no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def submit(page, selector: str) -> None:
    """Click a form's button and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(selector)


@pytest.mark.parametrize("size", SIZES)
def test_a_data_protection_officer_works_through_an_item(browser, base, size):
    context = browser.new_context(locale="en-GB", viewport=SIZES[size])
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
    problems: dict[str, list[str]] = {}

    page.goto(base + "/manage/login?lang=en")
    page.fill("#email", "anna@example.de")
    page.fill("#password", PASSWORD)
    submit(page, "main button[type=submit]")
    page.goto(base + "/manage/orgs/acme?lang=en")
    assert page.locator("li[data-item]").count() == 26
    problems["worklist"] = serious_accessibility_violations(page)
    assert no_overflow(page)
    screenshot(page, f"living-worklist-{size}")

    page.select_option("#filter-status", "critical")
    submit(page, "form.worklist-filters button[type=submit]")
    assert "status=critical" in page.url
    assert page.locator("li[data-item]").count() == 12 and page.locator("li[data-item][data-status=critical]").count() == 12
    problems["worklist filtered"] = serious_accessibility_violations(page)

    submit(page, "li[data-item=WA-02] .item-title a")
    assert page.locator("main").get_attribute("data-page") == "item"
    assert page.locator("[data-because=device]").inner_text() == "On which phone does WhatsApp run? – On a private phone"
    problems["item"] = serious_accessibility_violations(page)
    assert no_overflow(page)
    screenshot(page, f"living-item-{size}")

    due = (utcnow().date() + timedelta(days=14)).isoformat()
    page.select_option("#tracking-owner", "anna@example.de")
    page.fill("#tracking-due", due)
    page.select_option("#tracking-workflow", "in_progress")
    submit(page, "form.tracking button[type=submit]")
    assert "saved" in page.locator("#done-note").inner_text()
    assert page.input_value("#tracking-owner") == "anna@example.de" and page.input_value("#tracking-due") == due
    problems["owner saved"] = serious_accessibility_violations(page)

    page.set_input_files("#upload-file", {"name": "AVV signiert.pdf", "mimeType": "application/pdf", "buffer": PDF})
    page.fill("#upload-expires", (utcnow().date() + timedelta(days=365)).isoformat())
    submit(page, "form.upload-evidence button[type=submit]")
    evidence = page.locator("li[data-evidence]")
    assert evidence.count() == 1 and "AVV signiert.pdf" in evidence.inner_text()
    with page.expect_download() as download:
        evidence.locator("a[download]").click()
    assert download.value.suggested_filename == "AVV signiert.pdf"
    problems["evidence uploaded"] = serious_accessibility_violations(page)

    page.fill("#risk-reason", "Private phones until the company phones arrive in spring.")
    page.fill("#risk-until", (utcnow().date() + timedelta(days=90)).isoformat())
    submit(page, "form.accept-risk button[type=submit]")
    assert "Risk accepted by anna@example.de" in page.locator(".risk-accepted").inner_text()
    assert page.locator("[data-flag=risk_accepted]").count() == 1
    problems["risk accepted"] = serious_accessibility_violations(page)

    submit(page, "li[data-fix=device] button[type=submit]")
    assert page.locator("main").get_attribute("data-status") == "done"
    assert "On a company phone" in page.locator("#done-note").inner_text()
    problems["amended"] = serious_accessibility_violations(page)
    assert no_overflow(page)
    screenshot(page, f"living-item-done-{size}")

    page.goto(base + "/manage/orgs/acme?lang=en&owner=me")
    assert page.locator("li[data-item]").count() == 1
    mine = page.locator("li[data-item=WA-02]")
    assert mine.get_attribute("data-status") == "done" and mine.locator("[data-fact=evidence]").inner_text() == "1"
    assert "Risk accepted until" not in mine.inner_text()  # done since the amendment: no risk left to accept
    problems["my items in the worklist"] = serious_accessibility_violations(page)

    assert {k: v for k, v in problems.items() if v} == {}
    assert outside == []
    context.close()
