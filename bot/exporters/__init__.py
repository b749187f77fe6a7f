"""Exporters: one module per format, each renders the same localised Report.

`FORMATS` maps the file extension of `checklist.<fmt>` to its module; every module
has `MEDIA_TYPE` and `render(report) -> str | bytes`. Text that came from people
(organisation names, answers) is never interpreted by any format: no formulas in
CSV/XLSX, no markup in PDF/Markdown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType
from typing import Any

from babel.support import Translations

from ..engine import Checklist, Flow
from ..engine.vocabulary import STATUS_ORDER, ExportFormat
from ..i18n import N_, STATUS_LABELS, answer_rows, checklist_dict, recommendation_texts, text
from ..review import outdated

# Column headings shared by the tabular formats (CSV, XLSX, PDF).
COLUMNS = {
    "organisation": N_("Organisation"),
    "completed": N_("Completed"),
    "id": N_("Item"),
    "status": N_("Status"),
    "section": N_("Area"),
    "title": N_("Title"),
    "legal_basis": N_("Legal basis"),
    "action": N_("What to do"),
    "evidence": N_("Evidence to file"),
    "question": N_("Question"),
    "answer": N_("Answer"),
}
# The line in every export's header when the checklist was made with an older version of its questionnaire.
OLDER_VERSION = N_("Made with version %(version)s of the questionnaire; version %(latest)s is current – please re-assess.")


@dataclass(frozen=True)
class Report:
    """A localised, channel-neutral checklist.

    `data` is exactly the checklist object of the HTTP contract (recommendation,
    items, summary, and org/assessment when known); the rest is the wording that
    human-readable formats need: section titles per item and the answers given.
    """

    locale: str
    flow_title: str
    data: dict[str, Any]
    recommendation: dict[str, Any]
    status_labels: dict[str, str]
    tr: Translations
    item_sections: dict[str, str] = field(default_factory=dict)
    answers: list[dict[str, Any]] = field(default_factory=list)
    generated_at: datetime | None = None

    def label(self, key: str) -> str:
        """A localised column heading."""
        return self.tr.gettext(COLUMNS[key])

    def version_notice(self) -> str | None:
        """The localised line saying the checklist was made with an older questionnaire version (None when it is current)."""
        assessment = self.data.get("assessment") or {}
        version, latest = assessment.get("version"), assessment.get("latest_version")
        if version is None or not outdated(version, latest):
            return None
        return self.tr.gettext(OLDER_VERSION) % {"version": version, "latest": latest}

    def items_by_status(self) -> list[dict[str, Any]]:
        """The items, critical first, then to do, done, not applicable (stable within a status)."""
        return sorted(self.data["items"], key=lambda item: STATUS_ORDER.index(item["status"]))


def build_report(
    flow: Flow,
    checklist: Checklist,
    tr: Translations,
    locale: str,
    answers: dict[str, Any] | None = None,
    generated_at: datetime | None = None,
    **context: Any,
) -> Report:
    """Localise a checklist into a Report; `answers` adds the question/answer list, `context` e.g. org and assessment."""
    data = {**context, **checklist_dict(checklist, tr)}
    labels = {status: tr.gettext(label) for status, label in STATUS_LABELS.items()}
    sections = {s.id: text(s.title, tr) or s.id for s in flow.sections}
    item_sections = {item.id: sections.get(item.section, item.section) for item in checklist.items}
    rows = answer_rows(flow, answers, tr) if answers else []
    return Report(
        locale,
        text(flow.title, tr) or flow.id,
        data,
        recommendation_texts(checklist.recommendation, tr),
        labels,
        tr,
        item_sections,
        rows,
        generated_at,
    )


def formats() -> dict[ExportFormat, ModuleType]:
    """The export formats by extension (imported lazily: PDF and XLSX pull in their libraries)."""
    from . import csv, json, markdown, pdf, xlsx

    return {ExportFormat.PDF: pdf, ExportFormat.CSV: csv, ExportFormat.XLSX: xlsx, ExportFormat.MD: markdown, ExportFormat.JSON: json}


# The URL rule part that accepts exactly the export formats: `checklist.<FORMAT_RULE:fmt>`.
FORMAT_RULE = "any(" + ", ".join(ExportFormat) + ")"
FORMAT_NAMES = tuple(ExportFormat)
__all__ = ["COLUMNS", "FORMAT_NAMES", "FORMAT_RULE", "OLDER_VERSION", "STATUS_ORDER", "Report", "build_report", "formats"]
