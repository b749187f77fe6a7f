"""Amendments of a completed assessment's answers, and why a checklist item has its status.

A manager learns that something changed ("the processor contract is signed now") and
amends the answer behind an item instead of redoing the questionnaire. `amend`
checks that the step is on the path, validates the value like a turn would, and
refuses a change that would open steps nobody has answered (a re-assessment asks
those). `derivation` says which answers gave an item its status; `fixes` lists the
single answer changes that would make it done. Pure: answers in, keys out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import TurnError
from .model import Alternatives, Flow, Predicate, PredicateKind, Step
from .rules import _Facts, _recommend, derive_checklist
from .values import validate_value
from .vocabulary import ItemStatus, StepKind, TurnErrorCode

STEP_NOT_ASKED = TurnErrorCode.STEP_NOT_ASKED
AMENDMENT_OPENS_STEPS = TurnErrorCode.AMENDMENT_OPENS_STEPS


def asked_steps(flow: Flow, answers: Mapping[str, Any]) -> list[Step]:
    """The steps asked for these answers, in flow order (answered or not)."""
    effective: dict[str, Any] = {}
    asked = []
    for step in flow.steps:
        if step.asked(effective):
            asked.append(step)
            value = answers.get(step.id)
            if value is not None:
                effective[step.id] = value
    return asked


def _unanswered(flow: Flow, answers: Mapping[str, Any]) -> list[str]:
    """The required questions asked for these answers that have no answer."""
    return [s.id for s in asked_steps(flow, answers) if s.kind != StepKind.INFO and not s.optional and answers.get(s.id) is None]


def amend(flow: Flow, answers: Mapping[str, Any], step_id: str, value: Any) -> dict[str, Any]:
    """The effective answers with `step_id` changed to `value` (None clears an optional step); raises TurnError.

    `step_not_asked`: the step is not on the path of these answers (or not a question).
    `amendment_opens_steps` (params `steps`): the change asks required questions nobody has answered.
    Any turn refusal (`invalid_value`, `wrong_type`, `not_optional`, ...) as a turn would raise it.
    """
    step = flow.step_by_id.get(step_id)
    if step is None or step.kind == StepKind.INFO or step not in asked_steps(flow, answers):
        raise TurnError(STEP_NOT_ASKED, step_id)
    if value is None:
        if not step.optional:
            raise TurnError("not_optional", step_id)
        normalised = None
    else:
        normalised = validate_value(step, value)
    changed = {k: v for k, v in answers.items() if k != step_id}
    if normalised is not None:
        changed[step_id] = normalised
    opened = _unanswered(flow, changed)
    if opened:
        raise TurnError(AMENDMENT_OPENS_STEPS, step_id, steps=opened)
    effective: dict[str, Any] = {}
    for s in asked_steps(flow, changed):
        if changed.get(s.id) is not None:
            effective[s.id] = changed[s.id]
    return effective


@dataclass(frozen=True)
class Condition:
    """One fact an item's status rests on: a step's answer, the recommendation, a reason or a named condition."""

    kind: str  # step, recommendation, reason, condition
    target: str | None  # the step id, reason id or condition name
    op: str | None  # in, not_in, has, has_any, has_all (steps only)
    values: tuple[str, ...]  # the values the rule names
    actual: Any  # the step's answer, or the recommendation's value


@dataclass(frozen=True)
class Derivation:
    """Why an item has its status: `rule` (`applies_when`, a status rule's index, or `default`) and the facts it rests on."""

    item: str
    status: ItemStatus
    rule: str
    conditions: tuple[Condition, ...]


def _facts_of(facts: _Facts, alternatives: Alternatives) -> tuple[Condition, ...]:
    """The predicates of the first alternative that holds (or, when none does, of the first one)."""
    chosen = next((alt for alt in alternatives if all(facts.check(p) for p in alt)), alternatives[0] if alternatives else ())
    return tuple(_condition(facts, p) for p in chosen)


def _condition(facts: _Facts, p: Predicate) -> Condition:
    if p.kind is PredicateKind.STEP:
        return Condition("step", p.target, str(p.op), tuple(sorted(p.values)), facts.answers.get(p.target or ""))
    if p.kind is PredicateKind.RECOMMENDATION:
        return Condition("recommendation", None, None, tuple(sorted(p.values)), facts.value)
    return Condition(str(p.kind), p.target, None, (), None)


def derivation(flow: Flow, answers: Mapping[str, Any], item_id: str) -> Derivation:
    """Which answers gave item `item_id` its status (KeyError for an unknown item)."""
    item = next(i for i in flow.checklist if i.id == item_id) if any(i.id == item_id for i in flow.checklist) else None
    if item is None:
        raise KeyError(item_id)
    facts = _Facts(flow, answers)
    _recommend(facts)
    if item.applies_when and not facts.holds(item.applies_when):
        return Derivation(item.id, ItemStatus.NOT_APPLICABLE, "applies_when", _facts_of(facts, item.applies_when))
    for index, rule in enumerate(item.rules):
        if facts.holds(rule.when):
            return Derivation(item.id, rule.status, f"rule {index + 1}", _facts_of(facts, rule.when))
    return Derivation(item.id, item.default, "default", ())


@dataclass(frozen=True)
class Fix:
    """One answer change that makes an item done: the step, the value, and what else it changes.

    A change of a fact like the purpose or the channel makes an item done by making much
    else not applicable: `other_items` counts the other items whose status changes, and
    `changes_recommendation` says whether the channel advice changes, so a person sees
    which buttons record a signed contract and which rewrite the whole assessment.
    """

    step: str
    value: Any
    other_items: int = 0
    changes_recommendation: bool = False


def _candidates(step: Step, current: Any) -> list[Any]:
    """The other values a choice or multiple-choice step could take (one option added or removed for multi)."""
    if step.kind == StepKind.CHOICE:
        return [v for v in step.values if v != current]
    if step.kind == StepKind.MULTI:
        chosen = set(current or [])
        out = []
        for option in step.options:
            toggled = chosen ^ {option.value}
            if option.exclusive and option.value not in chosen:
                toggled = {option.value}
            elif not option.exclusive:
                toggled -= {o.value for o in step.options if o.exclusive}
            if toggled and toggled != chosen:
                out.append([v for v in step.values if v in toggled])
        return out
    return []


def fixes(flow: Flow, answers: Mapping[str, Any], item_id: str) -> list[Fix]:
    """The single answer changes that would make the item done and that an amendment accepts.

    Those with the fewest side effects first (the recommendation unchanged, then the fewest
    other items changed), in flow order among equals.
    """
    before = derive_checklist(flow, answers)
    statuses = {i.id: i.status for i in before.items}
    out: list[Fix] = []
    for step in asked_steps(flow, answers):
        for value in _candidates(step, answers.get(step.id)):
            try:
                changed = amend(flow, answers, step.id, value)
            except TurnError:
                continue
            after = derive_checklist(flow, changed)
            if next(i.status for i in after.items if i.id == item_id) is ItemStatus.DONE:
                others = sum(1 for i in after.items if i.id != item_id and i.status is not statuses[i.id])
                out.append(Fix(step.id, value, others, after.recommendation.value != before.recommendation.value))
    return sorted(out, key=lambda fix: (fix.changes_recommendation, fix.other_items))
