"""Defects found while building the turn service: each test failed before its fix (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.store import db
from bot.store.models import AnswerRevision, Assessment, Manager, Organisation
from tests.test_api import INTERNAL_ONLY, count, snapshot
from tests.wizard_user import WizardUser


def _rows(app) -> tuple[int, int, int, int]:
    """How many organisations, managers, assessments and revisions are stored."""
    return count(app, Organisation), count(app, Manager), count(app, Assessment), count(app, AnswerRevision)


# -- a NUL character anywhere: PostgreSQL refuses it in text, so it must never reach the database --------------


NUL_REQUESTS = [
    ("embed key in the body", "POST", "/api/v1/assessments", {"embed_key": "a\u0000b"}, 404),
    ("token in the path", "GET", "/api/v1/assessments/abc%00def", None, 404),
    ("token in an answer's path", "POST", "/api/v1/assessments/abc%00def/answers", {"step": "purpose", "value": "customer"}, 404),
    ("slug in a manager path", "GET", "/api/v1/orgs/ac%00me/checklist", None, 404),
    ("slug in an export path", "GET", "/api/v1/orgs/ac%00me/checklist.pdf", None, 404),
    ("query parameter (read, never stored)", "GET", "/api/v1/orgs?lang=d%00e&x=%00", None, 200),
    ("wizard link", "GET", "/w/ab%00cd", None, 404),
    ("wizard start (the CSRF check refuses first)", "POST", "/w/ab%00cd", None, 400),
    ("wizard assessment", "GET", "/w/a/ab%00cd", None, 404),
    ("manager area organisation", "GET", "/manage/orgs/ac%00me", None, 404),
]


@pytest.mark.parametrize(("name", "method", "path", "body", "status"), NUL_REQUESTS, ids=[r[0] for r in NUL_REQUESTS])
def test_a_nul_character_is_refused_or_unknown_and_stores_nothing(world, name, method, path, body, status):
    before = _rows(world.app)
    client = world.app.test_client()
    headers = {"Authorization": f"Bearer {world.anna}"} if "/orgs" in path else {}
    response = client.open(path, method=method, json=body, headers=headers)
    assert response.status_code == status, (name, response.status_code)
    if path.startswith("/api/") and status >= 400:
        assert response.get_json()["error"]["message"]  # a clear message, as for any other refusal
    assert _rows(world.app) == before


def test_a_nul_character_in_the_login_form_is_refused(world):
    client = world.app.test_client()
    page = client.get("/manage/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/manage/login", data={"csrf_token": token, "email": "anna@acme.exa\u0000mple", "password": "x"})
    assert response.status_code == 400
    assert _rows(world.app)[1] == 3  # no manager added or changed


def test_a_nul_character_in_an_answer_is_an_invalid_value(world):
    api = world.api
    token, _ = api.start(world.acme_link, locale="en")
    api.answer(token, "purpose", "customer")
    response = api.call("POST", f"/api/v1/assessments/{token}/answers", {"step": "sensitive_data", "value": "n\u0000o"})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_value"


# -- the wizard ------------------------------------------------------------------------------------------------


def test_posting_the_finished_flow_as_a_step_goes_to_the_summary(world):
    """POST /w/a/<token> with a valid CSRF token and step=done on a completed assessment answered 500 (KeyError)."""
    user = WizardUser(world.app.test_client()).start(f"/r/{world.acme_link}")
    user.finish(INTERNAL_ONLY)
    before = snapshot(world.app, user.token)
    csrf = dict(user.fields(user.page.find("form", attrs={"action": lambda a: a and a.endswith("/change")})))["csrf_token"]
    for action in ("next", "back", "skip"):
        response = user.client.post(f"/w/a/{user.token}", data={"csrf_token": csrf, "step": "done", "action": action})
        assert response.status_code == 303 and response.headers["Location"].endswith(f"/w/a/{user.token}")
    assert snapshot(world.app, user.token) == before


def test_a_wizard_post_for_an_unknown_step_changes_nothing(world):
    user = WizardUser(world.app.test_client()).start(f"/r/{world.acme_link}")
    before = snapshot(world.app, user.token)
    fields = dict(user.fields())
    response = user.client.post(f"/w/a/{user.token}", data={"csrf_token": fields["csrf_token"], "step": "no_such_step", "action": "next"})
    assert response.status_code == 409  # shows the current step again
    assert snapshot(world.app, user.token) == before


# -- file names of downloads --------------------------------------------------------------------------------------


def test_a_download_name_outside_ascii_has_an_ascii_fallback_and_the_exact_utf8_name():
    from bot.web.reports import attachment

    assert attachment("wa-checklist-acme-2026-11-24.pdf") == 'attachment; filename="wa-checklist-acme-2026-11-24.pdf"'
    value = attachment("wa-checklist-müller-名前.pdf")
    assert value.startswith('attachment; filename="wa-checklist-muller-.pdf"; ')
    assert value.endswith("filename*=UTF-8''wa-checklist-m%C3%BCller-%E5%90%8D%E5%89%8D.pdf")
    value.encode("latin-1")  # what a WSGI server must be able to send


@pytest.mark.parametrize("fmt", ["pdf", "csv", "xlsx", "md", "json"])
def test_every_export_of_an_organisation_with_a_non_ascii_slug_downloads(world, fmt):
    """Organisations created before slugs were restricted (or in another tool) still export."""
    with world.app.app_context():
        session = db.session()
        session.scalar(select(Organisation).where(Organisation.slug == "acme")).slug = "kunde-名前"
        session.commit()
    token, _ = world.api.start(world.acme_link, locale="en")
    world.api.finish(token, INTERNAL_ONLY)
    response = world.app.test_client().get(f"/api/v1/orgs/kunde-名前/checklist.{fmt}", headers={"Authorization": f"Bearer {world.anna}"})
    assert response.status_code == 200
    assert "filename*=UTF-8''wa-checklist-kunde-%E5%90%8D%E5%89%8D-" in response.headers["Content-Disposition"]
