"""The ceiling for the turn benchmark: bare Flask + SQLAlchemy Core, exactly the round trips of a turn.

Read the assessment by its token's hash (only hashes are stored), update its state and answers with the version check,
append the answer revision, one commit, and answer with a prompt of the same JSON
shape and size as the product's. No engine, no localisation, no ORM: what is left
is the cost of HTTP, Flask and the database, which the product cannot undercut.
Run under gunicorn as `bench.ceiling:create_app()` with DATABASE_URL, BENCH_PATH
(the scenario's steps, comma-separated) and BENCH_PROMPT (a JSON file).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, jsonify, request
from sqlalchemy import MetaData, Table, insert, select, update

from bot.store.db import make_engine


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_app() -> Flask:
    """The ceiling app on the product's own schema and database settings."""
    engine = make_engine(os.environ["DATABASE_URL"])
    meta = MetaData()
    assessment = Table("assessment", meta, autoload_with=engine)
    revision = Table("answer_revision", meta, autoload_with=engine)
    organisation = Table("organisation", meta, autoload_with=engine)
    path = os.environ["BENCH_PATH"].split(",")
    following = dict(zip(path, [*path[1:], "done"], strict=True))
    prompt = json.loads(Path(os.environ["BENCH_PROMPT"]).read_text("utf-8"))
    app = Flask(__name__)

    @app.get("/healthz")
    def health():
        return jsonify(status="ok")

    @app.post("/api/v1/assessments")
    def create():
        body = request.get_json()
        now = datetime.now(UTC)
        token = secrets.token_urlsafe(24)
        with engine.begin() as conn:
            org_id = conn.execute(select(organisation.c.id).where(organisation.c.embed_key == body["embed_key"])).scalar_one()
            conn.execute(
                insert(assessment).values(
                    organisation_id=org_id, token_hash=_hash(token), flow_id="whatsapp_gdpr", flow_version=1, state=path[0], answers={},
                    locale="de", channel="api", version=1, created_at=now, updated_at=now,
                )
            )  # fmt: skip
        return jsonify(token=token, locale="de", prompt=prompt), 201

    @app.post("/api/v1/assessments/<token>/answers")
    def answer(token: str):
        body = request.get_json()
        now = datetime.now(UTC)
        with engine.begin() as conn:
            columns = assessment.c.id, assessment.c.state, assessment.c.answers, assessment.c.version
            row = conn.execute(select(*columns).where(assessment.c.token_hash == _hash(token))).first()
            if row is None:
                return jsonify(error={"code": "unknown_assessment", "message": "unknown"}), 404
            if body["step"] != row.state:
                return jsonify(error={"code": "stale_step", "message": "stale"}, prompt=prompt), 409
            answers = {**row.answers, body["step"]: body["value"]}
            updated = conn.execute(
                update(assessment)
                .where(assessment.c.id == row.id, assessment.c.version == row.version)
                .values(state=following[row.state], answers=answers, version=row.version + 1, updated_at=now)
            )
            if updated.rowcount != 1:
                return jsonify(error={"code": "stale_step", "message": "stale"}, prompt=prompt), 409
            conn.execute(
                insert(revision).values(
                    assessment_id=row.id, seq=row.version + 1, action="answer", step=body["step"], value=body["value"], channel="api", created_at=now
                )
            )
        return jsonify(prompt=prompt)

    return app
