"""The manager area's rules on plain data: who needs attention first, what changed between two assessments, what a newer flow version changes.

No Flask, no database: the views gather the facts (and the loaded engines), these functions decide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from .engine import FlowEngine
from .engine.migration import migrate_answers
from .engine.model import Alternatives, ChecklistItem, Flow, PredicateKind
from .engine.vocabulary import StepKind

# The checklist of record is due for review this long after it was last confirmed (REVIEW_INTERVAL_DAYS).
DEFAULT_REVIEW_INTERVAL_DAYS = 365

Row = TypeVar("Row")


def review_due(confirmed_at: datetime | None, now: datetime, interval_days: int = DEFAULT_REVIEW_INTERVAL_DAYS) -> bool:
    """Whether a checklist of record last confirmed (completed, adopted, re-assessed or amended) at `confirmed_at` is due for review.

    The one definition of staleness: the overview, the items and the reminders use it. Never due without a checklist.
    """
    return confirmed_at is not None and confirmed_at + timedelta(days=interval_days) <= now


@dataclass(frozen=True)
class Attention:
    """The facts that decide how soon an organisation needs a manager's attention."""

    name: str
    critical: int  # critical items in the latest completed checklist (0 without one)
    review_due: bool
    completed: bool  # whether the organisation has a completed assessment at all
    # Whether the latest completed checklist was made with an older version of its flow than the newest
    # loaded one: its advice may be what the newer version corrected, so it comes before everything else.
    outdated: bool = False

    def sort_key(self) -> tuple[bool, int, bool, bool, str]:
        """A checklist of an older flow version first, then most critical items, a due review, never completed, then by name."""
        return (not self.outdated, -self.critical, not self.review_due, self.completed, self.name.lower())

    def reasons(self) -> list[str]:
        """Why the organisation needs attention, most important first: `outdated`, `critical`, `review_due`, `never_completed`."""
        facts = [("outdated", self.outdated), ("critical", self.critical > 0), ("review_due", self.review_due), ("never_completed", not self.completed)]
        return [reason for reason, holds in facts if holds]


def by_attention(rows: Iterable[Row], attention: Callable[[Row], Attention]) -> list[Row]:
    """The rows, those that need attention first (stable for equal facts)."""
    return sorted(rows, key=lambda row: attention(row).sort_key())


@dataclass(frozen=True)
class AnsweredQuestion:
    """One asked question of an assessment with its answer as shown to a person."""

    question: str
    answer: str | None


@dataclass(frozen=True)
class AnswerChange:
    """A question whose answer differs between the older and the newer assessment (None: not answered)."""

    step: str
    question: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class StatusChange:
    """A checklist item whose status differs (before is None when the older checklist had no such item)."""

    id: str
    before: str | None
    after: str


def answer_changes(step_order: Iterable[str], older: Mapping[str, AnsweredQuestion], newer: Mapping[str, AnsweredQuestion]) -> list[AnswerChange]:
    """The questions whose answers differ, in `step_order` (the newer flow's steps); the newer wording wins."""
    changes = []
    for step in step_order:
        before, after = older.get(step), newer.get(step)
        old = before.answer if before is not None else None
        new = after.answer if after is not None else None
        if old != new:
            asked = after if after is not None else before
            assert asked is not None  # old != new, so at least one side answered
            changes.append(AnswerChange(step, asked.question, old, new))
    return changes


def status_changes(older: Mapping[str, str], newer: Mapping[str, str]) -> list[StatusChange]:
    """The items of the newer checklist whose status differs from the older one, in the newer checklist's order."""
    return [StatusChange(item, older.get(item), status) for item, status in newer.items() if older.get(item) != status]


# -- what a newer flow version changes for an organisation ------------------------------------------

# The status shown for an item of the newer version that a question without a migrated answer decides.
NEEDS_ANSWER = "needs_answer"


def outdated(version: int, latest_version: int | None) -> bool:
    """Whether a checklist made with `version` was made with an older version than the newest loaded one."""
    return latest_version is not None and version < latest_version


def _step_reads(alternatives: Alternatives) -> set[str]:
    """The steps the predicates of `alternatives` read directly: steps, `asked` and the reads of named conditions."""
    out: set[str] = set()
    for alternative in alternatives:
        for p in alternative:
            if p.kind in (PredicateKind.STEP, PredicateKind.ASKED) and p.target:
                out.add(p.target)
            elif p.kind is PredicateKind.CONDITION and p.condition is not None:
                out.update(p.condition.reads)
    return out


def _predicate_reads(flow: Flow, alternatives: Alternatives) -> set[str]:
    """The steps some predicate of `alternatives` reads (a recommendation or reason predicate: the recommendation's)."""
    out = _step_reads(alternatives)
    if any(p.kind in (PredicateKind.RECOMMENDATION, PredicateKind.REASON) for alternative in alternatives for p in alternative):
        out |= _recommendation_reads(flow)
    return out


def _recommendation_reads(flow: Flow) -> set[str]:
    """The steps any recommendation reason or value reads (follow-ups may test the value: not followed again)."""
    rec = flow.recommendation
    rules = [r.when for r in rec.reasons] + [v.when for v in rec.values] + [r.when for r in rec.follow_ups]
    return set().union(*(_step_reads(alternatives) for alternatives in rules))


def _with_asked_when(flow: Flow, steps: set[str]) -> frozenset[str]:
    """`steps` and every step their `asked_when` reads, transitively.

    Rules see effective answers, so an answer counts only when its step is asked: a
    rule that reads a step depends on what decides whether that step is asked, too.
    """
    found: set[str] = set()
    pending = [s for s in steps if s in flow.step_by_id]
    while pending:
        step_id = pending.pop()
        if step_id in found:
            continue
        found.add(step_id)
        pending.extend(s for s in _predicate_reads(flow, flow.step_by_id[step_id].asked_when) if s not in found)
    return frozenset(found)


def item_reads(flow: Flow, item: ChecklistItem) -> frozenset[str]:
    """Every step the status of `item` depends on: what its applies_when and rules read, with what decides those steps are asked."""
    direct = _predicate_reads(flow, item.applies_when)
    for rule in item.rules:
        direct |= _predicate_reads(flow, rule.when)
    return _with_asked_when(flow, direct)


def recommendation_reads(flow: Flow) -> frozenset[str]:
    """Every step the recommendation depends on (with what decides those steps are asked)."""
    return _with_asked_when(flow, _recommendation_reads(flow))


def open_steps(engine: FlowEngine, answers: Mapping[str, Any]) -> tuple[str, ...]:
    """The question steps on the path for `answers` that have no answer, in path order (what a re-assessment asks)."""
    steps = engine.flow.step_by_id
    return tuple(s for s in engine.path(answers) if steps[s].kind is not StepKind.INFO and answers.get(s) is None)


@dataclass(frozen=True)
class ItemComparison:
    """One checklist item under the older version and under the newer one with the migrated answers.

    `before` is None when the item is new; `after` is None when the item is no longer in
    the newer version, and NEEDS_ANSWER when `needs` (open steps it depends on) is not empty.
    """

    id: str
    before: str | None
    after: str | None
    needs: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether the item's status (or its presence) differs between the versions."""
        return self.before != self.after


@dataclass(frozen=True)
class VersionComparison:
    """What rating an older version's answers with a newer version changes, item by item."""

    flow_id: str
    old_version: int
    new_version: int
    migrated: dict[str, Any]  # the answers the newer version keeps
    open_steps: tuple[str, ...]  # the questions a re-assessment asks, in path order
    recommendation_before: str
    recommendation_after: str  # NEEDS_ANSWER when an open step decides it
    items: tuple[ItemComparison, ...]

    @property
    def changed(self) -> list[ItemComparison]:
        """The items whose status differs or is not decided yet."""
        return [item for item in self.items if item.changed]


def compare_versions(old: FlowEngine, new: FlowEngine, completed_answers: Mapping[str, Any]) -> VersionComparison | None:
    """Rate a completed assessment of `old`'s version with `new`'s version and its migrated answers (None: no migration).

    An item of the newer version *needs an answer* when the steps its status depends on
    (`item_reads`: what its rules and applies_when read, followed through the
    `asked_when` of those steps and, for rules on the recommendation, through what the
    recommendation reads) include a step of the newer path without a migrated answer.
    Every such step is asked by a re-assessment, so the status is given only when the
    migrated answers alone decide it. The rule is conservative: an item may say "needs
    an answer" although every possible answer would give the same status.
    """
    migrated = migrate_answers(new.flow, old.flow.version, completed_answers)
    if migrated is None:
        return None
    asked = open_steps(new, migrated)
    unanswered = set(asked)
    old_checklist = old.checklist(completed_answers)
    before = {item.id: str(item.status) for item in old_checklist.items}
    after_checklist = new.checklist(migrated)
    after = {item.id: str(item.status) for item in after_checklist.items}
    path_order = {step: index for index, step in enumerate(asked)}
    items = []
    for item in new.flow.checklist:
        needs = tuple(sorted(item_reads(new.flow, item) & unanswered, key=path_order.__getitem__))
        items.append(ItemComparison(item.id, before.get(item.id), NEEDS_ANSWER if needs else after[item.id], needs))
    items += [ItemComparison(item_id, status, None) for item_id, status in before.items() if item_id not in after]
    old_value = old_checklist.recommendation.value
    new_value = NEEDS_ANSWER if recommendation_reads(new.flow) & unanswered else after_checklist.recommendation.value
    return VersionComparison(new.flow.id, old.flow.version, new.flow.version, migrated, asked, old_value, new_value, tuple(items))
