"""Data lifecycle on the command line: purge abandoned assessments, export an organisation, delete it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bot.cli import cli
from bot.store import db
from bot.store.managers import create_manager
from bot.store.models import AnswerRevision, Assessment, Manager, Membership, Organisation, hash_token, utcnow
from tests.apiclient import Api
from tests.conftest import add_organisation, add_respondent_link
from tests.test_api import INTERNAL_ONLY


@pytest.fixture
def data(app):
    """Two organisations: acme with a completed, a fresh and an old unfinished assessment; beta with one."""
    keys = {slug: add_organisation(app, slug) for slug in ("acme", "beta")}
    keys = {slug: add_respondent_link(app, slug) for slug in keys}  # trusted: the completed one is acme's checklist
    with app.app_context():
        session = db.session()
        create_manager(session, "anna@example.de", [session.scalar(select(Organisation).where(Organisation.slug == "acme"))])
    api = Api(app)
    token, prompt = api.start(keys["acme"])
    api.finish(token, INTERNAL_ONLY, prompt)
    fresh, _ = api.start(keys["acme"])
    api.answer(fresh, "purpose", "customer")
    old, _ = api.start(keys["acme"])
    api.answer(old, "purpose", "internal")
    other, _ = api.start(keys["beta"])
    with app.app_context():
        session = db.session()
        long_ago = utcnow() - timedelta(days=100)
        session.execute(update(Assessment).where(Assessment.token_hash.in_([hash_token(token), hash_token(old)])).values(updated_at=long_ago))
        session.commit()
    return {"completed": token, "fresh": fresh, "old": old, "other": other}


def tokens(app) -> set[str]:
    """The hashes of the stored assessment tokens (only hashes are stored)."""
    with app.app_context():
        return set(db.session().scalars(select(Assessment.token_hash)))


def test_purge_deletes_only_abandoned_old_assessments(app, runner, data):
    dry = runner.invoke(cli, ["purge", "--older-than", "90d", "--dry-run"])
    assert dry.exit_code == 0 and "1 abandoned assessment(s)" in dry.output and "dry run" in dry.output
    assert hash_token(data["old"]) in tokens(app)
    result = runner.invoke(cli, ["purge", "--older-than", "90d"])
    assert result.exit_code == 0 and "Deleted 1 abandoned" in result.output
    assert tokens(app) == {hash_token(data[k]) for k in ("completed", "fresh", "other")}  # the completed one stays, however old
    with app.app_context():
        orphans = db.session().scalar(select(func.count()).select_from(AnswerRevision).where(~AnswerRevision.assessment_id.in_(select(Assessment.id))))
        assert orphans == 0


@pytest.mark.parametrize("age", ["90", "0d", "3w", "d", "-1h"])
def test_purge_refuses_a_bad_age(runner, data, age):
    result = runner.invoke(cli, ["purge", "--older-than", age])
    assert result.exit_code == 2 and "90d or 12h" in result.output


def test_purge_default_age_comes_from_the_configuration(app, runner, data):
    app.config["RETENTION_ABANDONED_DAYS"] = 200
    assert "0 abandoned" in runner.invoke(cli, ["purge", "--dry-run"]).output


def test_export_org_writes_everything_of_one_organisation(app, runner, data, tmp_path):
    target = tmp_path / "acme.json"
    result = runner.invoke(cli, ["export-org", "acme", "-o", str(target)])
    assert result.exit_code == 0, result.output
    exported = json.loads(target.read_text("utf-8"))
    assert exported["organisation"]["slug"] == "acme"
    assert exported["managers"] == [{"email": "anna@example.de", "role": "member"}]
    assert len(exported["assessments"]) == 3
    completed = next(a for a in exported["assessments"] if a["completed_at"])
    assert completed["completed_answers"] == INTERNAL_ONLY and len(completed["revisions"]) == 3
    assert "beta" not in target.read_text() and "password" not in target.read_text()
    assert runner.invoke(cli, ["export-org", "nope"]).exit_code == 2


def test_delete_org_removes_it_completely_after_confirmation(app, runner, data):
    declined = runner.invoke(cli, ["delete-org", "acme"], input="n\n")
    assert declined.exit_code == 1 and hash_token(data["completed"]) in tokens(app)
    result = runner.invoke(cli, ["delete-org", "acme"], input="y\n")
    assert result.exit_code == 0 and "Deleted acme" in result.output
    assert tokens(app) == {hash_token(data["other"])}
    with app.app_context():
        session = db.session()
        assert session.scalar(select(Organisation).where(Organisation.slug == "acme")) is None
        assert session.scalar(select(func.count()).select_from(Membership)) == 0
        assert session.scalar(select(func.count()).select_from(AnswerRevision)) == 0  # beta's only assessment has no answers
        assert session.scalar(select(Manager.email)) == "anna@example.de"  # managers stay (they may belong elsewhere)
    assert runner.invoke(cli, ["delete-org", "beta", "--yes"]).exit_code == 0
