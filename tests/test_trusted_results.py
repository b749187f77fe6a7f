"""Trusted results: respondent links, public self-assessments a manager adopts, hashed tokens, the event log (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text, update
from werkzeug.datastructures import MultiDict

from bot.cli import cli
from bot.store import db
from bot.store.models import Assessment, Organisation, RespondentLink, hash_token, utcnow
from tests.test_api import INTERNAL_ONLY
from tests.test_flow_walks import GOLDEN

PLATFORM = GOLDEN[2][1]  # version 1 answers: "platform", 17 done


def bearer(token: str) -> dict[str, str]:
    """The manager API's Authorization header."""
    return {"Authorization": f"Bearer {token}"}


def manager_call(world, method: str, path: str, body=None, token: str | None = None):
    """Call the manager API as anna (acme's manager) unless another token is given."""
    return world.api.call(method, path, body, headers=bearer(token or world.anna))


def checklist(world, slug: str = "acme", token: str | None = None) -> dict:
    """The organisation's checklist of record (200 asserted)."""
    response = world.api.manager(f"/api/v1/orgs/{slug}/checklist?lang=en", token or world.anna)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def complete(world, key: str, answers: dict) -> str:
    """Start (embed key or respondent link) and complete an assessment; return its token."""
    token, prompt = world.api.start(key, locale="en")
    world.api.finish(token, answers, prompt)
    return token


def self_assessment(world, answers: dict = INTERNAL_ONLY, contact_email: str | None = "kunde@example.de", org_key: str | None = None) -> tuple[str, int]:
    """A visitor's completed public self-assessment, passed on to the organisation; return its token and id."""
    token = complete(world, org_key or world.acme_key, answers)
    response = world.api.call("POST", f"/api/v1/assessments/{token}/consent", {"contact_email": contact_email})
    assert response.status_code == 200, response.get_json()
    with world.app.app_context():
        assessment_id = db.session().scalar(select(Assessment.id).where(Assessment.token_hash == hash_token(token)))
    return token, assessment_id


def test_an_anonymous_walk_with_the_embed_key_no_longer_replaces_the_checklist(world):
    """The security probe's reproduction: anyone with the public embed key completed an assessment and became the checklist."""
    complete(world, world.acme_link, PLATFORM)
    before = checklist(world)
    assert before["recommendation"]["value"] == "platform" and before["summary"]["done"] == 17
    complete(world, world.acme_key, INTERNAL_ONLY)  # the anonymous visitor: no_whatsapp, 3 done
    after = checklist(world)
    assert after == before
    assert after["record"]["via"] == "respondent_link"
    history = world.api.manager("/api/v1/orgs/acme/history", world.anna).get_json()
    assert len(history["assessments"]) == 1 and history["assessments"][0]["started_via"] == "respondent_link"
    assert world.api.manager("/api/v1/orgs/acme/submissions", world.anna).get_json() == {"submissions": []}  # no consent, not shown


def test_respondent_links_are_created_listed_used_and_revoked(world):
    created = manager_call(world, "POST", "/api/v1/orgs/acme/respondent-links", {"label": "Filiale Köln", "expires_days": 7})
    assert created.status_code == 201
    link = created.get_json()
    assert link["url"].endswith(f"/r/{link['token']}") and link["label"] == "Filiale Köln" and link["active"]
    listed = world.api.manager("/api/v1/orgs/acme/respondent-links", world.anna).get_json()["links"]
    assert [entry["id"] for entry in listed] == [link["id"], 1] and all("token" not in entry for entry in listed)
    with world.app.app_context():
        stored = db.session().get(RespondentLink, link["id"])
        assert stored.token_hash == hash_token(link["token"]) and timedelta(days=6) < stored.expires_at - utcnow() <= timedelta(days=7)
    # used many times; each completed assessment becomes the checklist of record
    complete(world, link["token"], INTERNAL_ONLY)
    assert checklist(world)["record"]["respondent_link"] == {"id": link["id"], "label": "Filiale Köln"}
    token = complete(world, link["token"], PLATFORM)
    assert checklist(world)["recommendation"]["value"] == "platform"
    # revoked: it starts nothing more, and its assessments can no longer be changed
    assert manager_call(world, "DELETE", f"/api/v1/orgs/acme/respondent-links/{link['id']}").status_code == 204
    refused = world.api.call("POST", "/api/v1/assessments", {"respondent_link": link["token"]})
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (410, "respondent_link_expired")
    closed = world.api.back(token)
    assert (closed.status_code, closed.get_json()["error"]["code"]) == (409, "assessment_closed")
    assert world.api.get(token)["closed"] is True
    assert manager_call(world, "DELETE", f"/api/v1/orgs/acme/respondent-links/{link['id']}").status_code == 204  # again: fine
    # another organisation's manager sees nothing of it
    assert manager_call(world, "DELETE", f"/api/v1/orgs/acme/respondent-links/{link['id']}", token=world.otto).status_code == 404
    actions = [e["action"] for e in world.api.manager("/api/v1/orgs/acme/events", world.anna).get_json()["events"]]
    assert [a for a in actions if a != "assessment.completed"][:2] == ["respondent_link.revoked", "respondent_link.created"]
    assert "assessment.completed" in actions  # the link's completion made a new checklist of record


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/api/v1/orgs/acme/respondent-links/2147483648"), ("POST", "/api/v1/orgs/acme/submissions/2147483648/dismiss")],
)
def test_an_id_no_row_can_have_is_not_found_on_every_database(world, method, path):
    """PostgreSQL refuses to compare an INTEGER column with a larger number; the lookup answers 404 before asking."""
    response = manager_call(world, method, path)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_an_expired_link_starts_nothing(world):
    with world.app.app_context():
        session = db.session()
        session.execute(update(RespondentLink).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    response = world.api.call("POST", "/api/v1/assessments", {"respondent_link": world.acme_link, "locale": "de"})
    assert (response.status_code, response.get_json()["error"]["code"]) == (410, "respondent_link_expired")
    assert "abgelaufen" in response.get_json()["error"]["message"]
    page = world.app.test_client().get(f"/r/{world.acme_link}")
    assert page.status_code == 410
    with world.app.app_context():
        assert db.session().scalar(select(Assessment.id)) is None


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "invalid_body"),
        ({"embed_key": "KEY", "respondent_link": "LINK"}, 400, "invalid_body"),
        ({"respondent_link": "war_unknown"}, 404, "unknown_respondent_link"),
        ({"respondent_link": "war_\x00"}, 404, "unknown_respondent_link"),
        ({"respondent_link": 7}, 400, "invalid_body"),
    ],
)
def test_starting_needs_exactly_one_known_key(world, body, status, code):
    body = {k: (world.acme_key if v == "KEY" else world.acme_link if v == "LINK" else v) for k, v in body.items()}
    response = world.api.call("POST", "/api/v1/assessments", body)
    assert (response.status_code, response.get_json()["error"]["code"]) == (status, code)
    with world.app.app_context():
        assert db.session().scalar(select(Assessment.id)) is None


@pytest.mark.parametrize(
    "body",
    [{"label": "x" * 101}, {"label": "Büro\x00"}, {"label": 5}, {"expires_days": 0}, {"expires_days": 366}, {"expires_days": "soon"}, {"expires_days": True}],
)
def test_bad_link_input_is_refused_and_creates_nothing(world, body):
    response = manager_call(world, "POST", "/api/v1/orgs/acme/respondent-links", body)
    assert (response.status_code, response.get_json()["error"]["code"]) == (400, "invalid_body")
    assert response.get_json()["error"]["field"] in body
    assert len(world.api.manager("/api/v1/orgs/acme/respondent-links", world.anna).get_json()["links"]) == 1  # the fixture's


def test_a_submission_is_adopted_and_then_read_only(world):
    complete(world, world.acme_link, PLATFORM)
    token, assessment_id = self_assessment(world)
    listed = world.api.manager("/api/v1/orgs/acme/submissions", world.anna).get_json()["submissions"]
    assert listed == [
        {
            "id": assessment_id,
            "completed_at": listed[0]["completed_at"],
            "recommendation": "no_whatsapp",
            "summary": listed[0]["summary"],
            "contact_email": "kunde@example.de",
        }
    ]
    adopted = manager_call(world, "POST", f"/api/v1/orgs/acme/submissions/{assessment_id}/adopt")
    assert adopted.status_code == 200
    record = adopted.get_json()["record"]
    assert (record["assessment"], record["via"], record["adopted_by"]) == (assessment_id, "adoption", "anna@acme.example")
    assert checklist(world)["recommendation"]["value"] == "no_whatsapp"
    # the anonymous token holder cannot rewrite the record
    for response in (world.api.back(token), world.api.answer(token, "purpose", "customer")):
        assert (response.status_code, response.get_json()["error"]["code"]) == (409, "assessment_closed")
    assert world.api.call("DELETE", f"/api/v1/assessments/{token}").status_code == 409
    again = manager_call(world, "POST", f"/api/v1/orgs/acme/submissions/{assessment_id}/adopt")
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "submission_closed")
    assert world.api.manager("/api/v1/orgs/acme/submissions", world.anna).get_json()["submissions"] == []
    history = world.api.manager("/api/v1/orgs/acme/history", world.anna).get_json()
    assert {a["id"] for a in history["assessments"]} >= {assessment_id}
    assert "submission.adopted" in [e["action"] for e in world.api.manager("/api/v1/orgs/acme/events", world.anna).get_json()["events"]]


def test_submissions_of_another_organisation_or_without_consent_are_not_found(world):
    _token, foreign = self_assessment(world, org_key=world.other_key)
    unconsented = complete(world, world.acme_key, INTERNAL_ONLY)
    with world.app.app_context():
        unconsented_id = db.session().scalar(select(Assessment.id).where(Assessment.token_hash == hash_token(unconsented)))
    for assessment_id in (foreign, unconsented_id, 999):
        for action in ("adopt", "dismiss"):
            response = manager_call(world, "POST", f"/api/v1/orgs/acme/submissions/{assessment_id}/{action}")
            assert response.status_code == 404, (assessment_id, action)
    with pytest.raises(AssertionError):
        checklist(world)  # nothing became acme's checklist


def test_consent_is_validated_and_only_for_a_completed_self_assessment(world):
    unfinished, _prompt = world.api.start(world.acme_key)
    response = world.api.call("POST", f"/api/v1/assessments/{unfinished}/consent", {})
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "not_a_self_assessment")
    done = complete(world, world.acme_key, INTERNAL_ONLY)
    for bad in ("not-an-address", "a@b", "x" * 250 + "@example.de", "kunde\x00@example.de"):
        response = world.api.call("POST", f"/api/v1/assessments/{done}/consent", {"contact_email": bad})
        assert (response.status_code, response.get_json()["error"]["code"]) == (422, "invalid_email"), bad
    response = world.api.call("POST", f"/api/v1/assessments/{done}/consent", {"contact_email": 5})
    assert response.status_code == 400
    assert world.api.get(done)["consent"] == {"given_at": None, "contact_email": None}
    trusted = complete(world, world.acme_link, INTERNAL_ONLY)
    response = world.api.call("POST", f"/api/v1/assessments/{trusted}/consent", {})
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "not_a_self_assessment")
    given = world.api.call("POST", f"/api/v1/assessments/{done}/consent", {"contact_email": "  "}).get_json()
    assert given["given_at"] and given["contact_email"] is None


def test_a_consultant_turns_a_visitor_into_a_client(world):
    _token, assessment_id = self_assessment(world, PLATFORM, "info@neukunde.de")
    path = f"/api/v1/orgs/acme/submissions/{assessment_id}/organisation"
    for body, status in (({"slug": "Neu Kunde", "name": "Neukunde GmbH"}, 422), ({"slug": "other", "name": "Taken"}, 409), ({"slug": "neukunde"}, 400)):
        assert manager_call(world, "POST", path, body).status_code == status, body
    created = manager_call(world, "POST", path, {"slug": "neukunde", "name": "Neukunde GmbH"})
    assert created.status_code == 201
    assert created.get_json()["record"]["via"] == "adoption"
    client = checklist(world, "neukunde")
    assert client["recommendation"]["value"] == "platform" and client["org"]["name"] == "Neukunde GmbH"
    assert world.api.manager("/api/v1/orgs/acme/submissions", world.anna).get_json()["submissions"] == []
    assert world.api.manager("/api/v1/orgs/neukunde/checklist", world.otto).status_code == 404  # only anna became a member


def test_a_dismissed_submission_leaves_the_list(world):
    _token, assessment_id = self_assessment(world)
    assert manager_call(world, "POST", f"/api/v1/orgs/acme/submissions/{assessment_id}/dismiss").status_code == 204
    assert world.api.manager("/api/v1/orgs/acme/submissions", world.anna).get_json()["submissions"] == []
    response = manager_call(world, "POST", f"/api/v1/orgs/acme/submissions/{assessment_id}/adopt")
    assert response.status_code == 409


def test_self_assessments_show_only_in_anonymous_aggregates(world):
    self_assessment(world)
    complete(world, world.acme_key, PLATFORM)
    stopped, _prompt = world.api.start(world.acme_key)
    world.api.answer(stopped, "purpose", "customer")
    stats = world.api.manager("/api/v1/orgs/acme/self-assessments", world.anna).get_json()
    assert stats == {
        "started": 3,
        "completed": 2,
        "consented": 1,
        "adopted": 0,
        "recommendations": {"no_whatsapp": 1, "platform": 1},
        "stopped_at": {stats["stopped_at"] and next(iter(stats["stopped_at"])): 1},
    }
    assert world.api.manager("/api/v1/orgs/acme/history", world.anna).get_json()["assessments"] == []
    assert world.api.manager("/api/v1/orgs/acme/checklist", world.anna).status_code == 404


def test_the_public_self_check_can_be_turned_off(world):
    off = manager_call(world, "PATCH", "/api/v1/orgs/acme/settings", {"public_widget": False})
    assert off.status_code == 200 and off.get_json()["public_widget"] is False
    response = world.api.call("POST", "/api/v1/assessments", {"embed_key": world.acme_key})
    assert (response.status_code, response.get_json()["error"]["code"]) == (403, "public_widget_off")
    assert world.app.test_client().get(f"/w/{world.acme_key}").status_code == 403
    assert world.api.start(world.acme_link)[0]  # respondent links still work
    assert manager_call(world, "PATCH", "/api/v1/orgs/acme/settings", {"public_widget": "no"}).status_code == 400
    assert manager_call(world, "PATCH", "/api/v1/orgs/acme/settings", {"public_widget": True}).get_json()["public_widget"] is True
    events = [e for e in world.api.manager("/api/v1/orgs/acme/events", world.anna).get_json()["events"] if e["action"] == "settings.public_widget"]
    assert [e["subject"] for e in events] == ["on", "off"] and events[0]["actor"] == "anna@acme.example"


def test_the_respondent_deletes_their_own_self_assessment(world):
    token = complete(world, world.acme_key, INTERNAL_ONLY)
    assert world.api.call("DELETE", f"/api/v1/assessments/{token}").status_code == 204
    assert world.api.call("GET", f"/api/v1/assessments/{token}").status_code == 404
    trusted = complete(world, world.acme_link, INTERNAL_ONLY)
    response = world.api.call("DELETE", f"/api/v1/assessments/{trusted}")
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "not_a_self_assessment")


def test_an_idle_unfinished_assessment_expires(world):
    token, _prompt = world.api.start(world.acme_link, locale="de")
    finished = complete(world, world.acme_link, INTERNAL_ONLY)
    with world.app.app_context():
        session = db.session()
        session.execute(update(Assessment).values(updated_at=utcnow() - timedelta(days=31)))
        session.commit()
    response = world.api.call("GET", f"/api/v1/assessments/{token}")
    assert (response.status_code, response.get_json()["error"]["code"]) == (410, "assessment_expired")
    assert "abgelaufen" in response.get_json()["error"]["message"]
    assert world.api.answer(token, "purpose", "customer").status_code == 410
    assert world.app.test_client().get(f"/w/a/{token}").status_code == 410
    assert world.api.get(finished)["completed_at"]  # a completed one stays readable


def test_tokens_are_stored_only_as_hashes(world):
    token = complete(world, world.acme_link, INTERNAL_ONLY)
    created = manager_call(world, "POST", "/api/v1/orgs/acme/respondent-links", {}).get_json()
    with world.app.app_context():
        session = db.session()
        dump = " ".join(
            str(row)
            for table in ("assessment", "respondent_link", "answer_revision", "event")
            for row in session.execute(text(f"SELECT * FROM {table}")).all()
        )
    assert token not in dump and created["token"] not in dump and world.acme_link not in dump
    assert hash_token(token) in dump


def test_the_manager_api_never_shows_an_assessment_token(world):
    token = complete(world, world.acme_link, INTERNAL_ONLY)
    _self, _id = self_assessment(world)
    for path in ("checklist", "history", "submissions", "self-assessments", "events", "respondent-links", "documents"):
        body = world.api.manager(f"/api/v1/orgs/acme/{path}", world.anna).get_data(as_text=True)
        assert token not in body and _self not in body, path


def test_a_reassessment_becomes_the_record_with_its_provenance(world):
    complete(world, world.acme_link, INTERNAL_ONLY)
    started = manager_call(world, "POST", "/api/v1/orgs/acme/reassessments", {"locale": "en"}).get_json()
    world.api.finish(started["token"], INTERNAL_ONLY, started["prompt"])
    record = checklist(world)["record"]
    assert record["via"] == "reassessment" and record["reassessment_of"] == 1


def test_purge_deletes_old_unadopted_self_assessments(world):
    runner = world.app.test_cli_runner()
    _old, old_id = self_assessment(world)
    _adopted, adopted_id = self_assessment(world)
    manager_call(world, "POST", f"/api/v1/orgs/acme/submissions/{adopted_id}/adopt")
    recent = complete(world, world.acme_key, INTERNAL_ONLY)
    with world.app.app_context():
        session = db.session()
        session.execute(update(Assessment).where(Assessment.id.in_([old_id, adopted_id])).values(completed_at=utcnow() - timedelta(days=91)))
        session.commit()
    result = runner.invoke(cli, ["purge"])
    assert result.exit_code == 0 and "Deleted 1 self-assessment(s)" in result.output
    with world.app.app_context():
        left = set(db.session().scalars(select(Assessment.id)))
    assert old_id not in left and adopted_id in left
    assert world.api.get(recent)["completed_at"]


def test_export_org_leaves_out_self_assessments_unless_adopted(world, tmp_path):
    import json

    complete(world, world.acme_link, INTERNAL_ONLY)
    self_assessment(world)
    complete(world, world.acme_key, PLATFORM)
    target = tmp_path / "acme.json"
    result = world.app.test_cli_runner().invoke(cli, ["export-org", "acme", "-o", str(target)])
    assert result.exit_code == 0
    exported = json.loads(target.read_text())
    assert [a["started_via"] for a in exported["assessments"]] == ["respondent_link"]
    assert "kunde@example.de" not in target.read_text()


def test_deleting_an_organisation_is_logged(world):
    result = world.app.test_cli_runner().invoke(cli, ["delete-org", "other", "--yes"])
    assert result.exit_code == 0
    with world.app.app_context():
        session = db.session()
        assert session.scalar(select(Organisation).where(Organisation.slug == "other")) is None
        rows = session.execute(text("SELECT organisation_slug, action, actor FROM event WHERE action = 'organisation.deleted'")).all()
    assert [tuple(r) for r in rows] == [("other", "organisation.deleted", "cli")]


# -- the wizard: a respondent link's start page, a visitor's consent and deletion ------------------


def _wizard(world):
    from tests.wizard_user import WizardUser

    return WizardUser(world.app.test_client())


def test_a_respondent_link_in_the_wizard_becomes_the_checklist(world):
    opened = _wizard(world).open(f"/r/{world.acme_link}?lang=en")
    assert opened.status == 200 and "your answers become its checklist" in opened.page.get_text()
    with world.app.app_context():
        assert db.session().scalar(select(Assessment.id)) is None  # opening the link creates nothing
    user = _wizard(world).start(f"/r/{world.acme_link}")
    user.finish(INTERNAL_ONLY)
    assert user.step == "done" and user.page.find("section", class_="consent") is None
    assert checklist(world)["record"]["via"] == "respondent_link"


def test_unknown_and_revoked_links_show_a_clear_page(world):
    client = world.app.test_client()
    assert client.get("/r/war_nothing-here").status_code == 404
    link = manager_call(world, "POST", "/api/v1/orgs/acme/respondent-links", {"label": "Büro"}).get_json()
    manager_call(world, "DELETE", f"/api/v1/orgs/acme/respondent-links/{link['id']}")
    page = client.get(f"/r/{link['token']}", headers={"Accept-Language": "de"})
    assert page.status_code == 410 and "abgelaufen oder wurde zurückgezogen" in page.get_data(as_text=True)


def test_a_visitor_passes_the_result_on_from_the_wizard_summary(world):
    user = _wizard(world).start(f"/w/{world.acme_key}?lang=en")
    user.finish(INTERNAL_ONLY)
    consent = user.page.find("section", class_="consent")
    assert consent is not None and "ACME GmbH" in consent.get_text()
    form = consent.find("form", action=lambda a: a and a.endswith("/consent"))
    hidden = [(i["name"], i.get("value", "")) for i in form.find_all("input", type="hidden")]
    client = user.client
    # without the box ticked, or with a broken address: a clear message, nothing stored
    for fields in ([("contact_email", "kunde@example.de")], [("consent", "yes"), ("contact_email", "kein-mail")]):
        refused = client.post(form["action"], data=MultiDict(hidden + fields))
        assert refused.status_code == 422
    assert world.api.manager("/api/v1/orgs/acme/submissions", world.anna).get_json()["submissions"] == []
    given = client.post(form["action"], data=MultiDict([*hidden, ("consent", "yes"), ("contact_email", "kunde@example.de")]))
    assert given.status_code == 303
    shown = client.get(f"/w/a/{user.token}").get_data(as_text=True)
    assert 'data-consent="given"' in shown and "kunde@example.de" in shown
    listed = world.api.manager("/api/v1/orgs/acme/submissions", world.anna).get_json()["submissions"]
    assert [s["contact_email"] for s in listed] == ["kunde@example.de"]


def test_a_visitor_deletes_their_answers_from_the_wizard_summary(world):
    user = _wizard(world).start(f"/w/{world.acme_key}?lang=en")
    user.finish(INTERNAL_ONLY)
    form = user.page.find("form", class_="delete")
    hidden = [(i["name"], i.get("value", "")) for i in form.find_all("input", type="hidden")]
    deleted = user.client.post(form["action"], data=MultiDict(hidden))
    assert deleted.status_code == 200 and "deleted" in deleted.get_data(as_text=True)
    assert user.client.get(f"/w/a/{user.token}").status_code == 404
    with world.app.app_context():
        assert db.session().scalar(select(Assessment.id)) is None


def test_an_adopted_result_is_read_only_in_the_wizard(world):
    user = _wizard(world).start(f"/w/{world.acme_key}?lang=en")
    user.finish(INTERNAL_ONLY)
    with world.app.app_context():
        assessment_id = db.session().scalar(select(Assessment.id))
    world.api.call("POST", f"/api/v1/assessments/{user.token}/consent", {})
    assert manager_call(world, "POST", f"/api/v1/orgs/acme/submissions/{assessment_id}/adopt").status_code == 200
    page = user.open(f"/w/a/{user.token}")
    assert page.page.find("form", action=lambda a: a and a.endswith("/change")) is None
    assert page.page.find("section", class_="consent") is None
    assert "can no longer be changed" in page.page.get_text()


# -- the respondent's result (issue 16): the done prompt's `result`, the result page and its PDF ------------


APP_BUT_PLATFORM = GOLDEN[1][1]  # version 1 answers: the App chosen, "platform_restricted" recommended, 12 critical


def test_the_done_prompt_carries_the_respondents_result(world):
    token, prompt = world.api.start(world.acme_key, locale="de")
    steps = world.api.finish(token, APP_BUT_PLATFORM, prompt)
    done = world.api.get(token)["prompt"]
    result = done["result"]
    assert result["recommendation"]["value"] == GOLDEN[1][2][0]
    assert result["counts"] == GOLDEN[1][3]
    assert len(result["start_here"]) == 3 and len(result["critical"]) == GOLDEN[1][3]["critical"]
    assert [i["id"] for i in result["start_here"]] == [i["id"] for i in result["critical"][:3]]
    assert all(i["action"] for i in result["start_here"])
    assert result["channel"]["chosen"] == APP_BUT_PLATFORM["channel"] and result["channel"]["matches"] is False
    assert result["channel"]["note"] and result["channel"]["chosen_label"] in result["channel"]["note"]
    assert result["page_url"].endswith(f"/w/a/{token}") and result["pdf_url"].endswith(f"/w/a/{token}/result.pdf")
    client = world.app.test_client()
    page = client.get(result["page_url"].split("localhost", 1)[1])
    assert page.status_code == 200
    pdf = client.get(result["pdf_url"].split("localhost", 1)[1])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert "attachment" in pdf.headers["Content-Disposition"] and pdf.headers["Cache-Control"] == "no-store"
    assert steps  # the walk took its steps


def test_a_matching_channel_needs_no_note(world):
    token = complete(world, world.acme_key, GOLDEN[0][1])  # the App, and the App recommended
    result = world.api.get(token)["prompt"]["result"]
    assert result["channel"]["matches"] is True and result["channel"]["note"] is None
    assert result["start_here"] == [] and result["counts"]["critical"] == 0


def test_the_result_page_leads_with_what_to_do(world):
    from bs4 import BeautifulSoup

    token = complete(world, world.acme_key, APP_BUT_PLATFORM)
    html = world.app.test_client().get(f"/w/a/{token}?lang=en").get_data(as_text=True)
    page = BeautifulSoup(html, "html.parser")
    start = page.find(attrs={"data-start-here": True})
    assert start is not None and len(start.select("[data-start-item]")) == 3
    assert page.find(attrs={"data-matches": "no"}) is not None
    assert page.find("a", attrs={"data-download": "pdf"})["href"] == f"/w/a/{token}/result.pdf"
    assert page.find("details", attrs={"data-group": "not_applicable"}) is not None  # folded away
    assert page.find("details", id="answers") is not None
    texts = {s["data-document"] for s in page.select("section[data-document]")}
    assert texts <= {"first_contact_message", "imprint_snippet"} and texts  # never the organisation's record of processing
    # the order on the page: recommendation, start here, then the checklist
    order = [html.index(marker) for marker in ('id="recommendation-title"', "data-start-here", 'id="checklist-title"')]
    assert order == sorted(order)


def test_a_self_assessments_texts_and_pdf_do_not_use_the_organisations_profile(world):
    from tests.test_flow_walks_v2 import GOLDEN_V2

    with world.app.app_context():
        session = db.session()
        session.execute(update(Organisation).where(Organisation.slug == "acme").values(flow_version=None))  # the latest: its texts use the profile
        session.commit()
    answers = GOLDEN_V2[0][1]  # version 2's
    manager_call(world, "PATCH", "/api/v1/orgs/acme/profile", {"representative": "Anna Acme", "vat_id": "DE123456789"})
    token = complete(world, world.acme_key, answers)
    html = world.app.test_client().get(f"/w/a/{token}").get_data(as_text=True)
    assert "Anna Acme" not in html and "DE123456789" not in html
    trusted = complete(world, world.acme_link, answers)
    assert "Anna Acme" in world.app.test_client().get(f"/w/a/{trusted}").get_data(as_text=True)


def test_the_result_pdf_needs_a_completed_assessment_of_that_token(world):
    token, _prompt = world.api.start(world.acme_key)
    client = world.app.test_client()
    assert client.get(f"/w/a/{token}/result.pdf").status_code == 404
    assert client.get("/w/a/no-such-token/result.pdf").status_code == 404


def test_migration_0006_goes_back_and_forth(world):
    """An operator can go back to 0005 (lossy: tokens become their hashes) and forward again; the schema then matches the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    from bot.store.models import Base

    token = complete(world, world.acme_link, INTERNAL_ONLY)
    self_assessment(world)
    engine = world.app.extensions["db_engine"]
    try:
        db.downgrade(world.app, "0005")
        inspector = inspect(engine)
        assert {"respondent_link", "event"}.isdisjoint(inspector.get_table_names())
        with engine.connect() as conn:
            stored = set(conn.execute(text("SELECT token FROM assessment")).scalars())
        assert hash_token(token) in stored and token not in stored  # the raw token is gone for good
    finally:
        db.upgrade(world.app)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT started_via, completed_at IS NOT NULL, recorded_at IS NOT NULL FROM assessment ORDER BY id")).all()
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert [tuple(r) for r in rows] == [("legacy", True, True), ("legacy", True, True)]
