"""Data stays true: a database made by the release before flow version 2, upgraded by the current migrations, gives the same checklists.

`tests/fixtures/before_v2.sqlite` was made by release e3ba6bd (schema 0003) through its chat API;
`before_v2_checklists.json` holds the checklists its engine derived and the raw rows of its
assessments and revisions (`tests/fixtures/make_before_v2.py` makes both).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot import create_app
from bot.store import db
from bot.store.managers import manager_by_email, rotate_token
from bot.store.models import Assessment, hash_token
from tests.apiclient import Api
from tests.conftest import NO_LIMITS

FIXTURES = Path(__file__).parent / "fixtures"
BEFORE = json.loads((FIXTURES / "before_v2_checklists.json").read_text("utf-8"))


@pytest.fixture
def upgraded(tmp_path, locales_dir):
    """A copy of the old release's database, upgraded with the current migrations, in an app of the current code."""
    copy = tmp_path / "before_v2.sqlite"
    shutil.copy(FIXTURES / "before_v2.sqlite", copy)
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": f"sqlite:///{copy}", "LOCALES_DIR": str(locales_dir), **NO_LIMITS})
    db.upgrade(app)
    yield app
    app.extensions["db_engine"].dispose()


def test_the_fixture_is_small_and_from_before_version_2():
    assert (FIXTURES / "before_v2.sqlite").stat().st_size < 200_000
    assert {c["flow"]["version"] for c in BEFORE["checklists"]} == {1}
    assert len(BEFORE["checklists"]) == 5 and BEFORE["in_progress"]["state"] == "recommendation"


def test_the_same_v1_answers_give_the_same_v1_checklist(upgraded):
    engines = upgraded.extensions["engines"]
    with upgraded.app_context():
        session = db.session()
        for before in BEFORE["checklists"]:
            assessment = session.get(Assessment, before["assessment"])
            assert (assessment.flow_id, assessment.flow_version) == ("whatsapp_gdpr", 1)
            result = engines.get(assessment.flow_id, assessment.flow_version).checklist(assessment.completed_answers)
            assert result.recommendation.value == before["recommendation"]["value"], before["organisation"]
            assert list(result.recommendation.reasons) == before["recommendation"]["reasons"], before["organisation"]
            assert {item.id: str(item.status) for item in result.items} == before["items"], before["organisation"]
            assert dict(result.summary) == before["summary"], before["organisation"]


def test_the_manager_api_shows_the_same_checklists(upgraded):
    with upgraded.app_context():
        token = rotate_token(db.session(), manager_by_email(db.session(), "berater@example.de"))
    api = Api(upgraded)
    latest = {}
    for before in BEFORE["checklists"]:  # in order of completion: the last one per organisation is its checklist of record
        latest[before["organisation"]] = before
    for slug, before in latest.items():
        report = api.manager(f"/api/v1/orgs/{slug}/checklist?lang=en", token).get_json()
        assert report["assessment"]["id"] == before["assessment"] and report["assessment"]["version"] == 1
        assert report["recommendation"]["value"] == before["recommendation"]["value"]
        assert report["recommendation"]["reasons"] == before["recommendation"]["reasons"]
        assert {i["id"]: i["status"] for i in report["items"]} == before["items"]


def test_assessments_and_revisions_are_untouched(upgraded):
    with upgraded.app_context():
        session = db.session()
        revisions = [
            dict(zip(("assessment", "seq", "action", "step", "value", "channel", "created_at"), row, strict=True))
            for row in session.execute(text("SELECT assessment_id, seq, action, step, value, channel, created_at FROM answer_revision ORDER BY id"))
        ]
        assessments = [
            dict(zip(("id", "state", "answers", "completed_answers", "completed_at"), row, strict=True))
            for row in session.execute(text("SELECT id, state, answers, completed_answers, completed_at FROM assessment ORDER BY id"))
        ]
        migrated = session.execute(text("SELECT count(*) FROM answer_revision WHERE migrated_from IS NOT NULL")).scalar()
        links = session.execute(text("SELECT count(*) FROM assessment WHERE reassessment_of IS NOT NULL")).scalar()
    assert revisions == BEFORE["revisions"]
    assert assessments == BEFORE["assessments"]
    assert migrated == 0 and links == 0


def test_a_v1_assessment_in_progress_finishes_on_v1_through_the_chat_api(upgraded):
    engines = upgraded.extensions["engines"]
    in_progress = BEFORE["in_progress"]
    api = Api(upgraded)
    resumed = api.get(in_progress["token"])
    assert resumed["flow"] == {"id": "whatsapp_gdpr", "version": 1} and resumed["prompt"]["step"] == "recommendation"
    steps = api.finish(in_progress["token"], in_progress["answers"], resumed["prompt"])
    assert "regulated_sector" not in steps  # answered before the release
    done = api.get(in_progress["token"])
    assert done["flow"]["version"] == 1 and done["completed_at"] is not None
    # The same answers as the dental practice's first checklist: the same checklist, on version 1.
    dental = next(c for c in BEFORE["checklists"] if c["organisation"] == "zahnarzt")
    with upgraded.app_context():
        assessment = db.session().scalar(select(Assessment).where(Assessment.token_hash == hash_token(in_progress["token"])))
        result = engines.get("whatsapp_gdpr", 1).checklist(assessment.completed_answers)
    assert {item.id: str(item.status) for item in result.items} == dental["items"]
    assert result.recommendation.value == dental["recommendation"]["value"]
    # Meanwhile a new assessment of the same organisation starts on the latest version.
    embed_key = _embed_key(upgraded, in_progress["organisation"])
    token, _prompt = api.start(embed_key)
    assert engines.get("whatsapp_gdpr").flow.version == 2
    assert api.get(token)["flow"] == {"id": "whatsapp_gdpr", "version": 2}


def _embed_key(app, slug: str) -> str:
    with app.app_context():
        return db.session().execute(text("SELECT embed_key FROM organisation WHERE slug = :slug"), {"slug": slug}).scalar()
