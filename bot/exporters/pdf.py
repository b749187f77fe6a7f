"""PDF export (fpdf2 with the bundled DejaVu Sans): a checklist people can act on and file as evidence.

Page 1 opens with a compact header (the questionnaire's title, the organisation, the
dates in the document's language, the version), the recommendation, a "start here"
block with the first three critical items in plain words, and then the checklist,
grouped by status: critical, to do and done items as tables whose columns are sized
to their text, not-applicable items as a compact list; legal references are set
small beneath each title. Then the reasons for the recommendation, the answers given,
a sign-off line, page numbers.

A manager's export adds each item's follow-up beside it (workflow, owner, due date,
evidence on file with its dates, needs review), the review date in the header, and
every accepted risk set off in its own section ("Risk accepted by … until …: …").

Text is left-aligned and hyphenated in the document's language (`linebreak`), set as
plain text (no markdown, so answers can never become markup), and tagged for screen
readers (`pdf_tags`): headings, paragraphs, lists and tables, with decoration marked
as artifacts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from babel.dates import format_date
from fpdf import FPDF

from ..i18n import N_
from . import NEXT_REVIEW, RISK_ACCEPTED_COUNT, STATUS_ORDER, Report
from .linebreak import wrap
from .pdf_tags import COLUMN_HEADER, Element, Tagger

MEDIA_TYPE = "application/pdf"
FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"  # DejaVu Sans, licence beside it
FONT = "DejaVu"
INK = (29, 39, 51)
MUTED = (84, 94, 104)  # small print (legal references, dates): 6.6:1 on white
ACCENT = (11, 110, 79)
NOTICE = (165, 29, 45)  # the older-version line: dark red, 7:1 on white
RULE = (150, 156, 162)
START_FILL = (238, 246, 242)
RISK_FILL = (253, 236, 206)  # behind an accepted risk: set off from the status colours
STATUS_FILL = {"critical": (244, 199, 195), "open": (252, 232, 178), "done": (183, 225, 205), "not_applicable": (232, 234, 237)}
MARGIN = 16.0
BOTTOM = 16.0  # room for the footer
PT = 25.4 / 72  # millimetres per point
LEADING = 1.32  # line height as a multiple of the font size
PADDING = 1.3  # inside table cells, on every side
# Dates are written out in the document's language: German "24. November 2026", English "24 November 2026"
# (day-month-year, as the European businesses who read these write it).
DATE_LOCALES = {"de": "de_DE", "en": "en_GB"}
START_HERE = 3  # how many critical items the "start here" block names (as on the result page)

# Words that only the PDF says (the result page has its own copies in the templates).
WHY_HEADING = N_("Why we recommend this")
FOLLOW_UP = N_("Follow-up")
RISKS_HEADING = N_("Risks accepted")
RISK_UNTIL = N_("Risk accepted until %(until)s")


def long_date(value: str | datetime | date | None, locale: str) -> str:
    """A day written out in the document's language ("24. November 2026"); "" for none."""
    if not value:
        return ""
    day = datetime.fromisoformat(value) if isinstance(value, str) else value
    return format_date(day, format="long", locale=DATE_LOCALES.get(locale, locale))


@dataclass(frozen=True)
class Style:
    """A font and colour for a piece of text."""

    size: float = 9.0
    bold: bool = False
    colour: tuple[int, int, int] = INK

    @property
    def line_height(self) -> float:
        """The distance between two lines of this text, in millimetres."""
        return self.size * PT * LEADING


BODY = Style(9)
SMALL = Style(8, colour=MUTED)
CELL = Style(8)
CELL_BOLD = Style(8, bold=True)
LEGAL = Style(7, colour=MUTED)
HEAD = Style(8, bold=True, colour=(255, 255, 255))


@dataclass(frozen=True)
class Para:
    """A paragraph inside a table cell."""

    text: str
    style: Style = CELL


@dataclass
class Row:
    """One table row: its cells' paragraphs and the fill colours of cells by column."""

    cells: list[list[Para]]
    fills: dict[int, tuple[int, int, int]] = field(default_factory=dict)


class ChecklistPDF(FPDF):
    """A4 with a footer (document title and "page n of m") that is marked as an artifact."""

    def __init__(self, footer_text: str, page_label: str) -> None:
        """Set up A4 portrait with the bundled Unicode font; page breaks are the layout's own (it never splits a row)."""
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_text = footer_text
        self.page_label = page_label
        self.tags: Tagger | None = None
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(auto=False, margin=BOTTOM)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_text_color(*INK)

    def footer(self) -> None:
        """Title on the left, page numbers on the right: repeated on every page, so not content."""
        assert self.tags is not None
        with self.tags.artifact():
            self.set_y(-11)
            self.set_font(FONT, "", 7.5)
            self.set_text_color(*MUTED)
            self.cell(self.epw - 30, 4, self.footer_text, align="L")
            self.set_x(self.w - MARGIN - 30)
            self.cell(30, 4, self.page_label % {"page": self.page_no(), "pages": "{nb}"}, align="R")
            self.set_text_color(*INK)


class Layout:
    """Sets text and tables top to bottom, tagging each piece, and breaks pages between lines and rows."""

    def __init__(self, pdf: ChecklistPDF, tags: Tagger, locale: str) -> None:
        """Lay out onto `pdf`, hyphenating for `locale`."""
        self.pdf = pdf
        self.tags = tags
        self.locale = locale
        self.widths: dict[tuple[str, float, bool], float] = {}
        self.wrapped: dict[tuple[str, float, Style], list[str]] = {}

    # -- measuring -------------------------------------------------------------------
    def use(self, style: Style) -> None:
        """Make `style` the current font and colour."""
        self.pdf.set_font(FONT, "B" if style.bold else "", style.size)
        self.pdf.set_text_color(*style.colour)

    def measure(self, style: Style) -> Callable[[str], float]:
        """The width of a string in `style`, remembered (the same words recur on every row)."""
        self.use(style)
        widths, measure = self.widths, self.pdf.get_string_width

        def width(text: str) -> float:
            key = (text, style.size, style.bold)
            if key not in widths:
                widths[key] = measure(text)
            return widths[key]

        return width

    def lines(self, text: str, width: float, style: Style) -> list[str]:
        """`text` broken into lines of at most `width` in `style` (remembered: the column search wraps each cell a few times)."""
        key = (text, width, style)
        if key not in self.wrapped:
            self.wrapped[key] = wrap(text, width, self.measure(style), self.locale) if text else []
        return self.wrapped[key]

    # -- flow text -------------------------------------------------------------------
    @property
    def bottom(self) -> float:
        """The lowest y text may reach on a page."""
        return self.pdf.h - BOTTOM

    def room(self) -> float:
        """The height left on the current page."""
        return self.bottom - self.pdf.get_y()

    def ensure(self, height: float) -> None:
        """Start a new page unless `height` fits on this one (keeps a heading with what follows)."""
        if height > self.room():
            self.pdf.add_page()

    def gap(self, height: float) -> None:
        """Vertical space (nothing at the top of a page)."""
        if self.pdf.get_y() > self.pdf.t_margin + 0.1:
            self.pdf.set_y(min(self.pdf.get_y() + height, self.bottom))

    def paragraph(self, role: str, text: str, style: Style = BODY, indent: float = 0.0, keep: float = 0.0) -> None:
        """A tagged block of text (P, H1, H2, …) over the page's width, broken across pages between lines.

        `keep`: height that must follow on the same page (a heading's first lines).
        """
        if not text.strip():
            return  # an empty text would be an empty element for a screen reader
        x = self.pdf.l_margin + indent
        lines = self.lines(text, self.pdf.epw - indent, style)
        height = style.line_height
        self.ensure(min(len(lines), 2) * height + keep)
        with self.tags.content(role) as element:
            self.set_lines(element, lines, x, style)

    def set_lines(self, element: Element, lines: list[str], x: float, style: Style) -> None:
        """Draw `lines` from the current y, continuing `element` on a new page when the page is full."""
        height = style.line_height
        for line in lines:
            if self.pdf.get_y() + height > self.bottom:
                self.tags.page_break(element)
            self.use(style)
            self.pdf.set_xy(x, self.pdf.get_y())
            self.pdf.cell(self.pdf.epw, height, line)
            self.pdf.set_xy(self.pdf.l_margin, self.pdf.get_y() + height)
        self.use(BODY)

    # -- tables ----------------------------------------------------------------------
    def fit_columns(self, rows: list[Row], fixed: dict[int, float], total: float) -> list[float]:
        """Column widths sized to their content: fixed columns as given, the others so that the table is shortest.

        A few ways of sharing the width by the columns' amount of text are tried and the one
        giving the lowest table wins; the wrapped lines are remembered for drawing.
        """
        columns = len(rows[0].cells)
        flexible = [c for c in range(columns) if c not in fixed]
        free = total - sum(fixed.values())
        amount = {c: sum(self.measure(p.style)(p.text) for row in rows for p in row.cells[c]) or 1.0 for c in flexible}
        least = min(free / len(flexible), 38.0)  # a title column narrower than this breaks most words
        best: tuple[float, list[float]] | None = None
        for power in (0.5, 0.7, 0.85, 1.0):
            weights = {c: amount[c] ** power for c in flexible}
            scale = sum(weights.values())
            shares = {c: max(least, free * weights[c] / scale) for c in flexible}
            overshoot = sum(shares.values()) - free
            wide = [c for c in flexible if shares[c] > least]
            for c in wide:  # give back what the minimums took, from the wide columns
                shares[c] -= overshoot * shares[c] / sum(shares[w] for w in wide)
            widths = [fixed.get(c, shares.get(c, 0.0)) for c in range(columns)]
            height = sum(self.row_height(row, widths) for row in rows)
            if best is None or height < best[0] - 0.01:
                best = (height, widths)
        assert best is not None
        return best[1]

    def cell_lines(self, paras: list[Para], width: float) -> list[tuple[str, Style]]:
        """A cell's lines, each with its style."""
        inner = width - 2 * PADDING - 2 * self.pdf.c_margin  # cell() keeps c_margin on both sides
        return [(line, p.style) for p in paras for line in self.lines(p.text, inner, p.style)]

    def row_height(self, row: Row, widths: list[float]) -> float:
        """The height of a row: its tallest cell."""
        return max(sum(style.line_height for _line, style in self.cell_lines(paras, w)) for paras, w in zip(row.cells, widths, strict=True)) + 2 * PADDING

    def table(self, widths: list[float], header: list[str], rows: list[Row]) -> None:
        """A bordered, tagged table whose rows grow with their text and never split; the header repeats on every page."""
        heading = Row([[Para(text, HEAD)] for text in header], fills=dict.fromkeys(range(len(header)), ACCENT))
        with self.tags.group("Table"):
            first = self.row_height(rows[0], widths) if rows else 0.0
            self.ensure(self.row_height(heading, widths) + first)
            self.draw_row(heading, widths, "TH")
            for row in rows:
                height = self.row_height(row, widths)
                if self.pdf.get_y() + height > self.bottom:
                    self.pdf.add_page()
                    with self.tags.artifact():  # the repeated header is pagination, not content
                        self.draw_row(heading, widths, None)
                self.draw_row(row, widths, "TD")

    def draw_row(self, row: Row, widths: list[float], role: str | None) -> None:
        """Borders and fills (artifacts), then each cell's text as a TH or TD (`role` None: all decoration)."""
        pdf = self.pdf
        x0, y = pdf.l_margin, pdf.get_y()
        height = self.row_height(row, widths)
        with self.tags.artifact():
            x = x0
            pdf.set_draw_color(*RULE)
            pdf.set_line_width(0.2)
            for column, width in enumerate(widths):
                fill = row.fills.get(column)
                if fill:
                    pdf.set_fill_color(*fill)
                pdf.rect(x, y, width, height, style="DF" if fill else "D")
                x += width

        def text() -> None:
            x = x0
            for paras, width in zip(row.cells, widths, strict=True):
                if role:
                    with self.tags.content(role, COLUMN_HEADER if role == "TH" else None):
                        self.cell_text(paras, x, y, width)
                else:
                    self.cell_text(paras, x, y, width)
                x += width

        if role:
            with self.tags.group("TR"):
                text()
        else:
            text()
        pdf.set_text_color(*INK)
        pdf.set_xy(pdf.l_margin, y + height)

    def cell_text(self, paras: list[Para], x: float, y: float, width: float) -> None:
        """The lines of one cell from its top-left corner."""
        top = y + PADDING
        for line, style in self.cell_lines(paras, width):
            self.use(style)
            self.pdf.set_xy(x + PADDING, top)
            self.pdf.cell(width - 2 * PADDING, style.line_height, line)
            top += style.line_height

    def text_width(self, texts: list[str], style: Style) -> float:
        """The width a column needs for the widest of `texts` on one line."""
        measure = self.measure(style)
        return max((measure(t) for t in texts), default=0.0) + 2 * PADDING + 2 * self.pdf.c_margin + 0.5

    # -- lists -----------------------------------------------------------------------
    def list_item(self, label: str, body: list[Para], indent: float = 6.0) -> None:
        """One list item: a label ("1.", "•", an item id) and its body, tagged LI > Lbl + LBody."""
        pdf = self.pdf
        heights = [len(self.lines(p.text, pdf.epw - indent, p.style)) * p.style.line_height for p in body]
        self.ensure(min(sum(heights), 3 * body[0].style.line_height))
        with self.tags.group("LI"):
            y = pdf.get_y()
            with self.tags.content("Lbl") as element:
                self.set_lines(element, [label], pdf.l_margin, body[0].style)
            pdf.set_y(y)
            with self.tags.group("LBody"):
                for para in body:
                    lines = self.lines(para.text, pdf.epw - indent, para.style)
                    with self.tags.content("P") as element:
                        self.set_lines(element, lines, pdf.l_margin + indent, para.style)


def _start_here(layout: Layout, report: Report) -> None:
    """The first critical items in plain words (title, then what to do), and how much more there is."""
    gettext, ngettext = report.tr.gettext, report.tr.ngettext
    items = report.items_by_status()
    critical = [i for i in items if i["status"] == "critical"]
    open_count = sum(1 for i in items if i["status"] == "open")
    pdf = layout.pdf
    layout.gap(5)
    layout.paragraph("H2", gettext("Start here"), Style(12, bold=True, colour=ACCENT), keep=12)
    layout.gap(1)
    if critical:
        with layout.tags.group("L"):
            for number, item in enumerate(critical[:START_HERE], start=1):
                layout.list_item(f"{number}.", [Para(item["title"], Style(9, bold=True)), Para(item["action"] or "", BODY)])
                layout.gap(1.5)
        more = len(critical) - START_HERE
        if more > 0:
            layout.paragraph("P", ngettext("%(num)d more critical item below.", "%(num)d more critical items below.", more) % {"num": more})
    else:
        layout.paragraph("P", gettext("Nothing critical: well done."))
    if open_count:
        layout.paragraph("P", ngettext("Then %(num)d item to do.", "Then %(num)d items to do.", open_count) % {"num": open_count})
    pdf.set_x(pdf.l_margin)


def _checklist(layout: Layout, report: Report) -> None:
    """The items by status: critical, to do and done as tables; not applicable as a compact list."""
    gettext = report.tr.gettext
    items = report.items_by_status()
    layout.gap(6)
    layout.paragraph("H2", gettext("Checklist"), Style(12, bold=True, colour=ACCENT), keep=20)
    summary = report.data["summary"]
    counts = [f"{report.status_labels[s]}: {summary[s]}" for s in STATUS_ORDER]
    if report.tracked:
        counts.append(f"{gettext(RISK_ACCEPTED_COUNT)}: {summary.get('risk_accepted', 0)}")
    layout.paragraph("P", " · ".join(counts), SMALL)
    legal = report.label("legal_basis")
    tabled = [i for i in items if i["status"] != "not_applicable"]
    tracked = report.tracked
    rows = {
        item["id"]: Row(
            [
                [Para(item["id"], CELL_BOLD)],
                [Para(item["title"], CELL_BOLD), Para(f"{legal}: {item['legal_basis']}", LEGAL)],
                [Para(item["action"] or "")],
                [Para(item["evidence"] or "")],
                *([_follow_up(report, item.get("tracking") or {})] if tracked else []),
            ],
            fills={0: STATUS_FILL[item["status"]], **({4: RISK_FILL} if tracked and (item.get("tracking") or {}).get("risk_acceptance") else {})},
        )
        for item in tabled
    }
    header = [report.label(key) for key in ("id", "title", "action", "evidence")] + ([gettext(FOLLOW_UP)] if tracked else [])
    id_width = layout.text_width([*(i["id"] for i in tabled), header[0]], CELL_BOLD)
    for status in STATUS_ORDER:
        group = [i for i in items if i["status"] == status]
        if not group:
            continue
        heading = f"{report.status_labels[status]} ({len(group)})"
        layout.gap(3)
        if status == "not_applicable":
            layout.paragraph("H3", heading, Style(10, bold=True), keep=8)
            with layout.tags.group("L"):
                for item in group:
                    layout.list_item(item["id"], [Para(item["title"], SMALL)], indent=14)
            continue
        group_rows = [rows[i["id"]] for i in group]
        widths = layout.fit_columns(group_rows, {0: id_width}, layout.pdf.epw)  # per group: done items need little room to act
        first = layout.row_height(group_rows[0], widths) + layout.row_height(Row([[Para(h, HEAD)] for h in header]), widths)
        layout.paragraph("H3", heading, Style(10, bold=True), keep=first + 1)
        layout.gap(1)
        layout.table(widths, header, group_rows)


def _follow_up(report: Report, tracking: dict[str, Any]) -> list[Para]:
    """An item's follow-up cell: workflow, owner, due date, evidence on file with its dates, needs review, an accepted risk."""
    gettext = report.tr.gettext

    def day(value: str) -> str:
        return long_date(value, report.locale)

    paras = [Para(report.workflow_label(tracking.get("workflow") or "todo"), CELL_BOLD)]
    if tracking.get("owner"):
        paras.append(Para(f"{report.label('owner')}: {tracking['owner']}"))
    if tracking.get("due"):
        paras.append(Para(f"{report.label('due')}: {day(tracking['due'])}"))
    evidence = report.evidence_texts(tracking, day)
    if evidence:
        paras.append(Para(f"{report.label('evidence_on_file')}:", LEGAL))
        paras += [Para(f"– {text}") for text in evidence]
    if tracking.get("needs_review"):
        paras.append(Para(report.label("needs_review"), Style(8, bold=True, colour=NOTICE)))
    risk = tracking.get("risk_acceptance")
    if risk:
        paras.append(Para(gettext(RISK_UNTIL) % {"until": day(risk["until"])}, Style(8, bold=True, colour=NOTICE)))
    return paras


def _risks(layout: Layout, report: Report) -> None:
    """Every accepted risk in its own section: who accepted it until when and why, beside the item."""
    accepted = [item for item in report.items_by_status() if (item.get("tracking") or {}).get("risk_acceptance")]
    if not accepted:
        return
    layout.gap(6)
    layout.paragraph("H2", report.tr.gettext(RISKS_HEADING), Style(12, bold=True, colour=NOTICE), keep=14)
    layout.gap(1)
    with layout.tags.group("L"):
        for item in accepted:
            risk = item["tracking"]["risk_acceptance"]
            sentence = report.risk_text(risk, lambda value: long_date(value, report.locale))
            layout.list_item(item["id"], [Para(sentence, Style(9, bold=True, colour=NOTICE)), Para(item["title"], SMALL)], indent=14)
            layout.gap(1.5)


def render(report: Report) -> bytes:
    """The checklist as a tagged PDF document."""
    gettext = report.tr.gettext
    org = report.data.get("org") or {}
    assessment = report.data.get("assessment") or {}
    generated = report.generated_at or datetime.now(UTC)
    footer = " · ".join(part for part in (report.flow_title, org.get("name", "")) if part)
    pdf = ChecklistPDF(footer, gettext("Page %(page)s of %(pages)s"))
    tags = Tagger(pdf, report.locale, report.flow_title)
    pdf.tags = tags
    pdf.set_creator("WA Onboarding")
    pdf.add_page()
    layout = Layout(pdf, tags, report.locale)

    # -- the compact header ------------------------------------------------------------
    layout.paragraph("H1", report.flow_title, Style(15, bold=True, colour=ACCENT))
    layout.gap(1)
    if org.get("name"):
        layout.paragraph("P", org["name"], Style(11, bold=True))
    facts = []
    if assessment.get("completed_at"):
        facts.append(f"{gettext('Completed')}: {long_date(assessment['completed_at'], report.locale)}")
    facts.append(f"{gettext('Created')}: {long_date(generated, report.locale)}")
    if assessment.get("version") is not None:
        facts.append(f"{gettext('Questionnaire')}: {gettext('Version %(version)s') % {'version': assessment['version']}}")
    if report.review_due():
        facts.append(f"{gettext(NEXT_REVIEW)}: {long_date(report.review_due(), report.locale)}")
    layout.paragraph("P", " · ".join(facts), SMALL)
    notice = report.version_notice()
    if notice:
        layout.gap(1)
        layout.paragraph("P", notice, Style(9, bold=True, colour=NOTICE))

    # -- the recommendation, and the channel chosen when it differs ------------------------
    rec = report.recommendation
    layout.gap(4)
    layout.paragraph("P", gettext("Recommendation"), Style(8, bold=True, colour=MUTED), keep=10)
    layout.paragraph("H2", rec["title"] or "", Style(12, bold=True))
    if rec["text"]:
        layout.paragraph("P", rec["text"], BODY)
    channel = (report.data.get("result") or {}).get("channel") or {}
    if channel.get("note"):
        layout.gap(1)
        layout.paragraph("P", channel["note"], Style(9, bold=True))

    _start_here(layout, report)
    _checklist(layout, report)
    _risks(layout, report)

    # -- why this recommendation ----------------------------------------------------------
    if rec["reasons"]:
        layout.gap(6)
        layout.paragraph("H2", gettext(WHY_HEADING), Style(12, bold=True, colour=ACCENT), keep=10)
        with tags.group("L"):
            for reason in rec["reasons"]:
                layout.list_item("•", [Para(reason["text"], BODY)], indent=4)
                layout.gap(1)

    # -- the answers -----------------------------------------------------------------------
    if report.answers:
        layout.gap(6)
        no_answer = gettext("(no answer)")
        answer_rows = [Row([[Para(a["question"] or "")], [Para(a["answer"] if a["answer"] is not None else no_answer)]]) for a in report.answers]
        widths = layout.fit_columns(answer_rows, {}, pdf.epw)
        layout.paragraph("H2", gettext("Your answers"), Style(12, bold=True, colour=ACCENT), keep=20)
        layout.gap(1)
        layout.table(widths, [report.label("question"), report.label("answer")], answer_rows)

    _sign_off(layout, gettext)
    return bytes(pdf.output())


def render_respondent(report: Report) -> bytes:
    """The respondent's PDF of their own assessment (`/w/a/<token>/result.pdf`).

    The same document as a manager's export, built from a Report that holds only the
    assessment itself (no owners, comments or evidence that managers add later); a
    `result` in the report's data (the chat API's `prompt.result`) adds the chosen channel
    beside the recommendation when the two differ. Any tracking is left out even if the
    report carried some: what managers record is never shown to a respondent.
    """
    if report.tracked or "review" in report.data:
        items = [{k: v for k, v in item.items() if k not in ("tracking", "quality")} for item in report.data["items"]]
        summary = {k: v for k, v in report.data["summary"].items() if k != "risk_accepted"}
        data = {k: v for k, v in report.data.items() if k != "review"} | {"items": items, "summary": summary}
        report = replace(report, data=data)
    return render(report)


def _sign_off(layout: Layout, gettext: Callable[[str], str]) -> None:
    """Three lines to sign: date, name and role, signature."""
    pdf = layout.pdf
    layout.gap(10)
    layout.ensure(30)
    layout.paragraph("H2", gettext("Reviewed and approved"), Style(11, bold=True))
    pdf.set_y(pdf.get_y() + 12)
    y = pdf.get_y()
    for number, label in enumerate((gettext("Date"), gettext("Name and role"), gettext("Signature"))):
        x = pdf.l_margin + number * 60
        with layout.tags.artifact():
            pdf.set_draw_color(*INK)
            pdf.line(x, y, x + 52, y)
        pdf.set_xy(x, y + 1)
        with layout.tags.content("P"):
            layout.use(SMALL)
            pdf.cell(52, 5, label)
