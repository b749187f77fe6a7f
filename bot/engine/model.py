"""The data model of a loaded flow version: frozen dataclasses, built by the parser only."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from .conditions import AnswerMigration, ChannelChoice, Condition, DocumentBuilder
from .vocabulary import ItemStatus, StepKind

DONE = "done"
# What an info step may show besides its text.
SHOWABLE = ("recommendation",)

# A compiled test on (effective) answers: the parser builds one per predicate and per asked_when.
Test = Callable[[Mapping[str, Any]], bool]


def always(answers: Mapping[str, Any]) -> bool:
    """The test of a step without asked_when: always asked."""
    return True


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


class PredicateKind(StrEnum):
    """What a predicate tests."""

    STEP = "step"  # a step's answer (op: in, not_in, has, has_all, has_any)
    CONDITION = "condition"  # a named Python condition of the flow version
    ASKED = "asked"  # whether a step is on the path
    RECOMMENDATION = "recommendation"  # the recommended value (checklist rules only)
    REASON = "reason"  # a recommendation reason that fired (checklist rules only)


class StepOp(StrEnum):
    """How a step predicate compares the answer with its values."""

    IN = "in"  # the answer is one of the values (choice and text steps)
    NOT_IN = "not_in"  # the exact negation of `in`: also holds when there is no answer
    HAS = "has"  # a multi answer contains the value
    HAS_ALL = "has_all"  # a multi answer contains all of the values
    HAS_ANY = "has_any"  # a multi answer contains at least one of the values


@dataclass(frozen=True)
class Predicate:
    """One test in a rule or an `asked_when`: on a step's answer, a condition, a reason or the value."""

    kind: PredicateKind
    target: str | None = None  # step id, condition name, reason id
    op: StepOp | None = None  # for kind=step
    values: frozenset[str] = frozenset()
    condition: Condition | None = field(default=None, compare=False)  # resolved from the flow's code
    # The compiled test of a step, condition or asked predicate (the recommendation and reasons need rules).
    test: Test | None = field(default=None, compare=False, repr=False)


# A rule holds when all predicates of one of its alternatives hold; no alternatives: always.
Alternatives = tuple[tuple[Predicate, ...], ...]


@dataclass(frozen=True)
class Step:
    """One question or info node; its id is also the state name in the machine."""

    id: str
    index: int
    kind: StepKind
    section: str
    text: Msg
    help: Msg | None
    options: tuple[Option, ...] = ()
    optional: bool = False
    asked_when: Alternatives = ()  # empty: always asked
    validator: str | None = None
    shows: str | None = None
    # asked_when compiled: takes effective answers (of asked steps only).
    asked: Test = field(default=always, compare=False, repr=False)

    @property
    def values(self) -> tuple[str, ...]:
        """The option values, in order."""
        return tuple(o.value for o in self.options)


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

    status: ItemStatus
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
    default: ItemStatus
    applies_when: Alternatives = ()


@dataclass(frozen=True)
class Section:
    """A group of steps and items, shown in the progress bar and the checklist."""

    id: str
    title: Msg


@dataclass(frozen=True)
class Flow:
    """A validated flow version: its definition plus the Python code it names."""

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
    # The steps any asked_when reads (directly, through a condition or an `asked`), in flow order:
    # the path depends on their answers alone.
    branch_steps: tuple[str, ...] = ()
    conditions: dict[str, Condition] = field(repr=False, compare=False, default_factory=dict)
    documents: tuple[DocumentBuilder, ...] = field(repr=False, compare=False, default=())
    # How the answers of an earlier version carry over to this one, by that version (re-assessment).
    migrations: dict[int, AnswerMigration] = field(repr=False, compare=False, default_factory=dict)
    # The step that records the chosen channel and the option each recommendation names (the respondent's result).
    channel_choice: ChannelChoice | None = field(repr=False, compare=False, default=None)

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
