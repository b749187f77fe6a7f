"""The chat API and the manager API over HTTP, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from bot.store import db
from bot.store.models import AnswerRevision, Assessment, hash_token
from tests import contract
from tests.apiclient import Api
from tests.test_flow_walks import GOLDEN

INTERNAL_ONLY = {"purpose": "internal", "internal_messenger": "whatsapp", "sick_notes": "messenger"}
SCENARIOS = [(name, answers, rec) for name, answers, rec, _summary in GOLDEN] + [("internal use only", INTERNAL_ONLY, ("no_whatsapp", ["R1"]))]


def snapshot(app, token: str) -> tuple:
    """Everything a turn could change: state, answers, version, completion and the revisions."""
    with app.app_context():
        session = db.session()
        a = session.scalar(select(Assessment).where(Assessment.token_hash == hash_token(token)))
        columns = AnswerRevision.seq, AnswerRevision.action, AnswerRevision.step, AnswerRevision.value
        revisions = session.execute(select(*columns).where(AnswerRevision.assessment_id == a.id).order_by(AnswerRevision.seq)).all()
        return a.state, a.answers, a.version, a.completed_at, a.locale, [tuple(r) for r in revisions]


def count(app, model) -> int:
    """Rows in a table."""
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(model))


# -- the conversation ----------------------------------------------------------------


@pytest.mark.parametrize("locale", ["de", "en"])
def test_create_gives_the_first_prompt_in_the_chosen_language(world, locale):
    response = world.api.call("POST", "/api/v1/assessments", {"embed_key": world.acme_key, "locale": locale})
    assert response.status_code == 201
    data = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/assessments/{data['token']}")
    assert response.headers["Cache-Control"] == "no-store"
    prompt = data["prompt"]
    assert (prompt["step"], prompt["kind"], data["locale"]) == ("purpose", "choice", locale)
    expected = "Wofür möchten Sie WhatsApp nutzen?" if locale == "de" else "What do you want to use WhatsApp for?"
    assert prompt["text"] == expected
    assert [o["value"] for o in prompt["options"]] == ["customer", "internal", "both"]
    assert prompt["progress"]["answered"] == 0 and prompt["progress"]["total"] > 20


def test_the_organisation_language_is_the_default(world):
    _token, prompt = world.api.start(world.other_link, locale=None)
    assert prompt["text"] == "What do you want to use WhatsApp for?"
    _token, prompt = world.api.start(world.acme_link, locale=None)
    assert prompt["text"] == "Wofür möchten Sie WhatsApp nutzen?"


def test_tokens_are_long_random_and_distinct(world):
    tokens = {world.api.start(world.acme_link)[0] for _ in range(20)}
    assert len(tokens) == 20
    assert all(len(t) >= 32 and not t.startswith("-") for t in tokens)


@pytest.mark.parametrize(("name", "answers", "recommendation"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_full_conversation_and_its_checklist(world, name, answers, recommendation):
    api = world.api
    token, prompt = api.start(world.acme_link, locale="en")
    steps = api.finish(token, answers, prompt)
    assert steps == contract.path(answers)

    final = api.get(token)
    assert final["prompt"]["kind"] == "done" and final["prompt"]["step"] == "done"
    assert final["completed_at"] is not None
    assert final["prompt"]["summary"] == {k: list(contract.statuses(answers).values()).count(k) for k in ("done", "open", "critical", "not_applicable")}

    response = api.manager("/api/v1/orgs/acme/checklist?lang=en", world.anna)
    assert response.status_code == 200
    checklist = response.get_json()
    assert (checklist["recommendation"]["value"], checklist["recommendation"]["reasons"]) == (recommendation[0], recommendation[1])
    assert {i["id"]: i["status"] for i in checklist["items"]} == contract.statuses(answers)
    assert [i["id"] for i in checklist["items"]] == contract.ITEM_IDS
    assert checklist["org"] == {"slug": "acme", "name": "ACME GmbH"}
    assert checklist["assessment"]["flow"] == "whatsapp_gdpr" and checklist["assessment"]["version"] == 1
    assert "token" not in checklist["assessment"]  # the respondent's capability is not handed out

    history = api.manager("/api/v1/orgs/acme/history", world.anna).get_json()
    assert len(history["revisions"]) == len(steps)
    assert [r["seq"] for r in history["revisions"]] == list(range(len(steps) + 1, 1, -1))  # newest first
    assert {r["step"] for r in history["revisions"]} == set(steps)


def test_answers_come_back_normalised_and_info_steps_take_ok(world):
    api = world.api
    token, _ = api.start(world.acme_link)
    for step, value in [("purpose", "customer"), ("sensitive_data", "no"), ("initiator", "customers_only"), ("agents", "one")]:
        assert api.answer(token, step, value).status_code == 200
    # a multi step takes a list (kept in option order); a single string is taken as a one-item list
    response = api.answer(token, "integrations", ["shop", "crm"])
    assert response.status_code == 200
    assert api.get(token)["answers"]["integrations"] == ["crm", "shop"]


def test_resume_from_another_client(world):
    first = world.api
    token, _ = first.start(world.acme_link, locale="de")
    first.answer(token, "purpose", "customer")
    first.answer(token, "sensitive_data", "no")

    second = Api(world.app)  # a new browser: nothing but the token
    resumed = second.get(token)
    assert resumed["prompt"]["step"] == "initiator"
    assert resumed["answers"] == {"purpose": "customer", "sensitive_data": "no"}
    assert resumed["prompt"]["progress"]["answered"] == 2
    assert second.answer(token, "initiator", "customers_only").status_code == 200
    assert first.get(token)["prompt"]["step"] == "agents"


def test_lang_parameter_and_locale_switch(world):
    api = world.api
    token, _ = api.start(world.acme_link, locale="de")
    assert api.get(token, lang="en")["prompt"]["text"] == "What do you want to use WhatsApp for?"
    assert api.get(token)["locale"] == "de"
    before = snapshot(world.app, token)
    response = api.call("PATCH", f"/api/v1/assessments/{token}", {"locale": "en"})
    assert response.status_code == 200 and response.get_json()["prompt"]["text"] == "What do you want to use WhatsApp for?"
    after = snapshot(world.app, token)
    assert after[4] == "en" and after[:4] == before[:4] and after[5] == before[5]  # a language switch is not a turn
    assert api.call("PATCH", f"/api/v1/assessments/{token}", {"locale": "fr"}).status_code == 422
    assert snapshot(world.app, token) == after


def test_back_keeps_the_answer_and_the_history(world):
    api = world.api
    token, _ = api.start(world.acme_link)
    api.answer(token, "purpose", "customer")
    api.answer(token, "sensitive_data", "unsure")
    response = api.back(token)
    assert response.status_code == 200
    prompt = response.get_json()["prompt"]
    assert prompt["step"] == "sensitive_data" and prompt["value"] == "unsure"  # pre-selected
    assert api.get(token)["answers"] == {"purpose": "customer", "sensitive_data": "unsure"}
    _state, _answers, _version, _done, _locale, revisions = snapshot(world.app, token)
    assert [(r[1], r[2]) for r in revisions] == [("answer", "purpose"), ("answer", "sensitive_data"), ("back", "initiator")]

    # a changed answer is a new revision; the old one stays in the history
    assert api.answer(token, "sensitive_data", "no").status_code == 200
    history = api.manager("/api/v1/orgs/acme/history", world.anna).get_json()["revisions"]
    assert [(r["action"], r["step"], r["value"]) for r in history][:2] == [("answer", "sensitive_data", "no"), ("back", "initiator", "sensitive_data")]
    assert ("answer", "sensitive_data", "unsure") in [(r["action"], r["step"], r["value"]) for r in history]


def test_back_from_done_reopens_but_the_checklist_stays(world):
    api = world.api
    token, prompt = api.start(world.acme_link)
    api.finish(token, INTERNAL_ONLY, prompt)
    first = api.manager("/api/v1/orgs/acme/checklist", world.anna).get_json()
    response = api.back(token)
    assert response.get_json()["prompt"]["step"] == "sick_notes"
    # the manager still sees the last completed checklist while the respondent edits (only the record's turn counter moved on)
    during = api.manager("/api/v1/orgs/acme/checklist", world.anna).get_json()
    assert during["record"].pop("version") == first["record"].pop("version") + 1
    assert during == first
    api.answer(token, "sick_notes", "eau")
    updated = api.manager("/api/v1/orgs/acme/checklist", world.anna).get_json()
    assert {i["id"]: i["status"] for i in updated["items"]}["WA-26"] == "done"


def test_optional_fields_sent_as_null_count_as_not_given(world):
    api = world.api
    created = api.call("POST", "/api/v1/assessments", {"embed_key": world.acme_key, "locale": None, "channel": None})
    assert created.status_code == 201 and created.get_json()["locale"] == "de"  # the organisation's language
    token = created.get_json()["token"]
    assert api.call("POST", f"/api/v1/assessments/{token}/answers", {"step": "purpose", "value": "customer", "channel": None}).status_code == 200
    assert api.back(token, {"step": None, "channel": None}).get_json()["prompt"]["step"] == "purpose"
    with world.app.app_context():
        channels = db.session().scalars(select(AnswerRevision.surface)).all()
    assert channels == ["api", "api"]


def test_skipping_an_optional_step_with_null(world, flow):
    target = "company_name"
    assert flow.step_by_id[target].optional
    api = world.api
    token, _ = api.start(world.acme_link)
    _walk_to(api, token, target, GOLDEN[0][1])
    response = api.answer(token, target, None)
    assert response.status_code == 200
    assert response.get_json()["prompt"]["step"] == "company_address"
    _s, answers_now, _v, _d, _l, revisions = snapshot(world.app, token)
    assert target not in answers_now
    assert revisions[-1][1:] == ("skip", target, None)
    # a blank text counts as skipped too
    assert api.answer(token, "company_address", "   ").status_code == 200
    assert snapshot(world.app, token)[5][-1][1:] == ("skip", "company_address", None)


# -- bad input: a clear error, and nothing changes ------------------------------------


def _answer_raw(api, token, raw, content_type="application/json"):
    return api.call("POST", f"/api/v1/assessments/{token}/answers", raw=raw, content_type=content_type)


BAD_REQUESTS = [
    ("malformed JSON", lambda api, t: _answer_raw(api, t, b'{"step": "purpose", '), 400, "malformed_json"),
    ("not UTF-8", lambda api, t: _answer_raw(api, t, b'{"step": "\xff"}'), 400, "malformed_json"),
    ("array body", lambda api, t: _answer_raw(api, t, b'["purpose"]'), 400, "invalid_body"),
    ("no step", lambda api, t: api.call("POST", f"/api/v1/assessments/{t}/answers", {"value": "customer"}), 400, "invalid_body"),
    ("step not a string", lambda api, t: api.answer(t, 7, "customer"), 400, "invalid_body"),
    ("deeply nested", lambda api, t: _answer_raw(api, t, b"[" * 5000 + b"]" * 5000), 400, "malformed_json"),
    ("unknown channel", lambda api, t: api.answer(t, "purpose", "customer", channel="fax"), 400, "invalid_body"),
    ("unknown token", lambda api, t: api.answer("x" * 32, "purpose", "customer"), 404, "unknown_assessment"),
    ("overlong token", lambda api, t: api.answer("x" * 300, "purpose", "customer"), 404, "unknown_assessment"),
    ("stale step", lambda api, t: api.answer(t, "agents", "one"), 409, "stale_step"),
    ("back at the first step", lambda api, t: api.back(t), 409, "no_previous_step"),
    ("body over 64 KiB", lambda api, t: api.answer(t, "purpose", "x" * (65 * 1024)), 413, "body_too_large"),
    ("form post", lambda api, t: _answer_raw(api, t, "step=purpose&value=customer", "application/x-www-form-urlencoded"), 415, "unsupported_media_type"),
    ("text/plain", lambda api, t: _answer_raw(api, t, '{"step": "purpose", "value": "customer"}', "text/plain"), 415, "unsupported_media_type"),
    ("value not an option", lambda api, t: api.answer(t, "purpose", "everything"), 422, "invalid_value"),
    ("value of the wrong type", lambda api, t: api.answer(t, "purpose", {"x": 1}), 422, "wrong_type"),
    ("number as value", lambda api, t: api.answer(t, "purpose", 3), 422, "wrong_type"),
    ("missing value on a required step", lambda api, t: api.call("POST", f"/api/v1/assessments/{t}/answers", {"step": "purpose"}), 422, "value_required"),
    ("unknown lang on a turn", lambda api, t: api.call("POST", f"/api/v1/assessments/{t}/answers?lang=fr", {"step": "purpose"}), 422, "invalid_locale"),
    ("lang in another spelling", lambda api, t: api.call("GET", f"/api/v1/assessments/{t}?lang=DE"), 422, "invalid_locale"),
    ("locale switch to an unknown language", lambda api, t: api.call("PATCH", f"/api/v1/assessments/{t}", {"locale": "de-DE"}), 422, "invalid_locale"),
    ("GET on answers", lambda api, t: api.call("GET", f"/api/v1/assessments/{t}/answers"), 405, "method_not_allowed"),
]


@pytest.mark.parametrize(("name", "send", "status", "code"), BAD_REQUESTS, ids=[b[0] for b in BAD_REQUESTS])
def test_bad_input_is_refused_clearly_and_changes_nothing(world, name, send, status, code):
    api = world.api
    token, _ = api.start(world.acme_link, locale="de")
    before = snapshot(world.app, token)
    revisions = count(world.app, AnswerRevision)
    response = send(api, token)
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"] and not error["message"].startswith("%")
    if status == 409:
        assert response.get_json()["prompt"]["step"] == "purpose"
    assert snapshot(world.app, token) == before
    assert count(world.app, AnswerRevision) == revisions


def test_invalid_value_is_named_in_the_assessment_language(world):
    api = world.api
    token, _ = api.start(world.acme_link, locale="de")
    error = api.answer(token, "purpose", "everything").get_json()["error"]
    assert error["allowed"] == ["customer", "internal", "both"]
    assert error["message"] == "Bitte wählen Sie eine der angebotenen Antworten: customer, internal, both."
    token_en, _ = api.start(world.acme_link, locale="en")
    error = api.answer(token_en, "purpose", "everything").get_json()["error"]
    assert error["message"] == "Please choose one of the offered answers: customer, internal, both."


def _walk_to(api, token, target, answers):
    prompt = api.get(token)["prompt"]
    while prompt["step"] != target:
        prompt = api.answer(token, prompt["step"], answers.get(prompt["step"], "ok")).get_json()["prompt"]


@pytest.mark.parametrize(
    ("scenario", "step", "value", "code"),
    [
        (0, "integrations", [], "empty_selection"),
        (0, "integrations", ["none", "crm"], "exclusive_option"),
        (0, "integrations", ["crm", "fax"], "invalid_value"),
        (0, "integrations", [1, 2], "wrong_type"),
        (2, "bsp_name", "x" * 2001, "text_too_long"),
        (2, "bsp_name", ["a list"], "wrong_type"),
    ],
)
def test_step_refusals(world, scenario, step, value, code):
    api = world.api
    token, _ = api.start(world.acme_link, locale="en")
    _walk_to(api, token, step, GOLDEN[scenario][1])
    before = snapshot(world.app, token)
    response = api.answer(token, step, value)
    assert (response.status_code, response.get_json()["error"]["code"]) == (422, code)
    assert snapshot(world.app, token) == before


def test_text_is_stored_as_given_up_to_the_limit(world):
    api = world.api
    token, _ = api.start(world.acme_link, locale="en")
    _walk_to(api, token, "bsp_name", GOLDEN[2][1])
    text = "<b>" + "x" * 1997  # exactly 2,000 characters; markup is escaped on output, never altered here
    assert api.answer(token, "bsp_name", text).status_code == 200
    assert api.get(token)["answers"]["bsp_name"] == text


def test_validated_text_steps(world, flow):
    validated = {s.id: s.validator for s in flow.steps if s.validator}
    assert set(validated.values()) == {"email", "http_url"}
    api = world.api
    token, _ = api.start(world.acme_link, locale="en")
    answers = GOLDEN[0][1]
    for step, validator in validated.items():
        _walk_to(api, token, step, answers)
        bad = "not-an-address" if validator == "email" else "javascript:alert(1)"
        response = api.answer(token, step, bad)
        assert (response.status_code, response.get_json()["error"]["code"]) == (422, f"invalid_{'email' if validator == 'email' else 'url'}")
        good = "info@example.de" if validator == "email" else "https://example.de/datenschutz"
        assert api.answer(token, step, good).status_code == 200


def test_answering_a_finished_assessment_is_a_conflict(world):
    api = world.api
    token, prompt = api.start(world.acme_link)
    api.finish(token, INTERNAL_ONLY, prompt)
    before = snapshot(world.app, token)
    response = api.answer(token, "sick_notes", "eau")  # a double submit of the last answer
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "flow_finished")
    assert response.get_json()["prompt"]["kind"] == "done"
    assert snapshot(world.app, token) == before


def test_back_with_a_stale_step_guard(world):
    api = world.api
    token, _ = api.start(world.acme_link)
    api.answer(token, "purpose", "customer")
    before = snapshot(world.app, token)
    response = api.back(token, {"step": "purpose"})  # this tab still shows the first question
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "stale_step")
    assert snapshot(world.app, token) == before
    assert api.back(token, {"step": "sensitive_data"}).status_code == 200


def test_back_takes_no_body_but_white_space_is_no_json(world):
    """An empty body means "no guard"; a body of white space alone is broken JSON (400) and changes nothing (found by schemathesis)."""
    api = world.api
    token, _ = api.start(world.acme_link)
    api.answer(token, "purpose", "customer")
    before = snapshot(world.app, token)
    refused = world.app.test_client().post(f"/api/v1/assessments/{token}/back", data="\r\n", content_type="application/json")
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (400, "malformed_json")
    assert snapshot(world.app, token) == before
    assert world.app.test_client().post(f"/api/v1/assessments/{token}/back").status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"embed_key": "no-such-key"}, 404, "unknown_embed_key"),
        ({"embed_key": "k" * 500}, 404, "unknown_embed_key"),
        ({}, 400, "invalid_body"),
        ({"embed_key": 42}, 400, "invalid_body"),
        ({"embed_key": "KEY", "locale": "fr"}, 422, "invalid_locale"),
        ({"embed_key": "KEY", "locale": 5}, 422, "invalid_locale"),
    ],
)
def test_create_refusals_create_nothing(world, body, status, code):
    body = {k: (world.acme_key if v == "KEY" else v) for k, v in body.items()}
    response = world.api.call("POST", "/api/v1/assessments", body)
    assert (response.status_code, response.get_json()["error"]["code"]) == (status, code)
    assert count(world.app, Assessment) == 0


def test_unknown_embed_key_message_follows_accept_language(world):
    response = world.api.call("POST", "/api/v1/assessments", {"embed_key": "nope"}, headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert response.get_json()["error"]["message"].startswith("Dieser Einbettungsschlüssel")
    response = world.api.call("POST", "/api/v1/assessments?lang=en", {"embed_key": "nope"})
    assert response.get_json()["error"]["message"].startswith("This embed key is unknown")


def test_an_assessment_of_a_removed_flow_version_is_refused_clearly(world):
    api = world.api
    token, _ = api.start(world.acme_link)
    with world.app.app_context():
        session = db.session()
        session.scalar(select(Assessment).where(Assessment.token_hash == hash_token(token))).flow_version = 99
        session.commit()
    before = snapshot(world.app, token)
    response = api.answer(token, "purpose", "customer")
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "flow_unavailable")
    assert snapshot(world.app, token) == before


# -- concurrency -----------------------------------------------------------------------


def test_concurrent_answers_exactly_one_wins(world):
    """Threads answer the same step at once, each through its own client and connection."""
    api = world.api
    token, prompt = api.start(world.acme_link)
    answers = GOLDEN[0][1]
    writers = 6
    for _round in range(4):
        step = prompt["step"]
        barrier = threading.Barrier(writers)
        results: list[tuple[int, dict]] = []
        lock = threading.Lock()

        def write(step=step, barrier=barrier, results=results, lock=lock):
            client = world.app.test_client()
            barrier.wait()
            response = client.post(f"/api/v1/assessments/{token}/answers", json={"step": step, "value": answers[step]})
            with lock:
                results.append((response.status_code, response.get_json()))

        threads = [threading.Thread(target=write) for _ in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(status for status, _ in results)
        assert statuses == [200] + [409] * (writers - 1), statuses
        winner = next(body for status, body in results if status == 200)
        for status, body in results:
            if status == 409:
                assert body["error"]["code"] == "stale_step"
                assert body["prompt"]["step"] == winner["prompt"]["step"]  # the loser sees the current prompt
        prompt = winner["prompt"]
    state, stored, version, _done, _locale, revisions = snapshot(world.app, token)
    assert [r[0] for r in revisions] == [2, 3, 4, 5]  # one revision per accepted turn, none duplicated
    assert version == 5 and state == prompt["step"]
    assert stored == {r[2]: r[3] for r in revisions}


# -- the manager API -------------------------------------------------------------------


def _complete(world, key, answers=INTERNAL_ONLY):
    token, prompt = world.api.start(key)
    world.api.finish(token, answers, prompt)
    return token


@pytest.mark.parametrize("path", ["/api/v1/orgs", "/api/v1/orgs/acme/checklist", "/api/v1/orgs/acme/history"])
@pytest.mark.parametrize("header", [None, "Bearer", "Bearer wrong-token", "Basic YW5uYTpzZWNyZXQ=", "Bearer " + "x" * 300])
def test_manager_api_needs_a_valid_token(world, path, header):
    headers = {"Authorization": header} if header else {}
    response = world.api.call("GET", path, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", ["checklist", "history"])
def test_managers_see_only_their_organisations(world, path):
    _complete(world, world.acme_link)
    _complete(world, world.other_link)
    api = world.api
    assert api.manager(f"/api/v1/orgs/acme/{path}", world.anna).status_code == 200
    assert api.manager(f"/api/v1/orgs/other/{path}", world.otto).status_code == 200
    foreign = api.manager(f"/api/v1/orgs/other/{path}", world.anna)
    missing = api.manager(f"/api/v1/orgs/no-such-org/{path}", world.anna)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.get_json() == missing.get_json()  # a foreign organisation looks exactly like none
    assert api.manager(f"/api/v1/orgs/acme/{path}", world.otto).status_code == 404
    assert api.manager(f"/api/v1/orgs/acme/{path}", world.root).status_code == 200  # admin
    assert api.manager(f"/api/v1/orgs/other/{path}", world.root).status_code == 200


def test_organisation_list_is_per_manager(world):
    api = world.api
    assert [o["slug"] for o in api.manager("/api/v1/orgs", world.anna).get_json()["organisations"]] == ["acme"]
    assert [o["slug"] for o in api.manager("/api/v1/orgs", world.otto).get_json()["organisations"]] == ["other"]
    assert [o["slug"] for o in api.manager("/api/v1/orgs", world.root).get_json()["organisations"]] == ["acme", "other"]


def test_history_never_mixes_organisations(world):
    _complete(world, world.acme_link)
    _complete(world, world.other_link, {"purpose": "internal", "internal_messenger": "none", "sick_notes": "eau"})
    acme = world.api.manager("/api/v1/orgs/acme/history", world.anna).get_json()
    other = world.api.manager("/api/v1/orgs/other/history", world.otto).get_json()
    assert {r["assessment"] for r in acme["revisions"]}.isdisjoint({r["assessment"] for r in other["revisions"]})
    assert {a["id"] for a in acme["assessments"]} == {r["assessment"] for r in acme["revisions"]}
    assert "eau" in [r["value"] for r in other["revisions"]] and "eau" not in [r["value"] for r in acme["revisions"]]


def test_checklist_is_the_latest_completed_assessment(world):
    api = world.api
    assert api.manager("/api/v1/orgs/acme/checklist", world.anna).get_json()["error"]["code"] == "no_completed_assessment"
    _complete(world, world.acme_link)
    _complete(world, world.acme_link, {"purpose": "internal", "internal_messenger": "business_messenger", "sick_notes": "eau"})
    api.start(world.acme_link)  # a newer, unfinished one does not count
    items = {i["id"]: i["status"] for i in api.manager("/api/v1/orgs/acme/checklist", world.anna).get_json()["items"]}
    assert (items["WA-21"], items["WA-26"]) == ("done", "done")


def test_checklist_language(world):
    _complete(world, world.acme_link)
    api = world.api
    german = api.manager("/api/v1/orgs/acme/checklist", world.anna).get_json()  # acme's language: de
    english = api.manager("/api/v1/orgs/acme/checklist?lang=en", world.anna).get_json()
    assert german["items"][0]["title"] != english["items"][0]["title"]
    assert [i["status"] for i in german["items"]] == [i["status"] for i in english["items"]]
    for path in ("checklist", "checklist.pdf", "documents"):
        refused = api.manager(f"/api/v1/orgs/acme/{path}?lang=fr", world.anna)
        assert refused.status_code == 422 and refused.get_json()["error"]["allowed"] == ["de", "en"]


def test_history_is_newest_first_and_limited(world):
    api = world.api
    _complete(world, world.acme_link)
    token, _ = api.start(world.acme_link)
    api.answer(token, "purpose", "customer")
    history = api.manager("/api/v1/orgs/acme/history", world.anna).get_json()
    assert history["assessments"][0]["state"] == "sensitive_data" and history["assessments"][1]["state"] == "done"
    assert history["revisions"][0]["step"] == "purpose" and history["revisions"][0]["value"] == "customer"
    times = [r["created_at"] for r in history["revisions"]]
    assert times == sorted(times, reverse=True)
    assert all(t.endswith("+00:00") for t in times)
    limited = api.manager("/api/v1/orgs/acme/history?limit=2", world.anna).get_json()
    assert len(limited["revisions"]) == 2
    for bad in ("0", "-1", "abc", "1001"):
        response = api.manager(f"/api/v1/orgs/acme/history?limit={bad}", world.anna)
        assert (response.status_code, response.get_json()["error"]["code"]) == (400, "invalid_limit")
