"""Persistence: the migrations match the models, on SQLite and PostgreSQL; gunicorn with several workers."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from bot.store import db
from bot.store.models import AnswerRevision, Assessment, Base, Organisation, hash_token
from tests import contract
from tests.conftest import add_organisation, start_gunicorn, stop_gunicorn
from tests.test_flow_walks import GOLDEN


def test_migrations_match_the_models(backend_app):
    with backend_app.extensions["db_engine"].connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_tables_and_lookup_indexes_exist(backend_app):
    from sqlalchemy import inspect

    inspector = inspect(backend_app.extensions["db_engine"])
    assert {"organisation", "manager", "membership", "assessment", "answer_revision", "alembic_version"} <= set(inspector.get_table_names())
    unique = {tuple(c["column_names"]) for c in inspector.get_unique_constraints("assessment")} | {
        tuple(i["column_names"]) for i in inspector.get_indexes("assessment") if i["unique"]
    }
    assert ("token_hash",) in unique
    revision_unique = {tuple(c["column_names"]) for c in inspector.get_unique_constraints("answer_revision")}
    assert ("assessment_id", "seq") in revision_unique


def test_deleting_an_organisation_removes_its_assessments(backend_app):
    client = backend_app.test_client()
    key = add_organisation(backend_app, "gone")
    token = client.post("/api/v1/assessments", json={"embed_key": key}).get_json()["token"]
    client.post(f"/api/v1/assessments/{token}/answers", json={"step": "purpose", "value": "customer"})
    with backend_app.app_context():
        session = db.session()
        session.delete(session.scalar(select(Organisation).where(Organisation.slug == "gone")))
        session.commit()
        assert session.scalar(select(func.count()).select_from(Assessment)) == 0
        assert session.scalar(select(func.count()).select_from(AnswerRevision)) == 0


# -- gunicorn: several worker processes against one database ---------------------------


def _request(base: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def gunicorn_base(backend_app, tmp_path, locales_dir):
    """The app under gunicorn with 3 workers on the test database; yields its base URL."""
    env = {"DATABASE_URL": backend_app.config["DATABASE_URL"], "SECRET_KEY": "gunicorn-test", "FLASK_LOCALES_DIR": str(locales_dir)}
    process, base = start_gunicorn(env, tmp_path / "gunicorn.log", workers=3)
    try:
        yield base
    finally:
        stop_gunicorn(process)


@pytest.mark.slow
def test_gunicorn_workers_share_one_database(backend_app, gunicorn_base):
    key = add_organisation(backend_app, "acme")
    status, created = _request(gunicorn_base, "POST", "/api/v1/assessments", {"embed_key": key, "locale": "en"})
    assert status == 201
    token = created["token"]
    answers = GOLDEN[0][1]
    prompt = created["prompt"]
    writers = 8
    asked = []
    for _round in range(5):  # every round: 8 concurrent writers on one step, across the worker processes
        step = prompt["step"]
        barrier = threading.Barrier(writers)
        results: list[tuple[int, dict]] = []

        def write(step=step, barrier=barrier, results=results):
            barrier.wait()
            results.append(_request(gunicorn_base, "POST", f"/api/v1/assessments/{token}/answers", {"step": step, "value": answers[step]}))

        threads = [threading.Thread(target=write) for _ in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(s for s, _ in results) == [200] + [409] * (writers - 1)
        prompt = next(body["prompt"] for s, body in results if s == 200)
        # every loser is told where the conversation now stands: the winner's next step
        assert {body["prompt"]["step"] for s, body in results if s == 409} == {prompt["step"]}
        asked.append(step)
    # any worker resumes it; the database holds one revision per accepted turn
    for _ in range(6):
        status, resumed = _request(gunicorn_base, "GET", f"/api/v1/assessments/{token}")
        assert status == 200 and resumed["prompt"]["step"] == prompt["step"]
    with backend_app.app_context():
        session = db.session()
        assessment = session.scalar(select(Assessment).where(Assessment.token_hash == hash_token(token)))
        revisions = session.execute(
            select(AnswerRevision.seq, AnswerRevision.step).where(AnswerRevision.assessment_id == assessment.id).order_by(AnswerRevision.seq)
        ).all()
        # one revision per step, none lost or doubled, and the steps in the order they were asked (none skipped)
        assert [tuple(r) for r in revisions] == list(zip([2, 3, 4, 5, 6], asked, strict=True)) and assessment.version == 6
    assert asked == contract.path(answers)[:5]


def test_the_version_check_makes_the_second_writer_lose(backend_app):
    """Two sessions read the same assessment; the one that commits second gets a Conflict and changes nothing."""
    from sqlalchemy.orm import Session

    from bot import engines
    from bot.engine.vocabulary import Surface
    from bot.turns import Accepted, Conflict, TurnService

    with backend_app.app_context():
        session = db.session()
        org = Organisation(slug="acme", name="ACME", flow_version=1)  # pinned: the expected states are version 1's
        session.add(org)
        session.commit()
        token = TurnService(session, engines(backend_app)).start(org, "de", Surface.API).assessment.token

    db_engine = backend_app.extensions["db_engine"]
    with Session(db_engine, expire_on_commit=False) as first, Session(db_engine, expire_on_commit=False) as second:
        mine_service, theirs_service = TurnService(first, engines(backend_app)), TurnService(second, engines(backend_app))
        mine, theirs = mine_service.open(token), theirs_service.open(token)
        assert isinstance(theirs_service.answer(theirs, "purpose", "internal", Surface.WIDGET), Accepted)
        lost = mine_service.answer(mine, "purpose", "customer", Surface.API)
        assert isinstance(lost, Conflict) and lost.code == "stale_step" and lost.prompt.step == "internal_messenger"
        assert (mine.assessment.state, mine.assessment.answers, mine.assessment.version) == ("internal_messenger", {"purpose": "internal"}, 2)
        revisions = first.execute(select(AnswerRevision.seq, AnswerRevision.value, AnswerRevision.surface)).all()
        assert [tuple(r) for r in revisions] == [(2, "internal", "widget")]


@pytest.mark.slow
@pytest.mark.postgres
def test_two_hosts_behind_a_proxy_share_one_postgresql(pg_session_url, locales_dir, tmp_path):
    """Two gunicorn "hosts" on one database: a conversation may hop between them, and races are still decided once."""
    from tests.conftest import _fresh_app

    app = _fresh_app(pg_session_url, locales_dir)
    key = add_organisation(app, "acme")
    env = {
        "DATABASE_URL": pg_session_url, "SECRET_KEY": "two-hosts", "FLASK_LOCALES_DIR": str(locales_dir), "FLASK_TRUSTED_PROXIES": "1",
        "PUBLIC_URL": "https://wa.example.de",
    }  # fmt: skip
    processes, hosts = [], []
    try:
        for _ in range(2):
            process, base = start_gunicorn(env, tmp_path / "gunicorn.log")
            processes.append(process)
            hosts.append(base)
        status, created = _request(hosts[0], "POST", "/api/v1/assessments", {"embed_key": key, "locale": "en"})
        assert status == 201
        token, prompt = created["token"], created["prompt"]
        answers = GOLDEN[0][1]
        for turn in range(6):  # alternate hosts, as a round-robin proxy would
            status, body = _request(hosts[turn % 2], "POST", f"/api/v1/assessments/{token}/answers", {"step": prompt["step"], "value": answers[prompt["step"]]})
            assert status == 200
            prompt = body["prompt"]
        step = prompt["step"]
        results = []
        barrier = threading.Barrier(6)

        def write(i):
            barrier.wait()
            results.append(_request(hosts[i % 2], "POST", f"/api/v1/assessments/{token}/answers", {"step": step, "value": answers[step]})[0])

        threads = [threading.Thread(target=write, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [200] + [409] * 5
        # behind the proxy, the links the app writes come from PUBLIC_URL, and the proxy's host is trusted (it is PUBLIC_URL's)
        forwarded = {"Content-Type": "application/json", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "wa.example.de"}
        body = json.dumps({"embed_key": key}).encode()
        request = urllib.request.Request(hosts[1] + "/api/v1/assessments", data=body, method="POST", headers=forwarded)
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.headers["Location"].startswith("https://wa.example.de/api/v1/assessments/")
        forged = urllib.request.Request(hosts[1] + "/api/v1/assessments", data=body, method="POST", headers={**forwarded, "X-Forwarded-Host": "evil.example"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(forged, timeout=10)
        assert refused.value.code == 400  # a host outside TRUSTED_HOSTS
    finally:
        for process in processes:
            stop_gunicorn(process)
        app.extensions["db_engine"].dispose()
