"""Checklist exports and generated documents, read back as a user's tools would read them."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess

import openpyxl
import pytest

from bot.store import db
from bot.store.managers import create_manager
from bot.store.models import Organisation
from tests import contract
from tests.apiclient import Api
from tests.conftest import add_respondent_link, skip_or_fail
from tests.test_flow_walks import GOLDEN

FORMULA_NAME = '=HYPERLINK("http://evil.example","Müller & Söhne")'
PAYLOAD = '@SUM(1+1) <b>*bold*</b> [x](http://evil.example) „Ümlaut“'


@pytest.fixture
def org(app):
    """An organisation named like a formula, its manager, and one completed assessment with a hostile company name."""
    with app.app_context():
        session = db.session()
        organisation = Organisation(slug="acme", name=FORMULA_NAME, locale="de", flow_version=1)  # GOLDEN are version 1 answers
        session.add(organisation)
        session.commit()
        _m, token = create_manager(session, "anna@acme.example", [organisation])
    key = add_respondent_link(app, "acme")
    api = Api(app)
    assessment, prompt = api.start(key, locale="de")
    answers = {**GOLDEN[1][1], "company_name": PAYLOAD, "contact_email": "datenschutz@example.de"}
    api.finish(assessment, answers, prompt)
    return {"client": app.test_client(), "token": token, "answers": answers}


def download(org, fmt, lang=None):
    """GET checklist.<fmt> with the manager's token."""
    query = f"?lang={lang}" if lang else ""
    response = org["client"].get(f"/api/v1/orgs/acme/checklist.{fmt}{query}", headers={"Authorization": f"Bearer {org['token']}"})
    assert response.status_code == 200, response.data[:300]
    assert response.headers["Content-Disposition"].startswith('attachment; filename="wa-checklist-acme-')
    assert response.headers["Content-Disposition"].endswith(f'.{fmt}"')
    assert response.headers["Cache-Control"] == "no-store"
    return response


def expected_order(answers):
    """Item ids with critical first, then open, done, not applicable (contract order within a status)."""
    statuses = contract.statuses(answers)
    order = ("critical", "open", "done", "not_applicable")
    return sorted(contract.ITEM_IDS, key=lambda i: order.index(statuses[i]))


WORDS = [("de", ("Kritisch", "Rechtsgrundlage", "Seite 1 von", "Unterschrift")), ("en", ("Critical", "Legal basis", "Page 1 of", "Signature"))]


@pytest.mark.parametrize(("lang", "words"), WORDS)
def test_pdf_reads_back_with_pdftotext(org, lang, words):
    if shutil.which("pdftotext") is None:
        skip_or_fail("pdftotext is missing (apt-get install poppler-utils)")
    response = download(org, "pdf", lang)
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=response.data, capture_output=True, check=True).stdout.decode()
    flat = " ".join(text.split())
    assert FORMULA_NAME in flat  # the organisation, as typed
    for word in words:
        assert word in flat, word
    assert "whatsapp_gdpr" not in flat  # the questionnaire by its title, never its internal id
    assert ("Fragebogen: Version 1" if lang == "de" else "Questionnaire: Version 1") in flat
    ids = [i for i in (w.strip() for w in text.split()) if i.startswith("WA-") and len(i) == 5]
    assert ids[:26] == expected_order(org["answers"])  # every item once, critical first
    assert "„Ümlaut“" in flat  # Unicode round-trips through the bundled font
    assert "<b>*bold*</b>" in flat  # no markup: shown literally


def test_csv_for_german_excel(org):
    response = download(org, "csv", "de")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    raw = response.data.decode("utf-8")
    assert raw.startswith("\ufeff")
    banner, blank, *rows = list(csv.reader(io.StringIO(raw.removeprefix("\ufeff")), delimiter=";"))
    assert banner[0].startswith("Mit Version 1 des Fragebogens erstellt; aktuell ist Version 2")  # a version 1 checklist says so first
    assert blank == []
    assert rows[0][:4] == ["Organisation", "Abgeschlossen", "Punkt", "Status"]
    assert len(rows) == 27
    assert [r[2] for r in rows[1:]] == expected_order(org["answers"])
    labels = {"critical": "Kritisch", "open": "Offen", "done": "Erledigt", "not_applicable": "Nicht zutreffend"}
    statuses = contract.statuses(org["answers"])
    assert all(r[3] == labels[statuses[r[2]]] for r in rows[1:])
    assert all(r[0] == "'" + FORMULA_NAME for r in rows[1:])  # neutralised: never a formula in Excel


def test_xlsx_reads_back_with_openpyxl(org):
    response = download(org, "xlsx", "en")
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["Checklist", "Worklist", "Your answers", "About"]  # a manager's export: the worklist to track in
    sheet = workbook["Checklist"]
    assert [c.value for c in sheet[1]] == ["Item", "Status", "Area", "Title", "Legal basis", "What to do", "Evidence to file"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:G27"
    assert [sheet.cell(row=r, column=1).value for r in range(2, 28)] == expected_order(org["answers"])
    first_status = sheet.cell(row=2, column=2)
    assert first_status.value == "Critical" and first_status.fill.fgColor.rgb.endswith("F4C7C3")
    assert sheet.column_dimensions["F"].width >= 50
    answers = {row[0].value: row[1] for row in workbook["Your answers"].iter_rows(min_row=2)}
    company = answers["What is the full legal name of your business?"]
    assert company.value == PAYLOAD and company.data_type == "s"  # a string, not a formula
    about = {row[0].value: row[1].value for row in workbook["About"].iter_rows()}
    assert about["Organisation"] == FORMULA_NAME
    assert all(cell.data_type != "f" for ws in workbook for row in ws.iter_rows() for cell in row)


def test_markdown_escapes_markup(org):
    from bot.exporters.markdown import escape

    response = download(org, "md", "en")
    assert response.headers["Content-Type"] == "text/markdown; charset=utf-8"
    text = response.data.decode()
    assert text.startswith("# ") and "## Critical (" in text
    assert f"**{escape(FORMULA_NAME)}**" in text
    assert escape(PAYLOAD) in text and "<b>" not in text and "[x](http" not in text  # the answer shows literally
    assert text.index("WA-01") < text.index("## Your answers")


def test_json_export_is_the_checklist_endpoint(org):
    exported = json.loads(download(org, "json", "en").data)
    endpoint = org["client"].get("/api/v1/orgs/acme/checklist?lang=en", headers={"Authorization": f"Bearer {org['token']}"}).get_json()
    assert {**exported, "record": endpoint["record"]} == endpoint  # the endpoint also names where the record comes from


def test_documents_are_filled_from_the_answers_with_visible_placeholders(org):
    response = org["client"].get("/api/v1/orgs/acme/documents?lang=de", headers={"Authorization": f"Bearer {org['token']}"})
    assert response.status_code == 200
    data = response.get_json()
    documents = {d["id"]: d for d in data["documents"]}
    assert list(documents) == ["first_contact_message", "imprint_snippet", "ropa_entry"]
    first = documents["first_contact_message"]
    assert first["item"] == "WA-10" and first["text"].startswith("Hallo")
    assert PAYLOAD in first["text"]  # as typed; whoever shows it escapes it
    assert "datenschutz@example.de" in first["text"]
    assert "[[Anschrift Ihres Unternehmens]]" in first["text"]  # company_address was not given
    assert "Art. 21 DSGVO" in first["text"]
    assert first["placeholders"] == first["text"].count("[[")
    assert "Impressum" in documents["imprint_snippet"]["text"]
    assert "Art. 30" not in documents["ropa_entry"]["text"] and "Verarbeitungstätigkeit" in documents["ropa_entry"]["text"]


def test_documents_in_english_and_without_missing_data(app):
    from bot.flowcode import FLOW_CODE
    from bot.i18n import catalog

    answers = {**GOLDEN[2][1], "company_name": "Beispiel GmbH", "company_address": "Musterweg 1, 12345 Musterstadt",
               "contact_email": "privacy@example.de", "privacy_url": "https://example.de/privacy", "integrations": ["crm", "bot"]}  # fmt: skip
    tr = catalog("en", app.config["LOCALES_DIR"])
    documents = {d.id: d for d in (builder.build(answers, tr) for builder in FLOW_CODE[("whatsapp_gdpr", 1)].documents.values())}
    first = documents["first_contact_message"].text
    assert "automated assistant" in first  # the bot is disclosed (AI Act Art. 50)
    assert "Beispiel BSP GmbH" in first  # the service provider is named as a recipient
    assert "https://example.de/privacy" in first
    assert documents["first_contact_message"].placeholders == 1  # only the imprint link, which the flow does not ask
    assert "Beispiel GmbH" in documents["ropa_entry"].text and "chatbot" in documents["ropa_entry"].text


@pytest.mark.parametrize("path", ["checklist.pdf", "checklist.csv", "checklist.xlsx", "checklist.md", "checklist.json", "documents"])
def test_exports_and_documents_are_isolated(world, path):
    from tests.test_api import _complete

    _complete(world, world.acme_link)
    _complete(world, world.other_link)
    client = world.app.test_client()
    own = client.get(f"/api/v1/orgs/acme/{path}", headers={"Authorization": f"Bearer {world.anna}"})
    assert own.status_code == 200
    foreign = client.get(f"/api/v1/orgs/other/{path}", headers={"Authorization": f"Bearer {world.anna}"})
    missing = client.get(f"/api/v1/orgs/nobody/{path}", headers={"Authorization": f"Bearer {world.anna}"})
    assert foreign.status_code == missing.status_code == 404 and foreign.get_json() == missing.get_json()
    assert client.get(f"/api/v1/orgs/acme/{path}").status_code == 401
    assert client.get(f"/api/v1/orgs/other/{path}", headers={"Authorization": f"Bearer {world.root}"}).status_code == 200


def test_unknown_format_is_404(org):
    response = org["client"].get("/api/v1/orgs/acme/checklist.exe", headers={"Authorization": f"Bearer {org['token']}"})
    assert response.status_code == 404


def test_pdf_keeps_european_scripts_and_survives_others(app):
    """The bundled font is a subset: Latin, Greek and Cyrillic round-trip; other scripts never break the export."""
    from bot.exporters import build_report
    from bot.exporters import pdf as pdf_export
    from bot.i18n import catalog

    if shutil.which("pdftotext") is None:
        skip_or_fail("pdftotext is missing (apt-get install poppler-utils)")
    engine = app.extensions["engines"].get("whatsapp_gdpr")
    answers = {**GOLDEN[2][1], "bsp_name": "Ελληνικά Кириллица Łódź Ærø – 😀 中文"}
    tr = catalog("en", app.config["LOCALES_DIR"])
    context = {"org": {"slug": "x", "name": "Šťastný s.r.o."}, "assessment": {"completed_at": "2026-11-23", "flow": "whatsapp_gdpr", "version": 1}}
    report = build_report(engine.flow, engine.checklist(answers), tr, "en", answers=answers, **context)
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf_export.render(report), capture_output=True, check=True).stdout.decode()
    flat = " ".join(text.split())
    assert "Šťastný s.r.o." in flat and "Ελληνικά Кириллица Łódź Ærø –" in flat
