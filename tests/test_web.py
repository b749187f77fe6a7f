"""The start page, health, errors and headers of the Flask app."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from bot import engines
from bot.effort import effort
from bot.engine.lint import answer_sets
from bot.store import db
from bot.store.managers import create_manager
from bot.store.models import Assessment, Organisation
from tests import contract
from tests.apiclient import Api
from tests.conftest import add_organisation, add_respondent_link
from tests.test_flow_walks import GOLDEN
from tests.wizard_user import WizardUser


@pytest.mark.parametrize(("lang", "heading", "questions", "minutes", "description"), [
    ("de", "WhatsApp für Ihre Kunden, datenschutzgerecht eingerichtet", "4 bis 47 Fragen, je nach Ihren Antworten", "Etwa 2 bis 16 Minuten",
     "Richten Sie WhatsApp"),
    ("en", "WhatsApp for your customers, set up in line with the GDPR", "4 to 47 questions, depending on your answers", "About 2 to 16 minutes",
     "Set up WhatsApp"),
])  # fmt: skip
def test_start_page_in_both_languages(client, lang, heading, questions, minutes, description):
    response = client.get(f"/?lang={lang}")
    assert response.status_code == 200
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert soup.find("h1").get_text() == heading and soup.find("html")["lang"] == lang
    # the real range over the latest version's paths (the contract's shortest and longest), at 20 seconds a question
    facts = soup.find("ul", class_="facts")
    assert facts["data-questions"] == "4-47" and facts["data-minutes"] == "2-16"
    assert [li.get_text() for li in facts.find_all("li")][:2] == [questions, minutes]
    flows = soup.find("ul", class_="flows").find_all("li")
    assert [li["data-version"] for li in flows] == ["2"] and f"{len(contract.item_ids(2))} " in flows[0].get_text()
    assert soup.find("meta", attrs={"name": "description"})["content"].startswith(description)
    # no link opens raw JSON: the ways in are the manager login (and the demo, when there is one)
    assert [a["href"] for a in soup.find("main").find_all("a")] == ["/manage/login"]
    assert soup.find("main").find("form") is None  # no demo organisation: nothing to start here
    assert soup.find("p", class_="note")


def test_the_start_button_starts_the_demo_organisations_self_check(app, client):
    """With a demo organisation, the start page's button starts its public self-check (the respondent's own result) at the first question."""
    key = add_organisation(app, "demo", "Demo GmbH", flow_version=None)
    html = client.get("/?lang=en").get_data(as_text=True)
    soup = BeautifulSoup(html, "html.parser")
    form = soup.find("form", class_="start")
    assert form["action"] == f"/w/{key}" and form.find("button")["value"] == "start"
    assert [a["href"] for a in soup.find("main").find_all("a")] == ["/demo", "/manage/login"]
    assert "Demo GmbH" in soup.find("p", class_="hint").get_text()
    user = WizardUser(client).start("/?lang=en")
    assert user.step == "purpose" and "/w/a/" in user.url and user.page.find("html")["lang"] == "en"
    with app.app_context():
        assessment = db.session().scalars(select(Assessment)).one()
        assert assessment.is_self_assessment and assessment.flow_version == 2


def test_no_start_button_when_the_demo_self_check_is_off(app, client):
    add_organisation(app, "demo", "Demo GmbH", flow_version=None, public_widget=False)
    soup = BeautifulSoup(client.get("/?lang=en").get_data(as_text=True), "html.parser")
    assert soup.find("main").find("form") is None and soup.find("p", class_="note")
    assert [a["href"] for a in soup.find("main").find_all("a")] == ["/demo", "/manage/login"]


@pytest.mark.parametrize("version", [1, 2])
def test_the_range_of_questions_is_the_contracts_shortest_and_longest_path(app, version):
    """bot/effort.py against the contract: every combination of the branch steps' answers, counted without info steps."""
    with app.app_context():
        flow = engines(app).get("whatsapp_gdpr", version).flow
    counts = set()
    for answers in answer_sets(flow):
        asked = contract.path(answers, version)
        counts.add(sum(1 for step in asked if flow.step_by_id[step].kind != "info"))
    span = effort(flow)
    assert (span.fewest, span.most) == (min(counts), max(counts)) == {1: (3, 42), 2: (4, 47)}[version]
    assert (span.minutes_fewest, span.minutes_most) == ({1: (1, 14), 2: (2, 16)}[version])


def test_favicon_and_skip_link_on_every_kind_of_page(app, client):
    """The icon is the app's own (SVG, ICO, a PNG for phones' home screens); every page starts with a skip link to its main content."""
    key = add_organisation(app, "acme", "ACME GmbH")
    icons = [("/static/favicon.svg", "image/svg+xml"), ("/static/favicon.ico", "image/vnd.microsoft.icon"), ("/static/favicon-180.png", "image/png")]
    for path, mimetype in icons:
        response = client.get(path)
        assert response.status_code == 200 and response.mimetype == mimetype and len(response.data) > 100
    step_page = WizardUser(client).start(f"/w/{key}?lang=de").url
    for path in ["/?lang=de", f"/w/{key}?lang=de", step_page, "/manage/login?lang=de", "/no/such/page?lang=de"]:
        soup = BeautifulSoup(client.get(path).get_data(as_text=True), "html.parser")
        first = soup.find("body").find(True)
        assert first.name == "a" and first["href"] == "#main" and first.get_text() == "Zum Inhalt springen", path
        assert soup.find("main")["id"] == "main"
        icons = {link["href"] for link in soup.find_all("link", rel="icon")}
        assert icons == {"/static/favicon.svg", "/static/favicon.ico"}, path


def test_language_follows_the_browser_then_german(client):
    assert "Fragebögen" in client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9"}).get_data(as_text=True)
    assert "Questionnaires" in client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    assert "Fragebögen" in client.get("/", headers={"Accept-Language": "fr-FR"}).get_data(as_text=True)


def test_health_reports_flows_and_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    data = response.get_json()
    assert data["status"] == "ok" and data["database"] == "ok"
    assert data["flows"][0]["id"] == "whatsapp_gdpr" and data["flows"][0]["steps"] == 44 and data["flows"][0]["items"] == 26


def test_api_404_is_json_and_localised(client):
    response = client.get("/api/v1/nothing?lang=de")
    assert response.status_code == 404
    assert response.get_json() == {"error": {"code": "not_found", "message": "Diese Seite oder Ressource gibt es nicht."}}


def test_page_404_is_html(client):
    response = client.get("/nothing?lang=en")
    assert response.status_code == 404
    assert "This page or resource does not exist." in response.get_data(as_text=True)


def test_security_headers_and_no_third_party_assets(client):
    response = client.get("/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    html = response.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html  # every asset is served by the app
    assert client.get("/static/app.css").status_code == 200


@pytest.mark.parametrize("path", ["/", "/api/v1/orgs", "/manage/login", "/widget.js"])
def test_hsts_only_over_https(app, path):
    """Plain HTTP gets no HSTS (it would pin a local `make run` to HTTPS); HTTPS gets a year."""
    client = app.test_client()
    assert "Strict-Transport-Security" not in client.get(path).headers
    secure = client.get(path, base_url="https://wa.example")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_hsts_behind_a_tls_proxy_and_switched_off(tmp_path, locales_dir):
    """Behind a trusted proxy, X-Forwarded-Proto: https counts; HSTS_MAX_AGE=0 leaves HSTS to the proxy."""
    from tests.conftest import _fresh_app

    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    proxied = _fresh_app(url, locales_dir, TRUSTED_PROXIES=1).test_client()
    assert proxied.get("/", headers={"X-Forwarded-Proto": "https"}).headers["Strict-Transport-Security"] == "max-age=31536000"
    untrusted = _fresh_app(url, locales_dir).test_client()  # no trusted proxy: the header is ignored
    assert "Strict-Transport-Security" not in untrusted.get("/", headers={"X-Forwarded-Proto": "https"}).headers
    off = _fresh_app(url, locales_dir, HSTS_MAX_AGE=0).test_client()
    assert "Strict-Transport-Security" not in off.get("/", base_url="https://wa.example").headers


def test_secret_key_is_required_outside_debug(tmp_path, locales_dir, monkeypatch):
    from bot import create_app

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    monkeypatch.setattr("bot.secret_key_file", lambda _instance: tmp_path / "no_secret_key")  # `make` may have written one
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}", "LOCALES_DIR": str(locales_dir), "SECRET_KEY": None})


def test_the_app_refuses_to_start_with_a_malformed_flow(tmp_path, locales_dir):
    from bot import create_app
    from bot.engine import FlowError
    from tests.conftest import FLOW_FILE

    text = FLOW_FILE.read_text("utf-8").replace('asked_when: [{step: "channel", in: ["business_app", "coexistence"]}]', 'asked_when: "app_sid"', 1)
    (tmp_path / "whatsapp_gdpr.yaml").write_text(text, "utf-8")
    with pytest.raises(FlowError, match=r"whatsapp_gdpr\.yaml: step device: asked_when names no registered condition: 'app_sid'"):
        create_app({"TESTING": True, "FLOWS_DIR": str(tmp_path), "LOCALES_DIR": str(locales_dir)})


def test_manager_pages_show_dates_plurals_and_surface_names_in_the_pages_language(app):
    """The overview's and comparison's dates through Babel, the history names where each assessment was filled in, plurals by ngettext."""
    from tests.test_manage import PASSWORD, log_in

    add_organisation(app, "acme", "ACME GmbH")
    with app.app_context():
        session = db.session()
        acme = session.scalar(select(Organisation).where(Organisation.slug == "acme"))
        create_manager(session, "anna@example.de", [acme], password=PASSWORD)
    link = add_respondent_link(app, "acme", "Büro")
    client = app.test_client()
    WizardUser(client).start(f"/r/{link}?lang=de").finish(GOLDEN[0][1])  # in the wizard
    api = Api(app)
    token, prompt = api.start(link, locale="de", channel="widget")  # in the chat widget
    api.finish(token, GOLDEN[1][1], prompt)
    with app.app_context():
        completed = db.session().scalars(select(Assessment.completed_at).order_by(Assessment.id)).all()
    anna = app.test_client()
    assert log_in(anna).status_code == 303

    languages = [("de", r"\d{1,2}\.\d{2}\.\d{4}", "Chat-Widget", "Assistent"), ("en", r"[A-Z][a-z]{2} \d{1,2}, \d{4}", "Chat widget", "Wizard")]
    for lang, pattern, widget, wizard in languages:
        overview = BeautifulSoup(anna.get(f"/manage/?lang={lang}").get_data(as_text=True), "html.parser")
        when = overview.select_one("tr[data-org=acme] time")
        assert when["datetime"] == completed[-1].date().isoformat()
        assert re.fullmatch(pattern, when.get_text()), when.get_text()  # not 2026-11-24 on a German page
        organisation = BeautifulSoup(anna.get(f"/manage/orgs/acme?lang={lang}").get_data(as_text=True), "html.parser")
        how = [row.find_all("td")[2].get_text(" ", strip=True) for row in organisation.select("table.history tbody tr")]
        assert [h.split(" · ")[1] for h in how] == [widget, wizard], how  # never the stored "widget" or "wizard"
        ids = [row["data-assessment"] for row in organisation.select("table.history tbody tr")]
        compare = BeautifulSoup(anna.get(f"/manage/orgs/acme/compare?a={ids[1]}&b={ids[0]}&lang={lang}").get_data(as_text=True), "html.parser")
        assert not re.search(r"\d{4}-\d{2}-\d{2}", compare.find("main").get_text()), "an ISO date on the comparison"

    documents = BeautifulSoup(anna.get("/manage/orgs/acme/documents?lang=de").get_data(as_text=True), "html.parser")
    missing = [p.get_text() for p in documents.select("section.document p.hint")]
    assert missing and all(re.fullmatch(r"1 Angabe fehlt|([02-9]|\d\d+) Angaben fehlen", text) for text in missing), missing
