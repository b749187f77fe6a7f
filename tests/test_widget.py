"""The widget's server side: the loader and its frame page (headers, framing policy), its words, CORS and the origin allow-list, the demo page."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from bot.store import db
from bot.store.models import Assessment, Organisation
from tests.conftest import add_organisation


@pytest.fixture
def shop(app):
    """An organisation that allows the widget only on https://shop.example."""
    return add_organisation(app, "demo", "Demo GmbH", allowed_origins="https://shop.example https://www.shop.example")


def test_the_script_is_served_with_short_revalidated_caching(client):
    response = client.get("/widget.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert b"data-wa-widget" in response.data
    again = client.get("/widget.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_the_loader_keeps_nothing_on_the_host_page(client):
    """The loader runs on the host page: no storage, no chat API call; the conversation is the frame's."""
    loader = client.get("/widget.js").data.decode()
    assert "localStorage" not in loader and "sessionStorage" not in loader and "/api/" not in loader
    assert "/widget/frame?" in loader and "#link=" in loader  # a respondent link only in the fragment
    frame_script = client.get("/static/widget/frame.js")
    assert frame_script.status_code == 200 and frame_script.mimetype == "text/javascript"
    assert "localStorage" in frame_script.data.decode()


def _frame(client, query: str):
    response = client.get("/widget/frame?" + query)
    assert response.status_code == 200 and response.mimetype == "text/html"
    return response, BeautifulSoup(response.data, "html.parser")


def test_the_frame_may_be_framed_only_by_the_allowed_origins(client, shop):
    response, soup = _frame(client, f"embed_key={shop}&lang=en&mode=inline&origin=https://shop.example")
    policy = response.headers["Content-Security-Policy"]
    assert policy == "default-src 'self'; frame-ancestors 'self' https://shop.example https://www.shop.example; base-uri 'none'; form-action 'self'"
    assert "X-Frame-Options" not in response.headers and response.headers["Cache-Control"] == "no-cache"
    body = soup.body
    assert (body["data-mode"], body["data-embed-key"], body["data-parent-origin"]) == ("inline", shop, "https://shop.example")
    assert soup.html["lang"] == "en"
    # the strict page policy otherwise: scripts only from files, no inline style or handler
    assert [s["src"].split("?")[0] for s in soup.find_all("script")] == ["/static/widget/frame.js"]
    assert all(not s.string for s in soup.find_all("script")) and not soup.find_all("style") and not soup.find_all(style=True)
    # every other page still refuses to be framed
    assert "frame-ancestors 'none'" in client.get("/demo").headers["Content-Security-Policy"]


@pytest.mark.parametrize("query", ["embed_key={key}", "embed_key=no-such-key", "", "lang=de#link=whatever"])
def test_the_frame_may_be_framed_anywhere_without_an_allow_list(app, client, query):
    key = add_organisation(app, "open")
    response, soup = _frame(client, query.format(key=key))
    assert "frame-ancestors *;" in response.headers["Content-Security-Policy"]
    assert soup.body["data-mode"] == "launcher" and soup.body["data-parent-origin"] == ""


def test_the_framing_policy_cannot_be_widened_by_a_stored_origin(app, client):
    key = add_organisation(app, "odd", allowed_origins="https://ok.example https://x.example;script-src * javascript:alert(1)")
    response, soup = _frame(client, f"embed_key={key}&origin=javascript:alert(1)")
    assert "frame-ancestors 'self' https://ok.example;" in response.headers["Content-Security-Policy"]
    assert soup.body["data-parent-origin"] == ""  # the frame posts only to an origin it can name safely


def test_the_styles_are_immutable_at_their_versioned_address(client):
    style = client.get("/widget/texts.json").get_json()["style"]
    assert style.startswith("/widget.css?v=")
    versioned = client.get(style)
    assert versioned.mimetype == "text/css" and "immutable" in versioned.headers["Cache-Control"]
    assert "immutable" not in client.get("/widget.css?v=old").headers["Cache-Control"]


@pytest.mark.parametrize(("lang", "word"), [("de", "Neu beginnen"), ("en", "Start over")])
def test_the_widget_words_come_from_the_catalogs(client, lang, word):
    data = client.get(f"/widget/texts.json?lang={lang}").get_json()
    assert data["locale"] == lang and data["texts"]["restart"] == word
    assert "{answered}" in data["texts"]["progress"] and "{total}" in data["texts"]["progress"]
    assert "{organisation}" in data["texts"]["consent_label"]


def test_cors_preflight_and_response_headers(client, shop):
    preflight = client.options("/api/v1/assessments", headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"] and preflight.headers["Access-Control-Allow-Headers"] == "Content-Type"
    created = client.post("/api/v1/assessments", json={"embed_key": shop}, headers={"Origin": "https://shop.example"})
    assert created.status_code == 201 and created.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "Origin" in created.headers["Vary"]
    assert "Set-Cookie" not in created.headers  # the chat API never uses cookies


def test_the_origin_allow_list_refuses_other_sites_and_changes_nothing(app, client, shop):
    refused = client.post("/api/v1/assessments", json={"embed_key": shop}, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in refused.headers
    token = client.post("/api/v1/assessments", json={"embed_key": shop}, headers={"Origin": "https://www.shop.example"}).get_json()["token"]
    answer = client.post(f"/api/v1/assessments/{token}/answers", json={"step": "purpose", "value": "internal"}, headers={"Origin": "https://evil.example"})
    assert answer.status_code == 403
    with app.app_context():
        assessments = db.session().scalars(select(Assessment)).all()
        assert len(assessments) == 1 and assessments[0].state == "purpose"


def test_any_origin_when_there_is_no_allow_list(app, client):
    key = add_organisation(app, "open")
    response = client.post("/api/v1/assessments", json={"embed_key": key}, headers={"Origin": "https://anywhere.example"})
    assert response.status_code == 201 and response.headers["Access-Control-Allow-Origin"] == "https://anywhere.example"


def test_the_demo_page_embeds_the_widget(client, shop):
    response = client.get("/demo")
    assert response.status_code == 200
    assert f'data-embed-key="{shop}"' in response.data.decode()
    assert '<script src="/widget.js"' in response.data.decode()


def test_no_demo_page_without_the_demo_organisation(client):
    assert client.get("/demo").status_code == 404


def test_the_manager_area_shows_the_embed_snippet(app, shop):
    from bot.store.managers import create_manager
    from tests.test_manage import PASSWORD, log_in

    with app.app_context():
        session = db.session()
        create_manager(session, "anna@example.de", [session.scalar(select(Organisation))], password=PASSWORD)
    client = app.test_client()
    log_in(client)
    page = client.get("/manage/orgs/demo/self-check").data.decode()  # the public self-check's page holds the widget line
    assert "data-embed-key=&#34;" + shop in page and "/widget.js" in page


def test_allow_origins_command(app, runner, shop):
    from bot.cli import cli

    result = runner.invoke(cli, ["allow-origins", "demo", "https://new.example/"])
    assert result.exit_code == 0 and "https://new.example" in result.output
    client = app.test_client()
    assert client.post("/api/v1/assessments", json={"embed_key": shop}, headers={"Origin": "https://new.example"}).status_code == 201
    assert client.post("/api/v1/assessments", json={"embed_key": shop}, headers={"Origin": "https://shop.example"}).status_code == 403
    assert runner.invoke(cli, ["allow-origins", "demo", "not an origin"]).exit_code == 2
    assert "any web site" in runner.invoke(cli, ["allow-origins", "demo"]).output


def test_every_word_the_widget_uses_is_in_the_catalogs(client):
    """The loader and the frame ask texts.json for words by key: each key exists, and in German it is translated."""
    from bot.web.widget import TEXTS

    frame_js = client.get("/static/widget/frame.js").data.decode()
    loader = client.get("/widget.js").data.decode()
    used = set(re.findall(r'\bt\("([a-z_]+)"', frame_js)) | set(re.findall(r"data\.texts\.([a-z_]+)", loader))
    assert {"close_chat", "restart_title", "restart_confirm", "restart_cancel", "start_here", "result_page", "result_pdf"} <= used
    assert used <= set(TEXTS)
    english = client.get("/widget/texts.json?lang=en").get_json()["texts"]
    german = client.get("/widget/texts.json?lang=de").get_json()["texts"]
    assert german["close_chat"] == "Chat schließen" and german["restart_title"] == "Neu beginnen?"
    assert [key for key in used if german[key] == english[key]] == []


def test_the_demo_snippet_wraps_on_a_narrow_screen(client, shop):
    """The one-line snippet is a pre.snippet, which the stylesheet wraps (the page stays as wide as a phone)."""
    soup = BeautifulSoup(client.get("/demo").data, "html.parser")
    assert "data-embed-key" in soup.select_one("pre.snippet").get_text()
    css = client.get("/static/app.css").data.decode()
    rule = re.search(r"pre\.snippet \{([^}]*)\}", css)
    assert rule and "white-space: pre-wrap" in rule.group(1) and "overflow-wrap: anywhere" in rule.group(1)
