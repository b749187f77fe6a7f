"""CSV export for German Excel: UTF-8 with BOM, `;`-separated, no formulas; an older questionnaire version is named above the table."""

from __future__ import annotations

import csv
import io

from . import Report

MEDIA_TYPE = "text/csv; charset=utf-8"
HEADER = ("organisation", "completed", "id", "status", "section", "title", "legal_basis", "action", "evidence")
# A cell starting with one of these is a formula in Excel/LibreOffice (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """Make a cell plain text: a leading formula character gets a quote in front."""
    cell = "" if value is None else str(value)
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def rows(report: Report) -> list[list[str]]:
    """The item rows of one report (critical first), without the header."""
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
    if reports:
        writer.writerow([reports[0].label(key) for key in HEADER])
    for report in reports:
        writer.writerows(rows(report))
    return buffer.getvalue()


def render(report: Report) -> str:
    """One checklist as CSV."""
    return render_many([report])
