"""How long a flow takes: the questions on its shortest and longest path, and minutes at a stated rate.

The start page and the wizard's start page promise a length; this module makes the
promise honest. The path of a flow depends only on its branch steps, so walking each
branch step's sample values (the same values `wa-onboarding flows check` walks) in
flow order visits every path class: the fewest and the most questions are exact for
the flow's rules. Info steps (the recommendation) are pages to read, not questions,
so they are not counted.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .engine.lint import sample_values
from .engine.model import Flow
from .engine.vocabulary import StepKind

# The stated rate: reading a question and choosing an answer takes about 20 seconds
# (a multiple choice a little more, a yes/no a little less). Minutes are rounded up.
SECONDS_PER_QUESTION = 20


@dataclass(frozen=True)
class Effort:
    """The fewest and the most questions a respondent answers in one flow, and the minutes they take."""

    fewest: int
    most: int

    @property
    def minutes_fewest(self) -> int:
        """Minutes for the shortest path (at least one)."""
        return minutes(self.fewest)

    @property
    def minutes_most(self) -> int:
        """Minutes for the longest path."""
        return minutes(self.most)


def minutes(questions: int) -> int:
    """Whole minutes (rounded up, at least one) for a number of questions at SECONDS_PER_QUESTION."""
    return max(1, math.ceil(questions * SECONDS_PER_QUESTION / 60))


# Computed once per flow version and file digest (a walk of the second version takes a few milliseconds).
_KNOWN: dict[tuple[str, int, str], Effort] = {}


def effort(flow: Flow) -> Effort:
    """The range of questions over every path of `flow`."""
    key = (flow.id, flow.version, flow.digest)
    if key not in _KNOWN:
        counts = list(_question_counts(flow))
        _KNOWN[key] = Effort(min(counts), max(counts))
    return _KNOWN[key]


def _question_counts(flow: Flow) -> Iterator[int]:
    """The number of questions on each path: a depth-first walk that branches only where a branch step is asked."""
    steps, branch = flow.steps, set(flow.branch_steps)

    def walk(start: int, answers: Mapping[str, Any], asked: int) -> Iterator[int]:
        for index in range(start, len(steps)):
            step = steps[index]
            if not step.asked(answers):
                continue
            asked += step.kind != StepKind.INFO
            if step.id in branch:
                for value in sample_values(step):
                    yield from walk(index + 1, {**answers, step.id: value}, asked)
                return
        yield asked

    yield from walk(0, {}, 0)
