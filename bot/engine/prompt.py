"""The prompt view-model: what a surface needs to ask the current step, as keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .model import Msg, Option
from .rules import Checklist, RecommendationResult


@dataclass(frozen=True)
class Prompt:
    """The current question of an assessment, channel-neutral.

    `text`, `help` and option labels are Msg keys that each surface localises.
    `value` is the step's earlier answer (pre-selected after `back`).
    `recommendation` is set on the step that shows it; `checklist` when done.
    """

    step: str
    kind: str  # choice | multi | text | info | done
    section: str | None
    text: Msg
    help: Msg | None
    options: tuple[Option, ...]
    optional: bool
    answered: int
    total: int
    value: Any = None
    recommendation: RecommendationResult | None = None
    checklist: Checklist | None = None
