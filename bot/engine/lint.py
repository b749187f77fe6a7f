"""Static checks of a flow (`wa-onboarding flows check`) and its Mermaid diagram.

The path of a flow depends only on its branch steps: the steps its `asked_when`
predicates read (directly, or through the steps a named condition declares). Walking every combination of those steps' values through the
real machine therefore visits every path: a step never visited is unreachable,
a walk that does not end in "done" is a dead end, and `back` from "done" must
retrace each path exactly.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import TurnError
from .machine import FlowEngine
from .model import DONE, Flow, Msg, Step
from .predicates import describe
from .values import INFO_VALUE
from .vocabulary import StepKind


class _Walker:
    """A minimal assessment: the engine only needs `state` and `answers`."""

    def __init__(self, state: str) -> None:
        self.state = state
        self.answers: dict[str, Any] = {}


@dataclass
class WalkReport:
    """What walking every path class found."""

    paths: int = 0
    visited: set[str] = field(default_factory=set)
    edges: dict[tuple[str, str], str | None] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def sample_values(step: Step) -> list[Any]:
    """The answers to try for a step that decides the path: each option, and combinations."""
    if step.kind == StepKind.CHOICE:
        return list(step.values)
    if step.kind == StepKind.MULTI:
        plain = [o.value for o in step.options if not o.exclusive]
        return [[o.value] for o in step.options] + ([plain] if len(plain) > 1 else [])
    if step.kind == StepKind.INFO:
        return [INFO_VALUE]
    return [None] if step.optional else ["text"]


def default_value(step: Step) -> Any:
    """A valid answer for a step that does not decide the path."""
    return sample_values(step)[0]


def branch_steps(flow: Flow) -> list[Step]:
    """The steps whose answers decide which later steps are asked."""
    return [flow.step_by_id[step_id] for step_id in flow.branch_steps]


def answer_sets(flow: Flow) -> Iterator[dict[str, Any]]:
    """One answer set per combination of the branch steps' sample values."""
    branches = branch_steps(flow)
    for combo in itertools.product(*(sample_values(s) for s in branches)):
        chosen = dict(zip((s.id for s in branches), combo, strict=True))
        yield {s.id: chosen[s.id] if s.id in chosen else default_value(s) for s in flow.steps}


def play(engine: FlowEngine, answers: dict[str, Any], limit: int | None = None) -> tuple[_Walker, list[str]]:
    """Answer each step the machine asks from `answers`; return the model and the path."""
    model = _Walker(engine.initial_state)
    path: list[str] = []
    limit = limit or len(engine.steps) + 2
    while model.state != DONE and len(path) < limit:
        step = engine.flow.step_by_id[model.state]
        path.append(step.id)
        value = answers.get(step.id, INFO_VALUE if step.kind == StepKind.INFO else None)
        if value is None and step.optional:
            engine.skip(model, step.id)
        else:
            engine.answer(model, step.id, value)
    return model, path


def walk(engine: FlowEngine) -> WalkReport:
    """Walk every path class through the machine, forwards and back."""
    report = WalkReport()
    flow = engine.flow
    for answers in answer_sets(flow):
        report.paths += 1
        try:
            model, path = play(engine, answers)
        except TurnError as exc:
            report.problems.append(f"{flow.source}: step {exc.step}: the machine refused a valid answer ({exc.code})")
            continue
        if model.state != DONE:
            report.problems.append(f"{flow.source}: step {model.state}: dead end (the flow does not reach the end from here)")
            continue
        report.visited.update(path)
        for src, dst in zip(path, [*path[1:], DONE], strict=True):
            asked_when = flow.step_by_id[dst].asked_when if dst != DONE else ()
            report.edges[(src, dst)] = describe(asked_when) if asked_when else None
        back = []
        while True:
            try:
                engine.back(model)
            except TurnError:
                break
            back.append(model.state)
        if back != list(reversed(path)):
            report.problems.append(f"{flow.source}: step {path[0]}: 'back' from the end does not retrace the path {path}")
    return report


def lint(engine: FlowEngine, translated: Callable[[str, Msg], bool] | None = None, locales: tuple[str, ...] = ()) -> list[str]:
    """Every problem of a flow: unreachable steps, dead ends, missing translations."""
    flow = engine.flow
    report = walk(engine)
    problems = list(report.problems)
    for step in flow.steps:
        if step.id not in report.visited:
            problems.append(f"{flow.source}: step {step.id}: unreachable (no combination of answers asks it)")
    if translated is not None:
        for locale in locales:
            for msg in flow.messages():
                if not translated(locale, msg):
                    place = msg.context.split(".", 2)[1]
                    problems.append(f"{flow.source}: {place}: no {locale} translation for {msg.context!r}")
    return problems


def mermaid(engine: FlowEngine) -> str:
    """The flow as a Mermaid stateDiagram-v2, via transitions' mermaid engine.

    Built from the edges the walk actually takes (with the condition of the
    destination as the label), not from every candidate transition, so the
    diagram shows the real paths. Never built on the request path.
    """
    from transitions.extensions import GraphMachine

    flow = engine.flow
    report = walk(engine)
    transitions = [
        {"trigger": "answer", "source": src, "dest": dst, **({"conditions": cond} if cond else {})}
        for (src, dst), cond in sorted(report.edges.items(), key=lambda e: (_order(flow, e[0][0]), _order(flow, e[0][1])))
    ]

    class _Diagram:
        """The model GraphMachine draws; it adds `get_graph` to it."""

    model: Any = _Diagram()
    GraphMachine(
        model=model,
        states=[s.id for s in flow.steps] + [DONE],
        transitions=transitions,
        initial=engine.initial_state,
        auto_transitions=False,
        graph_engine="mermaid",
        show_conditions=True,
        title=f"{flow.id} v{flow.version}",
    )
    return str(model.get_graph().draw(None))


def _order(flow: Flow, state: str) -> int:
    return flow.step_by_id[state].index if state in flow.step_by_id else len(flow.steps)


def schema_problems(raw: Any, source: str, schema: Mapping[str, Any]) -> list[str]:
    """Where a raw flow document breaks the published JSON Schema (flows/schema.json).

    The loader checks more (references between steps, rules and code); the schema is
    what editors check while typing, so `flows check` keeps the two in step.
    """
    from jsonschema import Draft202012Validator, ValidationError

    def leaves(error: ValidationError) -> Iterator[ValidationError]:
        if not error.context:
            yield error
        for sub in error.context or ():
            yield from leaves(sub)

    def closest(error: ValidationError) -> ValidationError:
        """"Not valid under any of the given schemas" says little: name the deepest problem of an alternative."""
        return max(leaves(error), key=lambda e: (len(e.absolute_path), e.validator not in ("type", "required")))

    validator = Draft202012Validator(schema)
    problems = []
    for found in sorted(validator.iter_errors(raw), key=lambda e: [str(p) for p in e.absolute_path]):
        error = closest(found)
        place = "/".join(str(p) for p in error.absolute_path) or "top level"
        problems.append(f"{source}: {place}: {error.message} (schema)")
    return problems
