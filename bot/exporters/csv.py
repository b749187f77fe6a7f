"""CSV export for German Excel: UTF-8 with BOM, `;`-separated, no formulas; an older questionnaire version is named above the table.

A manager's export adds the tracking columns (owner, due, workflow, risk acceptance, evidence, needs review).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from . import Report

MEDIA_TYPE = "text/csv; charset=utf-8"
HEADER = ("organisation", "completed", "id", "status", "section", "title", "legal_basis", "action", "evidence")
TRACKING_HEADER = ("owner", "due", "workflow", "risk_accepted_until", "risk_accepted_by", "risk_reason", "evidence_on_file", "needs_review")
# A cell starting with one of these is a formula in Excel/LibreOffice (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """Make a cell plain text: a leading formula character gets a quote in front."""
    cell = "" if value is None else str(value)
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def tracking_cells(report: Report, tracking: dict[str, Any] | None) -> list[str]:
    """An item's tracking columns (empty when the item has none): people's text neutralised, dates as YYYY-MM-DD."""
    if tracking is None:
        return [""] * len(TRACKING_HEADER)
    risk = tracking.get("risk_acceptance") or {}
    return [
        neutralise(tracking.get("owner")),
        str(tracking.get("due") or ""),
        report.workflow_label(str(tracking.get("workflow") or "todo")),
        str(risk.get("until") or ""),
        neutralise(risk.get("by")),
        neutralise(risk.get("reason")),
        neutralise("; ".join(report.evidence_texts(tracking))),
        report.yes_no(bool(tracking.get("needs_review"))),
    ]


def rows(report: Report, tracked: bool = False) -> list[list[str]]:
    """The item rows of one report (critical first), without the header; `tracked` adds the tracking columns."""
    org = report.data.get("org", {}).get("name", "")
    completed = (report.data.get("assessment") or {}).get("completed_at") or ""
    return [
        [
            neutralise(org),
            completed[:10],
            item["id"],
            report.status_labels[item["status"]],
            neutralise(report.item_sections.get(item["id"], "")),
            neutralise(item["title"]),
            neutralise(item["legal_basis"]),
            neutralise(item["action"]),
            neutralise(item["evidence"]),
            *(tracking_cells(report, item.get("tracking")) if tracked else []),
        ]
        for item in report.items_by_status()
    ]


def render_many(reports: list[Report]) -> str:
    """Several checklists in one table (e.g. every organisation of a consultant); the first sets the language."""
    buffer = io.StringIO()
    buffer.write("\ufeff")  # the BOM makes Excel read UTF-8
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    # A checklist made with an older questionnaire version says so above the table (one line per organisation).
    notices = [(report, notice) for report in reports if (notice := report.version_notice())]
    for report, notice in notices:
        org = report.data.get("org", {}).get("name", "")
        writer.writerow([neutralise(f"{org}: {notice}" if len(reports) > 1 else notice)])
    if notices:
        writer.writerow([])
    tracked = any(report.tracked for report in reports)
    if reports:
        writer.writerow([reports[0].label(key) for key in (*HEADER, *(TRACKING_HEADER if tracked else ()))])
    for report in reports:
        writer.writerows(rows(report, tracked))
    return buffer.getvalue()


def render(report: Report) -> str:
    """One checklist as CSV."""
    return render_many([report])
