"""PDF export (fpdf2 with the bundled DejaVu Sans): a document a manager can file as evidence.

A title page with the organisation, the date, the questionnaire version and the
recommendation with its reasons; then the 26 items (critical first) with status,
legal basis, action and evidence; the answers given; a sign-off line; page numbers.
Text is set as plain text (no markdown), so answers can never become markup.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from . import STATUS_ORDER, Report

MEDIA_TYPE = "application/pdf"
FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"  # DejaVu Sans, licence beside it
FONT = "DejaVu"
INK = (29, 39, 51)
ACCENT = (11, 110, 79)
STATUS_FILL = {"critical": (244, 199, 195), "open": (252, 232, 178), "done": (183, 225, 205), "not_applicable": (232, 234, 237)}


class ChecklistPDF(FPDF):
    """A4 with a footer: document title and "page n of m"."""

    def __init__(self, footer_text: str, page_label: str) -> None:
        """Set up A4 portrait with the bundled Unicode font."""
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_text = footer_text
        self.page_label = page_label
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 18, 18)
        self.set_text_color(*INK)

    def footer(self) -> None:
        """Title on the left, page numbers on the right."""
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.set_text_color(90, 100, 110)
        self.cell(0, 5, self.footer_text, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, self.page_label % {"page": self.page_no(), "pages": "{nb}"}, align="R")
        self.set_text_color(*INK)


def render(report: Report) -> bytes:
    """The checklist as a PDF document."""
    gettext = report.tr.gettext
    org = report.data.get("org") or {}
    assessment = report.data.get("assessment") or {}
    generated = report.generated_at or datetime.now(UTC)
    pdf = ChecklistPDF(f"{report.flow_title} · {org.get('name', '')}", gettext("Page %(page)s of %(pages)s"))
    pdf.set_title(report.flow_title)
    pdf.set_creator("WA Onboarding")
    pdf.add_page()
    width = pdf.epw

    def line(text: str, size: float = 10, style: str = "", height: float = 5.5, colour: tuple[int, int, int] = INK) -> None:
        pdf.set_font(FONT, style, size)
        pdf.set_text_color(*colour)
        pdf.multi_cell(width, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(*INK)

    # -- title page --------------------------------------------------------------
    line(report.flow_title, 20, "B", 9, ACCENT)
    pdf.ln(2)
    line(org.get("name", ""), 14, "B", 7)
    facts = [
        (gettext("Completed"), (assessment.get("completed_at") or "")[:10]),
        (gettext("Created"), generated.strftime("%Y-%m-%d")),
        (gettext("Questionnaire"), f"{assessment.get('flow', '')} v{assessment.get('version', '')}"),
    ]
    for label, value in facts:
        line(f"{label}: {value}", 10)
    pdf.ln(4)
    rec = report.recommendation
    line(gettext("Recommendation"), 9, "B", 5, (90, 100, 110))
    line(rec["title"] or "", 14, "B", 7)
    line(rec["text"] or "", 10)
    if rec["reasons"]:
        pdf.ln(1)
        line(gettext("Reasons"), 10, "B")
        for reason in rec["reasons"]:
            line(f"• {reason['text']}", 10)
    pdf.ln(4)
    summary = report.data["summary"]
    line(gettext("Summary"), 10, "B")
    line(" · ".join(f"{report.status_labels[s]}: {summary[s]}" for s in STATUS_ORDER), 10)

    # -- the items -----------------------------------------------------------------
    pdf.add_page()
    line(gettext("Checklist"), 14, "B", 8, ACCENT)
    pdf.ln(1)
    pdf.set_font(FONT, "", 8)
    headings = FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=ACCENT)
    with pdf.table(
        col_widths=(14, 22, 52, 44, 44),
        text_align="LEFT",
        v_align="TOP",
        line_height=3.8,
        padding=1.2,
        headings_style=headings,
        repeat_headings=1,
    ) as table:
        heading = table.row()
        for key in ("id", "status", "title", "action", "evidence"):
            heading.cell(report.label(key))
        for item in report.items_by_status():
            row = table.row()
            row.cell(item["id"])
            status_style = FontFace(emphasis="BOLD" if item["status"] == "critical" else None, fill_color=STATUS_FILL[item["status"]])
            row.cell(report.status_labels[item["status"]], style=status_style)
            row.cell(f"{item['title']}\n{report.label('legal_basis')}: {item['legal_basis']}")
            row.cell(item["action"] or "")
            row.cell(item["evidence"] or "")

    # -- the answers -----------------------------------------------------------------
    if report.answers:
        pdf.add_page()
        line(gettext("Your answers"), 14, "B", 8, ACCENT)
        pdf.ln(1)
        pdf.set_font(FONT, "", 8.5)
        with pdf.table(col_widths=(100, 76), text_align="LEFT", v_align="TOP", line_height=4, padding=1.2, headings_style=headings) as table:
            heading = table.row()
            heading.cell(report.label("question"))
            heading.cell(report.label("answer"))
            for answer in report.answers:
                row = table.row()
                row.cell(answer["question"] or "")
                row.cell(answer["answer"] if answer["answer"] is not None else gettext("(no answer)"))

    # -- sign-off ------------------------------------------------------------------------
    pdf.ln(12)
    if pdf.get_y() > pdf.h - 60:
        pdf.add_page()
    line(gettext("Reviewed and approved"), 11, "B")
    pdf.ln(10)
    pdf.set_font(FONT, "", 9)
    for label in (gettext("Date"), gettext("Name and role"), gettext("Signature")):
        x = pdf.get_x()
        y = pdf.get_y()
        pdf.line(x, y, x + 52, y)
        pdf.set_xy(x, y + 1)
        pdf.cell(52, 5, label)
        pdf.set_xy(x + 60, y)
    return bytes(pdf.output())
