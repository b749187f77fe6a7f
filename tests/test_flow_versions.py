"""Self-contained flow versions: each version loads with its own code, and the loader checks that code."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from bot.engine import DONE, EngineRegistry, FlowCode, FlowEngine, FlowError, load_flows, parse_flow
from bot.flowcode import FLOW_CODE
from tests.conftest import FLOW_FILE

VERSIONS_DIR = Path(__file__).parent / "flows_fixture" / "versions"

# Two versions of the tiny flow name the same condition, with different meanings.
TINY_V1 = FlowCode()
TINY_V2 = FlowCode()


@TINY_V1.condition("needs_team_question", reads=("size",), values={"size": ("large",)})
def _large(answers):
    return answers.get("size") == "large"


@TINY_V2.condition("needs_team_question", reads=("size",), values={"size": ("small",)})
def _small(answers):
    return answers.get("size") == "small"


TINY_CODE = {("tiny", 1): TINY_V1, ("tiny", 2): TINY_V2}


def walk(engine, size):
    """Answer `size`, then return the step the engine asks next."""
    model = SimpleNamespace(state=engine.initial_state, answers={})
    engine.answer(model, "size", size)
    return model


def test_two_versions_load_side_by_side_each_with_its_own_condition():
    registry = EngineRegistry(load_flows(VERSIONS_DIR, code=TINY_CODE))
    v1, v2 = registry.get("tiny", 1), registry.get("tiny", 2)
    assert registry.get("tiny") is v2
    assert walk(v1, "large").state == "team" and walk(v1, "small").state == "thanks"
    assert walk(v2, "large").state == "thanks" and walk(v2, "small").state == "team"
    # Rules use the version's condition too (reason T1, and the item that applies when `team` is asked).
    assert v1.checklist({"size": "large"}).recommendation.reasons == ("T1",)
    assert v2.checklist({"size": "large"}).recommendation.reasons == ()
    assert v1.checklist({"size": "large", "team": "one"}).items[0].status == "done"
    assert v2.checklist({"size": "large", "team": "one"}).items[0].status == "not_applicable"  # team is not asked in v2
    assert v1.flow.conditions["needs_team_question"].func is _large and v2.flow.conditions["needs_team_question"].func is _small


def test_loading_a_version_does_not_change_another():
    v1_alone = FlowEngine(load_flows(VERSIONS_DIR, code={("tiny", 1): TINY_V1, ("tiny", 2): TINY_V1})[("tiny", 1)])
    both = EngineRegistry(load_flows(VERSIONS_DIR, code=TINY_CODE))
    for size in ("small", "large"):
        assert walk(v1_alone, size).state == walk(both.get("tiny", 1), size).state


def test_a_version_without_its_code_is_refused_naming_the_condition():
    with pytest.raises(FlowError, match=r"tiny_v2\.yaml: step team asked_when predicate 0: names no registered condition: 'needs_team_question'"):
        load_flows(VERSIONS_DIR, code={("tiny", 1): TINY_V1})


def tiny_raw():
    return yaml.safe_load((VERSIONS_DIR / "tiny_v1.yaml").read_text("utf-8"))


def test_a_condition_that_reads_a_missing_step_or_value_is_refused():
    wrong_step = FlowCode()
    wrong_step.condition("needs_team_question", reads=("employees",))(lambda a: True)
    with pytest.raises(FlowError, match=r"x\.yaml: step team asked_when predicate 0 \(condition needs_team_question\): unknown step 'employees'"):
        parse_flow(tiny_raw(), source="x.yaml", code={("tiny", 1): wrong_step})
    wrong_value = FlowCode()
    wrong_value.condition("needs_team_question", reads=("size",), values={"size": ("huge",)})(lambda a: True)
    expected = r"x\.yaml: condition needs_team_question: compares step size with 'huge', which is not one of its options \(small, large\)"
    with pytest.raises(FlowError, match=expected):
        parse_flow(tiny_raw(), source="x.yaml", code={("tiny", 1): wrong_value})


def test_a_document_builder_must_read_existing_steps_values_and_item():
    def build(answers, tr):
        return ""

    for reads, values, item, expected in [
        (("size",), {"size": ("medium",)}, "T-01", r"document memo: compares step size with 'medium'"),
        (("revenue",), {}, "T-01", r"document memo: reads step 'revenue', which this flow does not have"),
        (("size",), {}, "T-99", r"document memo: belongs to checklist item 'T-99'"),
    ]:
        code = FlowCode()
        code.conditions.update(TINY_V1.conditions)
        code.document("memo", build, item=item, reads=reads, values=values)
        with pytest.raises(FlowError, match=rf"x\.yaml: {expected}"):
            parse_flow(tiny_raw(), source="x.yaml", code={("tiny", 1): code})


def test_the_real_flow_registers_its_documents_and_they_check_out():
    flow = load_flows(FLOW_FILE.parent, code=FLOW_CODE)[("whatsapp_gdpr", 1)]
    assert [d.id for d in flow.documents] == ["first_contact_message", "imprint_snippet", "ropa_entry"]
    assert {d.item for d in flow.documents} == {"WA-10", "WA-12", "WA-14"}
    raw = yaml.safe_load(FLOW_FILE.read_text("utf-8"))
    measures = next(s for s in raw["steps"] if s["id"] == "security_measures")
    measures["options"] = [o for o in measures["options"] if o["value"] != "access_review"]  # only the record of processing reads it
    with pytest.raises(FlowError, match=r"whatsapp_gdpr\.yaml: document ropa_entry: compares step security_measures with 'access_review'"):
        parse_flow(raw, source="whatsapp_gdpr.yaml", code=FLOW_CODE)


@pytest.mark.parametrize(
    ("asked_when", "expected"),
    [
        ([{"step": "thanks", "in": ["ok"]}], "asked_when can only read steps before team, not 'thanks'"),
        ([{"step": "team", "in": ["one"]}], "asked_when can only read steps before team, not 'team'"),
        ([{"step": "size", "in": ["huge"]}], "step size has no option 'huge' (options: small, large)"),
        ([{"step": "size", "has": "large"}], "'has' does not work on the choice step size: use in or not_in"),
        ([{"recommendation": ["fine"]}], "asked_when cannot depend on the recommendation"),
        ({"when": [{"step": "size", "in": ["large"]}], "any": [[{"step": "size", "in": ["small"]}]]}, "use either 'when' or 'any', not both"),
        (42, "asked_when must be a condition name, a list of predicates, or 'when'/'any'"),
    ],
)
def test_a_broken_asked_when_names_the_step_and_the_problem(asked_when, expected):
    raw = tiny_raw()
    raw["steps"][1]["asked_when"] = asked_when
    with pytest.raises(FlowError) as info:
        parse_flow(raw, source="x.yaml", code=TINY_CODE)
    assert str(info.value).startswith("x.yaml: step team")
    assert expected in str(info.value)


@pytest.mark.parametrize(
    ("asked_when", "asked_for", "branch_steps"),
    [
        ([{"step": "size", "in": ["large"]}], {"large"}, ("size",)),
        ([{"step": "size", "not_in": ["large"]}], {"small", None}, ("size",)),
        ({"when": [{"step": "size", "in": ["small"]}]}, {"small"}, ("size",)),
        ({"any": [[{"step": "size", "in": ["small"]}], [{"condition": "needs_team_question"}]]}, {"small", "large"}, ("size",)),
        ([{"asked": "size"}], {"small", "large", None}, ()),  # size is always asked: the path reads no answer
    ],
)
def test_asked_when_predicates(asked_when, asked_for, branch_steps):
    raw = tiny_raw()
    raw["steps"][1]["asked_when"] = asked_when
    flow = parse_flow(raw, source="x.yaml", code=TINY_CODE)
    team = flow.step_by_id["team"]
    assert {size for size in ("small", "large", None) if team.asked({"size": size} if size else {})} == asked_for
    assert flow.branch_steps == branch_steps
    engine = FlowEngine(flow)
    for size in ("small", "large"):
        assert walk(engine, size).state == ("team" if size in asked_for else "thanks")


def test_a_stale_answer_never_switches_on_a_later_step():
    raw = tiny_raw()
    raw["steps"][2]["kind"] = "choice"
    raw["steps"][2]["asked_when"] = [{"step": "team", "in": ["many"]}]
    raw["steps"][2]["options"] = [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]
    flow = parse_flow(raw, source="x.yaml", code=TINY_CODE)
    thanks = flow.step_by_id["thanks"]
    assert thanks.asked({"size": "large", "team": "many"})
    assert not thanks.asked({"size": "small", "team": "many"})  # team is not asked for small businesses in v1: its answer is stale
    model = SimpleNamespace(state="size", answers={"size": "large", "team": "many"})
    FlowEngine(flow).answer(model, "size", "small")
    assert model.state == DONE
