"""The start page, health, errors and headers of the Flask app."""

from __future__ import annotations

import pytest

from tests import contract


@pytest.mark.parametrize(("lang", "heading"), [("de", "WhatsApp für Ihre Kunden, datenschutzgerecht eingerichtet"),
                                               ("en", "WhatsApp for your customers, set up in line with the GDPR")])
def test_start_page_in_both_languages(client, lang, heading):
    response = client.get(f"/?lang={lang}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert heading in html
    assert f'<html lang="{lang}">' in html
    # the latest version of the flow, with its size from the contract (49 steps, 30 items in version 2)
    assert f"{len(contract.step_order(2))} " in html and f"{len(contract.item_ids(2))} " in html and ("(version 2)" in html or "(Version 2)" in html)


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
