"""Translations: complete, up to date, compiled; the edge localises engine keys."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import pytest
from babel.messages.pofile import read_po

from bot import create_app
from bot.cli import catalog_problems
from bot.engine import TurnError
from bot.i18n import LOCALES_DIR, SUPPORTED_LOCALES, CatalogMissingError, catalog, extract_flow_yaml, prompt_dict, turn_error_message
from tests.conftest import FLOW_FILE


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_entry_is_translated_and_none_is_fuzzy(locale):
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        entries = [m for m in read_po(fp, locale=locale) if m.id]
    assert len(entries) > 350
    assert [m.id for m in entries if not m.string] == []
    assert [m.id for m in entries if m.fuzzy] == []


def test_every_flow_text_has_an_entry_with_its_context(flow):
    with (LOCALES_DIR / "de" / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        keys = {(m.context, m.id) for m in read_po(fp) if m.id}
    missing = [msg.context for msg in flow.messages() if (msg.context, msg.source) not in keys]
    assert missing == []


def test_catalogs_are_up_to_date_and_compiled():
    assert catalog_problems(LOCALES_DIR) == []


def _copy_locales(tmp_path):
    target = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, target)
    return target


def test_the_check_fails_on_an_untranslated_entry(tmp_path):
    target = _copy_locales(tmp_path)
    po = target / "de" / "LC_MESSAGES" / "messages.po"
    text = po.read_text("utf-8").replace('msgstr "Was zu tun ist"', 'msgstr ""')
    po.write_text(text, "utf-8")
    problems = catalog_problems(target)
    assert any("untranslated: 'What to do'" in p for p in problems)


def test_the_check_fails_on_a_fuzzy_entry(tmp_path):
    target = _copy_locales(tmp_path)
    po = target / "de" / "LC_MESSAGES" / "messages.po"
    text = po.read_text("utf-8").replace('msgctxt "whatsapp_gdpr.purpose.text"', '#, fuzzy\nmsgctxt "whatsapp_gdpr.purpose.text"')
    po.write_text(text, "utf-8")
    assert any("fuzzy: whatsapp_gdpr.purpose.text" in p for p in catalog_problems(target))


def test_the_check_fails_when_the_catalog_is_out_of_date(tmp_path):
    target = _copy_locales(tmp_path)
    po = target / "de" / "LC_MESSAGES" / "messages.po"
    start = po.read_text("utf-8").index('#: bot/exporters/markdown.py:17')
    text = po.read_text("utf-8")
    po.write_text(text[:start] + text[text.index("\n\n", start) + 2 :], "utf-8")  # drop one entry
    assert any("out of date" in p for p in catalog_problems(target))


def test_the_check_fails_when_a_compiled_catalog_is_missing(tmp_path):
    target = _copy_locales(tmp_path)
    (target / "en" / "LC_MESSAGES" / "messages.mo").unlink(missing_ok=True)
    assert any("messages.mo: missing" in p for p in catalog_problems(target))


def test_a_missing_compiled_catalog_fails_loudly(tmp_path):
    with pytest.raises(CatalogMissingError, match="run `wa-onboarding i18n compile`"):
        catalog("de", str(tmp_path))


def test_the_app_refuses_to_start_without_compiled_catalogs(tmp_path):
    with pytest.raises(CatalogMissingError):
        create_app({"TESTING": True, "LOCALES_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}"})


def test_the_extractor_yields_pgettext_with_flow_step_field_contexts():
    with FLOW_FILE.open("rb") as fp:
        entries = list(extract_flow_yaml(fp, None, None, {}))
    by_context = {ctx: (line, msgid) for line, func, (ctx, msgid), _ in entries}
    assert all(func == "pgettext" for _, func, _, _ in entries)
    line, msgid = by_context["whatsapp_gdpr.purpose.text"]
    assert msgid == "What do you want to use WhatsApp for?"
    assert FLOW_FILE.read_text("utf-8").splitlines()[line - 1].strip() == f'text: "{msgid}"'
    assert "whatsapp_gdpr.backups.option.off" in by_context  # the YAML-boolean-looking value is a string id


def test_prompts_are_localised_at_the_edge(engine, tr_de, tr_en):
    model = SimpleNamespace(state="recommendation", answers={"purpose": "customer", "agents": "few"})
    de = prompt_dict(engine.prompt(model), tr_de)
    en = prompt_dict(engine.prompt(model), tr_en)
    assert de["text"] == "Unsere Empfehlung für Ihre Situation"
    assert en["text"] == "Our recommendation for your situation"
    assert de["recommendation"]["title"] == "Die WhatsApp-Business-Plattform nutzen"
    assert de["recommendation"]["reasons"] == ["R4"]
    assert de["recommendation"]["reason_texts"][0].startswith("Mehrere Personen antworten")
    assert de["progress"] == en["progress"]


def test_turn_errors_are_localised_and_name_the_allowed_values(engine, tr_de, tr_en):
    error = TurnError("invalid_value", "agents", allowed=["one", "few", "many"])
    assert turn_error_message(error, tr_de) == "Bitte wählen Sie eine der angebotenen Antworten: one, few, many."
    assert turn_error_message(error, tr_en) == "Please choose one of the offered answers: one, few, many."
    exclusive = TurnError("exclusive_option", "integrations", option="none")
    assert turn_error_message(exclusive, tr_de, engine) == "\u201eKeine\u201c lässt sich nicht mit anderen Antworten kombinieren."


def test_german_texts_use_the_formal_sie(flow, tr_de):
    import re

    informal = re.compile(r"\b(du|dein|deine|dich|dir|euch|euer)\b", re.IGNORECASE)
    texts = [tr_de.pgettext(m.context, m.source) for m in flow.messages()]
    assert [t for t in texts if informal.search(t)] == []
    assert sum("Sie" in t for t in texts) > 50


def test_every_text_differs_between_the_languages_where_it_should(flow, tr_de):
    same = [m.context for m in flow.messages() if tr_de.pgettext(m.context, m.source) == m.source]
    # Only proper names and identical legal references may stay the same.
    allowed = {"whatsapp_gdpr.WA-04.legal_basis", "whatsapp_gdpr.WA-05.legal_basis", "whatsapp_gdpr.WA-12.legal_basis",
               "whatsapp_gdpr.WA-14.legal_basis", "whatsapp_gdpr.internal_messenger.option.whatsapp",
               "whatsapp_gdpr.channel.option.business_app", "whatsapp_gdpr.channel.option.business_platform"}
    assert set(same) <= allowed, set(same) - allowed


def test_en_catalog_repeats_the_source(tr_en, flow):
    assert all(tr_en.pgettext(m.context, m.source) == m.source for m in flow.messages())


def test_compiled_catalog_reads_back_umlauts(tr_de):
    assert tr_de.pgettext("whatsapp_gdpr.WA-26.title", "Sick notes not via messenger") == "Krankmeldungen nicht per Messenger"
    assert tr_de.gettext("Summary") == "Übersicht"
