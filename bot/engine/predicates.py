"""Evaluate predicates, and so which steps are asked, as if on the effective answers.

A step is asked when its `asked_when` holds on the *effective* answers: the answers
of the steps that are themselves asked, decided in step order. So an answer that
fell off the path (say `provider` after the channel was changed to the App) can
never switch a later step on, whatever the predicate or condition says.

The parser compiles each `asked_when` into one test that gives that result on any
answers, stale ones included, without first computing the effective answers: a
test of step X's answer also requires X's own (compiled) `asked_when`, and a named
condition sees only the answers of the steps it reads that are asked. A turn tries
many candidate steps, so each is one closure call, not an interpretation.
Checklist rules are evaluated on effective answers, so their tests need no guard.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .conditions import Condition
from .model import Alternatives, Flow, Predicate, PredicateKind, Step, StepOp, Test, always


def step_holds(p: Predicate, answers: Mapping[str, Any]) -> bool:
    """Whether a step predicate holds for these answers (an absent answer fails all but `not_in`)."""
    answer = answers.get(p.target or "")
    if p.op is StepOp.NOT_IN:
        return answer is None or answer not in p.values
    if answer is None:
        return False
    if p.op is StepOp.IN:
        return answer in p.values
    chosen = set(answer) if isinstance(answer, list) else {answer}
    if p.op is StepOp.HAS_ANY:
        return bool(p.values & chosen)
    return p.values <= chosen  # has, has_all


def compile_step_predicate(p: Predicate, target: Step | None = None) -> Test:
    """The test of a step predicate; with `target` (in an asked_when) it also requires that step to be asked."""
    step_id, values = p.target or "", p.values
    guard = target.asked if target is not None and target.asked_when else None
    if p.op is StepOp.IN:
        if guard is None:
            return lambda answers: answers.get(step_id) in values  # absent: None is never a value
        return lambda answers: answers.get(step_id) in values and guard(answers)
    if p.op is StepOp.NOT_IN:
        if guard is None:
            return lambda answers: answers.get(step_id) not in values
        return lambda answers: answers.get(step_id) not in values or not guard(answers)
    if guard is None:
        return lambda answers: step_holds(p, answers)
    return lambda answers: step_holds(p, answers) and guard(answers)


def compile_condition(condition: Condition, steps: Mapping[str, Step]) -> Test:
    """The test of a named condition in an asked_when: it sees only the asked steps it reads."""
    reads = tuple(steps[step_id] for step_id in condition.reads)
    func = condition.func

    def test(answers: Mapping[str, Any]) -> bool:
        return func({s.id: answers[s.id] for s in reads if answers.get(s.id) is not None and s.asked(answers)})

    return test


def compile_alternatives(alternatives: Alternatives) -> Test:
    """One test for alternatives of compiled predicates: all of one alternative hold (none given: always)."""
    tests = [tuple(p.test for p in alternative if p.test is not None) for alternative in alternatives]
    if any(len(t) != len(a) for t, a in zip(tests, alternatives, strict=True)):
        raise ValueError("only step, condition and asked predicates can be compiled")
    if not tests:
        return always
    if len(tests) == 1 and len(tests[0]) == 1:
        return tests[0][0]
    if len(tests) == 1:
        only = tests[0]
        return lambda answers: all(test(answers) for test in only)
    return lambda answers: any(all(test(answers) for test in alternative) for alternative in tests)


def check(p: Predicate, effective: Mapping[str, Any]) -> bool:
    """Whether a step, condition or asked predicate holds on effective answers."""
    if p.test is None:
        raise ValueError(f"a {p.kind} predicate needs the recommendation: rules evaluate it")
    return p.test(effective)


def is_asked(step: Step, answers: Mapping[str, Any]) -> bool:
    """Whether `step` is asked given any answers (those of steps off the path are ignored)."""
    return step.asked(answers)


def effective_answers(flow: Flow, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers of the steps that are asked, walking the flow from the start."""
    effective: dict[str, Any] = {}
    for step in flow.steps:
        value = answers.get(step.id)
        if value is not None and step.asked(effective):
            effective[step.id] = value
    return effective


def describe(alternatives: Alternatives) -> str:
    """A short readable form of a condition, for diagrams and logs (`channel in a/b and ...`)."""

    def one(p: Predicate) -> str:
        if p.kind is PredicateKind.STEP:
            return f"{p.target} {str(p.op).replace('_', ' ')} {'/'.join(sorted(p.values))}"
        if p.kind is PredicateKind.RECOMMENDATION:
            return f"recommendation in {'/'.join(sorted(p.values))}"
        return f"{p.kind} {p.target}" if p.kind is not PredicateKind.CONDITION else str(p.target)

    return " or ".join(" and ".join(one(p) for p in alternative) for alternative in alternatives)
