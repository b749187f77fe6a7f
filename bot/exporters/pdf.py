"""PDF export (fpdf2 with the bundled DejaVu Sans): a document a manager can file as evidence.

A title page with the organisation, the date, the questionnaire version (and, for an
older one, that a newer one is current) and the recommendation with its reasons; then the 26 items (critical first) with status,
legal basis, action and evidence; the answers given; a sign-off line; page numbers.
Text is set as plain text (no markdown), so answers can never become markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from . import STATUS_ORDER, Report

MEDIA_TYPE = "application/pdf"
FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"  # DejaVu Sans, licence beside it
FONT = "DejaVu"
INK = (29, 39, 51)
ACCENT = (11, 110, 79)
NOTICE = (165, 29, 45)  # the older-version line: dark red, 7:1 on white
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


@dataclass
class Row:
    """One table row: cell texts, fill colours and bold cells by column."""

    cells: list[str]
    fills: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    bold: set[int] = field(default_factory=set)


PADDING = 1.2


def wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    """Break text into lines that fit `width` in the current font: greedy, by words, measuring each word once.

    fpdf2's own line breaker measures character by character and dominated the export
    time; a word that is wider than the column (a long URL) is broken by characters.
    """
    space = pdf.get_string_width(" ")
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current, used = "", 0.0
        for word in paragraph.split(" "):
            size = pdf.get_string_width(word)
            while size > width:  # a word longer than the column: cut it where it no longer fits
                if current:
                    lines.append(current)
                    current, used = "", 0.0
                cut = len(word)
                while cut > 1 and pdf.get_string_width(word[:cut]) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
                size = pdf.get_string_width(word)
            if current and used + space + size > width:
                lines.append(current)
                current, used = word, size
            else:
                current, used = (f"{current} {word}", used + space + size) if current else (word, size)
        lines.append(current)
    return lines


def table(pdf: FPDF, widths: tuple[float, ...], header: list[str], rows: list[Row], size: float, line_height: float) -> None:
    """A bordered table whose rows grow with their text and never split; the header repeats on every page.

    Each cell's text is wrapped once by `wrap` and its lines are set as plain cells:
    several times faster than fpdf2's table(), which lays every cell out twice.
    """
    heading = Row(header, fills=dict.fromkeys(range(len(header)), ACCENT), bold=set(range(len(header))))

    def draw(row: Row, colour: tuple[int, int, int] = INK) -> None:
        wrapped = []
        for column, (text, width) in enumerate(zip(row.cells, widths, strict=True)):
            pdf.set_font(FONT, "B" if column in row.bold else "", size)
            wrapped.append(wrap(pdf, text, width - 2 * PADDING - 2 * pdf.c_margin))  # cell() keeps c_margin on both sides
        height = max(len(lines) for lines in wrapped) * line_height + 2 * PADDING
        if pdf.get_y() + height > pdf.page_break_trigger and row is not heading:
            pdf.add_page()
            draw(heading, (255, 255, 255))
        x, y = pdf.l_margin, pdf.get_y()
        for column, (lines, width) in enumerate(zip(wrapped, widths, strict=True)):
            fill = row.fills.get(column)
            pdf.set_draw_color(150, 156, 162)
            if fill:
                pdf.set_fill_color(*fill)
            pdf.rect(x, y, width, height, style="DF" if fill else "D")
            pdf.set_font(FONT, "B" if column in row.bold else "", size)
            pdf.set_text_color(*colour)
            for number, text in enumerate(lines):
                pdf.set_xy(x + PADDING, y + PADDING + number * line_height)
                pdf.cell(width - 2 * PADDING, line_height, text)
            x += width
        pdf.set_text_color(*INK)
        pdf.set_xy(pdf.l_margin, y + height)

    draw(heading, (255, 255, 255))
    for row in rows:
        draw(row)


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
    notice = report.version_notice()
    if notice:
        pdf.ln(2)
        line(notice, 11, "B", 6, NOTICE)
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
    rows = []
    for item in report.items_by_status():
        status = item["status"]
        title = f"{item['title']}\n{report.label('legal_basis')}: {item['legal_basis']}"
        cells = [item["id"], report.status_labels[status], title, item["action"] or "", item["evidence"] or ""]
        rows.append(Row(cells, fills={1: STATUS_FILL[status]}, bold={1} if status == "critical" else set()))
    header = [report.label(key) for key in ("id", "status", "title", "action", "evidence")]
    table(pdf, (14, 22, 52, 44, 44), header, rows, size=8, line_height=3.8)

    # -- the answers -----------------------------------------------------------------
    if report.answers:
        pdf.add_page()
        line(gettext("Your answers"), 14, "B", 8, ACCENT)
        pdf.ln(1)
        no_answer = gettext("(no answer)")
        answer_rows = [Row([a["question"] or "", a["answer"] if a["answer"] is not None else no_answer]) for a in report.answers]
        table(pdf, (100, 76), [report.label("question"), report.label("answer")], answer_rows, size=8.5, line_height=4)

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
