"""Derive the path, the recommendation and the checklist from a set of answers.

Everything here works on the *effective* answers: the answers of the steps that
are asked given the earlier answers. Answers of steps that fell off the path
(after an earlier answer changed) stay in the history but are ignored here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .model import Alternatives, Flow, Msg, Predicate, PredicateKind
from .predicates import check, effective_answers
from .vocabulary import ItemStatus

__all__ = ["Checklist", "ItemResult", "RecommendationResult", "derive_checklist", "effective_answers", "recommend"]


@dataclass(frozen=True)
class RecommendationResult:
    """The channel advice: a value and the reasons (rule ids) that fired, in order."""

    value: str
    reasons: tuple[str, ...]
    title: Msg
    text: Msg
    reason_texts: tuple[Msg, ...]


@dataclass(frozen=True)
class ItemResult:
    """One checklist item with its derived status and its texts (as keys)."""

    id: str
    section: str
    status: ItemStatus
    title: Msg
    legal_basis: Msg
    action: Msg
    evidence: Msg


@dataclass(frozen=True)
class Checklist:
    """The channel-neutral result of an assessment: recommendation and items."""

    flow_id: str
    flow_version: int
    recommendation: RecommendationResult
    items: tuple[ItemResult, ...]

    @property
    def summary(self) -> dict[str, int]:
        """How many items have each status."""
        counts = {str(status): 0 for status in ItemStatus}
        for item in self.items:
            counts[item.status] += 1
        return counts


class _Facts:
    """What predicates are checked against: effective answers, reasons, the value."""

    def __init__(self, flow: Flow, answers: Mapping[str, Any]) -> None:
        self.flow = flow
        self.answers = effective_answers(flow, answers)
        self.reasons: list[str] = []
        self.value: str | None = None

    def holds(self, alts: Alternatives) -> bool:
        return any(all(self.check(p) for p in alt) for alt in alts)

    def check(self, p: Predicate) -> bool:
        if p.kind is PredicateKind.RECOMMENDATION:
            return self.value in p.values
        if p.kind is PredicateKind.REASON:
            return p.target in self.reasons
        return check(p, self.answers)


def _recommend(facts: _Facts) -> RecommendationResult:
    rec = facts.flow.recommendation
    fired = [r for r in rec.reasons if facts.holds(r.when)]
    facts.reasons = [r.id for r in fired]
    chosen = next(v for v in rec.values if not v.when or facts.holds(v.when))
    facts.value = chosen.value
    if chosen.reason:
        fired.append(chosen.reason)
        facts.reasons.append(chosen.reason.id)
    for follow_up in rec.follow_ups:
        if facts.holds(follow_up.when):
            fired.append(follow_up)
            facts.reasons.append(follow_up.id)
    return RecommendationResult(chosen.value, tuple(facts.reasons), chosen.title, chosen.text, tuple(r.text for r in fired))


def recommend(flow: Flow, answers: Mapping[str, Any]) -> RecommendationResult:
    """The recommendation for these answers."""
    return _recommend(_Facts(flow, answers))


def derive_checklist(flow: Flow, answers: Mapping[str, Any]) -> Checklist:
    """The recommendation and the status of every checklist item for these answers."""
    facts = _Facts(flow, answers)
    recommendation = _recommend(facts)
    items = []
    for item in flow.checklist:
        if item.applies_when and not facts.holds(item.applies_when):
            status = ItemStatus.NOT_APPLICABLE
        else:
            status = next((rule.status for rule in item.rules if facts.holds(rule.when)), item.default)
        action = flow.status_actions.get(status, item.action)
        items.append(ItemResult(item.id, item.section, status, item.title, item.legal_basis, action, item.evidence))
    return Checklist(flow.id, flow.version, recommendation, tuple(items))
