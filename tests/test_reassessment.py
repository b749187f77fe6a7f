"""Re-assessment: a new assessment on the organisation's flow version with the answers of its checklist of record migrated."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from bot.engine import DONE, EngineRegistry, FlowCode, load_flows
from bot.engine.vocabulary import Surface
from bot.store import db
from bot.store.managers import create_manager
from bot.store.models import AnswerRevision, Assessment, Organisation, hash_token
from bot.store.organisations import FlowChoice, pin_flow
from bot.turns import NoMigrationError, TurnService
from tests.apiclient import Api
from tests.conftest import add_respondent_link
from tests.test_flow_versions import TINY_V1, TINY_V2, VERSIONS_DIR
from tests.test_flow_walks import GOLDEN

PASSWORD = "correct horse battery"
SOLO_BAKERY = GOLDEN[0][1]
# The optional texts the bakery left out: a re-assessment asks them again (they have no answer to carry over).
BAKERY_OPTIONAL_TEXTS = ["company_name", "company_address", "contact_email", "privacy_url"]


@pytest.fixture
def org(backend_app):
    """ACME (Anna's), Other AG (not Anna's), both pinned to version 1; Anna's API token; ACME's completed solo-bakery assessment.

    On SQLite and on PostgreSQL (which refuses what SQLite accepts, such as NUL characters).
    """
    app = backend_app
    with app.app_context():
        session = db.session()
        acme = Organisation(slug="acme", name="ACME GmbH", locale="de", flow_version=1)
        other = Organisation(slug="other", name="Other AG", locale="de", flow_version=1)
        session.add_all([acme, other])
        session.commit()
        _manager, token = create_manager(session, "anna@example.de", [acme], password=PASSWORD)
    keys = {slug: add_respondent_link(app, slug) for slug in ("acme", "other")}
    api = Api(app)
    for slug in ("acme", "other"):
        started, prompt = api.start(keys[slug], locale="en")
        api.finish(started, SOLO_BAKERY, prompt)
    return {"api": api, "token": token, "app": app}


def reassess(org, slug="acme", body=None, query=""):
    """POST a re-assessment with Anna's token (the response is checked against the OpenAPI document)."""
    return org["api"].call("POST", f"/api/v1/orgs/{slug}/reassessments{query}", body, headers={"Authorization": f"Bearer {org['token']}"})


def count(app, model) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(model))


def source_of(app, slug="acme") -> Assessment:
    with app.app_context():
        return db.session().scalar(select(Assessment).join(Organisation).where(Organisation.slug == slug, Assessment.completed_at.is_not(None)))


def walk_asked(api, token, prompt, answers):
    """Answer what is asked (from `answers`; info: ok; optional texts: skipped) until the summary; return the steps asked."""
    return api.finish(token, answers, prompt)


def unpin(app, slug="acme"):
    """Let the organisation's new assessments use the latest version (2)."""
    with app.app_context():
        session = db.session()
        pin_flow(session, session.scalar(select(Organisation).where(Organisation.slug == slug)), FlowChoice("whatsapp_gdpr", None))


def completed_on_v1(org, answers, slug="acme") -> None:
    """Complete one more version-1 assessment of the (pinned) organisation with `answers`."""
    key = add_respondent_link(org["app"], slug)
    token, prompt = org["api"].start(key, locale="en")
    org["api"].finish(token, answers, prompt)
    assert org["api"].get(token)["flow"]["version"] == 1


def test_same_version_asks_only_the_unanswered_steps_and_the_recommendation(org, engine):
    response = reassess(org)
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    source = source_of(org["app"])
    assert data["flow"] == {"id": "whatsapp_gdpr", "version": 1}
    assert data["url"] == f"http://localhost/w/a/{data['token']}"
    assert response.headers["Location"] == f"http://localhost/api/v1/assessments/{data['token']}"
    # Every answer of the checklist of record carries over, except the recommendation's (shown again).
    expected_prefilled = [s.id for s in engine.flow.steps if s.id in source.completed_answers and s.id != "recommendation"]
    assert data["prefilled"] == expected_prefilled
    assert data["prompt"]["step"] == "recommendation" and data["prompt"]["recommendation"]["value"] == "app_with_mitigations"
    asked = walk_asked(org["api"], data["token"], data["prompt"], {})
    assert asked == ["recommendation", *BAKERY_OPTIONAL_TEXTS]
    # The path the re-assessment asks is exactly the path's steps without a carried-over answer, plus the recommendation.
    path = engine.path(source.completed_answers)
    assert asked == [s for s in path if s not in data["prefilled"]]
    done = org["api"].get(data["token"])
    assert done["prompt"]["kind"] == "done" and done["completed_at"] is not None
    assert done["answers"] == source.completed_answers


def test_a_completed_reassessment_is_the_checklist_of_record(org):
    data = reassess(org).get_json()
    org["api"].finish(data["token"], {"company_name": "Bäckerei Muster"}, data["prompt"])
    checklist = org["api"].manager("/api/v1/orgs/acme/checklist?lang=en", org["token"]).get_json()
    with org["app"].app_context():
        newest = db.session().scalar(select(Assessment).where(Assessment.token_hash == hash_token(data["token"])))
        assert newest.reassessment_of == source_of(org["app"]).id or newest.reassessment_of is not None
        assert checklist["assessment"]["id"] == newest.id


def test_each_migrated_answer_is_a_revision_naming_its_source(org):
    source = source_of(org["app"])
    data = reassess(org).get_json()
    history = org["api"].manager("/api/v1/orgs/acme/history", org["token"]).get_json()
    with org["app"].app_context():
        new_id = db.session().scalar(select(Assessment.id).where(Assessment.token_hash == hash_token(data["token"])))
    migrated = [r for r in history["revisions"] if r["assessment"] == new_id]
    assert sorted(r["step"] for r in migrated) == sorted(data["prefilled"])
    assert {(r["action"], r["migrated_from"], r["migrated_from_version"], r["channel"]) for r in migrated} == {("answer", source.id, 1, "api")}
    assert sorted(r["seq"] for r in migrated) == list(range(1, len(migrated) + 1))
    assert all(r["value"] == source.completed_answers[r["step"]] for r in migrated)
    # Turns of the re-assessment follow the migrated revisions and are no migrations themselves.
    org["api"].answer(data["token"], "recommendation", "ok")
    history = org["api"].manager("/api/v1/orgs/acme/history", org["token"]).get_json()
    turn = next(r for r in history["revisions"] if r["assessment"] == new_id and r["migrated_from"] is None)
    assert turn["step"] == "recommendation" and turn["seq"] == len(migrated) + 1
    assert all(r["migrated_from"] is None for r in history["revisions"] if r["assessment"] != new_id)


def test_changing_an_answer_before_the_recommendation_shows_it_again(org):
    data = reassess(org).get_json()
    token, api = data["token"], org["api"]
    assert api.answer(token, "recommendation", "ok").get_json()["prompt"]["step"] == "company_name"
    # Back to the sensitive-data question (the respondent changes it): the advice is shown again, now stricter.
    for _ in range(40):
        prompt = api.back(token, {}).get_json()["prompt"]
        if prompt["step"] == "sensitive_data":
            break
    after = api.answer(token, "sensitive_data", "yes").get_json()["prompt"]
    assert after["step"] == "recommendation" and after["recommendation"]["value"] == "platform_restricted"
    # Then on over the answers that still apply, to the first step without one.
    assert api.answer(token, "recommendation", "ok").get_json()["prompt"]["step"] == "company_name"


def test_the_wizard_asks_the_same_and_ends_on_the_summary(org):
    data = reassess(org).get_json()
    client = org["app"].test_client()
    url = data["url"].removeprefix("http://localhost")
    asked = []
    while org["api"].get(data["token"])["prompt"]["kind"] != "done" and len(asked) < 10:
        page = BeautifulSoup(client.get(url).data.decode(), "html.parser")
        step_input = page.find("input", attrs={"name": "step"})
        asked.append(step_input["value"])
        form = {"csrf_token": page.find("input", attrs={"name": "csrf_token"})["value"], "step": step_input["value"]}
        form["action"] = "next" if step_input["value"] == "recommendation" else "skip"
        assert client.post(url, data=form).status_code == 303
    assert asked == ["recommendation", *BAKERY_OPTIONAL_TEXTS]
    summary = client.get(url)
    assert summary.status_code == 200 and b"/change" in summary.data  # the summary, where every answer can be changed


@pytest.mark.parametrize(
    ("slug", "token", "status", "code"),
    [("other", None, 404, "not_found"), ("nope", None, 404, "not_found"), ("ac%00me", None, 404, "not_found"), ("acme", "wam_wrong", 401, "unauthorized")],
)
def test_refused_for_an_organisation_the_manager_cannot_see(org, slug, token, status, code):
    before = count(org["app"], Assessment)
    headers = {"Authorization": f"Bearer {token or org['token']}"}
    response = org["api"].call("POST", f"/api/v1/orgs/{slug}/reassessments", headers=headers)
    assert response.status_code == status and response.get_json()["error"]["code"] == code
    assert count(org["app"], Assessment) == before


def test_no_completed_assessment_is_404_and_creates_nothing(org):
    with org["app"].app_context():
        session = db.session()
        session.add(Organisation(slug="fresh", name="Fresh", locale="de"))
        session.commit()
        from bot.store.managers import add_membership, manager_by_email

        add_membership(session, manager_by_email(session, "anna@example.de"), session.scalar(select(Organisation).where(Organisation.slug == "fresh")))
    before = count(org["app"], Assessment)
    response = reassess(org, "fresh")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "no_completed_assessment"
    assert count(org["app"], Assessment) == before


@pytest.mark.parametrize(
    ("body", "query", "status"), [({"locale": "fr"}, "", 422), ({"locale": "d\u0000e"}, "", 422), (None, "?lang=fr", 422), ([], "", 400)]
)
def test_bad_input_creates_nothing(org, body, query, status):
    before = (count(org["app"], Assessment), count(org["app"], AnswerRevision))
    response = reassess(org, body=body, query=query)
    assert response.status_code == status, response.get_json()
    assert (count(org["app"], Assessment), count(org["app"], AnswerRevision)) == before


def test_the_locale_defaults_to_the_source_and_can_be_chosen(org):
    assert org["api"].get(reassess(org).get_json()["token"])["locale"] == "en"
    data = reassess(org, body={"locale": "de"}).get_json()
    assert data["prompt"]["text"] != "" and org["api"].get(data["token"])["locale"] == "de"


# -- version 1 to version 2 (the real flows) -------------------------------------------------------

OPTIONAL_TEXTS_V2 = [*BAKERY_OPTIONAL_TEXTS, "imprint_url"]
# What the respondent answers to the questions version 2 asks (the rest of a walk uses the migrated answers).
V2_ANSWERS = {"sector": "general", "meta_ai": "no", "works_council": "none", "internal_messenger": "business_messenger", "optout": "yes"}


@pytest.mark.parametrize(
    ("name", "v1_answers", "v2_answers", "asked"),
    [
        (
            "solo bakery: sector, Meta AI, works council, a v1 business messenger and the new imprint link",
            SOLO_BAKERY,
            {},
            ["sector", "recommendation", "meta_ai", "works_council", "internal_messenger", *OPTIONAL_TEXTS_V2],
        ),
        (
            "dental practice: § 203 safeguards, opt-out and a v1 'messenger' sick-note answer",
            GOLDEN[1][1],
            {"sector": "professional_secrecy", "secrecy_safeguards": "partial", "sick_notes": "eau"},
            ["sector", "recommendation", "secrecy_safeguards", "optout", "meta_ai", "works_council", "sick_notes", *OPTIONAL_TEXTS_V2],
        ),
        (
            "online shop with a v1 bot: integrations asked again (rule-based or AI?)",
            {**GOLDEN[2][1], "integrations": ["crm", "bot"], "bot_disclosure": "yes"},
            {"integrations": ["crm", "bot_ai"]},
            [
                "integrations",
                "sector",
                "recommendation",
                "optout",
                "meta_ai",
                "works_council",
                "company_name",
                "company_address",
                "contact_email",
                "privacy_url",
                "imprint_url",
            ],
        ),
        (
            "internal use only: the works council is new, a v1 'messenger' sick-note answer is asked again",
            {"purpose": "internal", "internal_messenger": "whatsapp", "sick_notes": "messenger"},
            {"sick_notes": "business_messenger"},
            ["works_council", "sick_notes"],
        ),
    ],
    ids=["bakery", "dental", "bot", "internal"],
)
def test_a_v1_checklist_reassessed_on_v2_asks_only_what_the_migration_leaves_open(org, name, v1_answers, v2_answers, asked):
    completed_on_v1(org, v1_answers)
    source = source_of_latest(org["app"])
    unpin(org["app"])
    response = reassess(org)
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["flow"] == {"id": "whatsapp_gdpr", "version": 2}
    # The contract's migration: every v1 answer keeps its step and value except the re-asked ones and the recommendation.
    dropped = {"regulated_sector", "recommendation"}
    if "bot" in (v1_answers.get("integrations") or []):
        dropped.add("integrations")
    if v1_answers.get("sick_notes") == "messenger":
        dropped.add("sick_notes")
    if v1_answers.get("internal_messenger") == "business_messenger":
        dropped.add("internal_messenger")
    assert set(data["prefilled"]) == set(source.completed_answers) - dropped
    steps = org["api"].finish(data["token"], {**V2_ANSWERS, **v2_answers}, data["prompt"])
    assert steps == asked, name
    done = org["api"].get(data["token"])
    assert done["prompt"]["kind"] == "done" and done["flow"]["version"] == 2 and done["completed_at"] is not None
    # The re-assessment is now the checklist of record, on version 2.
    checklist = org["api"].manager("/api/v1/orgs/acme/checklist?lang=en", org["token"]).get_json()
    assert checklist["assessment"]["version"] == 2


def source_of_latest(app, slug="acme") -> Assessment:
    with app.app_context():
        return db.session().scalar(
            select(Assessment).join(Organisation).where(Organisation.slug == slug, Assessment.completed_at.is_not(None)).order_by(Assessment.id.desc())
        )


def test_v2_history_names_the_v1_source(org):
    source = source_of_latest(org["app"])
    unpin(org["app"])
    data = reassess(org).get_json()
    history = org["api"].manager("/api/v1/orgs/acme/history", org["token"]).get_json()
    migrated = [r for r in history["revisions"] if r["migrated_from"] is not None]
    assert {(r["migrated_from"], r["migrated_from_version"]) for r in migrated} == {(source.id, 1)}
    assert sorted(r["step"] for r in migrated) == sorted(data["prefilled"])


# -- the turn service with migrations (the tiny fixture flow) ------------------------------------

TINY_V2_MIGRATING = FlowCode()
TINY_V2_MIGRATING.conditions.update(TINY_V2.conditions)


@TINY_V2_MIGRATING.migration(from_version=1)
def _tiny_from_v1(answers):
    """Version 2's team question means something else: drop its answer."""
    return {step: value for step, value in answers.items() if step != "team"}


@pytest.fixture
def tiny(app):
    registry = EngineRegistry(load_flows(VERSIONS_DIR, code={("tiny", 1): TINY_V1, ("tiny", 2): TINY_V2_MIGRATING}))
    with app.app_context():
        session = db.session()
        organisation = Organisation(slug="tiny-co", name="Tiny", locale="en", flow_id="tiny", flow_version=1)
        session.add(organisation)
        session.commit()
        yield TurnService(session, registry), organisation, session


def complete(service, organisation, answers):
    """Run a tiny assessment to the end with `answers` (info: ok)."""
    conversation = service.start(organisation, "en", Surface.API)
    while (prompt := conversation.prompt()).step != DONE:
        service.answer(conversation, prompt.step, answers.get(prompt.step, "ok"), Surface.API)
    return conversation.assessment


def test_answers_are_migrated_to_the_new_version(tiny):
    service, organisation, session = tiny
    source = complete(service, organisation, {"size": "small", "team": "one"})  # v1 does not ask a small business about its team
    source = complete(service, organisation, {"size": "large", "team": "one"})
    organisation.flow_version = None  # latest: v2
    started = service.reassess(organisation, source, "en", Surface.WIZARD)
    assert started.conversation.engine.flow.version == 2 and started.prefilled == ["size"]  # info steps are shown again, never carried over
    # Version 2 does not ask a large business about its team: only the info step is left to show.
    assert started.conversation.assessment.state == "thanks" and started.conversation.assessment.answers == {"size": "large"}
    outcome = service.answer(started.conversation, "thanks", "ok", Surface.WIZARD)
    assert outcome.prompt.step == DONE and started.conversation.assessment.completed_at is not None
    revisions = session.scalars(select(AnswerRevision).where(AnswerRevision.assessment_id == started.conversation.assessment.id)).all()
    assert [(r.step, r.migrated_from, r.migrated_from_version) for r in revisions] == [("size", source.id, 1), ("thanks", None, None)]


def test_a_new_question_is_asked_and_then_the_summary(tiny):
    service, organisation, _session = tiny
    source = complete(service, organisation, {"size": "small"})
    organisation.flow_version = 2
    started = service.reassess(organisation, source, "en", Surface.API)
    assert started.conversation.assessment.state == "team"  # v2 asks a small business about its team
    assert service.answer(started.conversation, "team", "many", Surface.API).prompt.step == "thanks"  # info steps are shown again
    assert service.answer(started.conversation, "thanks", "ok", Surface.API).prompt.step == DONE


def test_no_migration_is_refused_and_creates_nothing(tiny):
    service, organisation, session = tiny
    organisation.flow_version = 2
    source = complete(service, organisation, {"size": "small", "team": "one"})
    organisation.flow_version = 1  # back from v2 to v1: no migration registered
    before = session.scalar(select(func.count()).select_from(Assessment))
    with pytest.raises(NoMigrationError, match="no migration from version 2 to version 1"):
        service.reassess(organisation, source, "en", Surface.API)
    assert session.scalar(select(func.count()).select_from(Assessment)) == before


# -- the manager area's button ---------------------------------------------------------------------


def test_the_organisation_page_starts_a_reassessment_and_shows_its_link_once(org):
    from tests.test_manage import log_in, page

    client = org["app"].test_client()
    assert log_in(client, "anna@example.de", PASSWORD).status_code == 303
    form = page(client.get("/manage/orgs/acme?lang=en")).find("form", attrs={"class": "reassess"})
    assert form["action"] == "/manage/orgs/acme/reassess"
    before = count(org["app"], Assessment)
    assert client.post(form["action"], data={}).status_code == 400  # no CSRF token: nothing created
    assert count(org["app"], Assessment) == before
    csrf_token = form.find("input", attrs={"name": "csrf_token"})["value"]
    response = client.post(form["action"] + "?lang=en", data={"csrf_token": csrf_token})
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    link = page(response).find("input", id="reassessment-link")["value"]
    assert link.startswith("http://localhost/w/a/") and "shown only now" in response.get_data(as_text=True)
    wizard = org["app"].test_client().get(link.removeprefix("http://localhost"))
    assert b'name="step" value="recommendation"' in wizard.data
    assert count(org["app"], Assessment) == before + 1
    # The organisation page does not show the link again.
    assert link not in client.get("/manage/orgs/acme").get_data(as_text=True)
    # Another organisation's button is 404, like its page.
    assert client.post("/manage/orgs/other/reassess", data={"csrf_token": csrf_token}).status_code == 404
    assert count(org["app"], Assessment) == before + 1
