"""Exporters: one module per format, each renders the same localised Report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from babel.support import Translations

from ..engine import Checklist, Flow
from ..i18n import STATUS_LABELS, checklist_dict, recommendation_texts, text

STATUS_ORDER = ("critical", "open", "done", "not_applicable")


@dataclass(frozen=True)
class Report:
    """A localised, channel-neutral checklist.

    `data` is exactly the checklist object of the HTTP contract (recommendation,
    items, summary, and org/assessment when known); the rest is the wording that
    human-readable formats need.
    """

    locale: str
    flow_title: str
    data: dict[str, Any]
    recommendation: dict[str, Any]
    status_labels: dict[str, str]
    tr: Translations


def build_report(flow: Flow, checklist: Checklist, tr: Translations, locale: str, **context: Any) -> Report:
    """Localise a checklist into a Report; `context` adds e.g. org and assessment."""
    data = {**context, **checklist_dict(checklist, tr)}
    labels = {status: tr.gettext(label) for status, label in STATUS_LABELS.items()}
    return Report(locale, text(flow.title, tr) or flow.id, data, recommendation_texts(checklist.recommendation, tr), labels, tr)
