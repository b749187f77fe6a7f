"""Exports of the living checklist: managers' files carry owner, due, workflow, risk acceptance, evidence and review; respondents' files do not change.

The respondent's files are compared with golden files under tests/fixtures/exports
(made before the tracking columns existed); `UPDATE_GOLDEN=1` rewrites them after an
intended change of the respondent's output.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail
from tests.test_flow_walks import GOLDEN

GOLDEN_DIR = Path(__file__).parent / "fixtures" / "exports"
DENTAL = GOLDEN[1][1]  # version 1 answers: 12 critical, 10 open
HOSTILE = '=HYPERLINK("http://evil.example","x") <b>*Müller*</b> [a](b) | „Ümlaut“'
GENERATED = datetime(2026, 11, 25, 8, tzinfo=UTC)


def respondent_report(app, locale: str):
    """The dental practice's checklist as a respondent gets it (no tracking), fixed in time."""
    from bot.exporters import build_report
    from bot.i18n import catalog
    from bot.results import respondent_result

    engine = app.extensions["engines"].get("whatsapp_gdpr")
    answers = {**engine.effective_answers(DENTAL), "company_name": HOSTILE}
    tr = catalog(locale, app.config["LOCALES_DIR"])
    assessment = {"id": 7, "completed_at": "2026-11-24T09:30:00+00:00", "flow": "whatsapp_gdpr", "version": 1, "latest_version": 2, "locale": locale}
    context = {"org": {"slug": "praxis", "name": HOSTILE}, "assessment": assessment}
    checklist = engine.checklist(answers)
    report = build_report(engine.flow, checklist, tr, locale, answers=answers, generated_at=GENERATED, **context)
    report.data["result"] = respondent_result(engine, answers, tr, checklist).as_dict()
    return report


def pdf_text(data: bytes, *options: str) -> str:
    """The PDF's text as pdftotext reads it."""
    if shutil.which("pdftotext") is None:
        skip_or_fail("pdftotext is missing (apt-get install poppler-utils)")
    return subprocess.run(["pdftotext", *options, "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def xlsx_dump(data: bytes) -> str:
    """A workbook's sheets, cells (value and type), frozen panes, filters and validations as stable JSON."""
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheets = []
    for sheet in workbook:
        sheets.append(
            {
                "name": sheet.title,
                "freeze": sheet.freeze_panes,
                "filter": sheet.auto_filter.ref,
                "validations": [[v.type, v.formula1, str(v.sqref)] for v in sheet.data_validations.dataValidation],
                "widths": {k: d.width for k, d in sorted(sheet.column_dimensions.items())},
                "cells": [[[c.value if not isinstance(c.value, datetime) else c.value.isoformat(), c.data_type] for c in row] for row in sheet.iter_rows()],
            }
        )
    # One line per row: a change shows as the rows it touched.
    lines = []
    for sheet in sheets:
        cells = sheet.pop("cells")
        lines.append(json.dumps(sheet, ensure_ascii=False))
        lines += [json.dumps(row, ensure_ascii=False) for row in cells]
    return "\n".join(lines) + "\n"


def outputs(report) -> dict[str, str]:
    """Every format of a report as comparable text (the PDF as its text, the workbook as its cells)."""
    from bot.exporters import csv as csv_export
    from bot.exporters import json as json_export
    from bot.exporters import markdown, pdf, xlsx

    return {
        "csv": csv_export.render(report),
        "md": markdown.render(report),
        "json": json_export.render(report),
        "pdf.txt": pdf_text(pdf.render(report), "-layout"),
        "xlsx.json": xlsx_dump(xlsx.render(report)),
    }


@pytest.mark.parametrize("locale", ["de", "en"])
def test_respondent_exports_are_unchanged(app, locale):
    """Without tracking every format is exactly what it was before the living checklist."""
    made = outputs(respondent_report(app, locale))
    for name, text in made.items():
        golden = GOLDEN_DIR / f"respondent_{locale}.{name}"
        if os.environ.get("UPDATE_GOLDEN"):
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_bytes(text.encode("utf-8"))
        assert golden.read_bytes().decode("utf-8") == text, f"{golden.name} changed"


# -- a manager's report: the same checklist with tracking ----------------------------------------------

OWNER = "+anna@acme.example"  # an e-mail may start with "+": never a formula
ACCEPTED_BY = "=chef@acme.example"
REASON = "@SUM(1+1) contract follows <b>*soon*</b>"
EVIDENCE_NAME = "=AVV signed.pdf"
LINK_NAME = "-Link [to](the) *contract*"
UNTRACKED = {"version": 0, "owner": None, "due": None, "workflow": "todo", "risk_acceptance": None, "evidence": [], "comments": 0, "needs_review": False}


def tracked_report(app, locale: str):
    """The respondent's report as a manager gets it: WA-01 fully tracked (risk accepted, one expired file, one link), WA-02 closed."""
    report = respondent_report(app, locale)
    for item in report.data["items"]:
        item["tracking"] = dict(UNTRACKED)
        item["quality"] = []
    items = {item["id"]: item for item in report.data["items"]}
    items["WA-01"]["tracking"] = {
        "version": 3,
        "owner": OWNER,
        "due": "2026-12-31",
        "workflow": "in_progress",
        "risk_acceptance": {"reason": REASON, "by": ACCEPTED_BY, "until": "2027-03-31"},
        "evidence": [
            {"id": 1, "name": EVIDENCE_NAME, "kind": "file", "sha256": "ab" * 32, "effective": "2026-01-15", "expires": "2026-06-30", "expired": True},
            {"id": 2, "name": LINK_NAME, "kind": "link", "sha256": None, "effective": "2026-02-01", "expires": None, "expired": False},
        ],
        "comments": 2,
        "needs_review": True,
    }
    items["WA-02"]["tracking"] = {**UNTRACKED, "version": 1, "workflow": "closed"}
    items["WA-02"]["quality"] = ["closed_without_evidence"]
    report.data["summary"]["risk_accepted"] = 1
    report.data["review"] = {"confirmed_at": "2026-11-24T09:30:00+00:00", "due": "2027-11-24"}
    return report


WORKLIST_HEADER = [
    "Item",
    "Title",
    "Status",
    "Owner",
    "Due",
    "Workflow",
    "Risk accepted until",
    "Risk accepted by",
    "Reason for accepting the risk",
    "Evidence on file",
    "Needs review",
]
EVIDENCE_TEXT = f"{EVIDENCE_NAME} (from 2026-01-15 until 2026-06-30) – expired; {LINK_NAME} (from 2026-02-01)"


def test_csv_carries_the_tracking_columns_neutralised(app):
    from bot.exporters import csv as csv_export

    raw = csv_export.render(tracked_report(app, "en"))
    _banner, _blank, header, *rows = list(csv.reader(io.StringIO(raw.removeprefix("\ufeff")), delimiter=";"))
    assert header[9:] == [
        "Owner",
        "Due",
        "Workflow",
        "Risk accepted until",
        "Risk accepted by",
        "Reason for accepting the risk",
        "Evidence on file",
        "Needs review",
    ]
    by_id = {row[2]: row for row in rows}
    assert len(by_id) == 30 and all(len(row) == 17 for row in rows)
    assert by_id["WA-01"][9:] == ["'" + OWNER, "2026-12-31", "In progress", "2027-03-31", "'" + ACCEPTED_BY, "'" + REASON, "'" + EVIDENCE_TEXT, "Yes"]
    assert by_id["WA-02"][9:] == ["", "", "Closed (work finished)", "", "", "", "", "No"]
    assert by_id["WA-03"][11] == "Not started"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_csv_of_many_organisations_keeps_its_columns_when_one_is_untracked(app):
    from bot.exporters import csv as csv_export

    raw = csv_export.render_many([respondent_report(app, "en"), tracked_report(app, "en")])
    rows = [row for row in csv.reader(io.StringIO(raw.removeprefix("\ufeff")), delimiter=";") if len(row) > 2]
    assert {len(row) for row in rows} == {17}
    assert sum(1 for row in rows if row[2] == "WA-01" and row[9] == "") == 1  # the untracked one has empty tracking cells


def test_markdown_lists_the_tracking_escaped(app):
    from bot.exporters import markdown
    from bot.exporters.markdown import escape

    text = markdown.render(tracked_report(app, "en"))
    section = text[text.index("### WA-01 ") : text.index("### WA-02 ")]
    assert f"- Owner: {escape(OWNER)}" in section and "- Due: 2026-12-31" in section and "- Workflow: In progress" in section
    assert f"- **Risk accepted by {escape(ACCEPTED_BY)} until 2027-03-31: {escape(REASON)}**" in section
    assert f"- Evidence on file: {escape(EVIDENCE_NAME)} (from 2026-01-15 until 2026-06-30) – expired; {escape(LINK_NAME)} (from 2026-02-01)" in section
    assert "- **Needs review**" in section
    closed = text[text.index("### WA-02 ") :].split("###")[1]
    assert "- Workflow: Closed" in closed and "Owner" not in closed and "Needs review" not in closed
    assert "<b>" not in text and "[to](the)" not in text  # shown literally, never as markup
    assert "Next review: 2027-11-24" in text and "Risk accepted: 1" in text


def test_json_carries_the_tracking_and_the_review(app):
    from bot.exporters import json as json_export

    report = tracked_report(app, "en")
    data = json.loads(json_export.render(report))
    items = {item["id"]: item for item in data["items"]}
    assert items["WA-01"]["tracking"] == report.data["items"][0]["tracking"] and items["WA-01"]["tracking"]["owner"] == OWNER
    assert items["WA-02"]["quality"] == ["closed_without_evidence"]
    assert data["summary"]["risk_accepted"] == 1 and data["review"]["due"] == "2027-11-24"


def test_xlsx_has_a_worklist_to_track_in(app):
    import openpyxl
    from openpyxl.cell.cell import TYPE_STRING

    from bot.exporters import xlsx

    data = xlsx.render(tracked_report(app, "en"))
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["Checklist", "Worklist", "Your answers", "About"]
    sheet = workbook["Worklist"]
    assert [c.value for c in sheet[1]] == WORKLIST_HEADER
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:K31"
    (validation,) = sheet.data_validations.dataValidation
    assert validation.type == "list" and validation.formula1 == '"Not started,In progress,In review,Closed (work finished)"'
    assert str(validation.sqref) == "F2:F31"
    assert sheet.column_dimensions["J"].width >= 50 and sheet.column_dimensions["B"].width >= 40
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    first = rows["WA-01"]
    assert [c.value for c in first[:4]] == ["WA-01", "Channel decision documented", "Critical", OWNER]
    assert first[4].is_date and first[4].value.date().isoformat() == "2026-12-31"
    assert first[5].value == "In progress"
    assert first[6].is_date and first[6].value.date().isoformat() == "2027-03-31"
    assert [c.value for c in first[7:9]] == [ACCEPTED_BY, REASON]
    assert first[9].value == EVIDENCE_TEXT.replace("; ", "\n") and first[10].value == "Yes"
    assert rows["WA-02"][5].value == "Closed (work finished)" and rows["WA-02"][4].value is None and rows["WA-02"][10].value == "No"
    for cell in (first[3], first[7], first[8], first[9]):  # people's text starting like a formula stays a string
        assert cell.data_type == TYPE_STRING
    assert all(cell.data_type != "f" for ws in workbook for row in ws.iter_rows() for cell in row)
    about = {row[0].value: row[1].value for row in workbook["About"].iter_rows()}
    assert about["Risk accepted"] == 1 and about["Next review"] == "2027-11-24"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:  # the file itself, as Excel reads it
        worklist = archive.read("xl/worksheets/sheet2.xml").decode()
    assert '<pane ySplit="1"' in worklist and 'state="frozen"' in worklist
    assert '<dataValidation type="list"' in worklist and "<f>" not in worklist


def test_xlsx_dates_show_the_german_way_in_german(app):
    import openpyxl

    from bot.exporters import xlsx

    workbook = openpyxl.load_workbook(io.BytesIO(xlsx.render(tracked_report(app, "de"))))
    worklist = workbook.worksheets[1]
    assert worklist.cell(row=2, column=5).number_format == "dd.mm.yyyy" and worklist.cell(row=2, column=5).is_date


def flat(text: str) -> str:
    """PDF text with hyphenation at line ends undone and whitespace collapsed."""
    from bot.exporters.linebreak import SOFT_HYPHEN

    return " ".join(text.replace(SOFT_HYPHEN + "\n", "").replace(SOFT_HYPHEN, "").split())


def test_pdf_shows_the_follow_up_and_who_accepted_which_risk(app):
    from bot.exporters import pdf

    text = flat(pdf_text(pdf.render(tracked_report(app, "en"))))
    assert f"Risk accepted by {ACCEPTED_BY} until 31 March 2027: {REASON}" in text
    assert "Next review: 24 November 2027" in text and "Risk accepted: 1" in text
    assert "Follow-up" in text and "In progress" in text and "Closed (work finished)" in text
    assert f"Owner:{OWNER}" in text.replace(" ", "") and "Due: 31 December 2026" in text  # a narrow column may break the address
    assert f"{EVIDENCE_NAME} (from 15 January 2026 until 30 June 2026) – expired" in text
    assert "Needs review" in text and "Risk accepted until 31 March 2027" in text
    assert "Risks accepted" in text and text.index("Risks accepted") > text.index("Follow-up")


def test_the_respondents_pdf_never_shows_tracking(app):
    from bot.exporters import pdf

    assert pdf_text(pdf.render_respondent(tracked_report(app, "en"))) == pdf_text(pdf.render(respondent_report(app, "en")))


# -- through the manager API, on SQLite and PostgreSQL -----------------------------------------------

FILE_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def tracked(world):
    """acme's checklist of record with WA-10 tracked by anna: owner, due, in progress, a risk accepted, an expired file, a link, a comment."""
    from tests.test_trusted_results import PLATFORM, complete, manager_call

    token = complete(world, world.acme_link, PLATFORM)
    item = "/api/v1/orgs/acme/items/WA-10"
    changed = manager_call(world, "PATCH", item, {"version": 0, "owner": "anna@acme.example", "due": "2030-06-30", "workflow": "in_progress"})
    assert changed.status_code == 200, changed.get_json()
    assert manager_call(world, "PUT", f"{item}/risk-acceptance", {"reason": REASON, "until": "2030-03-31"}).status_code == 200
    files = {"file": (io.BytesIO(FILE_PDF), "avv.pdf"), "name": EVIDENCE_NAME, "effective": "2025-01-15", "expires": "2025-06-30"}
    uploaded = world.api.client.post(f"{item}/evidence", data=files, headers={"Authorization": f"Bearer {world.anna}"}, content_type="multipart/form-data")
    assert uploaded.status_code == 201, uploaded.get_json()
    linked = manager_call(world, "POST", f"{item}/evidence", {"url": "https://dms.example/avv", "name": LINK_NAME, "effective": "2025-02-01"})
    assert linked.status_code == 201, linked.get_json()
    assert manager_call(world, "POST", f"{item}/comments", {"text": "=1+1 signed copy is in the safe"}).status_code == 201
    return {"world": world, "respondent": token}


def export(world, fmt: str, slug: str = "acme", token: str | None = None):
    """A manager's download of checklist.<fmt> in English (200 asserted)."""
    response = world.app.test_client().get(f"/api/v1/orgs/{slug}/checklist.{fmt}?lang=en", headers={"Authorization": f"Bearer {token or world.anna}"})
    assert response.status_code == 200, response.data[:300]
    return response.data


def test_every_manager_export_carries_the_tracking(tracked):
    import openpyxl

    world = tracked["world"]
    data = json.loads(export(world, "json"))
    first = next(item for item in data["items"] if item["id"] == "WA-10")["tracking"]
    assert first["owner"] == "anna@acme.example" and first["due"] == "2030-06-30" and first["workflow"] == "in_progress"
    assert first["risk_acceptance"] == {"reason": REASON, "by": "anna@acme.example", "until": "2030-03-31"}
    assert [(e["name"], e["kind"], e["expired"]) for e in first["evidence"]] == [(LINK_NAME, "link", False), (EVIDENCE_NAME, "file", True)]
    assert first["comments"] == 1 and first["needs_review"] is True and data["summary"]["risk_accepted"] == 1 and data["review"]["due"]

    rows = list(csv.reader(io.StringIO(export(world, "csv").decode().removeprefix("\ufeff")), delimiter=";"))
    header = next(row for row in rows if "Item" in row)
    row = dict(zip(header, next(row for row in rows if len(row) > 2 and row[2] == "WA-10"), strict=True))
    assert row["Owner"] == "anna@acme.example" and row["Due"] == "2030-06-30" and row["Workflow"] == "In progress"
    assert (
        row["Risk accepted until"] == "2030-03-31" and row["Risk accepted by"] == "anna@acme.example" and row["Reason for accepting the risk"] == "'" + REASON
    )
    assert row["Evidence on file"] == f"'{LINK_NAME} (from 2025-02-01); {EVIDENCE_NAME} (from 2025-01-15 until 2025-06-30) – expired"
    assert row["Needs review"] == "Yes"

    workbook = openpyxl.load_workbook(io.BytesIO(export(world, "xlsx")))
    worklist = {r[0].value: r for r in workbook["Worklist"].iter_rows(min_row=2)}
    assert worklist["WA-10"][4].is_date and worklist["WA-10"][5].value == "In progress" and worklist["WA-10"][8].value == REASON
    assert worklist["WA-10"][9].data_type == "s" and worklist["WA-10"][9].value.startswith(LINK_NAME)

    markdown = export(world, "md").decode()
    assert "Risk accepted by anna@acme.example until 2030-03-31" in markdown and "<b>" not in markdown

    text = flat(pdf_text(export(world, "pdf")))
    assert f"Risk accepted by anna@acme.example until 31 March 2030: {REASON}" in text
    assert "Follow-up" in text and "Next review:" in text


def test_the_respondent_never_sees_what_managers_track(tracked):
    world = tracked["world"]
    response = world.app.test_client().get(f"/w/a/{tracked['respondent']}/result.pdf?lang=en")
    assert response.status_code == 200
    text = flat(pdf_text(response.data))
    assert "Risk accepted" not in text and "Follow-up" not in text and "Next review" not in text
    assert EVIDENCE_NAME not in text and "anna@acme.example" not in text and "In progress" not in text


def test_another_organisations_export_has_none_of_it(tracked):
    from tests.test_trusted_results import PLATFORM, complete

    world = tracked["world"]
    complete(world, world.other_link, PLATFORM)
    for fmt in ("csv", "md", "json"):
        shown = export(world, fmt, "other", world.otto).decode()
        assert "anna@acme.example" not in shown and "AVV signed" not in shown and "contract follows" not in shown
    data = json.loads(export(world, "json", "other", world.otto))
    assert data["summary"]["risk_accepted"] == 0 and all(item["tracking"]["evidence"] == [] for item in data["items"])
    assert world.app.test_client().get("/api/v1/orgs/acme/checklist.xlsx", headers={"Authorization": f"Bearer {world.otto}"}).status_code == 404
