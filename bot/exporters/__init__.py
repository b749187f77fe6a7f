"""Exporters: one module per format, each renders the same localised Report.

`FORMATS` maps the file extension of `checklist.<fmt>` to its module; every module
has `MEDIA_TYPE` and `render(report) -> str | bytes`. Text that came from people
(organisation names, answers, evidence names, reasons for accepting a risk) is never
interpreted by any format: no formulas in CSV/XLSX, no markup in PDF/Markdown.

A manager's report carries each item's `tracking` (owner, due, workflow, risk
acceptance, evidence, needs review); every format adds it only then, so a
respondent's files stay exactly as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType
from typing import Any

from babel.support import Translations

from ..engine import Checklist, Flow
from ..engine.vocabulary import STATUS_ORDER, ExportFormat
from ..i18n import N_, STATUS_LABELS, WORKFLOW_LABELS, answer_rows, checklist_dict, recommendation_texts, text
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
    # A manager's export adds each item's tracking (never a respondent's).
    "owner": N_("Owner"),
    "due": N_("Due"),
    "workflow": N_("Workflow"),
    "risk_accepted_until": N_("Risk accepted until"),
    "risk_accepted_by": N_("Risk accepted by"),
    "risk_reason": N_("Reason for accepting the risk"),
    "evidence_on_file": N_("Evidence on file"),
    "needs_review": N_("Needs review"),
}
RISK_ACCEPTED = N_("Risk accepted by %(by)s until %(until)s: %(reason)s")
RISK_ACCEPTED_COUNT = N_("Risk accepted")
NEXT_REVIEW = N_("Next review")
EVIDENCE_FROM = N_("%(name)s (from %(effective)s)")
EVIDENCE_FROM_UNTIL = N_("%(name)s (from %(effective)s until %(expires)s)")
EVIDENCE_EXPIRED = N_("%(evidence)s – expired")
YES, NO = N_("Yes"), N_("No")
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

    @property
    def tracked(self) -> bool:
        """Whether the items carry a manager's tracking (a respondent's report never does)."""
        return any("tracking" in item for item in self.data["items"])

    def workflow_label(self, state: str) -> str:
        """A workflow state in the report's language."""
        return self.tr.gettext(WORKFLOW_LABELS[state]) if state in WORKFLOW_LABELS else state

    def yes_no(self, value: bool) -> str:
        """Yes or No in the report's language."""
        return self.tr.gettext(YES if value else NO)

    def evidence_texts(self, tracking: dict[str, Any], day: Callable[[str], str] = str) -> list[str]:
        """Each piece of an item's evidence as "name (from … until …)", marked when it expired; `day` writes a date."""
        out = []
        for evidence in tracking.get("evidence") or []:
            name = evidence["name"]
            if evidence.get("effective") and evidence.get("expires"):
                shown = self.tr.gettext(EVIDENCE_FROM_UNTIL) % {"name": name, "effective": day(evidence["effective"]), "expires": day(evidence["expires"])}
            elif evidence.get("effective"):
                shown = self.tr.gettext(EVIDENCE_FROM) % {"name": name, "effective": day(evidence["effective"])}
            else:
                shown = name
            out.append(self.tr.gettext(EVIDENCE_EXPIRED) % {"evidence": shown} if evidence.get("expired") else shown)
        return out

    def risk_text(self, risk: dict[str, Any], day: Callable[[str], str] = str) -> str:
        """ "Risk accepted by <who> until <date>: <reason>" in the report's language."""
        return self.tr.gettext(RISK_ACCEPTED) % {"by": risk.get("by") or "", "until": day(risk["until"]), "reason": risk["reason"]}

    def review_due(self) -> str | None:
        """The day the checklist of record falls due for review (ISO), when the report knows it."""
        return (self.data.get("review") or {}).get("due")

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
__all__ = ["COLUMNS", "FORMAT_NAMES", "FORMAT_RULE", "OLDER_VERSION", "STATUS_ORDER", "WORKFLOW_LABELS", "Report", "build_report", "formats"]
