"""Engine unit tests: loading and validating flows, values, turns, prompts."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest
import yaml

from bot.engine import DONE, FlowEngine, FlowError, TurnError, load_flow, load_flows, parse_flow
from bot.engine.values import validate_value
from bot.flowcode import FLOW_CODE
from tests.conftest import FLOW_FILE
from tests.contract import ITEM_IDS, STEP_ORDER


def new(engine):
    """A fresh assessment-like object at the first step."""
    return SimpleNamespace(state=engine.initial_state, answers={})


def raw_flow():
    """The main flow file as raw data, to break on purpose."""
    return yaml.safe_load(FLOW_FILE.read_text("utf-8"))


def test_flow_matches_the_contract(flow):
    assert flow.id == "whatsapp_gdpr"
    assert flow.version >= 1 and len(flow.digest) == 16
    assert [s.id for s in flow.steps] == STEP_ORDER
    assert [i.id for i in flow.checklist] == ITEM_IDS


def test_engine_imports_neither_flask_nor_sqlalchemy():
    import subprocess
    import sys

    # bot/__init__ imports Flask, so import bot.engine under a bare package of its own.
    code = (
        "import sys, types; pkg = types.ModuleType('bot'); pkg.__path__ = ['bot']; sys.modules['bot'] = pkg; "
        "import bot.engine; bad = sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'sqlalchemy'}); "
        "print(bad); sys.exit(bool(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=FLOW_FILE.parent.parent, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda f: f["steps"][1]["options"][0].__setitem__("value", False), "step sensitive_data option 0: 'value' must be a string"),
        (lambda f: f["steps"][0].__setitem__("id", True), "steps[0]: 'id' must be a string"),
        (lambda f: f["steps"][1].__setitem__("asked_when", "no_such_condition"), "step sensitive_data: asked_when names no registered condition"),
        (lambda f: f["steps"][2].__setitem__("id", "purpose"), "step purpose: step ids must be unique"),
        (lambda f: f["steps"][0].__setitem__("kind", "slider"), "step purpose: unknown kind 'slider'"),
        (lambda f: f["checklist"][1]["rules"][0]["when"][0].__setitem__("in", ["tablet"]), "step device has no option 'tablet'"),
        (lambda f: f["checklist"][1]["rules"][0]["when"][0].__setitem__("step", "phone"), "unknown step 'phone'"),
        (lambda f: f["checklist"][1]["rules"][0].__setitem__("status", "maybe"), "item WA-02 rule 0: unknown status 'maybe'"),
        (lambda f: f["recommendation"]["values"][1]["when"][0].__setitem__("reason", "R99"), "unknown reason 'R99'"),
        (lambda f: f.__setitem__("version", "one"), "'version' must be a positive whole number"),
        (lambda f: f["steps"][0].pop("text"), "step purpose: 'text' is missing"),
    ],
)
def test_malformed_flows_name_the_file_the_place_and_the_problem(mutate, expected):
    data = raw_flow()
    mutate(data)
    with pytest.raises(FlowError) as info:
        parse_flow(data, source="broken.yaml", code=FLOW_CODE)
    assert str(info.value).startswith("broken.yaml: ")
    assert expected in str(info.value)


def test_a_bare_yaml_boolean_is_refused(tmp_path):
    quoted = '      - value: "no"\n        label: "No"\n      - value: "yes"\n        label: "Yes"\n      - value: "unsure"'
    text = FLOW_FILE.read_text("utf-8").replace(quoted, quoted.replace('value: "no"', "value: no", 1), 1)
    path = tmp_path / "bools.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(FlowError, match=r"bools.yaml: step sensitive_data option 0: 'value' must be a string, got bool False \(quote it"):
        load_flow(path, code=FLOW_CODE)


def test_two_files_with_the_same_flow_version_are_refused(tmp_path):
    (tmp_path / "a.yaml").write_text(FLOW_FILE.read_text("utf-8"), "utf-8")
    (tmp_path / "b.yaml").write_text(FLOW_FILE.read_text("utf-8"), "utf-8")
    with pytest.raises(FlowError, match=r"b\.yaml: top level: flow whatsapp_gdpr version 1 is also defined in a\.yaml"):
        load_flows(tmp_path, code=FLOW_CODE)


def test_an_older_flow_version_stays_loadable(tmp_path, flow):
    old = raw_flow()
    old["version"] = 1
    new_version = copy.deepcopy(old)
    new_version["version"] = 2
    (tmp_path / "whatsapp_gdpr.yaml").write_text(yaml.safe_dump(new_version), "utf-8")
    (tmp_path / "whatsapp_gdpr@1.yaml").write_text(yaml.safe_dump(old), "utf-8")
    from bot.engine import EngineRegistry

    v1_code = FLOW_CODE[("whatsapp_gdpr", 1)]
    registry = EngineRegistry(load_flows(tmp_path, code={("whatsapp_gdpr", 1): v1_code, ("whatsapp_gdpr", 2): v1_code}))
    assert registry.get("whatsapp_gdpr").flow.version == 2
    assert registry.get("whatsapp_gdpr", 1).flow.version == 1


@pytest.mark.parametrize(
    ("step", "value", "expected"),
    [
        ("purpose", "customer", "customer"),
        ("integrations", ["bot", "crm"], ["crm", "bot"]),  # stored in option order
        ("integrations", "none", ["none"]),
        ("company_name", "  ", None),  # optional: blank means no answer
        ("company_name", "Bäckerei Müller <b>GmbH</b>", "Bäckerei Müller <b>GmbH</b>"),  # stored as given
        ("company_name", "x" * 2000, "x" * 2000),
        ("contact_email", "datenschutz@example.de", "datenschutz@example.de"),
        ("privacy_url", "https://example.de/datenschutz", "https://example.de/datenschutz"),
        ("recommendation", "ok", "ok"),
    ],
)
def test_valid_values_are_normalised(flow, step, value, expected):
    assert validate_value(flow.step_by_id[step], value) == expected


@pytest.mark.parametrize(
    ("step", "value", "code"),
    [
        ("purpose", "sometimes", "invalid_value"),
        ("purpose", ["customer"], "wrong_type"),
        ("purpose", None, "wrong_type"),
        ("integrations", [], "empty_selection"),
        ("integrations", ["none", "crm"], "exclusive_option"),
        ("integrations", ["crm", "fax"], "invalid_value"),
        ("integrations", [1], "wrong_type"),
        ("security_measures", ["two_step", "none"], "exclusive_option"),
        ("company_name", "x" * 2001, "text_too_long"),
        ("company_name", 42, "wrong_type"),
        ("contact_email", "not-an-address", "invalid_email"),
        ("contact_email", "a@b", "invalid_email"),
        ("privacy_url", "ftp://example.de/x", "invalid_url"),
        ("privacy_url", "javascript:alert(1)", "invalid_url"),
        ("privacy_url", "https://", "invalid_url"),
        ("recommendation", "yes", "invalid_value"),
    ],
)
def test_invalid_values_are_refused_with_a_code(flow, step, value, code):
    with pytest.raises(TurnError) as info:
        validate_value(flow.step_by_id[step], value)
    assert info.value.code == code
    assert info.value.step == step


def test_invalid_value_names_the_allowed_values(flow):
    with pytest.raises(TurnError) as info:
        validate_value(flow.step_by_id["agents"], "seven")
    assert info.value.params["allowed"] == ["one", "few", "many"]


def test_a_refused_turn_changes_nothing(engine):
    model = new(engine)
    engine.answer(model, "purpose", "customer")
    before = (model.state, dict(model.answers))
    for step, value in [("sensitive_data", "maybe"), ("purpose", "internal"), ("initiator", "marketing")]:
        with pytest.raises(TurnError):
            engine.answer(model, step, value)
        assert (model.state, model.answers) == before
    with pytest.raises(TurnError) as info:
        engine.skip(model, "sensitive_data")
    assert info.value.code == "not_optional"
    assert (model.state, model.answers) == before


def test_a_stale_step_names_the_current_one(engine):
    model = new(engine)
    engine.answer(model, "purpose", "customer")
    with pytest.raises(TurnError) as info:
        engine.answer(model, "purpose", "both")
    assert info.value.code == "stale_step"
    assert info.value.params["current"] == "sensitive_data"


def test_internal_only_skips_to_the_internal_questions(engine):
    model = new(engine)
    engine.answer(model, "purpose", "internal")
    assert model.state == "internal_messenger"
    engine.answer(model, "internal_messenger", "whatsapp")
    engine.answer(model, "sick_notes", "messenger")
    assert model.state == DONE
    checklist = engine.checklist(model.answers)
    assert checklist.recommendation.value == "no_whatsapp"
    assert checklist.recommendation.reasons == ("R1",)


def test_back_returns_to_the_previous_asked_step_with_its_answer(engine):
    model = new(engine)
    engine.answer(model, "purpose", "internal")
    engine.back(model)
    assert model.state == "purpose"
    assert engine.prompt(model).value == "internal"
    with pytest.raises(TurnError) as info:
        engine.back(model)
    assert info.value.code == "no_previous_step"
    assert model.state == "purpose"


def test_changing_an_earlier_answer_keeps_later_answers_that_still_apply(engine):
    model = new(engine)
    for step, value in [("purpose", "customer"), ("sensitive_data", "no"), ("initiator", "customers_only")]:
        engine.answer(model, step, value)
    engine.back(model)
    engine.back(model)
    engine.answer(model, "sensitive_data", "yes")
    assert model.state == "initiator"
    assert engine.prompt(model).value == "customers_only"
    assert model.answers["sensitive_data"] == "yes"


def test_skip_removes_an_optional_answer(engine):
    model = SimpleNamespace(state="company_name", answers={"purpose": "customer", "channel": "business_app", "company_name": "Alt GmbH"})
    engine.skip(model, "company_name")
    assert "company_name" not in model.answers
    assert model.state == "company_address"


def test_restart_clears_the_answers(engine):
    model = new(engine)
    engine.answer(model, "purpose", "customer")
    engine.restart(model)
    assert (model.state, model.answers) == (engine.initial_state, {})


def test_triggers_are_a_whitelist(engine):
    model = new(engine)
    with pytest.raises(TurnError) as info:
        engine.fire(model, "to_done")
    assert info.value.code == "unknown_trigger"
    assert "to_done" not in engine.machine.events  # auto_transitions are off
    assert set(engine.machine.events) == {"answer", "back", "skip", "restart"}
    assert model.state == engine.initial_state


def test_an_unknown_state_is_refused(engine):
    model = SimpleNamespace(state="no_such_step", answers={})
    with pytest.raises(TurnError) as info:
        engine.answer(model, "no_such_step", "x")
    assert info.value.code == "unknown_step"


def test_the_machine_is_shared_and_never_binds_models(engine):
    models = [new(engine) for _ in range(50)]
    for model in models:
        engine.answer(model, "purpose", "customer")
    assert engine.machine.models == []
    assert all(m.state == "sensitive_data" for m in models)


def test_prompt_carries_keys_not_text(engine):
    prompt = engine.prompt(new(engine))
    assert prompt.step == "purpose" and prompt.kind == "choice"
    assert prompt.text.context == "whatsapp_gdpr.purpose.text"
    assert [o.value for o in prompt.options] == ["customer", "internal", "both"]
    assert prompt.options[0].label.context == "whatsapp_gdpr.purpose.option.customer"
    assert prompt.answered == 0 and prompt.total > 30


def test_progress_counts_asked_steps(engine):
    model = new(engine)
    engine.answer(model, "purpose", "internal")
    prompt = engine.prompt(model)
    assert (prompt.answered, prompt.total) == (1, 3)


def test_recommendation_step_shows_the_recommendation(engine):
    model = SimpleNamespace(state="recommendation", answers={"purpose": "customer", "agents": "many", "existing_app_number": "yes"})
    prompt = engine.prompt(model)
    assert prompt.kind == "info"
    assert prompt.recommendation.value == "platform"
    assert prompt.recommendation.reasons == ("R4", "R9")
    assert [m.context for m in prompt.recommendation.reason_texts] == ["whatsapp_gdpr.reason.R4.text", "whatsapp_gdpr.reason.R9.text"]


def test_done_prompt_has_the_summary(engine):
    model = SimpleNamespace(state=DONE, answers={"purpose": "internal", "internal_messenger": "none", "sick_notes": "eau"})
    prompt = engine.prompt(model)
    assert prompt.kind == DONE and prompt.step == DONE
    assert sum(prompt.checklist.summary.values()) == 26


def test_engine_is_built_once_per_flow_version(flow):
    first = FlowEngine(flow)
    assert first.machine is not FlowEngine(flow).machine  # no hidden global state
    assert first.machine.auto_transitions is False


def test_rewind_to_an_earlier_step_and_fast_forward_keep_what_still_applies(engine):
    from bot.engine.lint import play
    from tests.test_flow_walks import GOLDEN

    answers = GOLDEN[0][1]
    model, _path = play(engine, answers)
    assert model.state == DONE
    engine.rewind_to(model, "agents")
    assert model.state == "agents" and model.answers["agents"] == "one"
    # changing "agents" keeps every later answer: fast-forward returns to the first gap (an optional text)
    engine.answer(model, "agents", "few")
    engine.fast_forward(model)
    assert model.state == "company_name"
    # a changed channel opens new steps: fast-forward stops at the first one without an answer
    engine.rewind_to(model, "channel")
    engine.answer(model, "channel", "business_platform")
    engine.fast_forward(model)
    assert model.state == "provider"


@pytest.mark.parametrize("target", ["bsp_name", "sick_notes", "not_a_step"])
def test_rewind_refuses_steps_that_are_not_behind(engine, target):
    from bot.engine.lint import play
    from tests.test_flow_walks import GOLDEN

    model, _ = play(engine, GOLDEN[0][1], limit=10)
    before = (model.state, dict(model.answers))
    with pytest.raises(TurnError) as info:
        engine.rewind_to(model, target)
    assert info.value.code == "unknown_step"
    assert (model.state, model.answers) == before
