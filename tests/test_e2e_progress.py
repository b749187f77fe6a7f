"""My items, the progress chart and the portfolio in Chromium on a phone and a desktop: axe-core, no sideways scrolling, nothing fetched elsewhere."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.store import db, events, tracking
from bot.store.managers import create_manager
from bot.store.models import Organisation, utcnow

# The views register on the manager blueprint when imported (before the live server's app exists).
from bot.web.manage import my_items as _my_items  # noqa: F401
from bot.web.manage import progress as _progress  # noqa: F401
from tests.apiclient import Api
from tests.conftest import add_respondent_link, screenshot, serious_accessibility_violations
from tests.test_flow_walks import GOLDEN

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PASSWORD = "correct horse battery"
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def base(live_server) -> str:
    """Two organisations of Anna's with the dental practice's checklist, three of her items, and 60 days of progress in one."""
    url, app = live_server
    with app.app_context():
        session = db.session()
        orgs = [
            Organisation(slug="acme", name="Zahnarztpraxis Dr. Muster", locale="de", flow_version=1),
            Organisation(slug="beta", name="Bäckerei Beta KG", locale="de", flow_version=1),
        ]
        session.add_all(orgs)
        session.commit()
        create_manager(session, "anna@example.de", orgs, password=PASSWORD)
    api = Api(app)
    for slug in ("acme", "beta"):
        token, prompt = api.start(add_respondent_link(app, slug), locale="de")
        api.finish(token, GOLDEN[1][1], prompt)
    today = utcnow().date()
    with app.app_context():
        session = db.session()
        acme, beta = (session.scalar(select(Organisation).where(Organisation.slug == s)) for s in ("acme", "beta"))
        engine = app.extensions["engines"].get(acme.flow_id, 1)
        critical = [i.id for i in engine.checklist(GOLDEN[1][1]).items if i.status == "critical"][:3]
        tracking.update_item(session, acme, critical[0], 0, {"owner": "anna@example.de", "due": (today - timedelta(days=2)).isoformat()}, events.CLI)
        tracking.update_item(
            session, beta, critical[1], 0, {"owner": "anna@example.de", "due": (today + timedelta(days=7)).isoformat(), "workflow": "in_progress"}, events.CLI
        )
        tracking.update_item(session, acme, critical[2], 0, {"owner": "anna@example.de"}, events.CLI)
        tracking.accept_risk(session, acme, critical[2], "Bis das neue Telefon da ist", (today + timedelta(days=30)).isoformat(), events.CLI)
        for days_ago, (crit, todo, done, closed, risks) in [
            (60, (12, 10, 0, 0, 0)),
            (40, (10, 10, 2, 1, 0)),
            (15, (7, 9, 6, 4, 1)),
            (3, (5, 8, 9, 6, 1)),
            (0, (4, 8, 10, 7, 1)),
        ]:
            counts = {
                "status": {"critical": crit, "open": todo, "done": done, "not_applicable": 4},
                "workflow": {"todo": crit + todo - closed, "in_progress": 0, "in_review": 0, "closed": closed},
                "risk_accepted": risks,
            }
            tracking.write_snapshot(session, acme, counts, day=today - timedelta(days=days_ago))
    return url


def log_in(page, base: str) -> None:
    """Log Anna in through the form."""
    page.goto(base + "/manage/login")
    page.fill("#email", "anna@example.de")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")


def no_sideways_scrolling(page) -> bool:
    """The page is no wider than the window."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize(("size", "locale"), [("phone", "de-DE"), ("desktop", "en-GB")])
def test_my_items_progress_and_portfolio_in_the_browser(browser, base, size, locale):
    context = browser.new_context(locale=locale, **(PHONE if size == "phone" else DESKTOP))
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
    problems: dict[str, list[str]] = {}
    log_in(page, base)

    with page.expect_navigation():
        page.click("nav.manage-nav a[href*='my-items']")
    assert page.locator("main").get_attribute("data-page") == "my-items"
    rows = page.locator("table.my-items tbody tr")
    assert rows.count() == 3
    assert rows.nth(0).get_attribute("data-overdue") == "1" and rows.nth(0).get_attribute("data-org") == "acme"
    assert rows.nth(1).get_attribute("data-org") == "beta" and rows.nth(2).locator("[data-risk-until]").count() == 1
    assert rows.nth(0).locator("a").get_attribute("href").startswith("/manage/orgs/acme/items/")
    assert no_sideways_scrolling(page)
    problems["my items"] = serious_accessibility_violations(page)
    screenshot(page, f"manage-my-items-{size}")

    page.goto(base + "/manage/orgs/acme/progress")
    chart = page.locator("figure.chart-box svg")
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box is not None and box["width"] <= page.viewport_size["width"] and box["height"] > 100
    assert page.locator("figure.chart-box svg g[data-label]").count() == 5
    assert not page.locator("table.progress-table").is_visible()  # folded until asked for
    page.click("details.chart-data summary")
    assert page.locator("table.progress-table tbody tr").count() == 5  # the days that changed
    assert no_sideways_scrolling(page)
    problems["progress"] = serious_accessibility_violations(page)
    screenshot(page, f"manage-progress-{size}")
    with page.expect_navigation():
        page.click("ul.days-choice a[href*='days=365']")
    assert page.locator("main").get_attribute("data-days") == "365"

    with page.expect_navigation():
        page.click("nav.manage-nav a[href*='portfolio']")
    assert page.locator("table.portfolio tbody tr").count() == 2
    assert page.locator("tr[data-org=acme] svg.sparkline").is_visible()
    assert page.locator("tr[data-org=beta] svg.sparkline").count() == 1  # its completion wrote today's numbers
    assert no_sideways_scrolling(page)
    problems["portfolio"] = serious_accessibility_violations(page)
    screenshot(page, f"manage-portfolio-{size}")
    with page.expect_navigation():
        page.click("tr[data-org=acme] td.trend a")
    assert page.locator("main").get_attribute("data-page") == "progress"

    assert {name: found for name, found in problems.items() if found} == {}
    assert outside == []
    context.close()
