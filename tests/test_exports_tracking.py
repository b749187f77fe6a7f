"""Exports of the living checklist: managers' files carry owner, due, workflow, risk acceptance, evidence and review; respondents' files do not change.

The respondent's files are compared with golden files under tests/fixtures/exports
(made before the tracking columns existed); `UPDATE_GOLDEN=1` rewrites them after an
intended change of the respondent's output.
"""

from __future__ import annotations

import copy
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
