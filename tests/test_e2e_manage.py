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
        create_manager(session, "anna@example.de", [org], password=PASSWORD, operator=True)
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


def test_respondent_link_record_and_adopted_submission_in_the_browser(browser, live_server):
    """A manager creates a link; its respondent completes the wizard; the page names that checklist of record; a visitor's
    passed-on self-assessment appears under submissions and the manager adopts it. axe-core on each state, desktop and phone."""
    from tests.test_e2e_wizard import _step, _walk

    base, app = live_server
    with app.app_context():
        session = db.session()
        praxis = Organisation(slug="praxis", name="Praxis Dr. Muster", locale="de", flow_version=1)  # version 1: a short walk
        session.add(praxis)
        session.commit()
        create_manager(session, "paula@example.de", [praxis], password=PASSWORD)
        embed_key = praxis.embed_key
    manager = browser.new_context(locale="de-DE")
    manager.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page = manager.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
    problems: dict[str, list[str]] = {}

    def check(state: str) -> None:
        """axe-core at desktop and phone width."""
        for width, height, size in ((1280, 900, "desktop"), (375, 740, "phone")):
            page.set_viewport_size({"width": width, "height": height})
            problems[f"{state} ({size})"] = serious_accessibility_violations(page)
        page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(base + "/manage/login")
    page.fill("#email", "paula@example.de")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")

    # 1. the manager creates a respondent link; a wrong expiry is refused first
    page.goto(base + "/manage/orgs/praxis")
    with page.expect_navigation():
        page.click("nav.org-nav a[href='/manage/orgs/praxis/links']")
    check("respondent links, none yet")
    page.fill("#link-label", "Empfang")
    page.fill("#link-expires_days", "0")
    with page.expect_navigation():
        page.click("form.new-link button[type=submit]")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'error-summary'", timeout=5000)
    assert page.get_attribute("#link-expires_days", "aria-invalid") == "true"
    check("respondent link refused")
    page.fill("#link-expires_days", "14")
    with page.expect_navigation():
        page.click("form.new-link button[type=submit]")
    link = page.input_value("#created-url")
    assert link.startswith(base + "/r/war_")
    assert f'data-respondent-link="{link.rsplit("/", 1)[1]}"' in page.input_value("#created-snippet")
    page.click("button.copy[data-copy=created-url]")
    assert page.evaluate("navigator.clipboard.readText()") == link
    check("respondent link created")
    screenshot(page, "manage-link-created-de")
    page.goto(base + "/manage/orgs/praxis/links")
    assert link.rsplit("/", 1)[1] not in page.content()  # shown once
    assert page.locator("tr[data-link][data-status=active]").count() == 1

    # 2. the respondent opens the link in a browser without JavaScript and completes the wizard
    respondent = browser.new_context(locale="de-DE", java_script_enabled=False).new_page()
    respondent.goto(link)
    assert _step(respondent) == "start" and "Empfang" in respondent.locator("main").inner_text()
    with respondent.expect_navigation():
        respondent.click("button[name=action][value=start]")
    _walk(respondent, INTERNAL_ONLY, "done")
    assert respondent.locator("#consent-box").count() == 0  # a trusted assessment: nothing to pass on

    # 3. the organisation page names that checklist of record
    page.goto(base + "/manage/orgs/praxis")
    record = page.locator("#record")
    assert record.get_attribute("data-record-via") == "respondent_link"
    assert "über den Befragungslink „Empfang“" in record.inner_text()
    check("organisation with its checklist of record")
    screenshot(page, "manage-record-de")

    # 4. a visitor's public self-assessment, passed on with a contact address
    visitor = browser.new_context(locale="de-DE", java_script_enabled=False).new_page()
    visitor.goto(f"{base}/w/{embed_key}")
    with visitor.expect_navigation():
        visitor.click("button[name=action][value=start]")
    _walk(visitor, GOLDEN[0][1], "done")
    visitor.check("#consent-box")
    visitor.fill("#contact-email", "inhaber@baeckerei.example")
    with visitor.expect_navigation():
        visitor.click("button[data-action=consent]")
    assert visitor.locator("[data-consent=given]").count() == 1

    page.goto(base + "/manage/orgs/praxis/self-check")
    row = page.locator("tr[data-submission]")
    assert row.count() == 1 and "inhaber@baeckerei.example" in row.inner_text()
    assert page.locator("dd[data-stat=consented]").inner_text() == "1"
    check("public self-check with a submission")
    screenshot(page, "manage-self-check-de")
    with page.expect_navigation():
        row.locator("th a").click()
    assert page.locator("main").get_attribute("data-page") == "submission"
    check("submission")

    # 5. the manager adopts it: it becomes the checklist of record
    with page.expect_navigation():
        page.click("main button[data-action=adopt]")
    assert page.locator("main").get_attribute("data-page") == "organisation"
    assert page.locator("#record").get_attribute("data-record-via") == "adoption"
    assert "übernommen von paula@example.de" in page.locator("#record").inner_text()
    assert page.locator("#done-note").count() == 1
    check("organisation after adopting")

    # the link is revoked after confirming; the event log tells all of it
    page.goto(base + "/manage/orgs/praxis/links")
    with page.expect_navigation():
        page.click("tr[data-link] a.button-link")
    check("revoke confirmation")
    with page.expect_navigation():
        page.click("form.revoke button[type=submit]")
    assert page.locator("tr[data-link][data-status=revoked]").count() == 1
    respondent.goto(link)
    assert "abgelaufen oder wurde zurückgezogen" in respondent.locator("main").inner_text()
    page.goto(base + "/manage/orgs/praxis/events")
    shown = [page.locator("tr[data-event]").nth(i).get_attribute("data-event") for i in range(page.locator("tr[data-event]").count())]
    assert [action for action in shown if action not in ("submission.received", "assessment.completed")][:3] == [
        "respondent_link.revoked", "submission.adopted", "respondent_link.created",
    ]  # fmt: skip
    assert {"submission.received", "assessment.completed"} <= set(shown)  # the submission and the respondent-link completion too
    check("event log")

    assert {k: v for k, v in problems.items() if v} == {}
    assert outside == []
    manager.close()
