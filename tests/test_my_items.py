"""'My items', the progress chart and the portfolio in the manager area (SQLite and PostgreSQL): what each manager sees, in what order, and how fast."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import delete, event, select

from bot.store import db, events, tracking
from bot.store.managers import create_manager
from bot.store.models import Assessment, Evidence, EvidenceItem, Manager, Membership, Organisation, ProgressSnapshot, utcnow

# The views register on the manager blueprint when imported; importing them here (before any app exists) keeps these tests
# independent of whether bot/web/manage/__init__.py imports them yet.
from bot.web.manage import my_items as _my_items  # noqa: F401
from bot.web.manage import progress as _progress  # noqa: F401
from tests.apiclient import Api
from tests.conftest import add_respondent_link
from tests.test_flow_walks import GOLDEN
from tests.test_manage import PASSWORD, log_in, page

DENTAL = GOLDEN[1][1]  # version 1 answers: 12 critical, 10 to do, 4 not applicable
SVG = "{http://www.w3.org/2000/svg}"


def today():
    """The day the app counts in (UTC)."""
    return utcnow().date()


@pytest.fixture
def area(backend_app):
    """acme and beta (Anna's), other (Bob's, who is in acme too), an admin; each with the dental practice's checklist of record."""
    app = backend_app
    with app.app_context():
        session = db.session()
        orgs = {
            slug: Organisation(slug=slug, name=name, locale="de", flow_version=1)
            for slug, name in [("acme", "ACME GmbH"), ("beta", "Beta KG"), ("other", "Other AG")]
        }
        session.add_all(orgs.values())
        session.commit()
        create_manager(session, "anna@example.de", [orgs["acme"], orgs["beta"]], password=PASSWORD)
        create_manager(session, "bob@example.de", [orgs["acme"], orgs["other"]], password=PASSWORD)
        create_manager(session, "root@example.de", [orgs["other"]], password=PASSWORD, operator=True)
    api = Api(app)
    for slug in ("acme", "beta", "other"):
        token, prompt = api.start(add_respondent_link(app, slug), locale="de")
        api.finish(token, DENTAL, prompt)
    return app


def items_by_status(app, slug: str = "acme") -> dict[str, list[str]]:
    """The item ids of the organisation's checklist of record, by assessed status."""
    with app.app_context():
        session = db.session()
        record = session.scalar(select(Assessment).join(Organisation).where(Organisation.slug == slug, Assessment.recorded_at.is_not(None)))
        engine = app.extensions["engines"].get(record.flow_id, record.flow_version)
        out: dict[str, list[str]] = {}
        for item in engine.checklist(record.completed_answers).items:
            out.setdefault(str(item.status), []).append(item.id)
        return out


def track(app, slug: str, item_id: str, **changes) -> None:
    """Change an item's tracking as the command line would (owner by e-mail, due as YYYY-MM-DD or a date)."""
    changes = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in changes.items()}
    with app.app_context():
        session = db.session()
        org = session.scalar(select(Organisation).where(Organisation.slug == slug))
        row = tracking.tracking_for(session, org, item_id)
        tracking.update_item(session, org, item_id, row.version if row is not None else 0, changes, events.CLI)


def logged_in(app, email: str):
    """A browser in which `email` is logged in."""
    client = app.test_client()
    assert log_in(client, email).status_code == 303
    return client


def my_rows(client) -> list[tuple[str, str]]:
    """(organisation, item) of each row of 'my items', in order."""
    response = client.get("/manage/my-items?lang=en")
    assert response.status_code == 200
    return [(tr["data-org"], tr["data-item"]) for tr in page(response).select("table.my-items tbody tr")]


def test_my_items_are_the_open_items_i_own_soonest_due_first(area):
    critical, open_ = items_by_status(area)["critical"], items_by_status(area)["open"]
    track(area, "acme", critical[0], owner="anna@example.de", due=today() + timedelta(days=10))
    track(area, "acme", critical[1], owner="anna@example.de")  # no due date: last
    track(area, "acme", open_[0], owner="anna@example.de", due=today() - timedelta(days=3))  # overdue: first
    track(area, "beta", critical[2], owner="anna@example.de", due=today() + timedelta(days=5))
    track(area, "acme", open_[1], owner="anna@example.de", due=today(), workflow="closed")  # closed: not shown
    track(area, "acme", open_[2], owner="bob@example.de", due=today())  # Bob's
    track(area, "other", critical[3], owner="bob@example.de", due=today())  # Bob's, in an organisation Anna does not see
    track(area, "acme", critical[4], due=today())  # nobody's

    anna = logged_in(area, "anna@example.de")
    assert my_rows(anna) == [("acme", open_[0]), ("beta", critical[2]), ("acme", critical[0]), ("acme", critical[1])]
    html = page(anna.get("/manage/my-items?lang=en"))
    first, *_rest, last = html.select("table.my-items tbody tr")
    assert first.get("data-overdue") == "1" and "overdue" in first.get_text()
    assert first.find("td", attrs={"data-workflow": True})["data-workflow"] == "todo" and first.find("td", attrs={"data-status": True})["data-status"] == "open"
    assert first.find("a")["href"] == f"/manage/orgs/acme/items/{open_[0]}?lang=en"
    assert first.find("a").get_text().startswith(f"{open_[0]} · ") and len(first.find("a").get_text()) > len(open_[0]) + 5  # with its title
    assert "no due date" in last.get_text() and last.get("data-overdue") is None
    assert "Other AG" not in html.get_text()
    assert html.find("main")["data-page"] == "my-items"

    bob = logged_in(area, "bob@example.de")
    assert my_rows(bob) == [("acme", open_[2]), ("other", critical[3])]  # the same day: by organisation name


def test_my_items_say_what_needs_review_and_which_risk_is_accepted(area):
    critical = items_by_status(area)["critical"]
    track(area, "acme", critical[0], owner="anna@example.de")
    track(area, "acme", critical[1], owner="anna@example.de")
    with area.app_context():
        session = db.session()
        org = session.scalar(select(Organisation).where(Organisation.slug == "acme"))
        dates = tracking.EvidenceDates(today() - timedelta(days=400), today() - timedelta(days=1))
        tracking.add_link(session, org, critical[0], "https://dms.example/avv", "AVV", dates, events.CLI)
        tracking.accept_risk(session, org, critical[1], "Until the new phone arrives", (today() + timedelta(days=30)).isoformat(), events.CLI)
    html = page(logged_in(area, "anna@example.de").get("/manage/my-items?lang=en"))
    rows = {tr["data-item"]: tr for tr in html.select("table.my-items tbody tr")}
    assert rows[critical[0]].find(attrs={"data-needs-review": "1"}) is not None  # its evidence expired yesterday
    assert rows[critical[1]].find(attrs={"data-needs-review": "1"}) is None
    assert rows[critical[1]].find(attrs={"data-risk-until": (today() + timedelta(days=30)).isoformat()}) is not None
    assert "Risk accepted until" in rows[critical[1]].get_text()


def test_an_owner_who_left_an_organisation_no_longer_sees_its_items_but_an_admin_does(area):
    critical = items_by_status(area)["critical"]
    track(area, "beta", critical[0], owner="anna@example.de")
    track(area, "other", critical[1], owner="root@example.de")
    with area.app_context():
        session = db.session()
        for email, slug in [("anna@example.de", "beta"), ("root@example.de", "other")]:
            manager = session.scalar(select(Manager).where(Manager.email == email))
            org = session.scalar(select(Organisation).where(Organisation.slug == slug))
            session.execute(delete(Membership).where(Membership.manager_id == manager.id, Membership.organisation_id == org.id))
        session.commit()
    assert my_rows(logged_in(area, "anna@example.de")) == []
    assert my_rows(logged_in(area, "root@example.de")) == [("other", critical[1])]  # an admin sees every organisation


def test_my_items_need_a_login_and_say_so_when_there_are_none(area):
    assert area.test_client().get("/manage/my-items").status_code == 302
    html = page(logged_in(area, "anna@example.de").get("/manage/my-items?lang=en"))
    assert html.find("table", class_="my-items") is None and "No open items are assigned to you" in html.get_text()
    nav = html.find("nav", class_="manage-nav")
    assert nav.find("a", attrs={"aria-current": "page"})["href"].startswith("/manage/my-items")


class QueryCounter:
    """Counts the SQL statements the app's engine runs."""

    def __init__(self, engine) -> None:
        self.engine, self.count = engine, 0

    def __enter__(self) -> QueryCounter:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, *args) -> None:
        self.count += 1


def consultant(app, organisations: int) -> list[str]:
    """A consultant in `organisations` clients (each with acme's checklist of record) who owns one item in each; return the slugs."""
    critical = items_by_status(app)["critical"]
    slugs = [f"client-{n:03d}" for n in range(organisations)]
    with app.app_context():
        session = db.session()
        record = session.scalar(select(Assessment).join(Organisation).where(Organisation.slug == "acme", Assessment.recorded_at.is_not(None)))
        orgs = [Organisation(slug=slug, name=f"Client {slug[-3:]}", locale="de", flow_version=1) for slug in slugs]
        session.add_all(orgs)
        session.flush()
        for org in orgs:
            session.add(
                Assessment(
                    organisation_id=org.id,
                    flow_id=record.flow_id,
                    flow_version=record.flow_version,
                    state=record.state,
                    answers=record.answers,
                    locale="de",
                    completed_at=record.completed_at,
                    completed_answers=record.completed_answers,
                    recorded_at=record.recorded_at,
                    started_via=record.started_via,
                )
            )
        create_manager(session, "consultant@example.de", orgs, password=PASSWORD)
        for number, org in enumerate(orgs):
            changes = {"owner": "consultant@example.de", "due": (today() + timedelta(days=number % 7)).isoformat()}
            tracking.update_item(session, org, critical[number % len(critical)], 0, changes, events.CLI)
    return slugs


def test_a_consultant_with_many_organisations_gets_them_all_in_a_few_queries(area):
    slugs = consultant(area, 40)
    client = logged_in(area, "consultant@example.de")
    with QueryCounter(area.extensions["db_engine"]) as counter:
        rows = my_rows(client)
    assert sorted(org for org, _item in rows) == slugs and len(rows) == 40
    days = [tr for tr in page(client.get("/manage/my-items?lang=en")).select("table.my-items tbody tr time")]
    assert [t["datetime"] for t in days] == sorted(t["datetime"] for t in days)
    assert counter.count <= 8, counter.count  # not one per organisation
    with QueryCounter(area.extensions["db_engine"]) as counter:
        response = client.get("/manage/portfolio?lang=en")
    assert response.status_code == 200 and len(page(response).select("table.portfolio tbody tr")) == 40
    assert counter.count <= 10, counter.count


# -- the progress chart ----------------------------------------------------------------


def counts(critical: int, open_: int, done: int, closed: int = 0, risks: int = 0) -> dict:
    """A snapshot's counts."""
    return {
        "status": {"critical": critical, "open": open_, "done": done, "not_applicable": 4},
        "workflow": {"todo": critical + open_ - closed, "in_progress": 0, "in_review": 0, "closed": closed},
        "risk_accepted": risks,
    }


def snapshot(app, slug: str, days_ago: int, values: dict) -> None:
    """Write a progress snapshot of `days_ago` days back."""
    with app.app_context():
        session = db.session()
        org = session.scalar(select(Organisation).where(Organisation.slug == slug))
        tracking.write_snapshot(session, org, values, day=today() - timedelta(days=days_ago))


def chart_of(html):
    """The progress page's SVG, parsed as XML (it must be well-formed)."""
    svg = html.select_one("figure.chart-box svg")
    assert svg is not None
    return ET.fromstring(str(svg))


def test_the_progress_page_draws_the_snapshots_and_tables_them(area):
    with area.app_context():
        session = db.session()
        session.execute(delete(ProgressSnapshot))
        session.commit()
    snapshot(area, "acme", 60, counts(12, 10, 0))
    snapshot(area, "acme", 20, counts(8, 9, 5, closed=3, risks=1))
    snapshot(area, "acme", 2, counts(5, 7, 10, closed=6, risks=2))
    anna = logged_in(area, "anna@example.de")

    html = page(anna.get("/manage/orgs/acme/progress?lang=en"))
    assert html.find("main")["data-days"] == "90"
    svg = chart_of(html)
    assert svg.find(f"{SVG}title").text == "Progress of ACME GmbH over the last 90 days"
    assert "Critical: 12 → 5" in svg.find(f"{SVG}desc").text
    assert {g.get("data-series") for g in svg.iter(f"{SVG}g") if g.get("data-series")} == {"critical", "open", "done", "closed", "risk_accepted"}
    labels = [" ".join(t.itertext()) for t in svg.iter(f"{SVG}text") if ":" in "".join(t.itertext())]
    assert "Critical: 5" in labels and "Closed (work finished): 6" in labels and "Risks accepted: 2" in labels
    said = [li.get_text() for li in html.select("figure.chart-box li")]
    assert "Critical: 12 → 5" in said and "Done: 0 → 10" in said
    table = [(tr["data-day"], tr.find("td", attrs={"data-series": "critical"}).get_text()) for tr in html.select("table.progress-table tbody tr")]
    days_back = [60, 20, 2, 0]  # the days that changed, and today (nothing before the first snapshot)
    assert table == [((today() - timedelta(days=n)).isoformat(), v) for n, v in zip(days_back, ["12", "8", "5", "5"], strict=True)]
    assert html.find("a", attrs={"aria-current": "page"}, string="Progress") is not None

    thirty = page(anna.get("/manage/orgs/acme/progress?days=30&lang=en"))
    assert thirty.find("main")["data-days"] == "30"
    assert "Critical: 12 → 5" in chart_of(thirty).find(f"{SVG}desc").text  # 60 days ago's numbers carried into the window
    assert ET.tostring(chart_of(thirty)) != ET.tostring(svg)
    assert page(anna.get("/manage/orgs/acme/progress?days=7")).find("main")["data-days"] == "90"  # not offered: the default


def test_the_progress_page_without_snapshots_says_so_and_other_organisations_are_404(area):
    with area.app_context():
        session = db.session()
        session.execute(delete(ProgressSnapshot))
        session.commit()
    anna = logged_in(area, "anna@example.de")
    html = page(anna.get("/manage/orgs/acme/progress?lang=en"))
    assert html.find("svg") is None and html.find(attrs={"data-empty": "1"}) is not None
    assert anna.get("/manage/orgs/other/progress").status_code == 404
    assert anna.get("/manage/orgs/nowhere/progress").status_code == 404
    assert area.test_client().get("/manage/orgs/acme/progress").status_code == 302


def test_a_name_with_markup_is_escaped_in_the_chart(area):
    with area.app_context():
        session = db.session()
        session.scalar(select(Organisation).where(Organisation.slug == "acme")).name = "<script>alert(1)</script> & Co"
        session.commit()
    html = logged_in(area, "anna@example.de").get("/manage/orgs/acme/progress?lang=en").data.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html


# -- the portfolio ---------------------------------------------------------------------


def portfolio_rows(client, query: str = "") -> dict:
    """The portfolio's rows by organisation."""
    response = client.get("/manage/portfolio?lang=en" + query)
    assert response.status_code == 200
    return {tr["data-org"]: tr for tr in page(response).select("table.portfolio tbody tr")}


def test_the_portfolio_lists_only_visible_organisations_with_their_numbers_and_trend(area):
    critical = items_by_status(area)["critical"]
    snapshot(area, "acme", 40, counts(12, 10, 0))
    snapshot(area, "acme", 10, counts(9, 10, 3))
    with area.app_context():
        session = db.session()
        org = session.scalar(select(Organisation).where(Organisation.slug == "acme"))
        tracking.accept_risk(session, org, critical[0], "Accepted by the managing director", (today() + timedelta(days=10)).isoformat(), events.CLI)
        tracking.accept_risk(session, org, critical[1], "Runs out", today().isoformat(), events.CLI)
        dates = tracking.EvidenceDates(today() - timedelta(days=30), today() - timedelta(days=1))
        evidence = tracking.add_link(session, org, critical[2], "https://dms.example/avv", "AVV", dates, events.CLI)
        tracking.link_evidence(session, org, critical[3], evidence, events.CLI)
    anna = logged_in(area, "anna@example.de")
    rows = portfolio_rows(anna)
    assert list(rows) == ["acme", "beta"]  # by name; never Other AG
    acme = rows["acme"]
    assert (acme.find(attrs={"data-critical": True})["data-critical"], acme.find(attrs={"data-open": True})["data-open"]) == ("12", "10")
    assert acme.find(attrs={"data-risk-accepted": True})["data-risk-accepted"] == "2"  # one lasts until today, inclusive
    assert acme.find(attrs={"data-needs-review": True})["data-needs-review"] == "2"  # two items with expired evidence
    spark = ET.fromstring(str(acme.find("svg")))
    assert spark.find(f"{SVG}title").text.startswith("Trend of ACME GmbH over 90 days")
    said = [li.get_text() for li in acme.select("li[data-change]")]
    assert said[0].startswith("Critical: 12 → ")  # today's snapshot came with the completed assessment
    assert acme.find("a", href="/manage/orgs/acme/progress?days=90&lang=en") is not None

    thirty = portfolio_rows(anna, "&days=30")["acme"]
    assert thirty.select("li[data-change]")[0].get_text().startswith("Critical: 12 → ")  # carried into the window from 40 days ago
    assert "Trend of ACME GmbH over 30 days" in ET.fromstring(str(thirty.find("svg"))).find(f"{SVG}title").text

    assert list(portfolio_rows(logged_in(area, "root@example.de"))) == ["acme", "beta", "other"]  # an admin sees all


def test_the_portfolio_shows_an_organisation_without_a_checklist_or_trend(area):
    with area.app_context():
        session = db.session()
        org = Organisation(slug="new", name="Neu GmbH", locale="de", flow_version=1)
        session.add(org)
        session.flush()
        session.add(Membership(manager_id=session.scalar(select(Manager.id).where(Manager.email == "anna@example.de")), organisation_id=org.id))
        session.execute(delete(ProgressSnapshot))
        session.commit()
    rows = portfolio_rows(logged_in(area, "anna@example.de"))
    assert "No completed assessment yet" in rows["new"].get_text() and "no trend yet" in rows["new"].get_text()
    assert rows["acme"].find("svg") is None and rows["acme"].find(attrs={"data-critical": "12"}) is not None


def test_the_checklist_being_due_for_review_makes_every_item_need_review(area):
    with area.app_context():
        session = db.session()
        for record in session.scalars(select(Assessment).where(Assessment.recorded_at.is_not(None))):
            record.recorded_at = utcnow() - timedelta(days=400)
        session.commit()
    rows = portfolio_rows(logged_in(area, "anna@example.de"))
    assert rows["acme"].find(attrs={"data-needs-review": True})["data-needs-review"] == "26" and "review due" in rows["acme"].get_text()


def test_evidence_of_another_organisation_does_not_count(area):
    critical = items_by_status(area)["critical"]
    with area.app_context():
        session = db.session()
        other = session.scalar(select(Organisation).where(Organisation.slug == "other"))
        dates = tracking.EvidenceDates(today() - timedelta(days=30), today() - timedelta(days=1))
        tracking.add_link(session, other, critical[0], "https://dms.example/x", "X", dates, events.CLI)
        assert session.scalar(select(EvidenceItem.organisation_id).join(Evidence)) == other.id
    assert portfolio_rows(logged_in(area, "anna@example.de"))["acme"].find(attrs={"data-needs-review": True})["data-needs-review"] == "0"


def test_the_pages_keep_the_policy_no_inline_code_and_no_request_elsewhere(area):
    critical = items_by_status(area)["critical"]
    track(area, "acme", critical[0], owner="anna@example.de", due=today())
    snapshot(area, "acme", 30, counts(12, 10, 0))
    anna = logged_in(area, "anna@example.de")
    for url in ("/manage/my-items", "/manage/orgs/acme/progress", "/manage/portfolio"):
        response = anna.get(url)
        assert response.status_code == 200 and response.mimetype == "text/html"
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "unsafe-inline" not in csp
        soup = page(response)
        assert soup.find("svg") is not None or url.endswith("my-items")
        assert not soup.find_all("script") and not soup.find_all("style") and not soup.find_all(style=True), url
        assert [(tag.name, a) for tag in soup.find_all(True) for a in tag.attrs if a.lower().startswith("on")] == []
        addresses = [tag.get(a) for tag in soup.find_all(True) for a in ("href", "src", "xlink:href") if tag.get(a)]
        assert not [a for a in addresses if a.startswith(("http:", "https:", "//", "data:", "javascript:"))], url  # everything served by the app
