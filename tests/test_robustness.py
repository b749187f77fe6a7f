"""Robustness of the JSON API on SQLite and PostgreSQL: schemathesis, random conversations, fuzzed bodies.

- schemathesis generates requests from /api/openapi.json (schema-valid and schema-violating)
  and checks: no 5xx, every response matches the document, invalid data is refused.
- A hypothesis state machine answers, goes back, sends stale and invalid turns in random
  order; after every step the stored answers, state and revision count equal a model
  built from the contract oracle (tests/contract.py), not from the engine.
- Fuzzed bodies (wrong types, huge strings, any unicode, nested JSON, raw bytes) are
  always a 4xx with a localised message, and change nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from schemathesis import GenerationMode

from bot.store.models import Assessment
from bot.web.openapi import document
from tests import contract
from tests.test_api import INTERNAL_ONLY, SCENARIOS, _walk_to, count, snapshot
from tests.test_properties import FLOW, valid_value, value_strategy

pytestmark = pytest.mark.slow  # schemathesis, state machines and fuzzing: about a minute on two cores

HTTP_METHODS = ("get", "post", "patch", "put", "delete")
OPERATIONS = [(method.upper(), path) for path, item in document()["paths"].items() for method in item if method in HTTP_METHODS]
# Each operation with valid requests, and (unless it takes no input at all) with schema-violating ones.
SCHEMATHESIS_CASES = [(m, p, mode) for m, p in OPERATIONS for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
                      if not (mode is GenerationMode.NEGATIVE and p == "/api/openapi.json")]  # fmt: skip
# A schema-valid answer may still not fit the step it names (which values a step takes is not
# static, so the document cannot say it), and a schema-valid profile field may still be no VAT ID,
# phone number or URL, or carry a control character (the document describes these formats in words);
# the living checklist's changes depend on stored facts (an owner must be a member, a risk's date not
# past, a file's content an allowed type, the item's or record's version current):
# for those operations a 422 (and a 409 for a stale version) is a correct reply too.
CONTENT_DEPENDENT = schemathesis.Config.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]}}}
)
# Hypothesis leans towards the first element (and towards False in booleans), so this is mostly True.
OFTEN = st.sampled_from([True, True, True, False])
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)


def _tokens(world) -> dict[str, str]:
    """Assessments in three states: new, half-way, completed (so generated requests reach real ones)."""
    api = world.api
    new, _ = api.start(world.acme_link, locale="de")
    halfway, _ = api.start(world.acme_link, locale="en")
    for step, value in (("purpose", "customer"), ("sensitive_data", "no")):
        assert api.answer(halfway, step, value).status_code == 200
    done, prompt = api.start(world.acme_link)
    api.finish(done, INTERNAL_ONLY, prompt)
    visitor, prompt = api.start(world.acme_key)  # a self-assessment passed on: a submission to adopt, dismiss or turn into a client
    api.finish(visitor, INTERNAL_ONLY, prompt)
    assert api.call("POST", f"/api/v1/assessments/{visitor}/consent", {"contact_email": "kunde@example.de"}).status_code == 200
    return {"new": new, "halfway": halfway, "done": done, "visitor": visitor}


def _ids(world) -> dict[str, list[Any]]:
    """The ids of real respondent links, assessments, checklist items and evidence (so generated requests reach them)."""
    from sqlalchemy import select

    from bot.store import db
    from bot.store.models import Assessment, Evidence, RespondentLink, WebhookEndpoint

    for item_id in ("WA-21", "WA-26"):  # critical in acme's checklist of record (completed in _tokens): evidence to read, link and delete, risks to withdraw
        headers = {"Authorization": f"Bearer {world.anna}"}
        body = {"url": "https://dms.example/avv", "name": "AVV"}
        assert world.api.call("POST", f"/api/v1/orgs/acme/items/{item_id}/evidence", body, headers=headers).status_code == 201
        risk = {"reason": "Until the review", "until": "2099-12-31"}  # a risk acceptance to withdraw
        assert world.api.call("PUT", f"/api/v1/orgs/acme/items/{item_id}/risk-acceptance", risk, headers=headers).status_code == 200
    hook = {"url": "https://93.184.215.14/hook", "events": ["item.updated"]}  # a public address literal: no DNS lookup
    assert world.api.call("POST", "/api/v1/orgs/acme/webhooks", hook, headers={"Authorization": f"Bearer {world.anna}"}).status_code == 201
    with world.app.app_context():
        session = db.session()
        submissions = select(Assessment.id).where(Assessment.consented_at.is_not(None))  # the only ones the {assessment_id} routes take
        return {
            "link_id": list(session.scalars(select(RespondentLink.id))),
            "assessment_id": list(session.scalars(submissions)),
            "evidence_id": list(session.scalars(select(Evidence.id))),
            "webhook_id": list(session.scalars(select(WebhookEndpoint.id))),
            # the critical ones first: hypothesis leans towards the first element, and only they take a risk acceptance
            "item_id": ["WA-21", "WA-26", "WA-01", "WA-05"],
        }


# -- schemathesis against the OpenAPI document ---------------------------------------------


@pytest.mark.parametrize(("method", "path", "mode"), SCHEMATHESIS_CASES, ids=[f"{m} {p} {mode.value}" for m, p, mode in SCHEMATHESIS_CASES])
def test_every_operation_keeps_its_openapi_contract(world, method, path, mode):
    """No 5xx, responses as documented, schema-violating requests refused: for every operation."""
    made = _tokens(world)
    tokens = list(made.values())
    if path.endswith("/result-mail"):
        world.app.config["MAIL_SERVER"] = "127.0.0.1"  # mail on (nothing is sent: no worker runs here)
        tokens = [made["done"], made["visitor"]]  # only a completed assessment's result is mailed
    if path.endswith("/consent") or (method == "DELETE" and path == "/api/v1/assessments/{token}"):
        tokens = [made["visitor"], made["done"]]  # only a completed self-assessment is passed on or deleted (hypothesis leans to the first)
    ids = _ids(world)
    current = {t: world.api.get(t)["prompt"]["step"] for t in tokens}
    # An address the document's pattern allows may still fail the app's e-mail rule (consent, result mail): 422 is right too.
    content_dependent = ("/answers", "/profile", "/webhooks", "/result-mail", "/consent")
    config = CONTENT_DEPENDENT if path.endswith(content_dependent) or "/items/" in path else None
    operation = schemathesis.openapi.from_wsgi("/api/openapi.json", world.app, config=config)[path][method]
    statuses: dict[int, int] = {}

    @FUZZ
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def check(case, data):
        # Point part of the cases at real assessments, organisations, keys and tokens, so the
        # checks see 200s, 409s and 422s and not only 404s; never in a deliberately invalid part.
        invalid = {loc.value for loc, info in case.meta.components.items() if info.mode == GenerationMode.NEGATIVE}
        if "path" not in invalid and case.path_parameters and data.draw(OFTEN):
            if "token" in case.path_parameters:
                case.path_parameters["token"] = data.draw(st.sampled_from(tokens))
            if "slug" in case.path_parameters:
                # links and submissions were made for acme: aim at it there, and at both elsewhere
                case.path_parameters["slug"] = "acme" if "assessment_id" in case.path_parameters else data.draw(st.sampled_from(["acme", "other"]))
            for name in ("link_id", "assessment_id", "evidence_id", "item_id", "webhook_id"):
                if name in case.path_parameters:
                    case.path_parameters[name] = data.draw(st.sampled_from(ids[name]))
        if "body" not in invalid and isinstance(case.body, dict) and data.draw(OFTEN):
            if "embed_key" in case.body:
                case.body["embed_key"] = world.acme_key
            if path == "/api/v1/orgs/{slug}/answers" and "step" in case.body:  # an amendment of acme's record (internal use only)
                case.body.update(step="sick_notes", value=valid_value("sick_notes", data.draw(st.integers(0, 1000))))
                case.body.pop("version", None)
            if path == "/api/v1/orgs/{slug}/items/{item_id}" and "version" in case.body:  # the item's current version, mostly
                current_item = world.api.client.get(path.format(**case.path_parameters), headers={"Authorization": f"Bearer {world.anna}"}).get_json()
                case.body["version"] = current_item["item"]["tracking"]["version"] if "item" in current_item else 0
            if path == "/api/v1/orgs/{slug}/webhooks" and "url" in case.body:
                case.body["url"] = "https://93.184.215.14/hook"  # a public address literal: creating needs no DNS lookup
            for field in ("email", "contact_email"):
                if field in case.body:
                    case.body[field] = "kunde@example.de"
            if "until" in case.body:
                case.body["until"] = "2099-12-31"  # a risk is accepted until today or later: most generated dates are past
            token = (case.path_parameters or {}).get("token")
            if "step" in case.body and token in current:
                case.body["step"] = current[token]
                use_a_valid_value, pick = data.draw(OFTEN), data.draw(st.integers(0, 1000))  # drawn whatever the state
                if current[token] != "done" and use_a_valid_value:
                    case.body["value"] = valid_value(current[token], pick)
        if "header" not in invalid and data.draw(OFTEN):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {world.anna}"}
        if method == "DELETE" and path.endswith("/risk-acceptance") and "path" not in invalid and case.path_parameters:
            # a risk acceptance to withdraw, every time (an earlier example may have withdrawn it); refused where none can be accepted
            params = {k: str(v) for k, v in case.path_parameters.items()}
            acceptance = {"reason": "Until the review", "until": "2099-12-31"}
            world.api.client.put(path.format(**params), json=acceptance, headers={"Authorization": f"Bearer {world.anna}"})
        if case.headers:
            # A generated Host header names another server: the trusted-host guard answers 400 before any route (tested in test_edges.py).
            case.headers = {name: value for name, value in case.headers.items() if name.lower() != "host"}
        response = case.call()
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        case.validate_response(response)
        if response.status_code == 200 and (case.path_parameters or {}).get("token") in current and "prompt" in response.json():
            current[case.path_parameters["token"]] = response.json()["prompt"]["step"]

    check()
    assert not [s for s in statuses if s >= 500], statuses
    if mode is GenerationMode.POSITIVE:
        assert any(200 <= s < 300 for s in statuses), f"no generated request reached a real resource: {statuses}"


# -- random conversations against the contract oracle --------------------------------------


def conversation_machine(world):
    """A state machine class bound to the test's app: one conversation per hypothesis example."""
    api, app = world.api, world.app

    class Conversation(RuleBasedStateMachine):
        """Answers, backs, stale and invalid turns in random order, checked against the oracle."""

        def __init__(self) -> None:
            super().__init__()
            self.token, prompt = api.start(world.acme_link, locale="de")
            self.state, self.answers, self.accepted = prompt["step"], {}, 0

        @precondition(lambda self: self.state != "done")
        @rule(data=st.data())
        def answer(self, data):
            """A valid answer to the current step is taken and moves to the oracle's next step."""
            value = data.draw(value_strategy(FLOW.step_by_id[self.state]), label="value")
            response = api.answer(self.token, self.state, value)
            assert response.status_code == 200, response.get_json()
            if value is None:
                self.answers.pop(self.state, None)
            else:
                self.answers[self.state] = value
            self.state = contract.next_step(self.state, self.answers)
            self.accepted += 1
            assert response.get_json()["prompt"]["step"] == self.state

        @rule(guarded=st.booleans())
        def back(self, guarded):
            """Back goes to the previous asked step and keeps every answer; at the first step it is 409."""
            before = snapshot(app, self.token)
            response = api.back(self.token, {"step": self.state} if guarded else None)
            previous = contract.previous_step(self.state, self.answers)
            if previous is None:
                assert response.status_code == 409 and response.get_json()["error"]["code"] == "no_previous_step"
                assert snapshot(app, self.token) == before
                return
            assert response.status_code == 200, response.get_json()
            self.state = previous
            self.accepted += 1
            assert response.get_json()["prompt"]["step"] == self.state

        @rule(step=st.sampled_from(contract.STEP_ORDER))
        def stale_answer(self, step):
            """An answer to any other step (a stale tab) is 409 with the current prompt, and changes nothing."""
            if step == self.state:
                return
            before = snapshot(app, self.token)
            response = api.answer(self.token, step, "ok")
            assert response.status_code == 409, response.get_json()
            assert response.get_json()["prompt"]["step"] == self.state
            assert snapshot(app, self.token) == before

        @precondition(lambda self: self.state != "done")
        @rule(value=st.one_of(st.integers(), st.booleans(), st.dictionaries(st.text(max_size=3), st.integers()), st.just(["nope"]), st.just("x" * 2001)))
        def invalid_answer(self, value):
            """A value the step cannot take is 422 and changes nothing."""
            before = snapshot(app, self.token)
            response = api.answer(self.token, self.state, value)
            assert response.status_code == 422, (self.state, value, response.get_json())
            assert snapshot(app, self.token) == before

        @rule(locale=st.sampled_from(["de", "en"]))
        def switch_language(self, locale):
            """The language switch is not a turn: answers and history stay."""
            response = api.call("PATCH", f"/api/v1/assessments/{self.token}", {"locale": locale})
            assert response.status_code == 200 and response.get_json()["locale"] == locale

        @invariant()
        def stored_answers_are_the_last_accepted_ones(self):
            """The database holds exactly the last accepted value per asked step, one revision per accepted turn."""
            state, answers, version, _completed, _locale, revisions = snapshot(app, self.token)
            assert state == self.state
            assert answers == self.answers
            assert len(revisions) == self.accepted
            assert version == 1 + self.accepted  # a new assessment is version 1
            assert api.get(self.token)["answers"] == contract.effective(self.answers)

    return Conversation


def test_random_answer_and_back_sequences_keep_the_last_accepted_answers(world):
    run_state_machine_as_test(
        conversation_machine(world),
        settings=settings(max_examples=20, stateful_step_count=40, deadline=None, suppress_health_check=list(HealthCheck), database=None),
    )


# -- fuzzed bodies: always a 4xx, nothing changes ------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | st.sampled_from(["", "\x00", "\ud800", "=1+1", "<script>"])
    | st.integers(2_000, 70_000).map(lambda n: "x" * n) | st.integers(500, 20_000).map(lambda n: "😀" * n),  # huge: over the text and body limits
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
CHANNELS = ("api", "widget", None)
PURPOSE_VALUES = set(FLOW.step_by_id["purpose"].values)
# Bodies a client could send to a fresh assessment that is at "purpose", none of them a valid answer.
answer_bodies = st.one_of(
    json_values.filter(lambda v: not isinstance(v, dict)),  # not an object
    st.fixed_dictionaries({"step": json_values.filter(lambda v: not isinstance(v, str))}, optional={"value": json_values}),
    st.fixed_dictionaries({"step": st.text().filter(lambda s: s != "purpose"), "value": json_values}),  # stale or unknown step
    st.fixed_dictionaries({"step": st.just("purpose"), "value": json_values.filter(lambda v: not (isinstance(v, str) and v in PURPOSE_VALUES))}),
    st.fixed_dictionaries(  # a valid answer, but through an unknown channel
        {"step": st.just("purpose"), "value": st.sampled_from(sorted(PURPOSE_VALUES)), "channel": json_values.filter(lambda v: v not in CHANNELS)}
    ),
    st.dictionaries(st.text(max_size=8), json_values, max_size=6).filter(lambda d: "step" not in d),
)


def _send(api, method: str, path: str, body: Any) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body)
    return api.call(method, path, raw=raw)


def _assert_refused(response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data()[:300])
    error = response.get_json()["error"]
    assert error["code"] and error["message"] and "%(" not in error["message"]


def test_fuzzed_answer_bodies_are_refused_and_change_nothing(world):
    """At the first step even a well-formed back is refused (409), so every body here is a refusal."""
    token, _ = world.api.start(world.acme_link, locale="de")
    before = snapshot(world.app, token)

    @FUZZ
    @given(body=st.one_of(answer_bodies, st.binary(max_size=200)), endpoint=st.sampled_from(["answers", "back"]))
    def check(body, endpoint):
        _assert_refused(_send(world.api, "POST", f"/api/v1/assessments/{token}/{endpoint}", body))
        assert snapshot(world.app, token) == before

    check()


def test_fuzzed_create_and_language_bodies_are_refused_and_change_nothing(world):
    token, _ = world.api.start(world.acme_link, locale="de")
    before = snapshot(world.app, token)
    assessments = count(world.app, Assessment)
    not_a_key = json_values.filter(lambda v: v != world.acme_key and v != world.other_key)
    create_bodies = st.one_of(
        json_values, st.binary(max_size=200),
        st.fixed_dictionaries({"embed_key": not_a_key}, optional={"locale": json_values, "channel": json_values}),
        st.fixed_dictionaries({"embed_key": st.just(world.acme_key), "locale": json_values.filter(lambda v: v not in ("de", "en", None))}),
    )  # fmt: skip
    locale_bodies = st.one_of(json_values, st.binary(max_size=200), st.fixed_dictionaries({"locale": json_values.filter(lambda v: v not in ("de", "en"))}))

    @FUZZ
    @given(create=create_bodies, patch=locale_bodies)
    def check(create, patch):
        _assert_refused(_send(world.api, "POST", "/api/v1/assessments", create))
        _assert_refused(_send(world.api, "PATCH", f"/api/v1/assessments/{token}", patch))
        assert snapshot(world.app, token) == before

    check()
    assert count(world.app, Assessment) == assessments


@pytest.mark.parametrize("step", ["company_name", "contact_email", "privacy_url"])
def test_fuzzed_text_answers_are_stored_as_given_or_refused(world, step):
    """Any unicode text is either stored exactly as sent or refused with a 4xx (never a 5xx)."""
    token, _ = world.api.start(world.acme_link)
    _walk_to(world.api, token, step, {**SCENARIOS[2][1], "contact_email": "kontakt@example.de"})

    @FUZZ
    @given(text=st.one_of(st.text(), st.text(min_size=1900, max_size=2100), st.sampled_from(["\x00", "a\x00b", "\ud800", "😀", " ", "=HYPERLINK()"])))
    def check(text):
        before = snapshot(world.app, token)
        response = world.api.answer(token, step, text)
        if response.status_code == 200:
            assert snapshot(world.app, token)[1].get(step) == (text if text.strip() else None)
            assert world.api.back(token).status_code == 200
        else:
            _assert_refused(response)
            assert snapshot(world.app, token) == before

    check()


def test_fuzzed_wizard_forms_are_refused_and_change_nothing(world):
    """The no-JavaScript wizard's forms: any field values (and any CSRF token) never give a 5xx and store nothing."""
    from tests.wizard_user import WizardUser

    user = WizardUser(world.app.test_client()).start(f"/r/{world.acme_link}")
    token, csrf_token = user.token, dict(user.fields())["csrf_token"]
    before = snapshot(world.app, token)
    form_text = st.text(max_size=50) | st.integers(2_000, 70_000).map(lambda n: "x" * n)
    not_an_option = form_text.filter(lambda v: v not in PURPOSE_VALUES)

    fields = st.fixed_dictionaries(
        {"csrf_token": st.one_of(st.just(csrf_token), form_text)},
        optional={
            "step": st.one_of(st.just("purpose"), form_text),
            "action": st.one_of(st.sampled_from(["next", "back", "skip"]), form_text),
            "value": st.lists(not_an_option, max_size=3),
            "from": form_text,
        },
    )

    @FUZZ
    @given(target=st.sampled_from(["", "/change"]), fields=fields)
    def check(target, fields):
        response = user.client.post(f"/w/a/{token}{target}", data=fields)
        assert response.status_code in (303, 400, 409, 413, 422), (response.status_code, fields)
        assert snapshot(world.app, token) == before

    check()
