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
    collapsed = page.locator("details#answers:not([open]) > summary")
    if collapsed.count():  # the answers list is collapsed on the result page: open it as a person would
        collapsed.click()
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
    assert page.locator("html").get_attribute("lang") == "en" and page.locator("h1").inner_text().startswith("Your ")  # the result page, in English
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


# Targets people tap or click: at least 24 px everywhere (WCAG 2.5.8), 44 px on a touch screen (pointer: coarse).
TARGETS = "header.site a, a.skip-link, main form button, label.option, details.help summary, ul.ways-in a"
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "locale": "de-DE"}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "en-GB"}


def _small_targets(page, minimum: int) -> list[tuple[str, int, int]]:
    """The visible targets smaller than `minimum` px in width or height."""
    sizes = page.evaluate(
        """(selector) => Array.from(document.querySelectorAll(selector)).map(e => {
             const r = e.getBoundingClientRect();
             return [e.tagName + ":" + e.textContent.trim().slice(0, 24), Math.round(r.width), Math.round(r.height)];
           }).filter(t => t[1] > 0)""",
        TARGETS,
    )
    return [t for t in sizes if t[1] < minimum or t[2] < minimum]


@pytest.mark.parametrize(("device", "minimum"), [(PHONE, 44), (DESKTOP, 24)], ids=["phone", "desktop"])
def test_the_start_page_leads_in(browser, live_server, device, minimum):
    base, app = live_server
    add_organisation(app, "demo", "Demo GmbH", flow_version=None)
    context = browser.new_context(**device)
    page = context.new_page()
    page.goto(base + "/")
    width = device["viewport"]["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    assert page.locator("ul.facts").get_attribute("data-questions") == "4-47"
    assert page.locator("form.start button[value=start]").is_visible()
    links = page.locator("main ul.ways-in a")
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == ["/demo", "/manage/login"]
    assert _small_targets(page, minimum) == []
    assert serious_accessibility_violations(page) == []
    screenshot(page, f"start-page-{width}")
    _press(page, "start")
    assert _step(page) == "purpose"
    page.wait_for_function("document.activeElement && document.activeElement.id === 'question'", timeout=5000)
    context.close()


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_wizard_steps_are_quick_to_read_and_to_tap(browser, wizard_link, device):
    """The question near the top on a phone, the skip link, focus on the question after each step, the whole option box,
    messages by the kind of question, tap targets, and axe-core."""
    german = device["locale"].startswith("de")
    messages = ("Bitte wählen Sie eine Antwort aus.", "Bitte wählen Sie mindestens eine Antwort aus.")
    if not german:
        messages = ("Please choose an answer.", "Please choose at least one answer.")
    width = device["viewport"]["width"]
    context = browser.new_context(**device)
    page = context.new_page()
    page.goto(wizard_link)
    # the skip link (on a page without autofocus): the first Tab shows it, Enter moves to the main content
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator("a.skip-link").bounding_box()["y"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    _press(page, "start")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'question'", timeout=5000)
    top = page.evaluate("document.querySelector('#question').getBoundingClientRect().top")
    if width < 768:
        assert top < 220, top  # one line of sections instead of nine (it was 356 px)
        assert page.locator(".section-now").is_visible() and not page.locator("ol.sections").is_visible()
    else:
        assert page.locator("ol.sections").is_visible() and not page.locator(".section-now").is_visible()
    screenshot(page, f"wizard-step-{width}")
    assert _small_targets(page, 44 if device.get("has_touch") else 24) == []

    # nothing chosen: the message of a choice question, focus on it
    _press(page, "next")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'error-summary'", timeout=5000)
    assert page.locator("#value-error").inner_text() == messages[0]
    assert serious_accessibility_violations(page) == []
    screenshot(page, f"wizard-error-{width}")

    # a tap on the option box's padding (right of the text, near its top edge) selects it
    box = page.locator("label.option").nth(1).bounding_box()
    page.mouse.click(box["x"] + box["width"] - 3, box["y"] + 3)
    assert page.is_checked("#option-internal")
    page.locator("label.option").nth(0).click(position={"x": 3, "y": 3})
    assert page.is_checked("#option-customer")
    _press(page, "next")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'question'", timeout=5000)
    answers = GOLDEN[0][1]
    for step in ("sensitive_data", "initiator", "agents"):
        assert _step(page) == step
        _answer(page, answers[step])
    assert _step(page) == "integrations"
    _press(page, "next")  # nothing ticked
    assert page.locator("#value-error").inner_text() == messages[1]
    assert serious_accessibility_violations(page) == []
    context.close()


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_result_page_leads_with_what_to_do_and_its_pdf_works(browser, wizard_link, device):
    """The end of the wizard (issue 16): start here with the first critical items, the chosen channel, a PDF that downloads."""
    context = browser.new_context(**device)
    page = context.new_page()
    page.goto(wizard_link)
    _press(page, "start")
    _walk(page, GOLDEN[1][1], "done")  # the App chosen, the Platform recommended, 12 critical items
    start = page.locator("[data-start-here]")
    assert start.is_visible() and page.locator("[data-start-item]").count() == 3
    assert page.locator("[data-matches=no]").is_visible()  # the chosen channel beside the recommendation, with the note
    folded = page.locator("details[data-group=not_applicable]")
    assert folded.count() == 1 and folded.get_attribute("open") is None
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    href = page.locator("a[data-download=pdf]").get_attribute("href")
    response = page.request.get(wizard_link.split("/w/")[0] + href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf" and response.body().startswith(b"%PDF")
    assert serious_accessibility_violations(page) == []
    screenshot(page, f"wizard-result-{'phone' if device is PHONE else 'desktop'}")
    context.close()
