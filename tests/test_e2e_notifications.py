"""Issue 18's pages in a real browser (Debian's Chromium) on a phone and a desktop: notification settings, webhooks (also by
keyboard alone), the unsubscribe link without login, the result by e-mail on the wizard's result page; axe-core on each state."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot import jobs
from bot.mail import unsubscribe_token
from bot.store import db
from bot.store import notifications as settings
from bot.store.managers import create_manager
from bot.store.models import Manager, Organisation, OutboxMessage, WebhookEndpoint, utcnow
from tests.apiclient import Api
from tests.conftest import screenshot, serious_accessibility_violations
from tests.test_flow_walks import GOLDEN

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PASSWORD = "correct horse battery"
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
HOOK = "http://127.0.0.1:9/hook"  # loopback: allowed only with WEBHOOK_ALLOW_PRIVATE; nothing is ever sent to it here
ADDRESS = "inhaber@baeckerei.example"


@pytest.fixture
def site(live_server):
    """The live server with acme and its manager anna; yields (base URL, app, anna's id)."""
    url, app = live_server
    with app.app_context():
        session = db.session()
        org = Organisation(slug="acme", name="Bäckerei Muster GmbH", locale="de", flow_version=1)
        session.add(org)
        session.commit()
        anna, _token = create_manager(session, "anna@example.de", [org], password=PASSWORD)
        anna_id = anna.id
    return url, app, anna_id


def no_overflow(page) -> bool:
    """Nothing is wider than the screen (no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def submit(page, selector: str) -> None:
    """Click a form's button and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(selector)


def open_page(browser, base: str, size: str, **options):
    """A fresh browser context at `size` (German unless told) and its page, with a list of requests that left the server."""
    context = browser.new_context(locale=options.pop("locale", "de-DE"), viewport=SIZES[size], **options)
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
    return context, page, outside


def log_in(page, base: str) -> None:
    """Log in as anna through the login form."""
    page.goto(base + "/manage/login")
    page.fill("#email", "anna@example.de")
    page.fill("#password", PASSWORD)
    submit(page, "main button[type=submit]")
    assert page.locator("main").get_attribute("data-page") == "organisations"


def checked(page, field_id: str) -> bool:
    """Whether the radio button or checkbox with this id is checked."""
    return page.locator(f"#{field_id}").is_checked()


@pytest.mark.parametrize("size", SIZES)
def test_a_manager_chooses_a_weekly_digest_in_english(browser, site, size):
    base, app, anna_id = site
    context, page, outside = open_page(browser, base, size)
    problems: dict[str, list[str]] = {}
    log_in(page, base)

    link = page.locator("nav.manage-nav a[href^='/manage/notifications']")
    submit(page, "nav.manage-nav a[href^='/manage/notifications']")
    assert page.locator("main").get_attribute("data-page") == "notifications"
    assert link.get_attribute("aria-current") == "page"
    assert page.locator("[data-mail=off]").is_visible()  # no MAIL_SERVER on this server: said so
    assert page.locator("[data-retention-abandoned]").count() == 1 and page.locator("[data-last-run=never]").count() == 1
    assert checked(page, "reminders-daily") and checked(page, "completions-immediately") and checked(page, "digest-off")
    assert checked(page, "locale-de")
    assert page.locator("#digest-immediately").count() == 0  # a digest is a summary: never "immediately"
    problems["settings"] = serious_accessibility_violations(page)
    assert no_overflow(page)

    page.click("label[for=digest-weekly]")  # the labels are what a person taps
    page.click("label[for=locale-en]")
    submit(page, "form button.primary[type=submit]")
    assert "saved=1" in page.url
    assert page.locator("#saved[role=status]").is_visible()
    assert page.evaluate("document.activeElement && document.activeElement.id") == "saved"  # read out first
    problems["saved"] = serious_accessibility_violations(page)
    screenshot(page, f"notifications-saved-{size}")

    page.goto(base + "/manage/notifications")  # later: the choice is kept, the note is gone
    assert page.locator("#saved").count() == 0
    assert checked(page, "digest-weekly") and checked(page, "locale-en")
    assert checked(page, "reminders-daily") and checked(page, "completions-immediately")  # the others unchanged
    with app.app_context():
        session = db.session()
        assert settings.cadences(session, anna_id) == {"reminders": "daily", "completions": "immediately", "digest": "weekly"}
        assert session.get(Manager, anna_id).locale == "en"

    assert {k: v for k, v in problems.items() if v} == {}
    assert outside == []
    context.close()


@pytest.mark.parametrize("size", SIZES)
def test_a_manager_adds_a_webhook_copies_its_secret_and_deletes_it(browser, site, size):
    base, app, _anna = site
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    context, page, outside = open_page(browser, base, size)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    problems: dict[str, list[str]] = {}
    log_in(page, base)

    page.goto(base + "/manage/orgs/acme")
    submit(page, "nav.org-nav a[href^='/manage/orgs/acme/webhooks']")
    assert page.locator("main").get_attribute("data-page") == "webhooks"
    assert page.locator("article.webhook").count() == 0
    problems["no webhooks"] = serious_accessibility_violations(page)
    assert no_overflow(page)

    page.fill("#webhook-url", HOOK)
    page.click("label[for=event-1]")  # assessment.completed
    page.check("input[name=events][value='item.due']")
    submit(page, "form.new-webhook button.primary[type=submit]")
    secret = page.locator("#created-secret")
    assert page.locator("#created").is_visible() and secret.is_visible()
    value = secret.input_value()
    assert value.startswith("whsec_") and len(value) > 20
    secret.click(click_count=3)  # a person selects the secret to copy it by hand
    assert page.evaluate("[document.activeElement.selectionStart, document.activeElement.selectionEnd]") == [0, len(value)]
    page.click("button.copy[data-copy=created-secret]")  # or with the copy button (JavaScript and a clipboard)
    assert page.evaluate("navigator.clipboard.readText()") == value
    problems["created"] = serious_accessibility_violations(page)
    assert no_overflow(page)  # the long secret fits a phone's screen
    screenshot(page, f"webhook-created-{size}")

    page.goto(base + "/manage/orgs/acme/webhooks")
    assert value not in page.content()  # shown once
    hook = page.locator("article.webhook")
    assert hook.count() == 1 and hook.locator("h3").inner_text() == "127.0.0.1"
    assert [hook.locator("code").nth(i).inner_text() for i in range(hook.locator("code").count())] == ["assessment.completed", "item.due"]
    problems["one webhook"] = serious_accessibility_violations(page)

    page.click("article.webhook a[href$='/delete']")  # deleting asks first: it cannot be undone
    assert "127.0.0.1" in page.locator("h1").inner_text() and page.locator("article.webhook").count() == 0
    problems["confirm"] = serious_accessibility_violations(page)
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(WebhookEndpoint)) == 1
    submit(page, "main form button[type=submit].danger")
    assert page.locator("article.webhook").count() == 0
    assert "127.0.0.1" in page.locator("#done-note[role=status]").inner_text()
    problems["deleted"] = serious_accessibility_violations(page)
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(WebhookEndpoint)) == 0

    assert {k: v for k, v in problems.items() if v} == {}
    assert outside == []
    context.close()


def test_the_webhook_form_works_by_keyboard_alone(browser, site):
    """Tab reaches the address, the event checkboxes and the button, each with a visible focus ring; Space ticks and submits."""
    base, app, _anna = site
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    context, page, outside = open_page(browser, base, "desktop")
    log_in(page, base)
    page.goto(base + "/manage/orgs/acme/webhooks")

    def focused() -> dict:
        """The focused element: its id, tag, type and whether a focus ring is drawn."""
        return page.evaluate(
            """() => { const e = document.activeElement; const s = getComputedStyle(e);
            return {id: e.id, tag: e.tagName.toLowerCase(), type: e.type || "", text: e.textContent.trim(),
                    ring: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0}; }"""
        )

    def tab_to(wanted) -> dict:
        """Press Tab until `wanted(focused)`; every element passed on the way shows where the focus is."""
        for _ in range(80):
            page.keyboard.press("Tab")
            now = focused()
            assert now["ring"], f"no visible focus on {now}"
            if wanted(now):
                return now
        raise AssertionError("Tab never reached the element")

    tab_to(lambda f: f["id"] == "webhook-url")
    page.keyboard.type(HOOK)
    page.keyboard.press("Tab")
    assert focused()["id"] == "event-1"  # the events follow the address
    page.keyboard.press("Space")
    assert checked(page, "event-1")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    assert checked(page, "event-2") and focused()["id"] == "event-2"
    button = tab_to(lambda f: f["tag"] == "button")
    assert button["type"] == "submit" and button["text"] == "Webhook anlegen"
    with page.expect_navigation():
        page.keyboard.press("Space")
    assert page.locator("#created").is_visible()
    assert focused()["id"] == "created"  # the news is where the reader is
    tab_to(lambda f: f["id"] == "created-secret")
    page.keyboard.press("ControlOrMeta+a")
    value = page.input_value("#created-secret")
    assert value.startswith("whsec_")
    assert page.evaluate("[document.activeElement.selectionStart, document.activeElement.selectionEnd]") == [0, len(value)]
    with app.app_context():
        [endpoint] = db.session().scalars(select(WebhookEndpoint))
        assert endpoint.url == HOOK and list(endpoint.events) == ["assessment.completed", "submission.received"]
    assert serious_accessibility_violations(page) == []
    assert outside == []
    context.close()


def test_the_unsubscribe_link_works_without_logging_in(browser, site):
    base, app, anna_id = site
    token = unsubscribe_token(app, anna_id, "reminders")
    context, page, outside = open_page(browser, base, "phone")  # a phone's mail app, never logged in here
    problems: dict[str, list[str]] = {}

    def check(state: str) -> None:
        """axe-core at phone and desktop width."""
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            problems[f"{state} ({size})"] = serious_accessibility_violations(page)
            assert no_overflow(page)
        page.set_viewport_size(SIZES["phone"])

    forged = page.goto(f"{base}/unsubscribe/{token[:-2]}xx")
    assert forged is not None and forged.status == 404

    response = page.goto(f"{base}/unsubscribe/{token}")
    assert response is not None and response.status == 200 and response.headers["cache-control"] == "no-store"
    assert page.locator("main").get_attribute("data-page") == "unsubscribe"
    assert "anna@example.de" in page.locator("main").inner_text()
    with app.app_context():  # asking changes nothing (a link preview or a virus scanner opens the link too)
        assert settings.cadences(db.session(), anna_id)["reminders"] == "daily"
    check("question")
    submit(page, "button[data-action=unsubscribe]")
    assert page.locator("[data-unsubscribed=reminders][role=status]").is_visible()
    assert "anna@example.de" in page.locator("[data-unsubscribed]").inner_text()
    check("done")
    screenshot(page, "unsubscribe-done-phone")
    with app.app_context():
        assert settings.cadences(db.session(), anna_id) == {"reminders": "off", "completions": "immediately", "digest": "off"}

    assert {k: v for k, v in problems.items() if v} == {}
    assert outside == []
    context.close()


@pytest.mark.parametrize("size", SIZES)
def test_a_respondent_gets_the_result_by_mail(browser, site, mail_sink, size):
    base, app, _anna = site
    app.config.update(mail_sink.config)
    with app.app_context():
        embed_key = db.session().scalar(select(Organisation.embed_key).where(Organisation.slug == "acme"))
    api = Api(app)
    token, prompt = api.start(embed_key, locale="de")
    api.finish(token, GOLDEN[1][1], prompt)
    context, page, outside = open_page(browser, base, size)
    problems: dict[str, list[str]] = {}

    page.goto(f"{base}/w/a/{token}")
    assert page.locator("main").get_attribute("data-step") == "done"
    assert page.locator("#result-mail form").is_visible()
    problems["result with the mail form"] = serious_accessibility_violations(page)

    page.fill("#result-mail-address", "inhaber at baeckerei")
    submit(page, "button[data-action=result-mail]")
    assert page.locator("#result-mail-error[role=alert]").is_visible()
    assert page.get_attribute("#result-mail-address", "aria-invalid") == "true"
    assert page.input_value("#result-mail-address") == "inhaber at baeckerei"  # kept to correct it
    problems["refused address"] = serious_accessibility_violations(page)
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(OutboxMessage)) == 0

    page.fill("#result-mail-address", ADDRESS)
    submit(page, "button[data-action=result-mail]")
    assert page.url.endswith("#result-mail")
    assert page.locator("[data-result-mail=queued][role=status]").is_visible()
    assert ADDRESS not in page.url and page.input_value("#result-mail-address") == ""
    problems["mail queued"] = serious_accessibility_violations(page)
    assert no_overflow(page)
    screenshot(page, f"result-mail-queued-{size}")

    assert mail_sink.messages == []  # sent from the outbox, never from the request
    with app.app_context():
        jobs.outbox(app, utcnow())
    [message] = mail_sink.wait_for(1)
    assert message["To"] == ADDRESS
    assert {part.get_content_type() for part in message.walk()} >= {"text/plain", "text/html"}
    with app.app_context():
        jobs.outbox(app, utcnow())  # a second pass sends nothing again
    assert len(mail_sink.messages) == 1

    assert {k: v for k, v in problems.items() if v} == {}
    assert outside == []
    context.close()
