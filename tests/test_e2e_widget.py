"""The chat widget in a real browser (Debian's Chromium), embedded in a host page on another origin."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from tests import contract
from tests.conftest import add_organisation, screenshot, serious_accessibility_violations
from tests.test_api import INTERNAL_ONLY
from tests.test_flow_walks import GOLDEN

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# A customer's page with CSS that would wreck an unprotected widget.
HOST_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>Bäckerei Muster</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>button {{ background: red !important; font-size: 40px !important; }} * {{ font-family: serif; }}</style></head>
<body><main><h1>Bäckerei Muster</h1><p>Frische Brötchen jeden Morgen.</p>{inline}</main>
<script src="{app}/widget.js" data-embed-key="{key}" {attrs} defer></script></body></html>"""


@pytest.fixture
def host_page(live_server):
    """A second server (another origin) serving the customer's page that embeds the widget."""
    app_url, app = live_server
    key = add_organisation(app, "demo", "Bäckerei Muster GmbH")

    def page(environ, start_response):
        query = environ.get("QUERY_STRING", "")
        inline = "inline" in query
        attrs = ('data-lang="de"' if "lang=de" in query else "") + (' data-mode="inline"' if inline else "")
        slot = '<div id="wa-onboarding"></div>' if inline else ""
        html = HOST_PAGE.format(lang="en" if "page=en" in query else "de", app=app_url, key=key, attrs=attrs, inline=slot)
        return Response(html, mimetype="text/html")(environ, start_response)

    server = make_server("127.0.0.1", 0, page, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app_url
    server.shutdown()
    thread.join(timeout=10)


def _step(page) -> str:
    page.wait_for_selector("[data-wa-widget]:not([aria-busy])", timeout=10000)
    return page.locator("[data-wa-widget]").get_attribute("data-step")


def _wait_step(page, step: str) -> None:
    page.wait_for_selector(f"[data-wa-widget][data-step='{step}']:not([aria-busy])", timeout=10000)


def _answer(page, answers: dict) -> str:
    """Answer the widget's current question by clicking, like a person; return the step answered."""
    step = _step(page)
    value = answers.get(step)
    if page.locator("input[type=checkbox][data-value]").count():
        for v in value:
            page.check(f"input[data-value='{v}']")
        page.click("[data-action=submit]")
    elif page.locator("#wa-input").count():
        if value is None:
            page.click("[data-action=skip]")
        else:
            page.fill("#wa-input", value)
            page.click("[data-action=submit]")
    elif value is None:
        page.click("[data-action=submit]")  # info: continue
    else:
        page.click(f"button.option[data-value='{value}']")
    page.wait_for_function(f"document.querySelector('[data-wa-widget]').getAttribute('data-step') !== '{step}'", timeout=10000)
    return step


def test_full_conversation_from_another_origin(browser, host_page):
    host, _app_url = host_page
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith("http://127.0.0.1:") else None)
    page.goto(host + "/?lang=de")
    page.click("[data-action=open]")
    _wait_step(page, "purpose")
    screenshot(page, "widget-first-question-de")
    # the host page's CSS does not reach into the widget
    style = page.locator("button.option").first.evaluate("b => { const s = getComputedStyle(b); return [s.backgroundColor, s.fontSize, s.fontFamily]; }")
    assert style[0] != "rgb(255, 0, 0)" and style[1] == "15px" and style[2] != "serif"
    assert page.locator("main h1").evaluate("h => getComputedStyle(h).fontFamily") == "serif"  # and the widget's CSS not out

    answers = {**GOLDEN[0][1], "company_name": None, "company_address": None, "privacy_url": None}
    _answer(page, answers)  # purpose
    _answer(page, answers)  # sensitive_data
    page.click("[data-action=back]")
    _wait_step(page, "sensitive_data")
    assert page.locator("button.option[data-value='no']").get_attribute("aria-pressed") == "true"
    _answer(page, answers)

    page.reload()  # the token is in localStorage: the conversation continues
    page.click("[data-action=open]")
    _wait_step(page, "initiator")
    assert "Willkommen zurück" in page.locator(".log").inner_text()

    steps = ["purpose", "sensitive_data"]
    while _step(page) != "contact_email":
        steps.append(_answer(page, answers))
        if _step(page) == "recommendation":
            assert page.locator(".recommendation").count() == 1
            screenshot(page, "widget-recommendation-de")
    page.fill("#wa-input", "kontakt(at)example.de")
    page.click("[data-action=submit]")
    page.wait_for_selector(".error:not(:empty)")
    assert "E-Mail" in page.locator(".error").inner_text()
    assert _step(page) == "contact_email"
    screenshot(page, "widget-invalid-email-de")
    answers["contact_email"] = "kontakt@example.de"
    while _step(page) != "done":
        steps.append(_answer(page, answers))
    expected = contract.path(GOLDEN[0][1])
    assert steps == expected
    statuses = contract.statuses(GOLDEN[0][1])
    counts = page.locator(".counts").inner_text()
    assert f"Erledigt: {list(statuses.values()).count('done')}" in counts
    screenshot(page, "widget-done-de")
    assert outside == []
    context.close()


def test_keyboard_only(browser, host_page):
    host, _ = host_page
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(host + "/?page=en")  # no data-lang: the page's lang (en) decides
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the launcher
    _wait_step(page, "purpose")
    assert "What do you want to use WhatsApp for?" in page.locator(".question").last.inner_text()

    def active(attribute: str) -> str | None:
        script = "a => { const e = document.querySelector('[data-wa-widget]').shadowRoot.activeElement; return e && e.getAttribute(a); }"
        return page.evaluate(script, attribute)

    assert page.evaluate("document.querySelector('[data-wa-widget]').shadowRoot.activeElement.tagName") == "H3"  # focus on the new question
    for step, value in INTERNAL_ONLY.items():
        _wait_step(page, step)
        for _ in range(12):
            page.keyboard.press("Tab")
            if active("data-value") == value:
                break
        assert active("data-value") == value
        page.keyboard.press("Enter")
    _wait_step(page, "done")
    assert "Critical: 2" in page.locator(".counts").inner_text()
    page.keyboard.press("Escape")
    assert page.locator(".panel").is_hidden()
    context.close()


def test_widget_passes_axe_and_fits_a_phone(browser, host_page):
    host, _ = host_page
    context = browser.new_context(locale="de-DE", viewport={"width": 375, "height": 740})
    page = context.new_page()
    page.goto(host + "/?lang=de")
    page.click("[data-action=open]")
    _wait_step(page, "purpose")
    box = page.locator(".panel").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    problems = {"choice": serious_accessibility_violations(page)}
    answers = {**GOLDEN[0][1]}
    _answer(page, answers)
    _answer(page, answers)
    _answer(page, answers)
    _answer(page, answers)
    _wait_step(page, "integrations")
    problems["multi"] = serious_accessibility_violations(page)
    screenshot(page, "widget-multi-phone-de")
    page.click("[data-action=restart]")
    _wait_step(page, "purpose")
    for step, value in INTERNAL_ONLY.items():
        _wait_step(page, step)
        page.click(f"button.option[data-value='{value}']")
    _wait_step(page, "done")
    problems["done"] = serious_accessibility_violations(page)
    assert {k: v for k, v in problems.items() if v} == {}
    context.close()


def test_inline_mode_and_language_switch(browser, host_page):
    host, _ = host_page
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    page.goto(host + "/?inline=1&lang=de")
    _wait_step(page, "purpose")
    assert page.locator("#wa-onboarding [data-wa-widget]").count() == 1
    assert page.locator("[data-action=open]").count() == 0
    page.click("button.lang[data-lang=en]")
    page.wait_for_function("document.querySelector('[data-wa-widget]').getAttribute('lang') === 'en'")
    page.wait_for_selector("text=What do you want to use WhatsApp for?")
    assert page.locator("#wa-title").inner_text() == "Data protection check for WhatsApp"
    page.click("button.option[data-value='internal']")
    _wait_step(page, "internal_messenger")
    page.reload()  # the assessment keeps the new language
    _wait_step(page, "internal_messenger")
    assert "Which messenger do your staff use" in page.locator(".question").last.inner_text()
    context.close()


def test_another_tab_and_a_lost_connection(browser, host_page):
    host, _ = host_page
    context = browser.new_context(locale="de-DE")
    first, second = context.new_page(), context.new_page()
    first.goto(host + "/?lang=de")
    first.click("[data-action=open]")
    _wait_step(first, "purpose")
    second.goto(host + "/?lang=de")  # the same browser: the same assessment
    second.click("[data-action=open]")
    _wait_step(second, "purpose")
    first.click("button.option[data-value='customer']")
    _wait_step(first, "sensitive_data")
    second.click("button.option[data-value='internal']")  # stale: the other tab answered already
    _wait_step(second, "sensitive_data")  # quietly re-synced to the current question, no error
    assert second.locator(".error").inner_text() == ""

    context.set_offline(True)
    second.click("button.option[data-value='no']")
    second.wait_for_selector("[data-action=retry]")
    assert "Verbindung" in second.locator(".error").inner_text()
    assert _step(second) == "sensitive_data"
    context.set_offline(False)
    second.click("[data-action=retry]")
    _wait_step(second, "initiator")
    context.close()
