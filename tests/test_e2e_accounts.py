"""Issue 19 end to end in a real browser (Debian's Chromium), phone and desktop, mails through a real SMTP server:
invite → accept → enrol two-factor login (codes computed from the shown key) → log in with a code → a recovery code →
reset the password by mail → the old session is gone; refusals on the way; axe-core on every page; the audit log says it all."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from bot import jobs
from bot.store import db
from bot.store.managers import create_manager
from bot.store.models import Event, Organisation, utcnow
from tests.conftest import screenshot, serious_accessibility_violations

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "Brötchen backen wir um vier"
NEWER_PASSWORD = "Im Winter backen wir Stollen"
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
BERT = "bert@baeckerei.example"


@pytest.fixture
def site(live_server, mail_sink):
    """The live server with mail on (the test SMTP server): acme and its admin anna."""
    url, app = live_server
    app.config.update(mail_sink.config)
    with app.app_context():
        session = db.session()
        org = Organisation(slug="acme", name="Bäckerei Muster GmbH", locale="de", flow_version=1)
        session.add(org)
        session.commit()
        create_manager(session, "anna@baeckerei.example", [org], password=PASSWORD)
    return url, app, mail_sink


class Visit:
    """One person's browser at one size: the page, axe-core findings per page state, requests that left the server."""

    def __init__(self, browser, base: str, size: str) -> None:
        """Open a fresh context (German) at `size`."""
        self.base = base
        self.size = size
        self.context = browser.new_context(locale="de-DE", viewport=SIZES[size])
        self.page = self.context.new_page()
        self.outside: list[str] = []
        self.problems: dict[str, list[str]] = {}
        self.page.on("request", lambda r: self.outside.append(r.url) if not r.url.startswith(base) else None)

    def check(self, name: str) -> None:
        """axe-core finds nothing serious; nothing is wider than the screen; a screenshot for people to look at."""
        found = serious_accessibility_violations(self.page)
        if found:
            self.problems[name] = found
        assert self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
        screenshot(self.page, f"accounts-{name}-{self.size}")

    def submit(self, selector: str) -> None:
        """Click a form's button and wait for the page it leads to."""
        with self.page.expect_navigation():
            self.page.click(selector)

    def page_kind(self) -> str | None:
        """The `data-page` of the page shown."""
        return self.page.locator("main").get_attribute("data-page")

    def log_in(self, email: str, password: str) -> None:
        """The login form's first step (e-mail and password)."""
        self.page.goto(self.base + "/manage/login")
        self.page.fill("#email", email)
        self.page.fill("#password", password)
        self.submit("main button[type=submit]")


def send_mail(app, sink, count: int) -> list:
    """Run the worker's outbox job once (as the worker does) and wait for `count` mails in all."""
    with app.app_context():
        jobs.outbox(app, utcnow())
    return sink.wait_for(count)


def text_of(message) -> str:
    """A mail's plain-text part."""
    return next(part.get_content() for part in message.walk() if part.get_content_type() == "text/plain")


def link_in(message, path: str) -> str:
    """The link to `path` in a mail's plain-text part."""
    text = text_of(message)
    return re.search(rf"http://127\.0\.0\.1:\d+{re.escape(path)}\S+", text).group(0)


def code_at(secret: str, offset_steps: int = 0) -> str:
    """The authenticator app's code, `offset_steps` 30-second steps from now."""
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def actions_of(app) -> list[str]:
    """Every action in acme's audit log, oldest first."""
    with app.app_context():
        return list(db.session().scalars(select(Event.action).join(Organisation, Organisation.id == Event.organisation_id).order_by(Event.id)))


@pytest.mark.parametrize("size", SIZES)
def test_invite_accept_enrol_code_recovery_code_reset_and_the_old_session_is_gone(browser, site, size):
    base, app, sink = site

    # Anna (admin) requires two-factor login for her organisation and invites Bert.
    anna = Visit(browser, base, size)
    anna.log_in("anna@baeckerei.example", PASSWORD)
    assert anna.page_kind() == "organisations"
    anna.page.goto(base + "/manage/orgs/acme/people")
    anna.check("people")
    anna.submit("#field-two-factor button[type=submit]")
    assert anna.page.locator("[data-mfa-required='1']").is_visible()
    anna.page.fill("#field-email", BERT)
    anna.page.select_option("#field-role", "member")
    anna.submit("form.invite button[type=submit]")
    assert anna.page.locator(f"[data-invited='{BERT}']").is_visible()
    anna.check("invited")
    assert sink.messages == []  # mail goes out from the outbox (the worker), never from the request

    [invitation] = send_mail(app, sink, 1)
    assert invitation["To"] == BERT and "Bäckerei Muster GmbH" in invitation["Subject"]
    accept_url = link_in(invitation, "/manage/invitations/")

    # Bert accepts: a too-short password first (refused, nothing created), then a good one.
    bert = Visit(browser, base, size)
    bert.page.goto(accept_url)
    assert bert.page_kind() == "invitation"
    bert.check("invitation")
    bert.page.fill("#password", "zu kurz")
    bert.page.fill("#password_repeat", "zu kurz")
    bert.page.evaluate("document.querySelectorAll('input[minlength]').forEach(i => i.removeAttribute('minlength'))")  # let the server judge
    bert.submit("main button[type=submit]")
    assert bert.page.locator("#error-summary[role=alert]").is_visible()
    bert.check("invitation-refused")
    bert.page.fill("#password", NEW_PASSWORD)
    bert.page.fill("#password_repeat", NEW_PASSWORD)
    bert.submit("main button[type=submit]")
    assert bert.page_kind() == "login"

    # First login: two-factor login is required, so enrolment comes before any session.
    bert.log_in(BERT, NEW_PASSWORD)
    assert bert.page.url.endswith("/manage/login/enrol")
    bert.check("enrol")
    assert bert.page.locator("svg.qr[role=img]").is_visible()
    secret = bert.page.locator("[data-secret]").inner_text().replace(" ", "")
    assert "/manage/login" in bert.page.evaluate("fetch('/manage/', {redirect: 'follow'}).then(r => r.url)")  # no session yet
    bert.page.fill("#code", "000000" if code_at(secret) != "000000" else "111111")
    bert.submit("main button[type=submit]")
    assert bert.page.locator("#error-summary[role=alert]").is_visible()
    first_code = code_at(secret)
    bert.page.fill("#code", first_code)
    bert.submit("main button[type=submit]")
    assert bert.page_kind() == "recovery-codes"
    bert.check("recovery-codes")
    codes = bert.page.locator("[data-recovery-codes] code").all_inner_texts()
    assert len(codes) == 10 and len(set(codes)) == 10
    bert.submit("main a.button-link")
    assert bert.page_kind() == "organisations"

    # Log out and in again with the next code (the one used at enrolment is not accepted twice).
    bert.submit("nav.manage-nav form button[type=submit]")
    bert.log_in(BERT, NEW_PASSWORD)
    assert bert.page.url.endswith("/manage/login/code")
    bert.check("code")
    bert.page.fill("#code", first_code)  # the enrolment's code again: a replay
    bert.submit("form:has(#code) button[type=submit]")
    assert bert.page.locator("#error-summary[role=alert]").is_visible()
    bert.page.fill("#code", code_at(secret, 1))
    bert.submit("form:has(#code) button[type=submit]")
    assert bert.page_kind() == "organisations"

    # Lost phone: a recovery code works once.
    bert.submit("nav.manage-nav form button[type=submit]")
    bert.log_in(BERT, NEW_PASSWORD)
    bert.page.click("details summary")  # "No access to your app?"
    bert.page.fill("#recovery_code", codes[0].lower())
    bert.submit("form:has(#recovery_code) button[type=submit]")
    assert bert.page_kind() == "organisations"
    assert "9" in bert.page.locator("#done-note[role=status]").inner_text()
    bert.check("after-recovery-code")
    old_session = bert  # this browser stays logged in

    # Forgot the password: a reset link by mail, in another browser; the answer is the same for an unknown address.
    other = Visit(browser, base, size)
    other.page.goto(base + "/manage/login")
    other.submit("#forgot-password")
    assert other.page_kind() == "reset"
    other.check("reset-request")
    other.page.fill("#email", "niemand@baeckerei.example")
    other.submit("main button[type=submit]")
    unknown_note = other.page.locator("#sent[role=status]").inner_text()
    other.page.goto(base + "/manage/reset")
    other.page.fill("#email", BERT)
    other.submit("main button[type=submit]")
    assert other.page.locator("#sent[role=status]").inner_text() == unknown_note
    # Besides the reset link, Bert was told by mail when two-factor login was turned on and when a recovery code was used.
    sent = send_mail(app, sink, 4)[1:]
    [reset] = [m for m in sent if m["Subject"] == "WA Onboarding: neues Passwort festlegen"]
    notices = [m for m in sent if m is not reset]
    assert all(m["To"] == BERT for m in sent) and len(notices) == 2
    assert "Zwei-Faktor-Anmeldung wurde eingeschaltet" in text_of(notices[0]) and "Wiederherstellungscode" in text_of(notices[1])
    reset_url = link_in(reset, "/manage/reset/")
    other.page.goto(reset_url)
    assert other.page_kind() == "reset-password"
    other.check("reset-password")
    other.page.fill("#password", NEWER_PASSWORD)
    other.page.fill("#password_repeat", NEWER_PASSWORD)
    other.submit("main button[type=submit]")
    assert other.page_kind() == "login"
    other.page.goto(reset_url)  # single use
    assert other.page_kind() != "reset-password"

    # The session that was open before the reset is gone; the old password no longer works; the new one does (with a code).
    old_session.page.goto(base + "/manage/")
    assert old_session.page_kind() == "login"
    old_session.log_in(BERT, NEW_PASSWORD)
    assert old_session.page_kind() == "login" and old_session.page.locator("#error-summary").is_visible()
    old_session.log_in(BERT, NEWER_PASSWORD)
    old_session.page.click("details summary")
    old_session.page.fill("#recovery_code", codes[1])
    old_session.submit("form:has(#recovery_code) button[type=submit]")
    assert old_session.page_kind() == "organisations"

    # A member trying the admin's pages is refused, and Anna reads all of it in the audit log.
    refused = old_session.page.goto(base + "/manage/orgs/acme/events")
    assert refused.status == 403
    anna.page.goto(base + "/manage/orgs/acme/events")
    anna.check("audit-log")
    shown = set(anna.page.locator("tr[data-event]").evaluate_all("rows => rows.map(r => r.dataset.event)"))
    expected = {
        "organisation.two_factor_required",
        "invitation.created",
        "invitation.accepted",
        "two_factor.enabled",
        "login.second_factor_failed",
        "login.succeeded",
        "recovery_code.used",
        "password.reset_requested",
        "password.reset",
        "login.failed",
        "access.denied",
    }
    assert expected <= shown, expected - shown
    assert expected <= set(actions_of(app))

    for visit in (anna, bert, other):
        assert visit.problems == {}, visit.problems
        assert visit.outside == []
        visit.context.close()
