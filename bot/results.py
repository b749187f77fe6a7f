"""The respondent's result: what to do first, the counts, and the chosen channel beside the recommendation.

Pure (no Flask, no database): every surface that ends an assessment (the widget's
end card, the wizard's result page, the respondent's PDF) shows the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from babel.support import Translations

from .engine import FlowEngine
from .engine.rules import Checklist
from .engine.vocabulary import ItemStatus
from .i18n import N_, answer_text, text

# How many critical items the "start here" block shows.
START_HERE = 3
CHANNEL_DIFFERS = N_(
    "%(chosen)s is not the channel we recommend. The checklist follows your choice: "
    "as long as you keep it, its items show what it requires."
)


@dataclass(frozen=True)
class ChannelComparison:
    """The channel the respondent chose and whether it is the one the recommendation names."""

    chosen: str | None
    chosen_label: str | None
    matches: bool
    note: str | None


@dataclass(frozen=True)
class RespondentResult:
    """What the end of an assessment shows its respondent (localised texts, no URLs)."""

    recommendation: dict[str, str]
    channel: ChannelComparison
    start_here: list[dict[str, str]]
    critical: list[dict[str, str]]
    counts: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values (the chat API adds the page and PDF addresses)."""
        return {
            "recommendation": self.recommendation,
            "channel": {"chosen": self.channel.chosen, "chosen_label": self.channel.chosen_label, "matches": self.channel.matches, "note": self.channel.note},
            "start_here": self.start_here,
            "critical": self.critical,
            "counts": self.counts,
        }


def respondent_result(engine: FlowEngine, answers: dict[str, Any], tr: Translations, checklist: Checklist | None = None) -> RespondentResult:
    """The result of a completed assessment's effective answers, in the catalog's language (from `checklist` when already made)."""
    checklist = checklist or engine.checklist(answers)
    rec = checklist.recommendation
    title = text(rec.title, tr) or rec.value
    critical = [item for item in checklist.items if item.status == ItemStatus.CRITICAL]
    return RespondentResult(
        recommendation={"value": rec.value, "title": title},
        channel=_channel(engine, answers, rec.value, tr),
        start_here=[{"id": i.id, "title": text(i.title, tr) or i.id, "action": text(i.action, tr) or ""} for i in critical[:START_HERE]],
        critical=[{"id": i.id, "title": text(i.title, tr) or i.id} for i in critical],
        counts=checklist.summary,
    )


def _channel(engine: FlowEngine, answers: dict[str, Any], recommendation: str, tr: Translations) -> ChannelComparison:
    choice = engine.flow.channel_choice
    chosen = answers.get(choice.step) if choice is not None else None
    if choice is None or chosen is None:
        return ChannelComparison(None, None, True, None)
    label = answer_text(engine.flow.step_by_id[choice.step], chosen, tr) or str(chosen)
    named = choice.by_recommendation.get(recommendation)
    matches = named is None or named == chosen
    note = None if matches else tr.gettext(CHANNEL_DIFFERS) % {"chosen": label}
    return ChannelComparison(str(chosen), label, matches, note)
