"""Property-based tests (hypothesis): any valid answer set, any order of back and answer."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine import DONE, EngineRegistry, FlowEngine, load_flow, load_flows
from bot.engine.lint import play
from bot.engine.predicates import check, effective_answers, is_asked
from bot.flowcode import FLOW_CODE
from tests import contract
from tests.conftest import FLOW_FILE

ENGINE = FlowEngine(load_flow(FLOW_FILE, code=FLOW_CODE))
FLOW = ENGINE.flow
ENGINE_V2 = EngineRegistry(load_flows(FLOW_FILE.parent, code=FLOW_CODE)).get("whatsapp_gdpr", 2)
FLOW_V2 = ENGINE_V2.flow
PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def value_strategy(step):
    """Any valid value of a step."""
    if step.kind == "choice":
        return st.sampled_from(step.values)
    if step.kind == "multi":
        plain = [o.value for o in step.options if not o.exclusive]
        exclusive = [[o.value] for o in step.options if o.exclusive]
        return st.one_of(st.lists(st.sampled_from(plain), min_size=1, unique=True).map(lambda v: [x for x in plain if x in v]),
                         st.sampled_from(exclusive))
    if step.kind == "info":
        return st.just("ok")
    if step.validator == "email":
        return st.one_of(st.none(), st.just("kontakt@example.de"))
    if step.validator == "http_url":
        return st.one_of(st.none(), st.just("https://example.de/datenschutz"))
    return st.one_of(st.none(), st.text(min_size=1, max_size=40).filter(str.strip))


def valid_value(step_id: str, pick: int) -> Any:
    """A valid answer to a step, chosen by the number `pick` (for clients that draw a number before they know the step)."""
    step = FLOW.step_by_id[step_id]
    if step.kind == "info":
        return "ok"
    if step.kind == "text":
        return {"email": "kontakt@example.de", "http_url": "https://example.de/datenschutz"}.get(step.validator or "", f"Antwort {pick}")
    option = step.options[pick % len(step.options)].value
    return option if step.kind == "choice" else [option]


answer_sets = st.fixed_dictionaries({step.id: value_strategy(step) for step in FLOW.steps})


@PROFILE
@given(answer_sets)
def test_any_valid_answer_set_reaches_done_with_26_items(answers):
    model, path = play(ENGINE, answers)
    assert model.state == DONE
    checklist = ENGINE.checklist(model.answers)
    assert len(checklist.items) == 26
    assert {i.id: i.status for i in checklist.items} == contract.statuses(model.answers)
    assert (checklist.recommendation.value, list(checklist.recommendation.reasons)) == contract.recommendation(model.answers)
    assert sum(checklist.summary.values()) == 26
    # The engine stores exactly the answers of the asked steps (optional blanks: none).
    assert set(model.answers) == {s for s in path if answers[s] is not None}


answer_sets_v2 = st.fixed_dictionaries({step.id: value_strategy(step) for step in FLOW_V2.steps})


@PROFILE
@given(answer_sets_v2)
def test_any_valid_v2_answer_set_gives_the_contracts_path_and_checklist(answers):
    model, path = play(ENGINE_V2, answers)
    assert model.state == DONE
    assert path == contract.path(answers, version=2)
    checklist = ENGINE_V2.checklist(model.answers)
    assert {i.id: i.status for i in checklist.items} == contract.statuses(model.answers, version=2)
    assert (checklist.recommendation.value, list(checklist.recommendation.reasons)) == contract.recommendation(model.answers, version=2)
    assert sum(checklist.summary.values()) == 30
    assert set(model.answers) == {s for s in path if answers[s] is not None}


@PROFILE
@given(st.fixed_dictionaries({}, optional={step.id: value_strategy(step) for step in FLOW_V2.steps}))
def test_v2_stale_answers_never_change_which_steps_are_asked(answers):
    """Version 2's asked_when on raw answers (with stale ones) agrees with the effective answers and the contract."""
    effective = effective_answers(FLOW_V2, answers)
    assert effective == contract.effective(answers, version=2)
    for step in FLOW_V2.steps:
        assert is_asked(step, answers) == is_asked(step, effective) == contract.asked(step.id, effective, version=2)


@PROFILE
@given(answer_sets, answer_sets_v2)
def test_migrated_v1_answers_are_the_contracts(v1_answers, v2_answers):
    """Any completed v1 assessment migrates as the contract says; its re-assessment asks the contract's steps."""
    from bot.engine.migration import migrate_answers
    from tests.test_flow_walks_v2 import reassess

    v1_model, _ = play(ENGINE, v1_answers)
    expected = contract.migrate_v1_to_v2(v1_model.answers)
    expected.pop("recommendation", None)  # an info step: shown again, never carried over
    assert migrate_answers(FLOW_V2, 1, v1_model.answers) == expected
    _model, asked = reassess(v1_model.answers, v2_answers)
    assert asked == contract.reassessment_steps(v1_model.answers, v2_answers)


@PROFILE
@given(answer_sets, st.data())
def test_back_then_the_same_answer_is_a_no_op(answers, data):
    model, path = play(ENGINE, answers)
    steps_back = data.draw(st.integers(min_value=1, max_value=len(path)))
    for _ in range(steps_back):
        ENGINE.back(model)
    assert model.state == path[-steps_back]
    before = dict(model.answers)
    step = FLOW.step_by_id[model.state]
    if model.state in model.answers:
        ENGINE.answer(model, step.id, model.answers[step.id])
    else:
        ENGINE.skip(model, step.id)
    assert model.answers == before
    assert model.state == (path[-steps_back + 1] if steps_back > 1 else DONE)


@PROFILE
@given(st.fixed_dictionaries({}, optional={step.id: value_strategy(step) for step in FLOW.steps}))
def test_stale_answers_never_change_which_steps_are_asked(answers):
    """asked_when on raw answers (with stale ones) agrees with the effective answers and the contract."""
    effective = effective_answers(FLOW, answers)
    assert effective == contract.effective(answers)
    for step in FLOW.steps:
        assert is_asked(step, answers) == is_asked(step, effective) == contract.asked(step.id, contract.effective(answers))
        # Each compiled predicate of an asked_when ignores stale answers of steps off the path by itself.
        for alternative in step.asked_when:
            for predicate in alternative:
                assert check(predicate, answers) == check(predicate, effective), (step.id, predicate)
    # The Python conditions hold only when the steps they read are asked, so stale answers cannot switch them on.
    for condition in FLOW.conditions.values():
        assert condition(answers) == condition(effective)


@PROFILE
@given(answer_sets, st.lists(st.sampled_from(["answer", "back", "skip", "restart", "bogus"]), max_size=60), st.data())
def test_random_turns_never_corrupt_the_state(answers, actions, data):
    """Any sequence of triggers leaves a state on the path and answers that are valid."""
    model = SimpleNamespace(state=ENGINE.initial_state, answers={})
    from bot.engine import TurnError
    from bot.engine.values import validate_value

    for action in actions:
        before = (model.state, dict(model.answers))
        step = FLOW.step_by_id.get(model.state)
        try:
            if action == "answer" and step:
                ENGINE.answer(model, step.id, data.draw(value_strategy(step)) if step.kind != "text" else answers[step.id] or "x")
            else:
                ENGINE.fire(model, action, step.id if step else None)
        except TurnError:
            assert (model.state, model.answers) == before
        assert model.state == DONE or is_asked(FLOW.step_by_id[model.state], model.answers)
        for step_id, value in model.answers.items():
            assert validate_value(FLOW.step_by_id[step_id], value) == value
