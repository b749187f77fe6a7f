"""The manager area through HTTP: login, overview, organisation page, exports, documents, history, admin."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from bot import edges
from bot.store import db
from bot.store.managers import create_manager
from bot.store.models import Assessment, Event, Manager, Organisation, RespondentLink, hash_token
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
        create_manager(session, "root@example.de", [], password=PASSWORD, operator=True)
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


def test_review_due_twelve_months_after_the_last_confirmation(area, anna):
    with area.app_context():
        session = db.session()
        for assessment in session.scalars(select(Assessment)):
            assessment.completed_at = assessment.completed_at - timedelta(days=366)
        session.commit()
    row = page(anna.get("/manage/")).select_one("tr[data-org=acme]")
    assert row.find(attrs={"data-review-due": True}) is None  # completed long ago, but confirmed (recorded) since
    with area.app_context():
        session = db.session()
        for assessment in session.scalars(select(Assessment)):
            assessment.recorded_at = assessment.recorded_at - timedelta(days=366) if assessment.recorded_at else None
        session.commit()
    row = page(anna.get("/manage/")).select_one("tr[data-org=acme]")
    assert row.find(attrs={"data-review-due": True}) is not None


def test_organisation_page_shows_the_checklist_links_and_history(area, anna):
    soup = page(anna.get("/manage/orgs/acme"))
    statuses = {li["data-item"]: li["data-status"] for li in soup.select("li[data-item]")}
    assert statuses == contract.statuses(GOLDEN[0][1])
    for sub_page in ("links", "self-check", "events", "profile", "documents"):
        assert soup.select_one(f"nav.org-nav a[href='/manage/orgs/acme/{sub_page}']") is not None
    assert soup.find(attrs={"data-active-links": True})["data-active-links"] == "1"
    assert "/w/" in page(anna.get("/manage/orgs/acme/self-check")).find(id="wizard-link")["value"]
    assert [tr["data-via"] for tr in soup.select("tr[data-assessment]")] == ["respondent_link", "respondent_link"]
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
    "/manage/orgs/other/links",
    "/manage/orgs/other/links/3/revoke",
    "/manage/orgs/other/self-check",
    "/manage/orgs/other/events",
    "/manage/orgs/other/submissions/3",
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
        ({"create": "manager", "email": "x@example.de", "role": "member", "password": "short"}, "mindestens 12 Zeichen"),
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
    with area.app_context():
        link_id = db.session().scalar(select(RespondentLink.id).join(Organisation).where(Organisation.slug == "acme"))
    submission_id = _submission(area)
    from bot.mail import unsubscribe_token

    urls = {
        "main.index": "/", "widget.demo": "/demo", "manage.index": "/manage/", "manage.admin": "/manage/admin",
        "manage.links": "/manage/orgs/acme/links", "manage.confirm_revoke": f"/manage/orgs/acme/links/{link_id}/revoke",
        "manage.self_check": "/manage/orgs/acme/self-check", "manage.submission": f"/manage/orgs/acme/submissions/{submission_id}",
        "manage.events": "/manage/orgs/acme/events",
        "manage.login": "/manage/login", "manage.organisation": "/manage/orgs/acme", "manage.documents": "/manage/orgs/acme/documents",
        "manage.compare": f"/manage/orgs/acme/compare?a={ids[0]}&b={ids[1]}", "wizard.step": wizard_page, "wizard.welcome": f"/w/{key}",
        "respondent.respondent_start": f"/r/{link}",
        "manage.profile": "/manage/orgs/acme/profile", "widget.frame": f"/widget/frame?embed_key={key}",
        "manage.item": "/manage/orgs/acme/items/WA-01", "manage.my_items": "/manage/my-items", "manage.progress": "/manage/orgs/acme/progress",
        "manage.portfolio": "/manage/portfolio", "manage.notifications": "/manage/notifications", "manage.webhooks": "/manage/orgs/acme/webhooks",
        "manage.confirm_delete_webhook": "/manage/orgs/acme/webhooks/1/delete",
        "notifications.unsubscribe": "/unsubscribe/" + unsubscribe_token(area, 1, "reminders"), "manage.sessions_page": "/manage/sessions",
        "manage.account": "/manage/account", "manage.account_enrol": "/manage/account/two-factor",
        "manage.login_code": "/manage/login/code", "manage.login_enrol": "/manage/login/enrol",  # without a half-done login: back to the login page
        "manage.people": "/manage/orgs/acme/people", "manage.confirm_remove": "/manage/orgs/acme/people/1/remove",
        "manage.invitation": "/manage/invitations/no-such-token", "manage.reset_request": "/manage/reset",
        "manage.reset_password": "/manage/reset/no-such-token",
    }  # fmt: skip
    not_html = {"static", "openapi.openapi_json", "main.health", "widget.script", "widget.style", "widget.texts", "wizard.start",
                "respondent.respondent_submit", "wizard.result_pdf", "manage.all_checklists", "manage.export", "manage.document_download",
                "manage.evidence_download", "manage.events_csv"}  # fmt: skip
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


# -- trusted results: the checklist of record, respondent links, submissions, the public self-check, the event log --


def _embed_key(app, slug: str) -> str:
    with app.app_context():
        return db.session().scalar(select(Organisation.embed_key).where(Organisation.slug == slug))


def _submission(app, slug: str = "acme", answers=INTERNAL_ONLY, contact_email: str | None = "kunde@example.de", consent: bool = True) -> int:
    """A visitor's completed public self-assessment (passed on unless `consent` is false); return its id."""
    api = Api(app)
    token, prompt = api.start(_embed_key(app, slug), locale="de")
    api.finish(token, answers, prompt)
    if consent:
        assert api.call("POST", f"/api/v1/assessments/{token}/consent", {"contact_email": contact_email}).status_code == 200
    with app.app_context():
        return db.session().scalar(select(Assessment.id).where(Assessment.token_hash == hash_token(token)))


def _post(client, url: str, **form):
    """Post a form of the manager area with the session's CSRF token, as the browser would."""
    return client.post(url, data={"csrf_token": csrf(client, "/manage/"), **form})


def _links(app, slug: str = "acme") -> list[tuple[str | None, bool]]:
    """The organisation's links as (label, revoked), oldest first."""
    with app.app_context():
        query = select(RespondentLink.label, RespondentLink.revoked_at).join(Organisation).where(Organisation.slug == slug)
        rows = db.session().execute(query.order_by(RespondentLink.id))
        return [(label, revoked is not None) for label, revoked in rows]


def _actions(app, slug: str = "acme") -> list[tuple[str, str, str]]:
    """The organisation's events as (action, actor, via), oldest first."""
    with app.app_context():
        return [tuple(r) for r in db.session().execute(select(Event.action, Event.actor, Event.via).where(Event.organisation_slug == slug).order_by(Event.id))]


def _record(client, slug: str = "acme"):
    """The organisation page's statement of its checklist of record."""
    return page(client.get(f"/manage/orgs/{slug}")).find(id="record")


def test_the_checklist_of_record_says_where_it_comes_from(area, anna):
    """Respondent link (with its label), re-assessment, adoption by whom, legacy: named in words with localised dates; never a token."""
    api, tokens = Api(area), []
    link = add_respondent_link(area, "acme", label="Büro <Köln>")
    token, prompt = api.start(link, locale="de")
    api.finish(token, GOLDEN[0][1], prompt)
    tokens.append(token)
    with area.app_context():
        own = db.session().scalar(select(Assessment).where(Assessment.token_hash == hash_token(token)))
        own_id, year, month = own.id, own.completed_at.year, own.completed_at.month
    record = _record(anna)
    assert record["data-record-via"] == "respondent_link" and record["data-record-assessment"] == str(own_id)
    german_month = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"][month - 1]
    statement = record.get_text(" ", strip=True)
    assert f"Aus Prüfung Nr. {own_id}, abgeschlossen am" in statement and f"{german_month} {year}" in statement
    assert "über den Befragungslink „Büro <Köln>“" in statement  # the label as text, escaped in the HTML
    assert "Büro &lt;Köln&gt;" in anna.get("/manage/orgs/acme").data.decode()
    english = page(anna.get("/manage/orgs/acme?lang=en")).find(id="record").get_text(" ", strip=True)
    assert f"From assessment no. {own_id}, completed on" in english and "via the respondent link “Büro <Köln>”" in english

    # a re-assessment, started here and completed by its respondent
    started = page(_post(anna, "/manage/orgs/acme/reassess")).find(id="reassessment-link")["value"]
    reassessment = started.rsplit("/", 1)[1]
    tokens.append(reassessment)
    api.finish(reassessment, GOLDEN[0][1])
    assert _record(anna)["data-record-via"] == "reassessment"
    assert f"eine erneute Prüfung von Prüfung Nr. {own_id} vom" in _record(anna).get_text(" ", strip=True)

    # an adopted submission names who adopted it
    submission = _submission(area)
    assert _post(anna, f"/manage/orgs/acme/submissions/{submission}/adopt").status_code == 303
    record = _record(anna)
    assert record["data-record-via"] == "adoption" and record["data-record-assessment"] == str(submission)
    assert "eine öffentliche Selbstprüfung, übernommen von anna@example.de am" in record.get_text(" ", strip=True)
    rows = page(anna.get("/manage/orgs/acme")).select("tr[data-assessment]")
    assert (rows[0]["data-via"], rows[0].get("data-record")) == ("adoption", "1")

    # an assessment from before respondent links existed
    with area.app_context():
        session = db.session()
        session.get(Assessment, submission).adopted_at = None
        session.get(Assessment, submission).started_via = "legacy"
        session.commit()
    assert "bevor es Befragungslinks gab" in _record(anna).get_text(" ", strip=True)
    html = anna.get("/manage/orgs/acme").data.decode()
    assert not any(t in html for t in tokens)


def test_respondent_links_are_created_shown_once_listed_and_revoked(area, anna):
    response = _post(anna, "/manage/orgs/acme/links", label="Filiale Köln", expires_days="7")
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    created = page(response)
    url = created.find(id="created-url")["value"]
    token = url.rsplit("/r/", 1)[1]
    public = edges.public_url(area.config).base  # PUBLIC_URL, never the request's Host
    assert url == f"{public}/r/{token}" and token.startswith("war_")
    snippet = created.find(id="created-snippet").get_text()
    assert snippet == f'<script src="{public}/widget.js" data-respondent-link="{token}" defer></script>'
    assert "Filiale Köln" in created.find(id="created").get_text()
    assert area.test_client().get(f"/r/{token}").status_code == 200  # the respondent's start page

    listing = anna.get("/manage/orgs/acme/links")
    assert token not in listing.data.decode() and listing.headers["Cache-Control"] == "no-store"
    row = page(listing).select("tr[data-link]")[0]  # newest first
    assert row["data-status"] == "active" and row.find("th").get_text() == "Filiale Köln" and "aktiv" in row.get_text()
    link_id = row["data-link"]

    confirm = page(anna.get(f"/manage/orgs/acme/links/{link_id}/revoke"))
    assert "„Filiale Köln“" in confirm.find("h1").get_text()
    assert _links(area)[-1] == ("Filiale Köln", False)  # asking changes nothing
    form = confirm.find("form", class_="revoke")
    response = anna.post(form["action"], data={"csrf_token": form.find("input", attrs={"name": "csrf_token"})["value"]})
    assert response.status_code == 303 and response.headers["Location"] == "/manage/orgs/acme/links"
    listing = page(anna.get("/manage/orgs/acme/links"))
    assert "Der Link „Filiale Köln“ wurde zurückgezogen" in listing.find(id="done-note").get_text()
    assert listing.select_one(f"tr[data-link='{link_id}']")["data-status"] == "revoked"
    assert area.test_client().get(f"/r/{token}").status_code == 410
    assert _actions(area)[-2:] == [("respondent_link.created", "anna@example.de", "manage"), ("respondent_link.revoked", "anna@example.de", "manage")]
    events = page(anna.get("/manage/orgs/acme/events")).select("tr[data-event]")
    assert "Befragungslink „Filiale Köln“ zurückgezogen" in events[0].get_text() and "Verwaltungsbereich" in events[0].get_text()


def test_a_link_without_label_and_days_gets_the_defaults_and_keeps_the_language(area, anna):
    response = anna.post("/manage/orgs/acme/links?lang=en", data={"csrf_token": csrf(anna, "/manage/"), "label": "  ", "expires_days": ""})
    assert response.status_code == 201
    assert "Copy it now: it is shown only this once." in page(response).find(id="created").get_text()
    assert _links(area)[-1] == (None, False)
    with area.app_context():
        link = db.session().scalars(select(RespondentLink).order_by(RespondentLink.id.desc())).first()
        assert timedelta(days=29) < link.expires_at - link.created_at <= timedelta(days=30)


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"label": "x" * 101}, "label", "höchstens 100 Zeichen"),
        ({"label": "Zeile\neins"}, "label", "ohne Zeilenumbrüche"),
        ({"label": "Glocke\x07"}, "label", "ohne Zeilenumbrüche"),
        ({"expires_days": "0"}, "expires_days", "ganze Zahl von 1 bis 365"),
        ({"expires_days": "366"}, "expires_days", "ganze Zahl von 1 bis 365"),
        ({"expires_days": "-5"}, "expires_days", "ganze Zahl von 1 bis 365"),
        ({"expires_days": "1.5"}, "expires_days", "ganze Zahl von 1 bis 365"),
        ({"expires_days": "zehn"}, "expires_days", "ganze Zahl von 1 bis 365"),
    ],
)
def test_bad_link_input_is_named_and_creates_nothing(area, anna, form, field, message):
    before = _links(area)
    response = _post(anna, "/manage/orgs/acme/links", **{"label": "", "expires_days": "30", **form})
    assert response.status_code == 422
    soup = page(response)
    assert message in soup.find(id="error-summary").get_text()
    assert soup.find(id=f"link-{field}")["aria-invalid"] == "true"
    assert soup.find(id="created") is None and _links(area) == before
    assert [a for a, _who, _via in _actions(area)].count("respondent_link.created") == 1  # only the fixture's


def test_a_submission_is_listed_and_adopted_once(area, anna, tr_de):
    submission = _submission(area)
    _submission(area, consent=False)  # not passed on: counted, never listed
    soup = page(anna.get("/manage/orgs/acme/self-check"))
    rows = soup.select("tr[data-submission]")
    assert [r["data-submission"] for r in rows] == [str(submission)]
    text_ = rows[0].get_text(" ", strip=True)
    assert "kunde@example.de" in text_ and rows[0].find(attrs={"data-recommendation": True})["data-recommendation"] == "no_whatsapp"
    assert rows[0].find(attrs={"data-recommendation": True}).get_text() != "no_whatsapp"  # its title, not its id
    assert {dd["data-stat"]: dd.get_text() for dd in soup.select("dd[data-stat]")} == {"started": "2", "completed": "2", "consented": "1", "adopted": "0"}
    detail = page(anna.get(f"/manage/orgs/acme/submissions/{submission}"))
    assert detail.select("li[data-item]") and detail.select("[data-answer=purpose]")

    response = _post(anna, f"/manage/orgs/acme/submissions/{submission}/adopt")
    assert response.status_code == 303 and response.headers["Location"] == "/manage/orgs/acme"
    organisation = page(anna.get("/manage/orgs/acme"))
    assert "ist jetzt die maßgebliche Checkliste von ACME GmbH" in organisation.find(id="done-note").get_text()
    assert organisation.find(id="record")["data-record-assessment"] == str(submission)
    assert page(anna.get("/manage/orgs/acme/self-check")).select("tr[data-submission]") == []
    events = _actions(area)
    for url in (f"/manage/orgs/acme/submissions/{submission}/adopt", f"/manage/orgs/acme/submissions/{submission}/dismiss"):
        again = _post(anna, url)
        assert again.status_code == 409 and "bereits übernommen oder verworfen" in page(again).get_text()
    assert anna.get(f"/manage/orgs/acme/submissions/{submission}").status_code == 409
    assert _actions(area) == events and events[-1] == ("submission.adopted", "anna@example.de", "manage")


def test_a_dismissed_submission_leaves_the_list(area, anna):
    submission = _submission(area, contact_email=None)
    row = page(anna.get("/manage/orgs/acme/self-check")).select_one("tr[data-submission]")
    assert "keine Adresse angegeben" in row.get_text()
    response = _post(anna, f"/manage/orgs/acme/submissions/{submission}/dismiss")
    assert response.status_code == 303 and response.headers["Location"] == "/manage/orgs/acme/self-check"
    soup = page(anna.get("/manage/orgs/acme/self-check"))
    assert soup.select("tr[data-submission]") == [] and "verworfen" in soup.find(id="done-note").get_text()
    assert _record(anna)["data-record-via"] == "respondent_link"  # the checklist of record is untouched
    assert _post(anna, f"/manage/orgs/acme/submissions/{submission}/adopt").status_code == 409


def test_submissions_of_another_organisation_or_not_passed_on_are_not_found(area, anna):
    foreign = _submission(area, "other")
    private = _submission(area, consent=False)
    trusted = page(anna.get("/manage/orgs/acme")).select_one("tr[data-assessment]")["data-assessment"]
    before = _actions(area), _actions(area, "other")
    for assessment_id in (foreign, private, int(trusted), 99999):
        assert anna.get(f"/manage/orgs/acme/submissions/{assessment_id}").status_code == 404
        for action in ("adopt", "dismiss", "organisation"):
            response = _post(anna, f"/manage/orgs/acme/submissions/{assessment_id}/{action}", slug="neu-kunde", name="Neu")
            assert response.status_code == 404, (assessment_id, action)
    assert _post(anna, f"/manage/orgs/other/submissions/{foreign}/adopt").status_code == 404  # not Anna's organisation
    assert (_actions(area), _actions(area, "other")) == before
    with area.app_context():
        assert db.session().get(Assessment, foreign).adopted_at is None
        assert db.session().scalar(select(Organisation).where(Organisation.slug == "neu-kunde")) is None


def test_a_consultant_turns_a_submission_into_a_client(area, anna):
    submission = _submission(area)
    bad = _post(anna, f"/manage/orgs/acme/submissions/{submission}/organisation", slug="Neu Kunde", name="Bäckerei Neu")
    assert bad.status_code == 422
    assert "Der Kurzname darf nur Kleinbuchstaben" in page(bad).find(id="error-summary").get_text()
    assert page(bad).find(id="client-name")["value"] == "Bäckerei Neu"  # kept
    taken = _post(anna, f"/manage/orgs/acme/submissions/{submission}/organisation", slug="beta", name="Bäckerei Neu")
    assert taken.status_code == 422 and "gibt es schon" in page(taken).find(id="error-summary").get_text()
    blank = _post(anna, f"/manage/orgs/acme/submissions/{submission}/organisation", slug="baeckerei-neu", name="Zeile\nzwei")
    assert blank.status_code == 422 and "in einer Zeile" in page(blank).find(id="error-summary").get_text()
    assert _counts(area)[0] == 3
    response = _post(anna, f"/manage/orgs/acme/submissions/{submission}/organisation", slug="baeckerei-neu", name="Bäckerei Neu")
    assert response.status_code == 303 and response.headers["Location"] == "/manage/orgs/baeckerei-neu"
    client = page(anna.get("/manage/orgs/baeckerei-neu"))
    assert "Die Organisation Bäckerei Neu wurde angelegt" in client.find(id="done-note").get_text()
    assert client.find(id="record")["data-record-via"] == "adoption"
    assert "baeckerei-neu" in {r["data-org"] for r in page(anna.get("/manage/")).select("tr[data-org]")}  # Anna is its manager
    assert page(anna.get("/manage/orgs/acme/self-check")).select("tr[data-submission]") == []
    assert _record(anna)["data-record-via"] == "respondent_link"  # acme's own checklist is untouched
    assert "Neue Kundenorganisation „baeckerei-neu“" in page(anna.get("/manage/orgs/acme/events")).select("tr[data-event]")[0].get_text()


def test_anonymous_figures_name_steps_and_recommendations_in_words(area, anna, tr_de):
    from bot.i18n import text

    api = Api(area)
    token, prompt = api.start(_embed_key(area, "acme"), locale="de")
    assert api.answer(token, prompt["step"], INTERNAL_ONLY["purpose"]).status_code == 200
    stopped = api.get(token)["prompt"]["step"]
    _submission(area, consent=False)
    soup = page(anna.get("/manage/orgs/acme/self-check"))
    assert {dd["data-stat"]: dd.get_text() for dd in soup.select("dd[data-stat]")} == {"started": "2", "completed": "1", "consented": "0", "adopted": "0"}
    row = soup.select_one(f"tr[data-step='{stopped}']")
    question = text(area.extensions["engines"].get("whatsapp_gdpr", 1).flow.step_by_id[stopped].text, tr_de)
    assert row.find("th").get_text() == question and row.find_all("td")[-1].get_text() == "1"
    assert soup.select_one("tr[data-recommendation=no_whatsapp] th").get_text() not in ("", "no_whatsapp")
    assert "kunde@example.de" not in soup.get_text()  # not passed on: nothing identifying


def test_the_public_self_check_is_turned_off_and_on(area, anna):
    key = _embed_key(area, "acme")
    response = _post(anna, "/manage/orgs/acme/self-check", public_widget="off")
    assert response.status_code == 303 and response.headers["Location"] == "/manage/orgs/acme/self-check"
    soup = page(anna.get("/manage/orgs/acme/self-check"))
    assert soup.find(attrs={"data-public-widget": True})["data-public-widget"] == "off" and soup.find(id="wizard-link") is None
    assert area.test_client().get(f"/w/{key}").status_code == 403
    assert area.test_client().post("/api/v1/assessments", json={"embed_key": key}).status_code == 403
    assert add_respondent_link(area, "acme")  # respondent links keep working
    assert _post(anna, "/manage/orgs/acme/self-check", public_widget="off").status_code == 303  # no change, not logged again
    assert _post(anna, "/manage/orgs/acme/self-check?lang=en", public_widget="on").headers["Location"] == "/manage/orgs/acme/self-check?lang=en"
    assert area.test_client().get(f"/w/{key}").status_code == 200
    assert [e for e in _actions(area) if e[0] == "settings.public_widget"] == [("settings.public_widget", "anna@example.de", "manage")] * 2
    assert _post(anna, "/manage/orgs/acme/self-check", public_widget="maybe").status_code == 400
    assert _post(anna, "/manage/orgs/other/self-check", public_widget="off").status_code == 404
    whats = [tr.find_all("td")[2].get_text() for tr in page(anna.get("/manage/orgs/acme/events")).select("tr[data-event='settings.public_widget']")]
    assert whats == ["Öffentlichen Selbst-Check eingeschaltet", "Öffentlichen Selbst-Check ausgeschaltet"]


def test_the_api_setting_and_the_page_share_one_store_function(area, anna):
    with area.app_context():
        _m, token = create_manager(db.session(), "api@example.de", [db.session().scalar(select(Organisation).where(Organisation.slug == "acme"))])
    response = area.test_client().patch("/api/v1/orgs/acme/settings", json={"public_widget": False}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert page(anna.get("/manage/orgs/acme/self-check")).find(attrs={"data-public-widget": True})["data-public-widget"] == "off"
    assert _actions(area)[-1] == ("settings.public_widget", "api@example.de", "api")
    row = page(anna.get("/manage/orgs/acme/events")).select_one("tr[data-event]")
    assert "api@example.de" in row.get_text() and "API" in row.get_text()


def test_the_event_log_shows_the_latest_fifty_read_only(area, anna):
    with area.app_context():
        session = db.session()
        organisation = session.scalar(select(Organisation).where(Organisation.slug == "acme"))
        from bot.store import events

        for number in range(60):
            events.record(session, events.CLI, "organisation.pin_changed", organisation, "x", before=f"v{number}", after=f"v{number + 1}")
        events.record(session, events.CLI, "something.new", organisation, "<b>neu</b>")
        session.commit()
    response = anna.get("/manage/orgs/acme/events")
    soup = page(response)
    rows = soup.select("tr[data-event]")
    assert len(rows) == 50 and response.headers["Cache-Control"] == "no-store"
    assert rows[0].find_all("td")[2].get_text() == "something.new" and "<b>" not in response.data.decode()
    assert rows[1].find_all("td")[2].get_text() == "Version des Fragebogens für neue Prüfungen: v60 (vorher: v59)"
    assert rows[1].find_all("td")[1].get_text() == "Kommandozeile"
    assert soup.find("form", attrs={"method": "post", "action": lambda a: a and "events" in a}) is None
    assert anna.post("/manage/orgs/acme/events", data={"csrf_token": csrf(anna, "/manage/")}).status_code == 405


def test_manager_pages_of_trusted_results_need_a_login_and_csrf(area, anna):
    anonymous = area.test_client()
    for url in ("/manage/orgs/acme/links", "/manage/orgs/acme/self-check", "/manage/orgs/acme/events"):
        assert anonymous.get(url).status_code == 302
    submission = _submission(area)
    before = _links(area), _actions(area)
    for url, form in [
        ("/manage/orgs/acme/links", {"label": "x"}),
        ("/manage/orgs/acme/links/1/revoke", {}),
        ("/manage/orgs/acme/self-check", {"public_widget": "off"}),
        (f"/manage/orgs/acme/submissions/{submission}/adopt", {}),
        (f"/manage/orgs/acme/submissions/{submission}/dismiss", {}),
        (f"/manage/orgs/acme/submissions/{submission}/organisation", {"slug": "neu", "name": "Neu"}),
    ]:
        assert anna.post(url, data=form).status_code == 400, url  # no CSRF token
        assert anonymous.post(url, data=form).status_code in (302, 400), url
    assert (_links(area), _actions(area)) == before


# -- the same with bad input on PostgreSQL: a NUL is refused at the edge, before anything is stored -------------


@pytest.fixture
def backend_manager(backend_app):
    """SQLite, then PostgreSQL: ACME with a completed assessment, a consented submission and Anna logged in."""
    with backend_app.app_context():
        session = db.session()
        acme = Organisation(slug="acme", name="ACME GmbH", locale="de", flow_version=1)
        session.add(acme)
        session.commit()
        create_manager(session, "anna@example.de", [acme], password=PASSWORD)
    api = Api(backend_app)
    token, prompt = api.start(add_respondent_link(backend_app, "acme"), locale="de")
    api.finish(token, INTERNAL_ONLY, prompt)
    submission = _submission(backend_app)
    client = backend_app.test_client()
    assert log_in(client).status_code == 303
    return backend_app, client, submission


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/manage/orgs/acme/links", {"label": "Büro\x00", "expires_days": "30"}),
        ("/manage/orgs/acme/links", {"label": "Büro", "expires_days": "3\x000"}),
        ("/manage/orgs/acme/submissions/{id}/organisation", {"slug": "neu\x00", "name": "Neu"}),
        ("/manage/orgs/acme/submissions/{id}/organisation", {"slug": "neu", "name": "Neu\x00GmbH"}),
        ("/manage/orgs/acme/self-check", {"public_widget": "off\x00"}),
    ],
)
def test_a_nul_in_a_form_changes_nothing_on_either_database(backend_manager, path, form):
    app, client, submission = backend_manager
    before = _links(app), _actions(app), _counts(app)
    response = _post(client, path.format(id=submission), **form)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "Die Anfrage konnte nicht verstanden werden." in page(response).get_text()
    assert (_links(app), _actions(app), _counts(app)) == before


def test_trusted_results_in_the_manager_area_on_either_database(backend_manager):
    app, client, submission = backend_manager
    assert _post(client, "/manage/orgs/acme/links", label="Glocke\x07", expires_days="30").status_code == 422
    assert _post(client, f"/manage/orgs/acme/submissions/{submission}/organisation", slug="neu", name="Neu\x01").status_code == 422
    assert _counts(app)[0] == 1 and len(_links(app)) == 1
    created = page(_post(client, "/manage/orgs/acme/links", label="Büro", expires_days="365"))
    assert created.find(id="created-url")["value"].startswith(edges.public_url(app.config).base + "/r/war_")
    assert _post(client, f"/manage/orgs/acme/submissions/{submission}/adopt").status_code == 303
    assert _record(client)["data-record-via"] == "adoption"
    assert [a for a, _who, _via in _actions(app)][-2:] == ["respondent_link.created", "submission.adopted"]
    shown = [row["data-event"] for row in page(client.get("/manage/orgs/acme/events")).select("tr[data-event]")]
    assert shown == [a for a, _who, _via in reversed(_actions(app))] and len(shown) == 6, shown  # with the completion, the submission and the login
    assert client.get("/manage/orgs/acme\x00/links").status_code == 404
