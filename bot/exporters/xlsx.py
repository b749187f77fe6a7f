"""XLSX export (XlsxWriter): a checklist sheet to track in, the answers, and what the file is (with an older questionnaire version named)."""

from __future__ import annotations

import io

import xlsxwriter

from . import STATUS_ORDER, Report

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMNS = (("id", 8), ("status", 16), ("section", 26), ("title", 40), ("legal_basis", 30), ("action", 60), ("evidence", 50))
STATUS_COLOURS = {"critical": "#F4C7C3", "open": "#FCE8B2", "done": "#B7E1CD", "not_applicable": "#E8EAED"}


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
    for row, (label, value) in enumerate(facts):
        about.write_string(row, 0, label, header if label else wrap)
        if isinstance(value, int):
            about.write_number(row, 1, value)
        else:
            about.write_string(row, 1, value, wrap)
    workbook.close()
    return buffer.getvalue()


def _sheet_name(name: str) -> str:
    """Excel allows 31 characters and no []:*?/\\ in sheet names."""
    return "".join(c for c in name if c not in "[]:*?/\\")[:31]
