"""Load and validate flow files (`flows/*.yaml`) into the frozen model, one function per section.

The loader checks everything a typo could break: that ids and option values are
strings (YAML 1.1 reads a bare `no` as False), that every condition is registered
in the flow version's code, that every rule, `asked_when`, condition and document
builder refers to existing steps, option values, recommendation values and
reasons, and that each checklist status is known. Every FlowError names the file,
the step, item, rule, condition or document, and the problem.

The Python code of a flow version (its conditions and document builders) is an
argument, never a global: `load_flows(directory, code={(flow id, version): FlowCode})`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from .conditions import ChannelChoice, CodeRegistry, Condition, FlowCode
from .errors import FlowError
from .model import (
    DONE,
    SHOWABLE,
    Alternatives,
    ChecklistItem,
    Flow,
    Msg,
    Option,
    Predicate,
    PredicateKind,
    Reason,
    Recommendation,
    RecommendationValue,
    Section,
    StatusRule,
    Step,
    StepOp,
)
from .predicates import compile_alternatives, compile_condition, compile_step_predicate
from .values import TEXT_VALIDATORS
from .vocabulary import ItemStatus, StepKind

NO_CODE: CodeRegistry = {}


class _Reader:
    """Reads one raw flow document, raising FlowError with the file and place."""

    def __init__(self, source: str, flow_id: str = "") -> None:
        self.source = source
        self.flow_id = flow_id

    def fail(self, where: str, problem: str) -> FlowError:
        return FlowError(self.source, where, problem)

    def msg(self, key: str, text: str) -> Msg:
        """A translatable text keyed `<flow id>.<key>`."""
        return Msg(f"{self.flow_id}.{key}", text)

    def optional_string(self, raw: Mapping[str, Any], key: str, where: str) -> str | None:
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(where, f"'{key}' must be a string, got {type(value).__name__} {value!r} (quote it in YAML)")
        if not value.strip():
            raise self.fail(where, f"'{key}' is empty")
        return value

    def string(self, raw: Mapping[str, Any], key: str, where: str) -> str:
        value = self.optional_string(raw, key, where)
        if value is None:
            raise self.fail(where, f"'{key}' is missing")
        return value

    def mapping(self, raw: Any, where: str) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.fail(where, f"expected a mapping, got {type(raw).__name__}")
        return raw

    def sequence(self, raw: Any, where: str) -> list[Any]:
        if not isinstance(raw, list):
            raise self.fail(where, f"expected a list, got {type(raw).__name__}")
        return raw


def check_value_reads(r: _Reader, where: str, reads: tuple[str, ...], values: Mapping[str, tuple[str, ...]], steps: Mapping[str, Step]) -> None:
    """Refuse code that reads a step, or compares a step with a value, that the flow does not have."""
    for step_id in (*reads, *values):
        if step_id not in steps:
            raise r.fail(where, f"reads step {step_id!r}, which this flow does not have")
    for step_id, compared in values.items():
        step = steps[step_id]
        for value in compared:
            if value not in step.values:
                options = ", ".join(step.values) or f"none: {step_id} is a {step.kind} step"
                raise r.fail(where, f"compares step {step_id} with {value!r}, which is not one of its options ({options})")


@dataclass
class _PredicateParser:
    """Parses predicates against the steps known so far and the flow version's conditions."""

    r: _Reader
    steps: dict[str, Step]
    conditions: Mapping[str, Condition]
    # In an asked_when: the step it belongs to, whose predicates may read only earlier steps
    # (`steps` holds just those) and test only answers, conditions and `asked`.
    before: str | None = None
    later: frozenset[str] = frozenset()

    def step(self, step_id: str, where: str) -> Step:
        step = self.steps.get(step_id)
        if step is None and self.before is not None and step_id in self.later:
            raise self.r.fail(where, f"asked_when can only read steps before {self.before}, not {step_id!r}")
        if step is None:
            raise self.r.fail(where, f"unknown step {step_id!r}")
        return step

    def predicate(self, p: dict[str, Any], where: str) -> Predicate:
        r = self.r
        if "step" in p:
            return self.step_predicate(p, where)
        if "condition" in p:
            name = r.string(p, "condition", where)
            condition = self.conditions.get(name)
            if condition is None:
                raise r.fail(where, f"names no registered condition: {name!r}")
            if self.before is not None:
                for read in condition.reads:
                    self.step(read, f"{where} (condition {name})")
            # In an asked_when the condition sees only the asked steps it reads; rules give it effective answers.
            test = compile_condition(condition, self.steps) if self.before is not None else condition.func
            return Predicate(PredicateKind.CONDITION, name, condition=condition, test=test)
        if "asked" in p:
            asked = self.step(r.string(p, "asked", where), where)
            return Predicate(PredicateKind.ASKED, asked.id, test=asked.asked)
        if self.before is not None and ("recommendation" in p or "reason" in p):
            raise r.fail(where, "asked_when cannot depend on the recommendation; test the answers it comes from")
        if "recommendation" in p:
            values = r.sequence(p["recommendation"], where)
            return Predicate(PredicateKind.RECOMMENDATION, values=frozenset(str(v) for v in values))
        if "reason" in p:
            return Predicate(PredicateKind.REASON, r.string(p, "reason", where))
        raise r.fail(where, f"unknown predicate {sorted(p)!r}")

    def step_predicate(self, p: dict[str, Any], where: str) -> Predicate:
        r = self.r
        step = self.step(r.string(p, "step", where), where)
        ops = [op for op in StepOp if op in p]
        if len(ops) != 1:
            raise r.fail(where, f"a step predicate needs exactly one of {', '.join(StepOp)}")
        op = ops[0]
        raw_values = [p[op]] if op is StepOp.HAS else r.sequence(p[op], where)
        if (op in (StepOp.IN, StepOp.NOT_IN)) == (step.kind == StepKind.MULTI):
            use = "has, has_all or has_any" if step.kind == StepKind.MULTI else "in or not_in"
            raise r.fail(where, f"'{op}' does not work on the {step.kind} step {step.id}: use {use}")
        values = set()
        for v in raw_values:
            if not isinstance(v, str):
                raise r.fail(where, f"value {v!r} of step {step.id} must be a string (quote it in YAML)")
            if step.options and v not in step.values:
                raise r.fail(where, f"step {step.id} has no option {v!r} (options: {', '.join(step.values)})")
            values.add(v)
        predicate = Predicate(PredicateKind.STEP, step.id, op, frozenset(values))
        return replace(predicate, test=compile_step_predicate(predicate, step if self.before is not None else None))

    def predicates(self, raw_list: Any, where: str) -> tuple[Predicate, ...]:
        out = []
        for k, p in enumerate(self.r.sequence(raw_list, where)):
            out.append(self.predicate(self.r.mapping(p, f"{where} predicate {k}"), f"{where} predicate {k}"))
        if not out:
            raise self.r.fail(where, "a condition needs at least one predicate")
        return tuple(out)

    def alternatives(self, raw_rule: Mapping[str, Any], where: str, *, required: bool) -> Alternatives:
        """`when: [predicates]` (all hold) or `any: [[predicates], ...]` (one list holds)."""
        r = self.r
        if "when" in raw_rule and "any" in raw_rule:
            raise r.fail(where, "use either 'when' or 'any', not both")
        if "when" in raw_rule:
            return (self.predicates(raw_rule["when"], where),)
        if "any" in raw_rule:
            alts = r.sequence(raw_rule["any"], f"{where} any")
            if not alts:
                raise r.fail(where, "'any' needs at least one alternative")
            return tuple(self.predicates(a, f"{where} any[{n}]") for n, a in enumerate(alts))
        if required:
            raise r.fail(where, "'when' or 'any' is missing")
        return ()

    def asked_when(self, raw: Any, where: str) -> Alternatives:
        """A step's `asked_when`: a condition name, a list of predicates, or `{when}`/`{any}`."""
        if raw is None:
            return ()
        if isinstance(raw, str):
            if raw not in self.conditions:
                raise self.r.fail(where, f"asked_when names no registered condition: {raw!r}")
            return (self.predicates([{"condition": raw}], f"{where} asked_when"),)
        if isinstance(raw, list):
            return (self.predicates(raw, f"{where} asked_when"),)
        if isinstance(raw, dict) and set(raw) <= {"when", "any"}:
            return self.alternatives(raw, f"{where} asked_when", required=True)
        raise self.r.fail(where, "asked_when must be a condition name, a list of predicates, or 'when'/'any'")


def _reads(alternatives: Alternatives, steps: Mapping[str, Step]) -> set[str]:
    """The steps an asked_when reads, following `asked` to the reads of that step's asked_when."""
    out: set[str] = set()
    for alternative in alternatives:
        for p in alternative:
            if p.kind is PredicateKind.STEP and p.target:
                out.add(p.target)
            elif p.kind is PredicateKind.CONDITION and p.condition:
                out.update(p.condition.reads)
            elif p.kind is PredicateKind.ASKED and p.target:
                out |= _reads(steps[p.target].asked_when, steps)
    return out


def parse_header(r: _Reader, raw: Mapping[str, Any]) -> tuple[str, int, str]:
    """The flow id, version and source language."""
    flow_id = r.string(raw, "id", "top level")
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise r.fail("top level", f"'version' must be a positive whole number, got {version!r}")
    return flow_id, version, r.string(raw, "source_locale", "top level")


def parse_sections(r: _Reader, raw: Any) -> tuple[Section, ...]:
    """The sections, with unique ids."""
    sections = []
    for i, s in enumerate(r.sequence(raw, "sections")):
        s = r.mapping(s, f"sections[{i}]")
        sid = r.string(s, "id", f"sections[{i}]")
        sections.append(Section(sid, r.msg(f"section.{sid}.title", r.string(s, "title", f"section {sid}"))))
    if len({s.id for s in sections}) != len(sections):
        raise r.fail("sections", "section ids must be unique")
    return tuple(sections)


def _parse_options(r: _Reader, s: Mapping[str, Any], sid: str, kind: StepKind, where: str) -> tuple[Option, ...]:
    options: list[Option] = []
    if kind not in (StepKind.CHOICE, StepKind.MULTI):
        if s.get("options"):
            raise r.fail(where, f"a {kind} step has no options")
        return ()
    for j, o in enumerate(r.sequence(s.get("options"), f"{where} options")):
        o = r.mapping(o, f"{where} option {j}")
        value = r.string(o, "value", f"{where} option {j}")
        label = r.string(o, "label", f"{where} option {value}")
        exclusive = o.get("exclusive", False)
        if exclusive and kind != StepKind.MULTI:
            raise r.fail(where, f"option {value}: only multi steps have exclusive options")
        options.append(Option(value, r.msg(f"{sid}.option.{value}", label), bool(exclusive)))
    if len(options) < 2:
        raise r.fail(where, "a choice needs at least two options")
    if len({o.value for o in options}) != len(options):
        raise r.fail(where, "option values must be unique")
    return tuple(options)


def parse_steps(r: _Reader, raw: Any, section_ids: set[str], conditions: Mapping[str, Condition]) -> tuple[Step, ...]:
    """The steps in order; each `asked_when` may read only the steps before it."""
    steps: dict[str, Step] = {}
    raw_steps = r.sequence(raw, "steps")
    declared = frozenset(s["id"] for s in raw_steps if isinstance(s, dict) and isinstance(s.get("id"), str))
    for i, s in enumerate(raw_steps):
        s = r.mapping(s, f"steps[{i}]")
        sid = r.string(s, "id", f"steps[{i}]")
        where = f"step {sid}"
        if sid in steps or sid == DONE:
            raise r.fail(where, "step ids must be unique and must not be 'done'")
        kind_name = r.string(s, "kind", where)
        if kind_name not in tuple(StepKind):
            raise r.fail(where, f"unknown kind {kind_name!r} (one of {', '.join(StepKind)})")
        kind = StepKind(kind_name)
        section = r.string(s, "section", where)
        if section not in section_ids:
            raise r.fail(where, f"unknown section {section!r}")
        asked_when = _PredicateParser(r, steps, conditions, before=sid, later=declared - set(steps)).asked_when(s.get("asked_when"), where)
        validator = r.optional_string(s, "validator", where)
        if validator is not None and (kind != StepKind.TEXT or validator not in TEXT_VALIDATORS):
            raise r.fail(where, f"unknown text validator {validator!r} (one of {', '.join(TEXT_VALIDATORS)})")
        optional = s.get("optional", False)
        if not isinstance(optional, bool):
            raise r.fail(where, "'optional' must be true or false")
        if optional and kind != StepKind.TEXT:
            raise r.fail(where, "only text steps can be optional")
        help_text = r.optional_string(s, "help", where)
        shows = r.optional_string(s, "shows", where)
        if shows is not None and (kind != StepKind.INFO or shows not in SHOWABLE):
            raise r.fail(where, f"'shows' must be one of {', '.join(SHOWABLE)} on an info step")
        steps[sid] = Step(
            id=sid,
            index=len(steps),
            kind=kind,
            section=section,
            text=r.msg(f"{sid}.text", r.string(s, "text", where)),
            help=r.msg(f"{sid}.help", help_text) if help_text else None,
            options=_parse_options(r, s, sid, kind, where),
            optional=optional,
            asked_when=asked_when,
            validator=validator,
            shows=shows,
            asked=compile_alternatives(asked_when),
        )
    if not steps:
        raise r.fail("steps", "a flow needs at least one step")
    return tuple(steps.values())


def parse_recommendation(r: _Reader, raw: Any, parser: _PredicateParser) -> Recommendation:
    """The reasons, the values (the last one is the fallback) and the follow-ups."""
    rec_raw = r.mapping(raw, "recommendation")
    reason_ids: set[str] = set()

    def reason(x: Any, where: str, *, conditional: bool = True) -> Reason:
        x = r.mapping(x, where)
        rid = r.string(x, "id", where)
        if rid in reason_ids:
            raise r.fail(where, f"reason id {rid!r} is used twice")
        reason_ids.add(rid)
        when = parser.alternatives(x, f"reason {rid}", required=conditional)
        return Reason(rid, r.msg(f"reason.{rid}.text", r.string(x, "text", f"reason {rid}")), when)

    raw_reasons = r.sequence(rec_raw.get("reasons"), "recommendation reasons")
    reasons = tuple(reason(x, f"recommendation reasons[{i}]") for i, x in enumerate(raw_reasons))
    values: list[RecommendationValue] = []
    for i, x in enumerate(r.sequence(rec_raw.get("values"), "recommendation values")):
        x = r.mapping(x, f"recommendation values[{i}]")
        value = r.string(x, "value", f"recommendation values[{i}]")
        where = f"recommendation value {value}"
        own = reason(x["reason"], f"{where} reason", conditional=False) if "reason" in x else None
        values.append(
            RecommendationValue(
                value=value,
                title=r.msg(f"result.{value}.title", r.string(x, "title", where)),
                text=r.msg(f"result.{value}.text", r.string(x, "text", where)),
                when=parser.alternatives(x, where, required=False),
                reason=own,
            )
        )
    if not values or values[-1].when:
        raise r.fail("recommendation values", "the last value must have no condition (it is the fallback)")
    raw_follow_ups = r.sequence(rec_raw.get("follow_ups", []), "recommendation follow_ups")
    follow_ups = tuple(reason(x, f"recommendation follow_ups[{i}]") for i, x in enumerate(raw_follow_ups))
    return Recommendation(reasons, tuple(values), follow_ups)


def parse_status_actions(r: _Reader, raw: Any) -> dict[str, Msg]:
    """The action text shown for statuses that need no work."""
    sa_raw = r.mapping(raw, "status_actions")
    statuses = (ItemStatus.DONE, ItemStatus.NOT_APPLICABLE)
    return {str(status): r.msg(f"status.{status}.action", r.string(sa_raw, status, "status_actions")) for status in statuses}


def _status(r: _Reader, name: str, where: str, what: str) -> ItemStatus:
    if name not in tuple(ItemStatus):
        raise r.fail(where, f"unknown {what} {name!r} (one of {', '.join(ItemStatus)})")
    return ItemStatus(name)


def parse_checklist(r: _Reader, raw: Any, section_ids: set[str], parser: _PredicateParser) -> tuple[ChecklistItem, ...]:
    """The checklist items, each with its status rules, default and applies_when."""
    items: list[ChecklistItem] = []
    for i, x in enumerate(r.sequence(raw, "checklist")):
        x = r.mapping(x, f"checklist[{i}]")
        iid = r.string(x, "id", f"checklist[{i}]")
        where = f"item {iid}"
        if any(it.id == iid for it in items):
            raise r.fail(where, "item ids must be unique")
        section = r.string(x, "section", where)
        if section not in section_ids:
            raise r.fail(where, f"unknown section {section!r}")
        rules = []
        for k, rule in enumerate(r.sequence(x.get("rules"), f"{where} rules")):
            rule = r.mapping(rule, f"{where} rule {k}")
            status = _status(r, r.string(rule, "status", f"{where} rule {k}"), f"{where} rule {k}", "status")
            rules.append(StatusRule(status, parser.alternatives(rule, f"{where} rule {k}", required=True)))
        default = _status(r, r.string(x, "default", where), where, "default status")
        applies: Alternatives = ()
        if "applies_when" in x:
            applies = (parser.predicates(x["applies_when"], f"{where} applies_when"),)
        items.append(
            ChecklistItem(
                id=iid,
                section=section,
                title=r.msg(f"{iid}.title", r.string(x, "title", where)),
                legal_basis=r.msg(f"{iid}.legal_basis", r.string(x, "legal_basis", where)),
                action=r.msg(f"{iid}.action", r.string(x, "action", where)),
                evidence=r.msg(f"{iid}.evidence", r.string(x, "evidence", where)),
                rules=tuple(rules),
                default=default,
                applies_when=applies,
            )
        )
    return tuple(items)


def check_rule_references(r: _Reader, recommendation: Recommendation, items: tuple[ChecklistItem, ...]) -> None:
    """Predicates that name recommendation values or reasons, checked once all are known."""
    value_ids = {v.value for v in recommendation.values}
    reason_ids = {x.id for x in recommendation.all_reasons()}
    places: list[tuple[str, Alternatives]] = [(f"recommendation value {v.value}", v.when) for v in recommendation.values]
    places += [(f"reason {x.id}", x.when) for x in recommendation.all_reasons()]
    places += [(f"item {it.id} rule {k}", rule.when) for it in items for k, rule in enumerate(it.rules)]
    places += [(f"item {it.id} applies_when", it.applies_when) for it in items]
    for where, alternatives in places:
        for alternative in alternatives:
            for p in alternative:
                if p.kind is PredicateKind.RECOMMENDATION and not p.values <= value_ids:
                    raise r.fail(where, f"unknown recommendation value(s) {sorted(p.values - value_ids)}")
                if p.kind is PredicateKind.REASON and p.target not in reason_ids:
                    raise r.fail(where, f"unknown reason {p.target!r}")


def check_code(r: _Reader, code: FlowCode, steps: Mapping[str, Step], item_ids: set[str]) -> None:
    """Every condition and document builder of the version reads only steps and values it has."""
    for condition in code.conditions.values():
        check_value_reads(r, f"condition {condition.name}", condition.reads, condition.values, steps)
    for document in code.documents.values():
        where = f"document {document.id}"
        if document.item not in item_ids:
            raise r.fail(where, f"belongs to checklist item {document.item!r}, which this flow does not have")
        check_value_reads(r, where, document.reads, document.values, steps)


# libyaml's safe loader when PyYAML has it: the same result, about ten times faster to start up.
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: str | Path) -> tuple[Any, bytes]:
    """The raw document of a flow file and its bytes; FlowError if it is not YAML."""
    path = Path(path)
    data = path.read_bytes()
    try:
        return yaml.load(data, Loader=_YAML_LOADER), data  # a safe loader (C or Python)
    except yaml.YAMLError as exc:
        raise FlowError(path.name, "", f"not valid YAML: {exc}") from exc


def load_flow(path: str | Path, code: CodeRegistry = NO_CODE) -> Flow:
    """Load and validate one flow file with its version's code; raise FlowError naming the problem."""
    raw, data = read_yaml(path)
    return parse_flow(raw, source=Path(path).name, digest=hashlib.sha256(data).hexdigest()[:16], code=code)


def parse_flow(raw: Any, *, source: str = "<flow>", digest: str = "", code: CodeRegistry = NO_CODE) -> Flow:
    """Validate a raw flow document (as loaded from YAML) into a Flow, with `code[(id, version)]`."""
    r = _Reader(source)
    raw = r.mapping(raw, "top level")
    flow_id, version, source_locale = parse_header(r, raw)
    r.flow_id = flow_id
    flow_code = code.get((flow_id, version)) or FlowCode()
    sections = parse_sections(r, raw.get("sections"))
    section_ids = {s.id for s in sections}
    steps = parse_steps(r, raw.get("steps"), section_ids, flow_code.conditions)
    step_by_id = {s.id: s for s in steps}
    branch_reads: set[str] = set()
    for step in steps:
        branch_reads |= _reads(step.asked_when, step_by_id)
    parser = _PredicateParser(r, step_by_id, flow_code.conditions)
    recommendation = parse_recommendation(r, raw.get("recommendation"), parser)
    status_actions = parse_status_actions(r, raw.get("status_actions"))
    items = parse_checklist(r, raw.get("checklist"), section_ids, parser)
    check_rule_references(r, recommendation, items)
    check_code(r, flow_code, step_by_id, {it.id for it in items})
    finish = r.mapping(raw.get("finish"), "finish")
    return Flow(
        id=flow_id,
        version=version,
        digest=digest,
        source=source,
        source_locale=source_locale,
        title=r.msg("flow.title", r.string(raw, "title", "top level")),
        sections=sections,
        steps=steps,
        recommendation=recommendation,
        status_actions=status_actions,
        checklist=items,
        finish_text=r.msg("done.text", r.string(finish, "text", "finish")),
        finish_help=r.msg("done.help", r.string(finish, "help", "finish")),
        step_by_id=step_by_id,
        branch_steps=tuple(s.id for s in steps if s.id in branch_reads),
        conditions=dict(flow_code.conditions),
        documents=tuple(flow_code.documents.values()),
        migrations=dict(flow_code.migrations),
        channel_choice=_channel_choice(r, flow_code, step_by_id, recommendation),
    )


def _channel_choice(r: _Reader, flow_code: FlowCode, step_by_id: dict[str, Step], recommendation: Recommendation) -> ChannelChoice | None:
    """The code's channel choice, checked: a choice step, its options, and the flow's recommendation values."""
    choice = flow_code.channel_choice
    if choice is None:
        return None
    step = step_by_id.get(choice.step)
    if step is None or step.kind != StepKind.CHOICE:
        raise r.fail("code: chosen_channel", f"{choice.step!r} is not a choice step of this flow")
    options = {o.value for o in step.options}
    values = {v.value for v in recommendation.values}
    for value, option in choice.by_recommendation.items():
        if value not in values:
            raise r.fail("code: chosen_channel", f"{value!r} is not a recommendation value (one of {', '.join(sorted(values))})")
        if option is not None and option not in options:
            raise r.fail("code: chosen_channel", f"{option!r} is not an option of step {choice.step!r}")
    return choice


def load_flows(directory: str | Path, code: CodeRegistry = NO_CODE, *, on_file: Callable[[Path, Any], None] | None = None) -> dict[tuple[str, int], Flow]:
    """Load every `*.yaml` in a directory with its version's code, keyed by (flow id, version).

    `on_file(path, raw)` sees each raw document before it is parsed (`flows check`
    validates it against the JSON Schema there).
    """
    flows: dict[tuple[str, int], Flow] = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        raw, data = read_yaml(path)
        if on_file is not None:
            on_file(path, raw)
        flow = parse_flow(raw, source=path.name, digest=hashlib.sha256(data).hexdigest()[:16], code=code)
        if flow.key in flows:
            other = flows[flow.key].source
            raise FlowError(path.name, "top level", f"flow {flow.id} version {flow.version} is also defined in {other}")
        flows[flow.key] = flow
    if not flows:
        raise FlowError(str(directory), "", "no flow files (*.yaml) found")
    return flows
