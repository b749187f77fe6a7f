"""Load and validate flow files (`flows/*.yaml`) into frozen dataclasses.

The loader checks everything a typo could break: that ids and option values are
strings (YAML 1.1 reads a bare `no` as False), that every condition names a
registered function, that every rule refers to existing steps, options,
recommendation values and reasons, and that each checklist status is known.
Every message of a FlowError names the file, the step or item, and the problem.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from .conditions import CONDITIONS
from .errors import FlowError
from .values import TEXT_VALIDATORS

KINDS = ("choice", "multi", "text", "info")
STATUSES = ("done", "open", "critical", "not_applicable")
SHOWABLE = ("recommendation",)
DONE = "done"


class Msg(NamedTuple):
    """A translatable text: its gettext context (the key) and its English source."""

    context: str
    source: str


@dataclass(frozen=True)
class Option:
    """One answer option of a choice or multi step."""

    value: str
    label: Msg
    exclusive: bool = False


@dataclass(frozen=True)
class Step:
    """One question or info node; its id is also the state name in the machine."""

    id: str
    index: int
    kind: str
    section: str
    text: Msg
    help: Msg | None
    options: tuple[Option, ...] = ()
    optional: bool = False
    asked_when: str | None = None
    validator: str | None = None
    shows: str | None = None

    @property
    def values(self) -> tuple[str, ...]:
        """The option values, in order."""
        return tuple(o.value for o in self.options)


@dataclass(frozen=True)
class Predicate:
    """One test in a rule: on a step's answer, a condition, a reason or the value."""

    kind: str  # step | condition | asked | recommendation | reason
    target: str | None = None  # step id, condition name, reason id
    op: str | None = None  # for kind=step: in | has | has_all | has_any
    values: frozenset[str] = frozenset()


# A rule holds when all predicates of one of its alternatives hold.
Alternatives = tuple[tuple[Predicate, ...], ...]


@dataclass(frozen=True)
class Reason:
    """A recommendation reason (rule id) with its explanation and condition."""

    id: str
    text: Msg
    when: Alternatives = ()


@dataclass(frozen=True)
class RecommendationValue:
    """A possible recommendation; the first whose condition holds wins."""

    value: str
    title: Msg
    text: Msg
    when: Alternatives = ()
    reason: Reason | None = None


@dataclass(frozen=True)
class Recommendation:
    """The recommendation rules of a flow."""

    reasons: tuple[Reason, ...]
    values: tuple[RecommendationValue, ...]
    follow_ups: tuple[Reason, ...]

    def all_reasons(self) -> tuple[Reason, ...]:
        """Every reason, in the order they are reported."""
        own = tuple(v.reason for v in self.values if v.reason)
        return self.reasons + own + self.follow_ups


@dataclass(frozen=True)
class StatusRule:
    """A checklist rule: the status given when the predicates hold."""

    status: str
    when: Alternatives


@dataclass(frozen=True)
class ChecklistItem:
    """A checklist item `WA-xx` with its texts and status rules."""

    id: str
    section: str
    title: Msg
    legal_basis: Msg
    action: Msg
    evidence: Msg
    rules: tuple[StatusRule, ...]
    default: str
    applies_when: Alternatives = ()


@dataclass(frozen=True)
class Section:
    """A group of steps and items, shown in the progress bar and the checklist."""

    id: str
    title: Msg


@dataclass(frozen=True)
class Flow:
    """A validated flow definition."""

    id: str
    version: int
    digest: str
    source: str
    source_locale: str
    title: Msg
    sections: tuple[Section, ...]
    steps: tuple[Step, ...]
    recommendation: Recommendation
    status_actions: dict[str, Msg]
    checklist: tuple[ChecklistItem, ...]
    finish_text: Msg
    finish_help: Msg
    step_by_id: dict[str, Step] = field(repr=False, compare=False, default_factory=dict)

    @property
    def key(self) -> tuple[str, int]:
        """The (flow id, version) pair that assessments record."""
        return (self.id, self.version)

    def messages(self) -> list[Msg]:
        """Every translatable text of the flow, in file order."""
        out = [self.title, self.finish_text, self.finish_help] + [s.title for s in self.sections]
        for step in self.steps:
            out.append(step.text)
            if step.help:
                out.append(step.help)
            out.extend(o.label for o in step.options)
        rec = self.recommendation
        out.extend(r.text for r in rec.reasons)
        for v in rec.values:
            out += [v.title, v.text] + ([v.reason.text] if v.reason else [])
        out.extend(r.text for r in rec.follow_ups)
        out.extend(self.status_actions.values())
        for item in self.checklist:
            out += [item.title, item.legal_basis, item.action, item.evidence]
        return out


class _Reader:
    """Reads one raw flow document, raising FlowError with the file and place."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> FlowError:
        return FlowError(self.source, where, problem)

    def string(self, raw: dict[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
        value = raw.get(key)
        if value is None:
            if required:
                raise self.fail(where, f"'{key}' is missing")
            return None
        if not isinstance(value, str):
            raise self.fail(where, f"'{key}' must be a string, got {type(value).__name__} {value!r} (quote it in YAML)")
        if not value.strip():
            raise self.fail(where, f"'{key}' is empty")
        return value

    def mapping(self, raw: Any, where: str) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.fail(where, f"expected a mapping, got {type(raw).__name__}")
        return raw

    def sequence(self, raw: Any, where: str) -> list[Any]:
        if not isinstance(raw, list):
            raise self.fail(where, f"expected a list, got {type(raw).__name__}")
        return raw


# libyaml's safe loader when PyYAML has it: the same result, about ten times faster to start up.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_flow(path: str | Path) -> Flow:
    """Load and validate one flow file; raise FlowError naming the problem."""
    path = Path(path)
    data = path.read_bytes()
    try:
        raw = yaml.load(data, Loader=_YAML_LOADER)  # a safe loader (C or Python)
    except yaml.YAMLError as exc:
        raise FlowError(path.name, "", f"not valid YAML: {exc}") from exc
    return parse_flow(raw, source=path.name, digest=hashlib.sha256(data).hexdigest()[:16])


def parse_flow(raw: Any, *, source: str = "<flow>", digest: str = "") -> Flow:
    """Validate a raw flow document (as loaded from YAML) into a Flow."""
    r = _Reader(source)
    raw = r.mapping(raw, "top level")
    flow_id = r.string(raw, "id", "top level")
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise r.fail("top level", f"'version' must be a positive whole number, got {version!r}")
    source_locale = r.string(raw, "source_locale", "top level")
    ctx = f"{flow_id}."

    def msg(key: str, text: str) -> Msg:
        return Msg(ctx + key, text)

    sections: list[Section] = []
    for i, s in enumerate(r.sequence(raw.get("sections"), "sections")):
        s = r.mapping(s, f"sections[{i}]")
        sid = r.string(s, "id", f"sections[{i}]")
        sections.append(Section(sid, msg(f"section.{sid}.title", r.string(s, "title", f"section {sid}"))))
    section_ids = {s.id for s in sections}
    if len(section_ids) != len(sections):
        raise r.fail("sections", "section ids must be unique")

    steps: list[Step] = []
    seen: set[str] = set()
    for i, s in enumerate(r.sequence(raw.get("steps"), "steps")):
        s = r.mapping(s, f"steps[{i}]")
        sid = r.string(s, "id", f"steps[{i}]")
        where = f"step {sid}"
        if sid in seen or sid == DONE:
            raise r.fail(where, "step ids must be unique and must not be 'done'")
        seen.add(sid)
        kind = r.string(s, "kind", where)
        if kind not in KINDS:
            raise r.fail(where, f"unknown kind {kind!r} (one of {', '.join(KINDS)})")
        section = r.string(s, "section", where)
        if section not in section_ids:
            raise r.fail(where, f"unknown section {section!r}")
        asked_when = r.string(s, "asked_when", where, required=False)
        if asked_when is not None and asked_when not in CONDITIONS:
            raise r.fail(where, f"asked_when names no registered condition: {asked_when!r}")
        validator = r.string(s, "validator", where, required=False)
        if validator is not None and (kind != "text" or validator not in TEXT_VALIDATORS):
            raise r.fail(where, f"unknown text validator {validator!r} (one of {', '.join(TEXT_VALIDATORS)})")
        optional = s.get("optional", False)
        if not isinstance(optional, bool):
            raise r.fail(where, "'optional' must be true or false")
        if optional and kind in ("choice", "multi", "info"):
            raise r.fail(where, "only text steps can be optional")
        options: list[Option] = []
        if kind in ("choice", "multi"):
            for j, o in enumerate(r.sequence(s.get("options"), f"{where} options")):
                o = r.mapping(o, f"{where} option {j}")
                value = r.string(o, "value", f"{where} option {j}")
                label = r.string(o, "label", f"{where} option {value}")
                exclusive = o.get("exclusive", False)
                if exclusive and kind != "multi":
                    raise r.fail(where, f"option {value}: only multi steps have exclusive options")
                options.append(Option(value, msg(f"{sid}.option.{value}", label), bool(exclusive)))
            if len(options) < 2:
                raise r.fail(where, "a choice needs at least two options")
            if len({o.value for o in options}) != len(options):
                raise r.fail(where, "option values must be unique")
        elif s.get("options"):
            raise r.fail(where, f"a {kind} step has no options")
        help_text = r.string(s, "help", where, required=False)
        shows = r.string(s, "shows", where, required=False)
        if shows is not None and (kind != "info" or shows not in SHOWABLE):
            raise r.fail(where, f"'shows' must be one of {', '.join(SHOWABLE)} on an info step")
        steps.append(
            Step(
                id=sid,
                index=len(steps),
                kind=kind,
                section=section,
                text=msg(f"{sid}.text", r.string(s, "text", where)),
                help=msg(f"{sid}.help", help_text) if help_text else None,
                options=tuple(options),
                optional=optional,
                asked_when=asked_when,
                validator=validator,
                shows=shows,
            )
        )
    if not steps:
        raise r.fail("steps", "a flow needs at least one step")
    step_by_id = {s.id: s for s in steps}

    for name in {s.asked_when for s in steps if s.asked_when}:
        for read in CONDITIONS[name].reads:
            if read not in step_by_id:
                raise r.fail(f"condition {name}", f"reads step {read!r}, which this flow does not have")

    value_ids: set[str] = set()
    reason_ids: set[str] = set()

    def predicates(raw_list: Any, where: str) -> tuple[Predicate, ...]:
        out = []
        for k, p in enumerate(r.sequence(raw_list, where)):
            p = r.mapping(p, f"{where} predicate {k}")
            out.append(predicate(p, f"{where} predicate {k}"))
        if not out:
            raise r.fail(where, "a condition needs at least one predicate")
        return tuple(out)

    def alternatives(raw_rule: dict[str, Any], where: str, *, required: bool) -> Alternatives:
        if "when" in raw_rule and "any" in raw_rule:
            raise r.fail(where, "use either 'when' or 'any', not both")
        if "when" in raw_rule:
            return (predicates(raw_rule["when"], where),)
        if "any" in raw_rule:
            alts = r.sequence(raw_rule["any"], f"{where} any")
            if not alts:
                raise r.fail(where, "'any' needs at least one alternative")
            return tuple(predicates(a, f"{where} any[{n}]") for n, a in enumerate(alts))
        if required:
            raise r.fail(where, "'when' or 'any' is missing")
        return ()

    def predicate(p: dict[str, Any], where: str) -> Predicate:
        if "step" in p:
            step_id = r.string(p, "step", where)
            step = step_by_id.get(step_id)
            if step is None:
                raise r.fail(where, f"unknown step {step_id!r}")
            ops = [op for op in ("in", "has", "has_all", "has_any") if op in p]
            if len(ops) != 1:
                raise r.fail(where, "a step predicate needs exactly one of in, has, has_all, has_any")
            op = ops[0]
            raw_values = [p[op]] if op == "has" else r.sequence(p[op], where)
            if op != "in" and step.kind != "multi":
                raise r.fail(where, f"'{op}' only works on multi steps; {step_id} is {step.kind}")
            values = set()
            for v in raw_values:
                if not isinstance(v, str):
                    raise r.fail(where, f"value {v!r} of step {step_id} must be a string (quote it in YAML)")
                if step.options and v not in step.values:
                    raise r.fail(where, f"step {step_id} has no option {v!r} (options: {', '.join(step.values)})")
                values.add(v)
            return Predicate("step", step_id, op, frozenset(values))
        if "condition" in p:
            name = r.string(p, "condition", where)
            if name not in CONDITIONS:
                raise r.fail(where, f"names no registered condition: {name!r}")
            return Predicate("condition", name)
        if "asked" in p:
            step_id = r.string(p, "asked", where)
            if step_id not in step_by_id:
                raise r.fail(where, f"unknown step {step_id!r}")
            return Predicate("asked", step_id)
        if "recommendation" in p:
            values = r.sequence(p["recommendation"], where)
            return Predicate("recommendation", values=frozenset(str(v) for v in values))
        if "reason" in p:
            return Predicate("reason", r.string(p, "reason", where))
        raise r.fail(where, f"unknown predicate {sorted(p)!r}")

    rec_raw = r.mapping(raw.get("recommendation"), "recommendation")

    def reason(x: Any, where: str, *, conditional: bool = True) -> Reason:
        x = r.mapping(x, where)
        rid = r.string(x, "id", where)
        if rid in reason_ids:
            raise r.fail(where, f"reason id {rid!r} is used twice")
        reason_ids.add(rid)
        when = alternatives(x, f"reason {rid}", required=conditional)
        return Reason(rid, msg(f"reason.{rid}.text", r.string(x, "text", f"reason {rid}")), when)

    reasons = tuple(reason(x, f"recommendation reasons[{i}]") for i, x in enumerate(r.sequence(rec_raw.get("reasons"), "recommendation reasons")))
    values: list[RecommendationValue] = []
    for i, x in enumerate(r.sequence(rec_raw.get("values"), "recommendation values")):
        x = r.mapping(x, f"recommendation values[{i}]")
        value = r.string(x, "value", f"recommendation values[{i}]")
        where = f"recommendation value {value}"
        value_ids.add(value)
        own = reason(x["reason"], f"{where} reason", conditional=False) if "reason" in x else None
        values.append(
            RecommendationValue(
                value=value,
                title=msg(f"result.{value}.title", r.string(x, "title", where)),
                text=msg(f"result.{value}.text", r.string(x, "text", where)),
                when=alternatives(x, where, required=False),
                reason=own,
            )
        )
    if not values or values[-1].when:
        raise r.fail("recommendation values", "the last value must have no condition (it is the fallback)")
    raw_follow_ups = r.sequence(rec_raw.get("follow_ups", []), "recommendation follow_ups")
    follow_ups = tuple(reason(x, f"recommendation follow_ups[{i}]") for i, x in enumerate(raw_follow_ups))
    recommendation = Recommendation(reasons, tuple(values), follow_ups)

    sa_raw = r.mapping(raw.get("status_actions"), "status_actions")
    status_actions = {}
    for status in ("done", "not_applicable"):
        status_actions[status] = msg(f"status.{status}.action", r.string(sa_raw, status, "status_actions"))

    items: list[ChecklistItem] = []
    for i, x in enumerate(r.sequence(raw.get("checklist"), "checklist")):
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
            status = r.string(rule, "status", f"{where} rule {k}")
            if status not in STATUSES:
                raise r.fail(f"{where} rule {k}", f"unknown status {status!r} (one of {', '.join(STATUSES)})")
            rules.append(StatusRule(status, alternatives(rule, f"{where} rule {k}", required=True)))
        default = r.string(x, "default", where)
        if default not in STATUSES:
            raise r.fail(where, f"unknown default status {default!r}")
        applies = ()
        if "applies_when" in x:
            applies = (predicates(x["applies_when"], f"{where} applies_when"),)
        items.append(
            ChecklistItem(
                id=iid,
                section=section,
                title=msg(f"{iid}.title", r.string(x, "title", where)),
                legal_basis=msg(f"{iid}.legal_basis", r.string(x, "legal_basis", where)),
                action=msg(f"{iid}.action", r.string(x, "action", where)),
                evidence=msg(f"{iid}.evidence", r.string(x, "evidence", where)),
                rules=tuple(rules),
                default=default,
                applies_when=applies,
            )
        )

    # Predicates that name recommendation values or reasons are checked last,
    # once every value and reason is known.
    all_alts = [v.when for v in values] + [f.when for f in follow_ups] + [r_.when for r_ in reasons]
    all_alts += [rule.when for it in items for rule in it.rules] + [it.applies_when for it in items]
    for alts in all_alts:
        for alt in alts:
            for p in alt:
                if p.kind == "recommendation" and not p.values <= value_ids:
                    raise r.fail("rules", f"unknown recommendation value(s) {sorted(p.values - value_ids)}")
                if p.kind == "reason" and p.target not in reason_ids:
                    raise r.fail("rules", f"unknown reason {p.target!r}")

    finish = r.mapping(raw.get("finish"), "finish")
    return Flow(
        id=flow_id,
        version=version,
        digest=digest,
        source=source,
        source_locale=source_locale,
        title=msg("flow.title", r.string(raw, "title", "top level")),
        sections=tuple(sections),
        steps=tuple(steps),
        recommendation=recommendation,
        status_actions=status_actions,
        checklist=tuple(items),
        finish_text=msg("done.text", r.string(finish, "text", "finish")),
        finish_help=msg("done.help", r.string(finish, "help", "finish")),
        step_by_id=step_by_id,
    )


def load_flows(directory: str | Path) -> dict[tuple[str, int], Flow]:
    """Load every `*.yaml` in a directory, keyed by (flow id, version)."""
    flows: dict[tuple[str, int], Flow] = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        flow = load_flow(path)
        if flow.key in flows:
            other = flows[flow.key].source
            raise FlowError(path.name, "top level", f"flow {flow.id} version {flow.version} is also defined in {other}")
        flows[flow.key] = flow
    if not flows:
        raise FlowError(str(directory), "", "no flow files (*.yaml) found")
    return flows
