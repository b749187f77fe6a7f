"""The manager area's rules on plain data: which organisations need attention first, and what changed between two assessments.

No Flask, no database: the views gather the facts, these functions decide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

# A completed assessment is due for review 12 months after it was completed (README: manager area).
REVIEW_AFTER = timedelta(days=365)

Row = TypeVar("Row")


def review_due(completed_at: datetime | None, now: datetime, review_after: timedelta = REVIEW_AFTER) -> bool:
    """Whether the latest completed assessment is old enough to be reviewed (never when there is none)."""
    return completed_at is not None and completed_at + review_after <= now


@dataclass(frozen=True)
class Attention:
    """The facts that decide how soon an organisation needs a manager's attention."""

    name: str
    critical: int  # critical items in the latest completed checklist (0 without one)
    review_due: bool
    completed: bool  # whether the organisation has a completed assessment at all

    def sort_key(self) -> tuple[int, bool, bool, str]:
        """Most critical items first, then a due review, then never completed, then by name."""
        return (-self.critical, not self.review_due, self.completed, self.name.lower())


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
