"""The manager area through HTTP: login, overview, organisation page, exports, documents, history, admin."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from bot.store import db
from bot.store.managers import create_manager
from bot.store.models import Assessment, Manager, Organisation
from tests import contract
from tests.apiclient import Api
from tests.conftest import add_respondent_link
from tests.test_api import INTERNAL_ONLY
from tests.test_flow_walks import GOLDEN

PASSWORD = "correct horse battery"
PAYLOAD = "<script>alert(1)</script> =SUM(A1)"


@pytest.fixture
def area(app):
    """Three organisations (two of Anna's, one foreign), completed assessments, Anna, and an admin."""
    with app.app_context():
        session = db.session()
        names = [("acme", "ACME GmbH"), ("beta", "Beta KG"), ("other", "Other AG")]
        orgs = {slug: Organisation(slug=slug, name=name, locale="de", flow_version=1) for slug, name in names}  # GOLDEN: version 1 answers
        session.add_all(orgs.values())
        session.commit()
        create_manager(session, "anna@example.de", [orgs["acme"], orgs["beta"]], password=PASSWORD)
        create_manager(session, "root@example.de", [], password=PASSWORD, role="admin")
    keys = {slug: add_respondent_link(app, slug) for slug in orgs}
    api = Api(app)
    for slug, answers in [("acme", {**GOLDEN[1][1], "company_name": PAYLOAD}), ("acme", GOLDEN[0][1]), ("other", INTERNAL_ONLY)]:
        token, prompt = api.start(keys[slug], locale="de")
        api.finish(token, answers, prompt)
    return app


def page(response) -> BeautifulSoup:
    """Parse an HTML response."""
    return BeautifulSoup(response.data.decode(), "html.parser")


def csrf(client, url: str) -> str:
    """The CSRF token of the first form on a page."""
    return page(client.get(url)).find("input", attrs={"name": "csrf_token"})["value"]


def log_in(client, email: str = "anna@example.de", password: str = PASSWORD, next_url: str = ""):
    """Post the login form as a browser would."""
    token = csrf(client, "/manage/login")
    return client.post("/manage/login" + next_url, data={"csrf_token": token, "email": email, "password": password})


@pytest.fixture
def anna(area):
    """A browser in which Anna is logged in."""
    client = area.test_client()
    assert log_in(client).status_code == 303
    return client


def test_the_area_needs_a_login(area):
    client = area.test_client()
    response = client.get("/manage/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/manage/login?next=")


@pytest.mark.parametrize(("email", "password"), [("anna@example.de", "wrong password"), ("nobody@example.de", PASSWORD), ("anna@example.de", "")])
def test_a_failed_login_says_the_same_whatever_was_wrong(area, email, password):
    client = area.test_client()
    response = log_in(client, email, password)
    assert response.status_code == 401
    assert "Die E-Mail-Adresse oder das Passwort ist nicht korrekt." in page(response).get_text()
    assert client.get("/manage/").status_code == 302


def test_login_sets_a_safe_session_cookie_and_logout_ends_it(area):
    client = area.test_client()
    response = log_in(client)
    assert response.status_code == 303 and response.headers["Location"] == "/manage/"
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/manage/").status_code == 200
    assert client.get("/manage/logout").status_code == 405  # a GET cannot log anyone out
    token = csrf(client, "/manage/")
    assert client.post("/manage/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/manage/").status_code == 302


def test_login_without_csrf_token_is_refused(area):
    client = area.test_client()
    response = client.post("/manage/login", data={"email": "anna@example.de", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/manage/").status_code == 302


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/manage/orgs/acme"])
def test_login_only_follows_local_next_links(area, target):
    from urllib.parse import quote

    response = log_in(area.test_client(), next_url=f"?next={quote(target)}")
    assert response.headers["Location"] == (target if target.startswith("/manage") else "/manage/")


def test_overview_shows_own_organisations_with_attention_first(area, anna):
    rows = page(anna.get("/manage/")).select("tr[data-org]")
    # acme's latest is all done, but made with version 1 while version 2 is current: an older version comes first;
    # beta has no result yet; "other" is not Anna's
    assert [r["data-org"] for r in rows] == ["acme", "beta"]
    assert "Noch keine abgeschlossene Prüfung" in rows[1].get_text()
    assert rows[0].find(attrs={"data-critical": True})["data-critical"] == "0"
    # a critical result moves an organisation to the top
    api = Api(area)
    key = add_respondent_link(area, "acme")
    token, prompt = api.start(key)
    api.finish(token, GOLDEN[1][1], prompt)
    rows = page(anna.get("/manage/")).select("tr[data-org]")
    assert [r["data-org"] for r in rows] == ["acme", "beta"]
    assert rows[0].find(attrs={"data-critical": True})["data-critical"] == str(list(contract.statuses(GOLDEN[1][1]).values()).count("critical"))


def test_review_due_twelve_months_after_completion(area, anna):
    with area.app_context():
        session = db.session()
        for assessment in session.scalars(select(Assessment)):
            assessment.completed_at = assessment.completed_at - timedelta(days=366)
        session.commit()
    row = page(anna.get("/manage/")).select_one("tr[data-org=acme]")
    assert row.find(attrs={"data-review-due": True}) is not None


def test_organisation_page_shows_the_checklist_links_and_history(area, anna):
    soup = page(anna.get("/manage/orgs/acme"))
    statuses = {li["data-item"]: li["data-status"] for li in soup.select("li[data-item]")}
    assert statuses == contract.statuses(GOLDEN[0][1])
    assert "/w/" in soup.find(id="wizard-link")["value"]
    assert len(soup.select("tr[data-assessment]")) == 2
    for fmt in ("pdf", "xlsx", "csv", "md", "json"):
        assert soup.find("a", href=f"/manage/orgs/acme/checklist.{fmt}")


@pytest.mark.parametrize("fmt", ["pdf", "csv", "xlsx", "md", "json"])
def test_downloads_from_the_manager_area(anna, fmt):
    response = anna.get(f"/manage/orgs/acme/checklist.{fmt}?lang=en")
    assert response.status_code == 200
    assert f'.{fmt}"' in response.headers["Content-Disposition"]
    if fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(response.data))["Checklist"]
        assert sheet.cell(row=1, column=1).value == "Item"


def test_documents_page_shows_texts_escaped_with_downloads(area, anna):
    # make the hostile company name the latest result
    api = Api(area)
    key = add_respondent_link(area, "acme")
    token, prompt = api.start(key, locale="de")
    api.finish(token, {**GOLDEN[0][1], "company_name": PAYLOAD}, prompt)
    response = anna.get("/manage/orgs/acme/documents")
    raw = response.data.decode()
    assert "<script>alert(1)</script>" not in raw and "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    soup = page(response)
    assert [s["data-document"] for s in soup.select("section[data-document]")] == ["first_contact_message", "imprint_snippet", "ropa_entry"]
    assert PAYLOAD in soup.find(id="text-first_contact_message").get_text()
    txt = anna.get("/manage/orgs/acme/documents/first_contact_message.txt")
    assert txt.status_code == 200 and txt.mimetype == "text/plain" and PAYLOAD in txt.data.decode()
    md = anna.get("/manage/orgs/acme/documents/imprint_snippet.md").data.decode()
    assert "\\<script\\>" in md and "<script>" not in md


def test_compare_two_assessments(area, anna):
    soup = page(anna.get("/manage/orgs/acme"))
    ids = [tr["data-assessment"] for tr in soup.select("tr[data-assessment]")]
    compared = page(anna.get(f"/manage/orgs/acme/compare?a={ids[1]}&b={ids[0]}"))
    changed_items = {tr["data-item"] for tr in compared.select("tr[data-item]")}
    before, after = contract.statuses({**GOLDEN[1][1]}), contract.statuses(GOLDEN[0][1])
    assert changed_items == {i for i in contract.ITEM_IDS if before[i] != after[i]}
    changed_answers = {tr["data-answer"] for tr in compared.select("tr[data-answer]")}
    assert {"purpose", "sensitive_data", "device", "company_name"} <= changed_answers


FOREIGN = [
    "/manage/orgs/other",
    "/manage/orgs/other/checklist.pdf",
    "/manage/orgs/other/checklist.csv",
    "/manage/orgs/other/checklist.xlsx",
    "/manage/orgs/other/checklist.md",
    "/manage/orgs/other/checklist.json",
    "/manage/orgs/other/documents",
    "/manage/orgs/other/documents/first_contact_message.txt",
    "/manage/orgs/other/compare?a=1&b=3",
    "/manage/admin",
]


@pytest.mark.parametrize("path", FOREIGN)
def test_another_organisation_is_404_everywhere(area, anna, path):
    response = anna.get(path)
    assert response.status_code == 404
    assert "Other AG" not in response.data.decode()


def test_compare_refuses_an_assessment_of_another_organisation(area, anna):
    with area.app_context():
        other_id = db.session().scalar(select(Assessment.id).join(Organisation).where(Organisation.slug == "other"))
        own_id = db.session().scalar(select(Assessment.id).join(Organisation).where(Organisation.slug == "acme"))
    assert anna.get(f"/manage/orgs/acme/compare?a={own_id}&b={other_id}").status_code == 404


def test_admin_sees_all_and_creates_organisations_and_managers(area):
    client = area.test_client()
    assert log_in(client, "root@example.de").status_code == 303
    assert {r["data-org"] for r in page(client.get("/manage/")).select("tr[data-org]")} == {"acme", "beta", "other"}
    token = csrf(client, "/manage/admin")
    response = client.post("/manage/admin", data={"csrf_token": token, "create": "organisation", "slug": "neu", "name": "Neu GmbH", "locale": "en"})
    assert response.status_code == 200
    embed_key = page(response).find(attrs={"data-secret": True}).get_text()
    assert Api(area).start(embed_key)[1]["step"] == "purpose"
    response = client.post("/manage/admin", data={"csrf_token": token, "create": "manager", "email": "new@example.de", "orgs": ["neu"], "role": "member"})
    api_token = page(response).find(attrs={"data-secret": True}).get_text()
    listed = area.test_client().get("/api/v1/orgs", headers={"Authorization": f"Bearer {api_token}"}).get_json()["organisations"]
    assert [o["slug"] for o in listed] == ["neu"]
    again = client.post("/manage/admin", data={"csrf_token": token, "create": "manager", "email": "new@example.de", "role": "member"})
    assert again.status_code == 422
    no_csrf = client.post("/manage/admin", data={"create": "organisation", "slug": "x", "name": "X"})
    assert no_csrf.status_code == 400


def _admin_post(area, lang: str, **form):
    """Post the admin form as the admin, in `lang`; return the response."""
    client = area.test_client()
    log_in(client, "root@example.de")
    url = f"/manage/admin?lang={lang}"
    return client.post(url, data={"csrf_token": csrf(client, url), **form})


def _counts(area) -> tuple[int, int]:
    with area.app_context():
        session = db.session()
        return len(session.scalars(select(Organisation)).all()), len(session.scalars(select(Manager)).all())


@pytest.mark.parametrize("slug", ["kunde-名前", "Kunde", "under_score", "-kunde", "k" * 64])
def test_admin_page_refuses_a_slug_outside_the_rule_in_the_page_language(area, slug):
    before = _counts(area)
    response = _admin_post(area, "de", create="organisation", slug=slug, name="Kunde GmbH", locale="de")
    assert response.status_code == 422
    summary = page(response).find(id="error-summary").get_text(" ", strip=True)
    assert "Der Kurzname darf nur Kleinbuchstaben a–z, Ziffern und Bindestriche enthalten" in summary
    assert page(response).find(attrs={"data-secret": True}) is None
    assert _counts(area) == before  # nothing stored
    english = _admin_post(area, "en", create="organisation", slug=slug, name="Kunde GmbH", locale="de")
    assert "may contain only lower-case letters a–z, digits and hyphens" in page(english).find(id="error-summary").get_text()


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"create": "organisation", "slug": "acme", "name": "Noch eine"}, "Eine Organisation mit diesem Kurznamen gibt es schon."),
        ({"create": "organisation", "slug": "neu", "name": "   "}, "Bitte geben Sie einen Anzeigenamen"),
        ({"create": "organisation", "slug": "neu", "name": "Neu", "locale": "fr"}, "Bitte wählen Sie eine der angebotenen Sprachen."),
        ({"create": "manager", "email": "no-address", "role": "member"}, "Bitte geben Sie eine gültige E-Mail-Adresse an."),
        ({"create": "manager", "email": "x@example.de", "role": "owner"}, "Bitte wählen Sie eine der angebotenen Rollen."),
        ({"create": "manager", "email": "x@example.de", "role": "member", "password": "short"}, "mindestens 10 Zeichen"),
    ],
)
def test_admin_page_refuses_what_the_command_line_refuses(area, form, message):
    before = _counts(area)
    response = _admin_post(area, "de", **form)
    assert response.status_code == 422
    assert message in page(response).find(id="error-summary").get_text()
    assert _counts(area) == before


def test_admin_page_and_command_line_share_the_slug_rule(area):
    """The same slug is refused by both (same store function), and a valid one is accepted by both."""
    runner = area.test_cli_runner()
    from bot.cli import cli

    assert runner.invoke(cli, ["create-org", "kunde-名前", "--name", "Kunde"]).exit_code == 2
    assert _admin_post(area, "de", create="organisation", slug="kunde-名前", name="Kunde").status_code == 422
    assert runner.invoke(cli, ["create-org", "kunde-1", "--name", "Kunde 1"]).exit_code == 0
    assert _admin_post(area, "de", create="organisation", slug="kunde-2", name="Kunde 2").status_code == 200
    assert _admin_post(area, "de", create="organisation", slug="kunde-1", name="Kunde 1").status_code == 422  # exists (made by the CLI)


def test_an_organisation_with_an_old_style_slug_keeps_its_pages(area, anna):
    """Rows stored before the slug rule keep working in the manager area."""
    with area.app_context():
        session = db.session()
        session.add(Organisation(slug="alt_kunde", name="Alt GmbH", locale="de"))
        session.commit()
    client = area.test_client()
    log_in(client, "root@example.de")
    assert client.get("/manage/orgs/alt_kunde").status_code == 200
    assert "alt_kunde" in {r["data-org"] for r in page(client.get("/manage/")).select("tr[data-org]")}


def test_manager_area_in_english(area, anna):
    soup = page(anna.get("/manage/?lang=en"))
    assert soup.find("h1").get_text() == "Your organisations"
    assert page(anna.get("/manage/")).find("h1").get_text() == "Ihre Organisationen"  # de by default here


def test_pages_have_strict_headers_and_no_inline_script(anna):
    response = anna.get("/manage/orgs/acme")
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    scripts = page(response).find_all("script")
    assert scripts and all(s.get("src", "").startswith("/static/") and not s.string for s in scripts)


def test_every_html_page_has_the_policy_and_no_inline_code(area):
    """Every page the app renders (found in its URL map, so a new page is checked too): CSP without
    inline script or style, no inline script, style or event handler in the HTML."""
    admin = area.test_client()
    assert log_in(admin, "root@example.de").status_code == 303
    with area.app_context():
        session = db.session()
        key = session.scalar(select(Organisation.embed_key).where(Organisation.slug == "acme"))
        ids = session.scalars(select(Assessment.id).join(Organisation).where(Organisation.slug == "acme").order_by(Assessment.id)).all()
    wizard_page = "/w/a/" + admin.post("/api/v1/assessments", json={"embed_key": key}).get_json()["token"]
    link = add_respondent_link(area, "acme")
    urls = {
        "main.index": "/", "widget.demo": "/demo", "manage.index": "/manage/", "manage.admin": "/manage/admin",
        "manage.login": "/manage/login", "manage.organisation": "/manage/orgs/acme", "manage.documents": "/manage/orgs/acme/documents",
        "manage.compare": f"/manage/orgs/acme/compare?a={ids[0]}&b={ids[1]}", "wizard.step": wizard_page, "wizard.welcome": f"/w/{key}",
        "respondent.respondent_start": f"/r/{link}",
        "manage.profile": "/manage/orgs/acme/profile", "widget.frame": f"/widget/frame?embed_key={key}",
    }  # fmt: skip
    not_html = {"static", "openapi.openapi_json", "main.health", "widget.script", "widget.style", "widget.texts", "wizard.start", "respondent.respondent_submit",
                "manage.all_checklists", "manage.export", "manage.document_download"}  # fmt: skip
    get_routes = {r.endpoint for r in area.url_map.iter_rules() if "GET" in r.methods and not r.rule.startswith("/api/")}
    assert get_routes - not_html == set(urls), "a page without a check here"
    pages = [admin.get(url) for url in urls.values()] + [admin.get("/no/such/page"), area.test_client().get("/manage/login")]
    for response in pages:
        assert response.mimetype == "text/html", response.request.path
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        soup = page(response)
        assert all(s.get("src") and not s.string for s in soup.find_all("script")), response.request.path
        assert not soup.find_all("style") and not soup.find_all(style=True), response.request.path
        handlers = [(tag.name, attr) for tag in soup.find_all(True) for attr in tag.attrs if attr.lower().startswith("on")]
        assert handlers == [], (response.request.path, handlers)


def test_the_wizard_summary_offers_exports_to_a_logged_in_manager(area, anna):
    from tests.wizard_user import WizardUser

    keys = {slug: add_respondent_link(area, slug) for slug in ("acme", "other")}
    respondent = WizardUser(area.test_client()).start(f"/r/{keys['acme']}")
    respondent.finish(INTERNAL_ONLY)
    assert respondent.page.find("a", href="/manage/orgs/acme/checklist.pdf") is None  # not for the respondent
    manager_view = WizardUser(anna).open(f"/w/a/{respondent.token}")
    assert manager_view.page.find("a", href="/manage/orgs/acme/checklist.pdf") is not None
    foreign = WizardUser(area.test_client()).start(f"/r/{keys['other']}")
    foreign.finish(INTERNAL_ONLY)
    assert WizardUser(anna).open(f"/w/a/{foreign.token}").page.find("a", href="/manage/orgs/other/checklist.pdf") is None


def test_all_checklists_in_one_csv(area, anna):
    import csv as csv_module

    response = anna.get("/manage/checklists.csv?lang=en")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    banner, blank, *rows = list(csv_module.reader(io.StringIO(response.data.decode().removeprefix("\ufeff")), delimiter=";"))
    assert banner[0].startswith("Made with version 1 of the questionnaire; version 2 is current")  # acme's checklist is version 1's
    assert blank == []
    assert rows[0][0] == "Organisation"
    assert {r[0] for r in rows[1:]} == {"ACME GmbH"}  # beta has no result; "other" is not Anna's
    assert len(rows) == 27
