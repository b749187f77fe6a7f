"""The chat widget in a real browser (Debian's Chromium), embedded in a host page on another origin.

The loader (widget.js) puts a launcher and `iframe[data-wa-frame]` on the host page; the
conversation runs inside that frame, on the app's origin. The host page here is served by a
second server (another origin), with CSS that would wreck an unprotected widget and, in one
test, with a script that tries to steal the assessment token and the answers.
"""

from __future__ import annotations

import threading
from urllib.parse import parse_qs

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from tests import contract
from tests.conftest import add_organisation, screenshot, serious_accessibility_violations
from tests.test_api import INTERNAL_ONLY
from tests.test_flow_walks import GOLDEN

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FRAME = "iframe[data-wa-frame]"
TIMEOUT = 10000

# A customer's page with CSS that would wreck an unprotected widget.
HOST_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>Bäckerei Muster</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>button {{ background: red !important; font-size: 40px !important; }} * {{ font-family: serif; }}</style>{hostile}</head>
<body><main><h1>Bäckerei Muster</h1><p>Frische Brötchen jeden Morgen.</p>{inline}</main>
<script src="{app}/widget.js" {credential} {attrs} defer></script></body></html>"""

# A host page that wants the respondent's token and answers: it listens to every message, and
# collects everything it can reach — its own storage and cookies, its DOM and every shadow root,
# the frame's document and storage, and what the frame answers to messages of its own.
HOSTILE_SCRIPT = """<script>
window.stolen = [];
window.addEventListener("message", function (e) { stolen.push("message " + e.origin + " " + JSON.stringify(e.data)); }, true);
window.steal = function () {
  var out = [];
  function storage(name) {
    try { var s = window[name]; for (var i = 0; i < s.length; i++) { out.push(name + " " + s.key(i) + "=" + s.getItem(s.key(i))); } }
    catch (e) { out.push(name + " refused: " + e.name); }
  }
  storage("localStorage"); storage("sessionStorage");
  out.push("cookie " + document.cookie);
  out.push("html " + document.documentElement.outerHTML);
  out.push("text " + document.body.innerText);
  performance.getEntries().forEach(function (entry) { out.push("timing " + entry.name); });
  document.querySelectorAll("*").forEach(function (node) {
    if (!node.shadowRoot) { return; }
    out.push("shadow " + node.shadowRoot.innerHTML);
    node.shadowRoot.querySelectorAll("iframe").forEach(function (frame) {
      out.push("src " + frame.src);
      try { out.push("contentDocument " + (frame.contentDocument ? frame.contentDocument.documentElement.outerHTML : "null")); }
      catch (e) { out.push("contentDocument refused: " + e.name); }
      try { out.push("frame document " + frame.contentWindow.document.body.innerHTML); } catch (e) { out.push("frame document refused: " + e.name); }
      try { out.push("frame storage " + JSON.stringify(frame.contentWindow.localStorage)); } catch (e) { out.push("frame storage refused: " + e.name); }
      try { out.push("frame location " + frame.contentWindow.location.href); } catch (e) { out.push("frame location refused: " + e.name); }
      ["wa:token", "wa:answers", "wa:open", "token"].forEach(function (type) {
        frame.contentWindow.postMessage({ type: type }, "*");
        frame.contentWindow.postMessage(type, "*");
      });
    });
  });
  return out;
};
</script>"""


@pytest.fixture
def host_page(live_server):
    """A second server (another origin) serving the customer's page that embeds the widget.

    Query: `lang=de` (data-lang), `page=en` (the page's lang), `inline`, `hostile`, `link=<token>`
    (embed a respondent link instead of the embed key).
    """
    app_url, app = live_server
    key = add_organisation(app, "demo", "Bäckerei Muster GmbH")

    def page(environ, start_response):
        query = environ.get("QUERY_STRING", "")
        link = parse_qs(query).get("link", [""])[0]
        inline = "inline" in query
        attrs = ('data-lang="de"' if "lang=de" in query else "") + (' data-mode="inline"' if inline else "")
        credential = f'data-respondent-link="{link}"' if link else f'data-embed-key="{key}"'
        html = HOST_PAGE.format(
            lang="en" if "page=en" in query else "de",
            app=app_url,
            credential=credential,
            attrs=attrs,
            inline='<div id="wa-onboarding"></div>' if inline else "",
            hostile=HOSTILE_SCRIPT if "hostile" in query else "",
        )
        return Response(html, mimetype="text/html")(environ, start_response)

    server = make_server("127.0.0.1", 0, page, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app_url
    server.shutdown()
    thread.join(timeout=10)


def chat(page):
    """The conversation: a locator inside the widget's iframe."""
    return page.frame_locator(FRAME)


def chat_frame(page):
    """The widget's iframe as a Playwright Frame (for evaluating inside it, as the test harness only can)."""
    page.wait_for_selector(FRAME, state="attached", timeout=TIMEOUT)
    return page.locator(FRAME).element_handle().content_frame()


def _mirrored(page, step: str) -> None:
    """The host element mirrors the frame's step (the loader learns it by postMessage)."""
    page.wait_for_selector(f"[data-wa-widget][data-step='{step}']", state="attached", timeout=TIMEOUT)


def _step(page) -> str:
    panel = chat(page).locator("[data-wa-chat]:not([aria-busy]):not([data-step=''])")
    panel.wait_for(timeout=TIMEOUT)
    step = panel.get_attribute("data-step")
    _mirrored(page, step)
    return step


def _wait_step(page, step: str) -> None:
    chat(page).locator(f"[data-wa-chat][data-step='{step}']:not([aria-busy])").wait_for(timeout=TIMEOUT)
    _mirrored(page, step)


def _answer(page, answers: dict) -> str:
    """Answer the widget's current question by clicking, like a person; return the step answered."""
    step = _step(page)
    value = answers.get(step)
    frame = chat(page)
    if frame.locator("input[type=checkbox][data-value]").count():
        for v in value:
            frame.locator(f"input[data-value='{v}']").check()
        frame.locator("[data-action=submit]").click()
    elif frame.locator("#wa-input").count():
        if value is None:
            frame.locator("[data-action=skip]").click()
        else:
            frame.locator("#wa-input").fill(value)
            frame.locator("[data-action=submit]").click()
    elif value is None:
        frame.locator("[data-action=submit]").click()  # info: continue
    else:
        frame.locator(f"button.option[data-value='{value}']").click()
    frame.locator(f"[data-wa-chat]:not([data-step='{step}'])").wait_for(timeout=TIMEOUT)
    return step


def _open(page) -> None:
    page.click("[data-action=open]")
    chat(page).locator("[data-wa-chat]:not([data-step=''])").wait_for(timeout=TIMEOUT)


def _accessibility(page) -> list[str]:
    """axe-core's serious and critical findings on the host page and inside the widget's frame."""
    return serious_accessibility_violations(page) + serious_accessibility_violations(chat_frame(page))


def test_full_conversation_from_another_origin(browser, host_page):
    host, _app_url = host_page
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith("http://127.0.0.1:") else None)
    page.goto(host + "/?lang=de")
    _open(page)
    _wait_step(page, "purpose")
    screenshot(page, "widget-first-question-de")
    # the host page's CSS reaches neither the launcher nor the conversation
    style = chat(page).locator("button.option").first.evaluate("b => { const s = getComputedStyle(b); return [s.backgroundColor, s.fontSize, s.fontFamily]; }")
    assert style[0] != "rgb(255, 0, 0)" and style[1] == "15px" and style[2] != "serif"
    assert page.locator("[data-action=open]").evaluate("b => getComputedStyle(b).backgroundColor") != "rgb(255, 0, 0)"
    assert page.locator("main h1").evaluate("h => getComputedStyle(h).fontFamily") == "serif"  # and the widget's CSS not out

    answers = {**GOLDEN[0][1], "company_name": None, "company_address": None, "privacy_url": None}
    _answer(page, answers)  # purpose
    _answer(page, answers)  # sensitive_data
    chat(page).locator("[data-action=back]").click()
    _wait_step(page, "sensitive_data")
    assert chat(page).locator("button.option[data-value='no']").get_attribute("aria-pressed") == "true"
    _answer(page, answers)

    page.reload()  # the token is in the frame's localStorage: the conversation continues
    _open(page)
    _wait_step(page, "initiator")
    assert "Willkommen zurück" in chat(page).locator(".log").inner_text()

    steps = ["purpose", "sensitive_data"]
    while _step(page) != "contact_email":
        steps.append(_answer(page, answers))
        if _step(page) == "recommendation":
            assert chat(page).locator(".recommendation").count() == 1
            screenshot(page, "widget-recommendation-de")
    chat(page).locator("#wa-input").fill("kontakt(at)example.de")
    chat(page).locator("[data-action=submit]").click()
    chat(page).locator(".error:not(:empty)").wait_for(timeout=TIMEOUT)
    assert "E-Mail" in chat(page).locator(".error").inner_text()
    assert _step(page) == "contact_email"
    screenshot(page, "widget-invalid-email-de")
    answers["contact_email"] = "kontakt@example.de"
    while _step(page) != "done":
        steps.append(_answer(page, answers))
    expected = contract.path(GOLDEN[0][1])
    assert steps == expected
    statuses = contract.statuses(GOLDEN[0][1])
    counts = chat(page).locator(".counts").inner_text()
    assert f"Erledigt: {list(statuses.values()).count('done')}" in counts
    screenshot(page, "widget-done-de")
    assert outside == []
    context.close()


def test_keyboard_only(browser, host_page):
    host, _ = host_page
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(host + "/?page=en")  # no data-lang: the page's lang (en) decides
    page.wait_for_selector("[data-action=open]:has-text('privacy check')", timeout=TIMEOUT)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the launcher
    _wait_step(page, "purpose")
    assert "What do you want to use WhatsApp for?" in chat(page).locator(".question").last.inner_text()
    frame = chat_frame(page)

    def active(attribute: str) -> str | None:
        return frame.evaluate("a => document.activeElement && document.activeElement.getAttribute(a)", attribute)

    assert frame.evaluate("document.activeElement.tagName") == "H2"  # focus on the new question, inside the frame
    for step, value in INTERNAL_ONLY.items():
        _wait_step(page, step)
        for _ in range(12):
            page.keyboard.press("Tab")
            if active("data-value") == value:
                break
        assert active("data-value") == value
        page.keyboard.press("Enter")
    _wait_step(page, "done")
    assert "Critical: 2" in chat(page).locator(".counts").inner_text()
    page.keyboard.press("Escape")  # the frame asks the loader to close, and focus returns to the launcher
    page.wait_for_selector(FRAME, state="hidden", timeout=TIMEOUT)
    assert page.locator("[data-action=open]").get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.querySelector('[data-wa-widget]').shadowRoot.activeElement.getAttribute('data-action')") == "open"
    context.close()


def test_widget_passes_axe_and_fits_a_phone(browser, host_page):
    host, _ = host_page
    context = browser.new_context(locale="de-DE", viewport={"width": 375, "height": 740})
    page = context.new_page()
    page.goto(host + "/?lang=de")
    _open(page)
    _wait_step(page, "purpose")
    box = page.locator(FRAME).bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375 and box["y"] >= 0 and box["y"] + box["height"] <= 740
    problems = {"choice": _accessibility(page)}
    answers = {**GOLDEN[0][1]}
    _answer(page, answers)
    _answer(page, answers)
    _answer(page, answers)
    _answer(page, answers)
    _wait_step(page, "integrations")
    problems["multi"] = _accessibility(page)
    screenshot(page, "widget-multi-phone-de")
    chat(page).locator("[data-action=restart]").click()
    chat(page).locator("[data-action=restart-confirm]").click()
    _wait_step(page, "purpose")
    for step, value in INTERNAL_ONLY.items():
        _wait_step(page, step)
        chat(page).locator(f"button.option[data-value='{value}']").click()
    _wait_step(page, "done")
    chat(page).locator("form.consent").wait_for(timeout=TIMEOUT)
    problems["done"] = _accessibility(page)
    chat(page).locator("[data-action=consent]").click()  # without the tick: a calm hint, nothing sent
    chat(page).locator("#wa-consent-error:not(:empty)").wait_for(timeout=TIMEOUT)
    problems["consent error"] = _accessibility(page)
    screenshot(page, "widget-consent-phone-de")
    chat(page).locator("#wa-consent").check()
    chat(page).locator("#wa-contact-email").fill("rueckruf(at)example.de")
    chat(page).locator("[data-action=consent]").click()
    chat(page).locator("#wa-contact-email[aria-invalid=true]").wait_for(timeout=TIMEOUT)
    assert "e-mail" in chat(page).locator("#wa-consent-error").inner_text().lower()
    chat(page).locator("#wa-contact-email").fill("")  # the address is optional
    chat(page).locator("[data-action=consent]").click()
    chat(page).locator(".confirm").wait_for(timeout=TIMEOUT)
    assert "Bäckerei Muster GmbH" in chat(page).locator(".confirm").inner_text()
    problems["consent given"] = _accessibility(page)
    page.reload()  # the end again, with the consent remembered by the app
    _open(page)
    _wait_step(page, "done")
    chat(page).locator(".confirm").wait_for(timeout=TIMEOUT)
    assert chat(page).locator("form.consent").count() == 0
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
    chat(page).locator("button.lang[data-lang=en]").click()
    page.wait_for_function("document.querySelector('[data-wa-widget]').getAttribute('lang') === 'en'")
    chat(page).locator("text=What do you want to use WhatsApp for?").wait_for(timeout=TIMEOUT)
    assert chat(page).locator("#wa-title").inner_text() == "Data protection check for WhatsApp"
    chat(page).locator("button.option[data-value='internal']").click()
    _wait_step(page, "internal_messenger")
    # the frame is as tall as the conversation: nothing scrolls inside it
    page.wait_for_function(
        "() => { const f = document.querySelector('[data-wa-widget]').shadowRoot.querySelector('iframe'); return f.getBoundingClientRect().height > 480; }"
    )
    frame_height = page.locator(FRAME).bounding_box()["height"]
    assert abs(frame_height - chat_frame(page).evaluate("document.querySelector('[data-wa-chat]').getBoundingClientRect().height")) <= 2
    page.reload()  # the assessment keeps the new language
    _wait_step(page, "internal_messenger")
    assert "Which messenger do your staff use" in chat(page).locator(".question").last.inner_text()
    assert page.locator("[data-wa-widget]").get_attribute("lang") == "en"
    context.close()


def test_another_tab_and_a_lost_connection(browser, host_page):
    host, _ = host_page
    context = browser.new_context(locale="de-DE")
    first, second = context.new_page(), context.new_page()
    first.goto(host + "/?lang=de")
    _open(first)
    _wait_step(first, "purpose")
    second.goto(host + "/?lang=de")  # the same browser on the same site: the same assessment
    _open(second)
    _wait_step(second, "purpose")
    chat(first).locator("button.option[data-value='customer']").click()
    _wait_step(first, "sensitive_data")
    chat(second).locator("button.option[data-value='internal']").click()  # stale: the other tab answered already
    _wait_step(second, "sensitive_data")  # quietly re-synced to the current question, no error
    assert chat(second).locator(".error").inner_text() == ""

    context.set_offline(True)
    chat(second).locator("button.option[data-value='no']").click()
    chat(second).locator("[data-action=retry]").wait_for(timeout=TIMEOUT)
    assert "Verbindung" in chat(second).locator(".error").inner_text()
    assert _step(second) == "sensitive_data"
    context.set_offline(False)
    chat(second).locator("[data-action=retry]").click()
    _wait_step(second, "initiator")
    context.close()


def test_a_hostile_host_page_reads_neither_the_token_nor_the_answers(browser, host_page, live_server):
    """The host page runs a script that collects everything it can reach; the token and the answers are not in it."""
    host, _ = host_page
    secrets = {"company_name": "Zebrafink Geheimhandel 4711 GmbH", "company_address": "Geheimweg 4711, 99999 Nirgendwo",
               "privacy_url": "https://geheim-4711.example/datenschutz", "contact_email": "geheim-4711@example.de"}  # fmt: skip
    consent_email = "rueckruf-4711@example.de"
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    page.goto(host + "/?lang=de&hostile=1")
    _open(page)
    answers = {**GOLDEN[0][1], **secrets}
    typed = []
    while _step(page) != "done":
        typed.append(_answer(page, answers))
    assert set(secrets) <= set(typed)  # every secret was typed into the widget
    chat(page).locator("#wa-consent").check()
    chat(page).locator("#wa-contact-email").fill(consent_email)
    chat(page).locator("[data-action=consent]").click()
    chat(page).locator(".confirm").wait_for(timeout=TIMEOUT)
    assert consent_email in chat(page).locator(".confirm").inner_text()

    # What only the test harness can see: the token lives in the frame's storage, on the app's origin.
    stored = chat_frame(page).evaluate("Object.keys(localStorage).map(k => [k, localStorage.getItem(k)])")
    tokens = [value for key, value in stored if not key.endswith(":lang")]
    assert len(tokens) == 1 and len(tokens[0]) >= 32
    token = tokens[0]

    collected = page.evaluate("steal()")
    page.wait_for_timeout(300)  # the frame had the chance to answer the hostile page's messages
    collected += page.evaluate("stolen")
    assert any(s.startswith("message ") for s in collected)  # the page did listen to the frame
    assert any(s.startswith("contentDocument ") for s in collected) and any("refused: SecurityError" in s for s in collected)
    assert any(s.startswith("shadow ") and "data-wa-frame" in s for s in collected)
    assert any(s.startswith("timing ") and "/widget/frame" in s for s in collected)
    needles = [token, *secrets.values(), consent_email]
    leaks = [(needle, s[:120]) for s in collected for needle in needles if needle in s]
    assert leaks == []
    # the frame answered none of the page's messages, and said nothing beyond the documented ones
    kinds = {s.split('"type":"')[1].split('"')[0] for s in collected if s.startswith("message ")}
    assert kinds <= {"wa:ready", "wa:lang", "wa:step"}
    # and the token is never part of the frame's address
    assert not [u for u in urls if "/widget/frame" in u and token in u]
    context.close()
    assessment = live_server[1].test_client().get(f"/api/v1/assessments/{token}").get_json()
    assert assessment["self_assessment"] is True and assessment["consent"]["contact_email"] == consent_email


def test_a_respondent_link_on_an_intranet_page(browser, host_page, live_server):
    """`data-respondent-link`: a trusted assessment, the link only in the frame's fragment, no consent form at the end."""
    from bot.store import db
    from bot.store.managers import create_manager
    from bot.store.models import Organisation

    host, app_url = host_page
    app = live_server[1]
    with app.app_context():
        session = db.session()
        _manager, api_token = create_manager(session, "anna@example.de", list(session.query(Organisation).all()))
    created = app.test_client().post("/api/v1/orgs/demo/respondent-links", json={"label": "Büro"}, headers={"Authorization": f"Bearer {api_token}"})
    assert created.status_code == 201
    link = created.get_json()["token"]

    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    page.goto(host + f"/?lang=de&inline=1&link={link}")
    _wait_step(page, "purpose")
    for step, value in INTERNAL_ONLY.items():
        _wait_step(page, step)
        chat(page).locator(f"button.option[data-value='{value}']").click()
    _wait_step(page, "done")
    page.wait_for_timeout(500)  # the frame asked whether this is a self-assessment: it is not
    assert chat(page).locator("form.consent").count() == 0
    app_urls = [u for u in urls if u.startswith(app_url)]
    assert any("/widget/frame" in u for u in app_urls) and not [u for u in app_urls if link in u]  # the fragment stays in the browser
    stored = chat_frame(page).evaluate("Object.keys(localStorage).map(k => [k, localStorage.getItem(k)])")
    tokens = [value for key, value in stored if key.startswith("wa-onboarding:link:") and not key.endswith(":lang")]
    assert len(tokens) == 1
    context.close()
    assessment = app.test_client().get(f"/api/v1/assessments/{tokens[0]}").get_json()
    assert assessment["self_assessment"] is False and assessment["completed_at"] is not None


def test_only_allowed_sites_and_the_demo_page_can_frame_the_chat(browser, host_page, live_server):
    """With an allow-list, the browser refuses the frame on another site (CSP frame-ancestors); the app's demo page still shows it."""
    from bot.store import db
    from bot.store.models import Organisation

    host, app_url = host_page
    app = live_server[1]
    with app.app_context():
        session = db.session()
        session.query(Organisation).filter_by(slug="demo").one().allowed_origins = "https://shop.example"
        session.commit()
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    page.goto(host + "/?lang=de")
    page.click("[data-action=open]")
    page.wait_for_timeout(1000)
    assert chat(page).locator("[data-wa-chat]").count() == 0  # the browser did not render the chat here
    assert page.locator("[data-wa-widget]").get_attribute("data-step") == ""
    page.goto(app_url + "/demo?lang=de")
    _open(page)
    _wait_step(page, "purpose")
    context.close()


# -- on a phone and on a desktop: the end card, full screen, the newest message, no layout shift ----

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
VIEWPORTS = [pytest.param(PHONE, id="phone"), pytest.param(DESKTOP, id="desktop")]
DENTAL = GOLDEN[1][1]  # on the Business App, with health data: the recommendation differs, 12 critical items

# Every document of the context (the host page and the widget's frame) sums its layout shifts
# that did not follow the person's own input, as Core Web Vitals count them.
LAYOUT_SHIFTS = """(() => {
  window.__layoutShift = 0;
  new PerformanceObserver(function (list) {
    list.getEntries().forEach(function (entry) { if (!entry.hadRecentInput) { window.__layoutShift += entry.value; } });
  }).observe({ type: "layout-shift", buffered: true });
})();"""

# The controls a finger has to hit, inside the frame: [what, width, height] of each visible one.
TARGETS = """() => [...document.querySelectorAll("button, summary, a[href], label.check")]
  .filter(node => node.getClientRects().length && getComputedStyle(node).visibility !== "hidden")
  .map(node => { const box = node.getBoundingClientRect();
    return [node.getAttribute("data-action") || node.getAttribute("data-value") || node.className || node.tagName, box.width, box.height]; })"""


def _context(browser, viewport):
    context = browser.new_context(locale="de-DE", viewport=viewport)
    context.add_init_script(LAYOUT_SHIFTS)
    return context


def _layout_shift(page) -> dict[str, float]:
    """The host page's and the widget frame's cumulative layout shift so far (without shifts after input)."""
    return {"host": page.evaluate("window.__layoutShift"), "frame": chat_frame(page).evaluate("window.__layoutShift")}


def _small_targets(page) -> list:
    """Controls in the frame and the launcher smaller than 44 × 44 px."""
    targets = chat_frame(page).evaluate(TARGETS)
    launcher = page.locator("[data-action=open]").bounding_box()
    targets.append(["launcher", launcher["width"], launcher["height"]])
    return [t for t in targets if t[1] < 44 or t[2] < 44]


def _in_view(page, selector: str) -> tuple[dict, dict]:
    """The conversation's visible area and the box of the last element matching `selector` (page coordinates)."""
    return chat(page).locator(".scroller").bounding_box(), chat(page).locator(selector).last.bounding_box()


def _token(page) -> str:
    stored = chat_frame(page).evaluate("Object.keys(localStorage).filter(k => !k.endsWith(':lang')).map(k => localStorage.getItem(k))")
    assert len(stored) == 1
    return stored[0]


def _walk_to(page, answers: dict, step: str) -> None:
    while _step(page) != step:
        _answer(page, answers)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_end_card_says_what_to_do_first_and_links_the_result(browser, host_page, live_server, viewport):
    """The end card: the first critical items, the counts, the chosen channel beside the recommendation, the result page and its PDF."""
    host, _ = host_page
    context = _context(browser, viewport)
    page = context.new_page()
    page.goto(host + "/?lang=de")
    _open(page)
    _walk_to(page, DENTAL, "done")
    card = chat(page).locator("[data-wa-result]")
    card.wait_for(timeout=TIMEOUT)
    chat(page).locator("form.consent").wait_for(timeout=TIMEOUT)  # a self-assessment: passing it on comes after the card
    result = live_server[1].test_client().get(f"/api/v1/assessments/{_token(page)}?lang=de").get_json()["prompt"]["result"]

    critical = [item["id"] for item in result["critical"]]
    shown = chat(page).locator("[data-wa-result] .start-here li").evaluate_all("items => items.map(li => li.getAttribute('data-item'))")
    assert shown == [item["id"] for item in result["start_here"]] == critical[:3] and len(critical) == 12
    first = result["start_here"][0]
    assert first["title"] in card.inner_text() and first["action"] in card.inner_text()
    counts = chat(page).locator("[data-wa-result] .counts").inner_text()
    assert f"Kritisch: {result['counts']['critical']}" in counts and f"Offen: {result['counts']['open']}" in counts
    facts = chat(page).locator("[data-wa-result] .facts").inner_text()
    assert result["recommendation"]["title"] in facts and result["channel"]["chosen_label"] == "WhatsApp Business App" in facts
    assert result["channel"]["matches"] is False and chat(page).locator("[data-wa-result] .note").inner_text() == result["channel"]["note"]
    assert card.evaluate("(card) => !!(card.compareDocumentPosition(document.querySelector('form.consent')) & Node.DOCUMENT_POSITION_FOLLOWING)")

    # the card's start is in view (the consent form rendered after it did not push it away)
    area, box = _in_view(page, "[data-wa-result]")
    assert area["y"] <= box["y"] < area["y"] + 24
    screenshot(page, f"widget-end-card-{viewport['width']}-de")
    problems = _accessibility(page)

    # the result page opens in a new window, outside the widget, and cannot reach back; the PDF is a PDF
    page_link = chat(page).locator("[data-action=result-page]")
    assert page_link.get_attribute("href") == result["page_url"] and page_link.get_attribute("target") == "_blank"
    with context.expect_page() as opened:
        page_link.click()
    window = opened.value
    window.wait_for_load_state()
    assert window.url == result["page_url"] and window.evaluate("window.opener") is None
    assert context.request.get(result["page_url"]).status == 200
    assert "/widget/frame" in page.locator(FRAME).get_attribute("src") and _step(page) == "done"  # the widget stayed as it was
    pdf_link = chat(page).locator("[data-action=result-pdf]")
    assert pdf_link.get_attribute("href") == result["pdf_url"] and pdf_link.get_attribute("target") == "_blank"
    pdf = context.request.get(result["pdf_url"])
    assert pdf.status == 200 and pdf.headers["content-type"].startswith("application/pdf") and pdf.body().startswith(b"%PDF")
    assert _small_targets(page) == []
    assert problems == []
    context.close()


def test_a_result_without_critical_items_says_so(browser, host_page):
    """Everything in place: nothing critical to list, the counts, the links; the channel matches, so no note."""
    host, _ = host_page
    context = _context(browser, PHONE)
    page = context.new_page()
    page.goto(host + "/?lang=de")
    _open(page)
    _walk_to(page, {**GOLDEN[0][1], "company_name": None, "company_address": None, "privacy_url": None, "contact_email": None}, "done")
    card = chat(page).locator("[data-wa-result]")
    card.wait_for(timeout=TIMEOUT)
    assert "Es ist nichts Kritisches mehr zu tun." in card.inner_text() and card.locator(".start-here").count() == 0
    assert card.locator(".note").count() == 0 and card.locator("[data-action=result-pdf]").count() == 1
    assert "Kritisch: 0" in card.locator(".counts").inner_text()
    context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_widget_fills_a_phone_shows_the_newest_message_and_shifts_nothing(browser, host_page, viewport):
    """Full screen under 480 px with the launcher as its close button; each new question's start in view; no layout shift; 44 px targets."""
    host, _ = host_page
    phone = viewport["width"] < 480
    context = _context(browser, viewport)
    page = context.new_page()
    page.goto(host + "/?lang=de")
    launcher = page.locator("[data-action=open]")
    launcher.wait_for(timeout=TIMEOUT)
    assert launcher.inner_text() == "WhatsApp-Datenschutz-Check" and launcher.get_attribute("aria-expanded") == "false"
    before = page.evaluate("window.__layoutShift")  # the launcher appeared in its place, styled and labelled
    _open(page)
    _wait_step(page, "purpose")
    assert launcher.inner_text() == "Chat schließen" and launcher.get_attribute("aria-expanded") == "true"
    frame, bar = page.locator(FRAME).bounding_box(), launcher.bounding_box()
    if phone:
        # the chat and the launcher below it cover the whole screen: nothing of the host page shows
        assert (frame["x"], frame["y"], frame["width"]) == (0, 0, viewport["width"]) and frame["height"] + bar["height"] == viewport["height"]
        covered = page.evaluate(
            """([w, h]) => { const out = []; for (let x = 1; x < w; x += 48) { for (let y = 1; y < h; y += 48) {
                 out.push(document.elementFromPoint(x, y) === document.querySelector("[data-wa-widget]")); } } return out; }""",
            [viewport["width"], viewport["height"]],
        )
        assert all(covered)
    else:
        assert frame["x"] + frame["width"] <= viewport["width"] - 16 and frame["height"] == 640 and bar["y"] > frame["y"] + frame["height"]
    problems = {"open": _accessibility(page)}
    small = _small_targets(page)

    answers = dict(DENTAL)
    _walk_to(page, answers, "integrations")  # a multi step: checkboxes in 44 px rows
    small += _small_targets(page)
    _walk_to(page, answers, "recommendation")
    # the recommendation is longer than the conversation's area: its start at the top, its reasons start in view below
    area, box = _in_view(page, ".question")
    assert box["height"] > area["height"] and area["y"] <= box["y"] < area["y"] + 24
    reason = chat(page).locator(".question").last.locator("li").first.bounding_box()
    assert reason["y"] + 22 <= area["y"] + area["height"]  # at least its first line
    screenshot(page, f"widget-recommendation-{viewport['width']}-de")
    problems["recommendation"] = _accessibility(page)
    _answer(page, answers)
    _wait_step(page, "channel")
    # a short question: all of it and its options in view, below what came before
    area, box = _in_view(page, ".question")
    last_option = chat(page).locator("button.option").last.bounding_box()
    assert area["y"] <= box["y"] and last_option["y"] + last_option["height"] <= area["y"] + area["height"]
    small += _small_targets(page)
    shift = _layout_shift(page)
    print(f"\nlayout shift at {viewport['width']}x{viewport['height']}: before opening {before:.4f}, after 12 turns {shift}")
    assert before < 0.01 and shift["host"] < 0.01 and shift["frame"] < 0.01
    # Opening the help moves the options below it: the person's own doing, though Chromium reports
    # that shift inside the frame without `hadRecentInput`, so it is left out of the measurement above.
    chat(page).locator(".question").last.locator("summary").click()
    problems["help"] = _accessibility(page)
    assert small == []

    launcher.click()  # the launcher closes the chat again
    page.wait_for_selector(FRAME, state="hidden", timeout=TIMEOUT)
    assert launcher.inner_text() == "WhatsApp-Datenschutz-Check" and launcher.get_attribute("aria-expanded") == "false"
    assert page.locator("[data-wa-widget]").get_attribute("data-open") is None
    assert {k: v for k, v in problems.items() if v} == {}
    context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_start_over_asks_first(browser, host_page, viewport):
    """The "Start over" button sits at the top, away from "Back", and asks in the widget: No (or Escape) keeps the answers, Yes starts afresh."""
    host, _ = host_page
    context = _context(browser, viewport)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))  # no window.confirm
    page.goto(host + "/?lang=de")
    _open(page)
    answers = dict(DENTAL)
    _answer(page, answers)
    _answer(page, answers)
    _wait_step(page, "initiator")
    token = _token(page)
    restart, back = chat(page).locator("[data-action=restart]"), chat(page).locator("[data-action=back]")
    assert restart.bounding_box()["y"] + 100 < back.bounding_box()["y"]  # apart: the top bar and the bottom bar

    restart.click()
    dialog = chat(page).locator("[data-wa-confirm]")
    dialog.wait_for(timeout=TIMEOUT)
    assert "Neu beginnen?" in dialog.inner_text() and "nicht übernommen" in dialog.inner_text()
    assert chat_frame(page).evaluate("document.activeElement.getAttribute('data-action')") == "restart-cancel"
    screenshot(page, f"widget-restart-confirm-{viewport['width']}-de")
    problems = _accessibility(page)
    assert _small_targets(page) == []
    chat(page).locator("[data-action=restart-cancel]").click()
    dialog.wait_for(state="hidden", timeout=TIMEOUT)
    assert _step(page) == "initiator" and _token(page) == token and chat(page).locator(".bubble.user").count() == 2
    assert chat_frame(page).evaluate("document.activeElement.getAttribute('data-action')") == "restart"

    restart.click()
    dialog.wait_for(timeout=TIMEOUT)
    page.keyboard.press("Escape")  # cancels the question, and leaves the widget open
    dialog.wait_for(state="hidden", timeout=TIMEOUT)
    assert page.locator(FRAME).is_visible() and _step(page) == "initiator" and _token(page) == token

    restart.click()
    chat(page).locator("[data-action=restart-confirm]").click()
    _wait_step(page, "purpose")
    chat(page).locator("[data-wa-chat]:not([aria-busy])").wait_for(timeout=TIMEOUT)
    assert _token(page) != token and chat(page).locator(".bubble.user").count() == 0
    assert chat(page).locator("button.option[aria-pressed=true]").count() == 0
    assert dialogs == [] and problems == []
    context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_demo_page_fits_the_screen(browser, live_server, viewport):
    """The one-line snippet wraps: the demo page is no wider than the screen, and its launcher is on screen."""
    app_url, app = live_server
    add_organisation(app, "demo", "Demo GmbH")
    context = _context(browser, viewport)
    page = context.new_page()
    page.goto(app_url + "/demo?lang=de")
    launcher = page.locator("[data-action=open]")
    launcher.wait_for(timeout=TIMEOUT)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    box = launcher.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] and box["y"] + box["height"] <= viewport["height"]
    assert "data-embed-key" in page.locator("pre.snippet").inner_text()
    screenshot(page, f"demo-{viewport['width']}-de")
    problems = serious_accessibility_violations(page)
    _open(page)
    _wait_step(page, "purpose")
    assert page.evaluate("window.__layoutShift") < 0.01
    assert problems + _accessibility(page) == []
    context.close()
