"""XLSX export (XlsxWriter): a checklist sheet to track in, the answers, and what the file is (with an older questionnaire version named).

A manager's export adds a worklist sheet after the checklist: one row per item with its
owner, due date (a date cell), workflow (a drop-down of the four states), risk
acceptance, evidence and whether it needs review.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook

from . import NEXT_REVIEW, RISK_ACCEPTED_COUNT, STATUS_ORDER, WORKFLOW_LABELS, Report

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMNS = (("id", 8), ("status", 16), ("section", 26), ("title", 40), ("legal_basis", 30), ("action", 60), ("evidence", 50))
STATUS_COLOURS = {"critical": "#F4C7C3", "open": "#FCE8B2", "done": "#B7E1CD", "not_applicable": "#E8EAED"}
WORKLIST_COLUMNS = (
    ("id", 8),
    ("title", 40),
    ("status", 16),
    ("owner", 28),
    ("due", 12),
    ("workflow", 14),
    ("risk_accepted_until", 14),
    ("risk_accepted_by", 28),
    ("risk_reason", 40),
    ("evidence_on_file", 50),
    ("needs_review", 12),
)
DATE_FORMATS = {"de": "dd.mm.yyyy"}  # how a date cell shows; ISO elsewhere


def render(report: Report) -> bytes:
    """The workbook as bytes. Every cell is written as a string or number: text never becomes a formula."""
    buffer = io.BytesIO()
    # strings_to_formulas/urls off: answers and names are shown as typed, never evaluated or linked.
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False})
    header = workbook.add_format({"bold": True, "bg_color": "#0B6E4F", "font_color": "#FFFFFF", "text_wrap": True, "valign": "top"})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    status_formats = {s: workbook.add_format({"bg_color": c, "valign": "top", "bold": s == "critical"}) for s, c in STATUS_COLOURS.items()}

    sheet = workbook.add_worksheet(_sheet_name(report.tr.gettext("Checklist")))
    for col, (key, width) in enumerate(COLUMNS):
        sheet.set_column(col, col, width)
        sheet.write_string(0, col, report.label(key), header)
    items = report.items_by_status()
    for row, item in enumerate(items, start=1):
        values = item | {"status": report.status_labels[item["status"]], "section": report.item_sections.get(item["id"], "")}
        for col, (key, _width) in enumerate(COLUMNS):
            cell_format = status_formats[item["status"]] if key == "status" else wrap
            sheet.write_string(row, col, str(values[key] or ""), cell_format)
    notice = report.version_notice()
    if notice:  # printed above every page of the checklist ("&" is a code in Excel's header syntax)
        sheet.set_header("&L" + notice.replace("&", "&&"))
    sheet.autofilter(0, 0, len(items), len(COLUMNS) - 1)
    sheet.freeze_panes(1, 0)
    if report.tracked:
        _worklist(workbook, report, header, wrap, status_formats)

    answers = workbook.add_worksheet(_sheet_name(report.tr.gettext("Your answers")))
    answers.set_column(0, 0, 60)
    answers.set_column(1, 1, 60)
    answers.write_string(0, 0, report.label("question"), header)
    answers.write_string(0, 1, report.label("answer"), header)
    for row, answer in enumerate(report.answers, start=1):
        answers.write_string(row, 0, answer["question"] or "", wrap)
        answers.write_string(row, 1, answer["answer"] or "", wrap)
    answers.freeze_panes(1, 0)

    about = workbook.add_worksheet(_sheet_name(report.tr.gettext("About")))
    about.set_column(0, 0, 28)
    about.set_column(1, 1, 90)
    rec = report.recommendation
    org = report.data.get("org") or {}
    assessment = report.data.get("assessment") or {}
    facts = [
        (report.label("organisation"), org.get("name", "")),
        (report.label("completed"), (assessment.get("completed_at") or "")[:10]),
        (report.tr.gettext("Questionnaire"), f"{report.flow_title} ({assessment.get('flow', '')} v{assessment.get('version', '')})"),
        *([("", notice)] if notice else []),
        (report.tr.gettext("Recommendation"), rec["title"] or ""),
        ("", rec["text"] or ""),
    ]
    facts += [(reason["id"], reason["text"] or "") for reason in rec["reasons"]]
    facts += [(report.status_labels[s], report.data["summary"][s]) for s in STATUS_ORDER]
    if report.tracked:
        facts.append((report.tr.gettext(RISK_ACCEPTED_COUNT), report.data["summary"].get("risk_accepted", 0)))
        if report.review_due():
            facts.append((report.tr.gettext(NEXT_REVIEW), report.review_due() or ""))
    for row, (label, value) in enumerate(facts):
        about.write_string(row, 0, label, header if label else wrap)
        if isinstance(value, int):
            about.write_number(row, 1, value)
        else:
            about.write_string(row, 1, value, wrap)
    workbook.close()
    return buffer.getvalue()


def _worklist(workbook: Workbook, report: Report, header: Format, wrap: Format, status_formats: dict[str, Format]) -> None:
    """The worklist sheet: one row per item with its tracking; frozen headings, a filter, the workflow as a drop-down."""
    sheet = workbook.add_worksheet(_sheet_name(report.tr.gettext("Worklist")))
    day = workbook.add_format({"num_format": DATE_FORMATS.get(report.locale, "yyyy-mm-dd"), "valign": "top"})
    for col, (key, width) in enumerate(WORKLIST_COLUMNS):
        sheet.set_column(col, col, width)
        sheet.write_string(0, col, report.label(key), header)
    items = report.items_by_status()
    for row, item in enumerate(items, start=1):
        tracking: dict[str, Any] = item.get("tracking") or {}
        risk: dict[str, Any] = tracking.get("risk_acceptance") or {}
        # Text cells are written as strings (evidence names and reasons are people's text: never a formula); dates as dates.
        texts = {
            "id": item["id"],
            "title": item["title"] or "",
            "owner": tracking.get("owner") or "",
            "workflow": report.workflow_label(tracking.get("workflow") or "todo"),
            "risk_accepted_by": risk.get("by") or "",
            "risk_reason": risk.get("reason") or "",
            "evidence_on_file": "\n".join(report.evidence_texts(tracking)),
            "needs_review": report.yes_no(bool(tracking.get("needs_review"))),
        }
        dates = {"due": tracking.get("due"), "risk_accepted_until": risk.get("until")}
        for col, (key, _width) in enumerate(WORKLIST_COLUMNS):
            if key == "status":
                sheet.write_string(row, col, report.status_labels[item["status"]], status_formats[item["status"]])
            elif key in dates:
                value = dates[key]
                if value:
                    sheet.write_datetime(row, col, date.fromisoformat(value), day)
                else:
                    sheet.write_blank(row, col, None, day)
            else:
                sheet.write_string(row, col, texts[key], wrap)
    workflow = next(col for col, (key, _width) in enumerate(WORKLIST_COLUMNS) if key == "workflow")
    labels = [report.workflow_label(state) for state in WORKFLOW_LABELS]
    sheet.data_validation(1, workflow, max(len(items), 1), workflow, {"validate": "list", "source": labels, "error_type": "stop"})
    sheet.autofilter(0, 0, len(items), len(WORKLIST_COLUMNS) - 1)
    sheet.freeze_panes(1, 0)


def _sheet_name(name: str) -> str:
    """Excel allows 31 characters and no []:*?/\\ in sheet names."""
    return "".join(c for c in name if c not in "[]:*?/\\")[:31]
