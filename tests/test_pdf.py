"""The checklist PDF read back as its readers get it: pdftotext for the words, poppler's structure view for screen readers."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from datetime import UTC, datetime

import pytest

from bot.exporters.linebreak import SOFT_HYPHEN, break_points, wrap
from tests.conftest import skip_or_fail
from tests.test_flow_walks import GOLDEN

DENTAL = GOLDEN[1][1]  # 12 critical, 10 open: the longest checklist, full of long German words
COMPLETED = "2026-11-24T09:30:00+00:00"
WORD = re.compile(r"[^\W\d_]+")


def poppler(*args: str, data: bytes) -> str:
    """The output of a poppler tool run on a PDF given as bytes."""
    if shutil.which(args[0]) is None:
        skip_or_fail(f"{args[0]} is missing (apt-get install poppler-utils)")
    return subprocess.run([*args, "-", "-"] if args[0] == "pdftotext" else args, input=data, capture_output=True, check=True).stdout.decode()


@pytest.fixture
def report(app):
    """The dental practice's checklist as a Report, in a language chosen by the test."""
    from bot.exporters import build_report
    from bot.i18n import catalog

    engine = app.extensions["engines"].get("whatsapp_gdpr")
    answers = engine.effective_answers(DENTAL)

    def make(locale):
        tr = catalog(locale, app.config["LOCALES_DIR"])
        assessment = {"completed_at": COMPLETED, "flow": "whatsapp_gdpr", "version": engine.flow.version}
        context = {"org": {"slug": "praxis", "name": "Zahnarztpraxis Dr. Beispiel"}, "assessment": assessment}
        return build_report(engine.flow, engine.checklist(answers), tr, locale, answers=answers, generated_at=datetime(2026, 11, 25, 8, tzinfo=UTC), **context)

    return make


def source_texts(report) -> list[str]:
    """Every text the report holds that the PDF shows."""
    texts = [report.flow_title, report.recommendation["title"] or "", report.recommendation["text"] or ""]
    texts += [r["text"] for r in report.recommendation["reasons"]]
    shown = {"not_applicable": ("title",)}  # a not-applicable item is listed by its title only
    texts += [item[key] or "" for item in report.data["items"] for key in shown.get(item["status"], ("title", "action", "evidence", "legal_basis"))]
    return texts + [a["question"] or "" for a in report.answers] + [a["answer"] or "" for a in report.answers]


def source_words(report) -> set[str]:
    """Every word the report's texts contain (what the PDF may show)."""
    return {word for text in source_texts(report) for word in WORD.findall(text)}


@pytest.mark.parametrize("locale", ["de", "en"])
def test_no_word_is_broken_without_a_hyphen(report, locale):
    from bot.exporters import pdf

    made = report(locale)
    text = poppler("pdftotext", data=pdf.render(made))
    words = source_words(made)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line, after in itertools.pairwise(lines):
        # A line ending in a letter before a line starting in lower case is a broken word when the two halves make one
        # and are not both words of the text themselves ("wer" / "den" is a wrap between two words, not "werden" cut).
        head, tail = WORD.findall(line), WORD.findall(after)
        if head and tail and line[-1].isalpha() and after[0].islower():
            both_words = head[-1] in words and tail[0] in words
            assert both_words or head[-1] + tail[0] not in words, f"broken without a hyphen: {line!r} / {after!r}"
    assert SOFT_HYPHEN in text  # long words were hyphenated, with the soft hyphen a line break adds
    joined = text.replace(SOFT_HYPHEN + "\n", "")
    long_words = {w for w in words if len(w) >= (14 if locale == "de" else 11)}
    assert len(long_words) > 15
    # pdftotext joins a compound broken after its own hyphen ("Online-" / "Streitbeilegung" reads "OnlineStreitbeilegung"),
    # so a word that follows a hyphen in the texts is found inside its compound.
    after_hyphen = {w for w in long_words if re.search(rf"-{w}(?!\w)", " ".join(source_texts(made)))}
    missing = sorted(w for w in long_words if not re.search(rf"(?<!\w){w}(?!\w)", joined) and not (w in after_hyphen and w in joined))
    assert not missing, f"long words not found whole (nor hyphenated at a syllable): {missing}"


def test_the_measured_breaks_are_gone(report):
    """The five words the old PDF cut mid-word come out whole or hyphenated."""
    from bot.exporters import pdf

    made = report("de")
    joined = poppler("pdftotext", data=pdf.render(made)).replace(SOFT_HYPHEN + "\n", "")
    words = source_words(made)
    measured = [w for w in ("Auftragsverarbeitungsvertrag", "Arbeitsunfähigkeitsbescheinigung", "Verarbeitungsverzeichnis") if w in words]
    assert measured, "the report no longer holds any of the measured words: pick others"
    for word in measured:  # (the plain-German texts may have replaced some of them)
        assert word in joined
    assert "Auftragsverarbeitungsvertr\n" not in joined and "Arbeitsunfähigkeitsbeschei\n" not in joined


@pytest.mark.parametrize(("locale", "completed", "created", "questionnaire"), [
    ("de", "Abgeschlossen: 24. November 2026", "Erstellt: 25. November 2026", "Fragebogen: Version"),
    ("en", "Completed: 24 November 2026", "Created: 25 November 2026", "Questionnaire: Version"),
])  # fmt: skip
def test_header_dates_and_title_in_the_documents_language(report, locale, completed, created, questionnaire):
    from bot.exporters import pdf

    made = report(locale)
    first_page = poppler("pdftotext", "-f", "1", "-l", "1", data=pdf.render(made))
    flat = " ".join(first_page.split())
    assert completed in flat and created in flat and questionnaire in flat
    assert made.flow_title in flat  # the questionnaire's human title …
    assert "whatsapp_gdpr" not in flat and "2026-11-2" not in flat  # … never its id, never an ISO date


@pytest.mark.parametrize(("locale", "start", "checklist"), [("de", "Hier anfangen", "Checkliste"), ("en", "Start here", "Checklist")])
def test_start_here_comes_first_and_the_checklist_starts_on_page_one(report, locale, start, checklist):
    from bot.exporters import pdf

    made = report(locale)
    data = pdf.render(made)
    first_page = poppler("pdftotext", "-f", "1", "-l", "1", data=data)
    critical = [i for i in made.items_by_status() if i["status"] == "critical"]
    flat = " ".join(first_page.replace(SOFT_HYPHEN + "\n", "").split())
    assert flat.index(start) < flat.index(critical[0]["title"]) < flat.index(critical[2]["title"]) < flat.index(checklist)
    assert critical[0]["id"] in first_page  # the checklist's first row is on page 1 too
    more = len(critical) - 3
    assert (f"{more} weitere" if locale == "de" else f"{more} more critical items below") in flat


def test_a_tagged_pdf_with_headings_lists_and_tables(report):
    from bot.exporters import pdf

    data = pdf.render(report("de"))
    info = poppler("pdfinfo", "-", data=data)
    assert re.search(r"Tagged:\s+yes", info)
    structure = poppler("pdfinfo", "-struct-text", "-", data=data)
    roles = re.findall(r"^\s*(\w+)", structure, re.M)
    assert roles[0] == "Document" and roles[1] == "H1"
    for role in ("H2", "H3", "P", "L", "LI", "Lbl", "LBody", "Table", "TR", "TH", "TD"):
        assert role in roles, role
    assert "/Scope /Column" in structure
    assert "Zahnarztpraxis Dr. Beispiel" in structure
    assert "Seite 1 von" not in structure  # the running footer is an artifact, not content
    assert b"/Lang (de)" in data and b"/DisplayDocTitle true" in data


def test_not_applicable_items_are_compact(report):
    """Not-applicable items are listed by id and title only, without what to do."""
    from bot.exporters import pdf

    made = report("en")
    text = " ".join(poppler("pdftotext", data=pdf.render(made)).replace(SOFT_HYPHEN + "\n", "").split())
    for item in (i for i in made.data["items"] if i["status"] == "not_applicable"):
        assert item["title"] in text
        assert not item["action"] or item["action"] not in text


def test_columns_are_sized_to_their_content(app):
    """The column with the most text gets the most room; an id column only what its ids need."""
    from bot.exporters.pdf import CELL, ChecklistPDF, Layout, Para, Row
    from bot.exporters.pdf_tags import Tagger

    pdf = ChecklistPDF("", "%(page)s")
    layout = Layout(pdf, Tagger(pdf, "de", "t"), "de")
    pdf.add_page()
    long = "Halten Sie schriftlich fest, welchen Kanal Sie gewählt haben und warum. " * 4
    rows = [Row([[Para("WA-01")], [Para("Kanal dokumentiert")], [Para(long)], [Para("Vermerk mit Datum")]]) for _ in range(5)]
    id_width = layout.text_width(["WA-01"], CELL)
    widths = layout.fit_columns(rows, {0: id_width}, pdf.epw)
    assert id_width < 15 and abs(sum(widths) - pdf.epw) < 0.01
    assert widths[2] == max(widths) and widths[2] > widths[1]


@pytest.mark.parametrize("width", [14, 18, 25, 40])
def test_wrapping_fits_and_breaks_words_only_at_hyphens(width):
    text = "Schließen Sie einen Auftragsverarbeitungsvertrag; die Arbeitsunfähigkeitsbescheinigung bleibt außerhalb. data_localization_region = DE"
    lines = wrap(text, width, len, "de")
    assert all(len(line.rstrip().replace(SOFT_HYPHEN, "-")) <= width for line in lines)
    for line in lines[:-1]:
        assert line.endswith((" ", SOFT_HYPHEN, "-", "_", "/")), line  # a space, an added hyphen, or a break an identifier allows
    assert "".join(line.replace(SOFT_HYPHEN, "") for line in lines).replace(" ", "") == text.replace(" ", "")


def test_identifiers_and_addresses_never_get_a_hyphen():
    assert all(not hyphen for _, hyphen in break_points("data_localization_region", "de", code=True))
    lines = wrap("https://example.de/datenschutz/whatsapp-hinweise", 20, len, "de")
    assert SOFT_HYPHEN not in "".join(lines)
