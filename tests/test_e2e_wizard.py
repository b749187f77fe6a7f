"""The wizard in a real browser (Debian's Chromium) with JavaScript switched off, plus axe-core checks."""

from __future__ import annotations

import pytest

from tests import contract
from tests.conftest import add_organisation, screenshot, serious_accessibility_violations
from tests.test_flow_walks import GOLDEN

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def wizard_link(live_server) -> str:
    """The wizard link of an organisation on the live server."""
    base, app = live_server
    return f"{base}/w/{add_organisation(app, 'acme', 'ACME GmbH')}"


def _step(page) -> str:
    return page.locator("main").get_attribute("data-step")


def _press(page, action: str = "next") -> None:
    with page.expect_navigation():
        page.click(f"button[name=action][value={action}]")


def _answer(page, value) -> None:
    """Fill the current step like a person: click the options' labels, type the text, press Continue."""
    if isinstance(value, list):
        for v in value:
            page.click(f"label[for='option-{v}']")
    elif value is not None and page.locator("input[type=text]#field-value").count():
        page.fill("#field-value", value)
    elif value is not None:
        page.click(f"label[for='option-{value}']")
    _press(page, "next")


def _walk(page, answers, until: str, on_step=None) -> None:
    """Answer from `answers`, skip optional steps without one, continue on info steps, until `until`."""
    while (step := _step(page)) != until:
        if on_step is not None:
            on_step(step)
        if step in answers:
            _answer(page, answers[step])
        elif page.locator("button[value=skip]").count():
            _press(page, "skip")
        else:
            _press(page, "next")


def test_complete_go_back_and_change_an_answer_without_javascript(browser, wizard_link):
    context = browser.new_context(java_script_enabled=False, locale="de-DE")
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(wizard_link.split("/w/")[0]) else None)
    page.goto(wizard_link)
    assert _step(page) == "start" and page.locator("html").get_attribute("lang") == "de"
    screenshot(page, "wizard-start-de")
    _press(page, "start")
    assert _step(page) == "purpose"
    assert page.locator("html").get_attribute("lang") == "de"
    screenshot(page, "wizard-first-step-de")

    answers = GOLDEN[0][1]
    _answer(page, answers["purpose"])
    _answer(page, answers["sensitive_data"])
    _press(page, "back")
    assert _step(page) == "sensitive_data"
    assert page.is_checked(f"#option-{answers['sensitive_data']}")  # the old answer is pre-selected
    _press(page, "next")

    # an invalid e-mail address is refused next to the field, with the typed text kept
    _walk(page, answers, "contact_email")
    page.fill("#field-value", "kontakt(at)example.de")
    _press(page, "next")
    assert _step(page) == "contact_email"
    assert "E-Mail" in page.locator("#error-summary").inner_text()
    assert page.input_value("#field-value") == "kontakt(at)example.de"
    screenshot(page, "wizard-error-de")
    page.fill("#field-value", "kontakt@example.de")
    _press(page, "next")
    _press(page, "skip")  # privacy_url is optional
    assert _step(page) == "done"
    statuses = {li.get_attribute("data-item"): li.get_attribute("data-status") for li in page.locator("li[data-item]").all()}
    assert statuses == contract.statuses(answers)
    screenshot(page, "wizard-summary-de")

    # change the device from the summary: later answers are kept, the summary comes back
    with page.expect_navigation():
        page.locator("[data-answer=device] button").click()
    assert _step(page) == "device"
    _answer(page, "private_device")
    assert _step(page) == "company_name"  # the first step without an answer (skipped before)
    _press(page, "skip")
    assert _step(page) == "company_address"
    _press(page, "skip")
    assert _step(page) == "privacy_url"  # the contact e-mail is kept and passed over
    _press(page, "skip")
    assert _step(page) == "done"
    statuses = {li.get_attribute("data-item"): li.get_attribute("data-status") for li in page.locator("li[data-item]").all()}
    assert statuses["WA-02"] == "critical"

    # English on request, and the assessment remembers it
    page.goto(page.url.split("?")[0] + "?lang=en")
    assert "Your checklist" in page.locator("h1").inner_text()
    assert outside == []  # no request left this server
    context.close()


def test_wizard_pages_pass_axe(browser, wizard_link):
    context = browser.new_context(locale="en-GB")  # axe itself needs JavaScript in the page
    page = context.new_page()
    page.goto(wizard_link + "?lang=en")
    problems = {"start page": serious_accessibility_violations(page)}
    _press(page, "start")
    problems["first step"] = serious_accessibility_violations(page)
    _press(page, "next")  # nothing chosen: the error state
    # focus moves to the error summary (autofocus runs after rendering, so wait for it)
    page.wait_for_function("document.activeElement && document.activeElement.id === 'error-summary'", timeout=5000)
    problems["error"] = serious_accessibility_violations(page)
    answers = GOLDEN[2][1]
    while _step(page) != "recommendation":
        _answer(page, answers[_step(page)])
    problems["recommendation"] = serious_accessibility_violations(page)
    screenshot(page, "wizard-recommendation-en")
    _press(page, "next")
    _answer(page, answers["channel"])
    problems["multi and text steps"] = []

    def check(step: str) -> None:
        if step in ("security_measures", "bsp_name"):
            problems["multi and text steps"].extend(serious_accessibility_violations(page))

    _walk(page, answers, "done", on_step=check)
    problems["summary"] = serious_accessibility_violations(page)
    page.set_viewport_size({"width": 375, "height": 740})
    problems["summary on a phone"] = serious_accessibility_violations(page)
    screenshot(page, "wizard-summary-phone-en")
    assert {k: v for k, v in problems.items() if v} == {}
    context.close()
