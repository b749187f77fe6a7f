"""The documents of flow version 2 (bot/documents_v2.py): legal bases and rights per purpose, placeholders, the profile, the plural."""

from __future__ import annotations

import re

import pytest

from bot import documents
from bot.documents import missing_details
from bot.flowcode import FLOW_CODE

BASE = {
    "purpose": "customer",
    "sensitive_data": "no",
    "initiator": "customers_only",
    "integrations": ["none"],
    "sector": "general",
    "channel": "business_app",
    "company_name": "Bäckerei Muster",
    "company_address": "Hauptstr. 1, 50667 Köln",
    "contact_email": "datenschutz@baeckerei.de",
    "privacy_url": "https://baeckerei.de/datenschutz",
    "imprint_url": "https://baeckerei.de/impressum",
    "dpo": "not_required",
    "transfer_basis": "documented",
    "retention": "yes",
}
PROFILE = {
    "representative": "Erika Muster",
    "register_court": "Amtsgericht Köln",
    "register_number": "HRB 12345",
    "vat_id": "DE123456789",
    "business_id": "DE123456789-00001",
    "phone": "+49 221 123456",
    "dpo_contact": "Max Schutz, dsb@baeckerei.de",
    "chamber": "Rechtsanwaltskammer Köln",
    "professional_title": "Rechtsanwältin (Deutschland)",
    "professional_rules_url": "https://www.brak.de/berufsrecht/",
}


def generate(version, answers, tr, profile=None):
    """The documents a flow version registers, built for `answers` (as the documents page builds them)."""
    return [builder.build(answers, tr, profile=profile) for builder in FLOW_CODE[("whatsapp_gdpr", version)].documents.values()]


def docs(tr, profile=None, **answers):
    """The three v2 documents by id, for BASE changed by `answers`."""
    return {d.id: d for d in generate(2, {**BASE, **answers}, tr, profile)}


def placeholders(text: str) -> list[str]:
    return re.findall(r"\[\[([^\]]+)\]\]", text)


# -- legal bases and the rights that go with them ---------------------------------------


def test_a_business_answering_customers_names_b_and_f_with_its_interest_and_the_objection_to_f(tr_en):
    message = docs(tr_en)["first_contact_message"].text
    assert "(Art. 6(1)(b) GDPR)" in message and "legitimate interest in answering them quickly" in message
    assert "processing based on Art. 6(1)(f) GDPR (Art. 21(1) GDPR)" in message
    for absent in ("Art. 6(1)(a)", "Art. 21(2)", "Art. 7(3)", "§ 7(3)", "Art. 6(1)(e)"):
        assert absent not in message, absent  # no consent, no marketing, no public task


def test_service_updates_rest_on_the_contract_not_on_consent(tr_en):
    message = docs(tr_en, initiator="service_updates")["first_contact_message"].text
    assert "updates about your order or appointment on WhatsApp only if you have asked for them (Art. 6(1)(b) GDPR)" in message
    assert "Art. 6(1)(a)" not in message and "Art. 21(2)" not in message and "Art. 7(3)" not in message
    ropa = docs(tr_en, initiator="service_updates")["ropa_entry"].text
    assert "service messages about orders and appointments" in ropa and "advertising messages" not in ropa  # M8: no offers


def test_marketing_has_consent_existing_customers_and_all_three_notices(tr_en):
    message = docs(tr_en, initiator="marketing")["first_contact_message"].text
    assert "only with your consent (Art. 6(1)(a) GDPR)" in message
    assert "Art. 6(1)(f) GDPR and § 7(3) UWG" in message  # advertising to existing customers
    paragraphs = message.split("\n\n")
    direct_marketing = next(p for p in paragraphs if "Art. 21(2)" in p)
    assert "for advertising at any time" in direct_marketing and "§ 7(3) no. 4 UWG" in direct_marketing
    assert "Art. 21(1)" not in direct_marketing  # Art. 21(4): its own paragraph
    assert any("(Art. 7(3) GDPR)" in p for p in paragraphs)
    ropa = docs(tr_en, initiator="marketing")["ropa_entry"].text
    assert "Art. 6(1)(a) GDPR (consent to advertising messages)" in ropa and "§ 7(3) no. 4 UWG" in ropa


def test_a_public_body_uses_e_with_its_law_never_f(tr_en):
    result = docs(tr_en, sector="public_body", initiator="marketing")
    message, ropa = result["first_contact_message"].text, result["ropa_entry"].text
    assert "Art. 6(1)(e) GDPR in conjunction with [[the specific legal provision for this task]]" in message
    assert "processing based on Art. 6(1)(e) GDPR (Art. 21(1) GDPR)" in message
    assert "Art. 6(1)(f)" not in message and "§ 7" not in message and "Art. 6(1)(f)" not in ropa
    assert "Art. 21(2)" in message and "(Art. 7(3) GDPR)" in message  # news by consent: still withdrawable, still objectable
    assert "Art. 6(1)(e) GDPR with [[the specific legal provision for this task]] (public tasks)" in ropa
    assert "a public body must appoint one (Art. 37(1)(a) GDPR)" in ropa


def test_sensitive_data_gets_an_article_9_basis_and_never_the_e_mail_channel(tr_en):
    result = docs(tr_en, sensitive_data="yes")
    assert "Art. 9(2)(a) GDPR (explicit consent)" in result["ropa_entry"].text
    assert "special categories (e.g. health data) can be contained in messages" in result["ropa_entry"].text
    message = result["first_contact_message"].text
    secure = next(p for p in message.split("\n\n") if "health or bank data" in p)
    assert "call us or ask us for a secure way" in secure and "datenschutz@" not in secure  # M11
    assert "Art. 9" not in docs(tr_en)["ropa_entry"].text
    assert "no special categories intended" in docs(tr_en)["ropa_entry"].text
    assert "to be clarified" in docs(tr_en, sensitive_data="unsure")["ropa_entry"].text


# -- content and metadata, processors, transfers ------------------------------------------


def test_the_app_keeps_content_end_to_end_and_names_whatsapps_own_role(tr_en):
    result = docs(tr_en)
    message = result["first_contact_message"].text
    assert "end-to-end encrypted between your device and ours" in message
    assert "metadata) as a controller in its own right" in message
    assert "process their content on our behalf" not in message
    assert "processor only for uploading contacts" in result["ropa_entry"].text


def test_the_platform_says_who_processes_the_content_and_where(tr_en):
    result = docs(tr_en, channel="business_platform", provider="bsp", bsp_name="Sinch", bsp_hosting="outside_eu", meta_local_storage="de")
    message = result["first_contact_message"].text
    assert "WhatsApp Ireland Ltd. (Meta) and our service provider Sinch process their content on our behalf" in message
    assert "Meta stores the content in Germany" in message and "end-to-end encrypted between" not in message
    ropa = result["ropa_entry"].text
    assert "processors for message content" in ropa and "Sinch (service provider, data processing agreement)" in ropa
    assert "Sinch: [[country and transfer basis of your service provider]]" in ropa  # M8: not only the USA
    direct = docs(tr_en, channel="business_platform", provider="direct", bsp_name="Stale")["first_contact_message"].text
    assert "Stale" not in direct and "This includes processing in the USA" in direct


def test_bots_and_meta_ai_are_disclosed_and_listed_as_recipients(tr_en):
    ai = docs(tr_en, integrations=["crm", "bot_ai"], meta_ai="yes")
    assert "automated AI assistant" in ai["first_contact_message"].text and "Meta's AI" in ai["first_contact_message"].text
    assert "provider of our CRM system (processor)" in ai["ropa_entry"].text  # recipients, not systems
    assert "AI assistant: [[country and transfer basis of your AI provider]]" in ai["ropa_entry"].text
    rules = docs(tr_en, integrations=["bot_rules"])["first_contact_message"].text
    assert "You are chatting with an automated assistant" in rules and "AI" not in rules


# -- the profile, placeholders and the imprint ------------------------------------------


def test_the_profile_fills_the_imprint_and_a_missing_detail_stays_visible(tr_en):
    full = docs(tr_en, PROFILE)["imprint_snippet"]
    assert full.placeholders == 0 and placeholders(full.text) == []
    for expected in ("Represented by: Erika Muster", "Phone: +49 221 123456", "Register: Amtsgericht Köln, HRB 12345", "VAT ID: DE123456789",
                     "Business ID (W-IdNr.): DE123456789-00001", "Full imprint: https://baeckerei.de/impressum"):  # fmt: skip
        assert expected in full.text
    assert "Chamber" not in full.text  # professional details only for professional secrecy
    assert "also applies to our WhatsApp" not in full.text  # M7: that sentence belongs on the website
    partial = docs(tr_en, {**PROFILE, "register_number": None, "vat_id": ""})["imprint_snippet"]
    assert "Register: Amtsgericht Köln, [[register number]]" in partial.text and "VAT ID: [[VAT identification number, if any]]" in partial.text
    assert partial.placeholders == 2 == len(placeholders(partial.text))


def test_professional_secrecy_adds_title_chamber_rules_and_appointments_only(tr_en):
    result = docs(tr_en, PROFILE, sector="professional_secrecy", secrecy_safeguards="partial")
    imprint = result["imprint_snippet"].text
    assert "Professional title: Rechtsanwältin (Deutschland)" in imprint and "Chamber: Rechtsanwaltskammer Köln" in imprint
    assert "Professional rules: https://www.brak.de/berufsrecht/" in imprint
    assert "we use it only to arrange appointments" in result["first_contact_message"].text
    ropa = result["ropa_entry"].text
    assert "Professional secrecy: " in ropa and "§ 203(3) and (4) StGB" in ropa and "not yet in place" in ropa
    complete = docs(tr_en, PROFILE, sector="professional_secrecy", secrecy_safeguards="release_and_commitments")["ropa_entry"].text
    assert "not yet in place" not in complete
    empty = docs(tr_en, None, sector="professional_secrecy")["imprint_snippet"].text
    assert "Chamber: [[professional chamber or supervisory authority]]" in empty


def test_the_dpo_is_named_when_appointed(tr_en):
    named = docs(tr_en, PROFILE, dpo="appointed")
    assert "Our data protection officer: Max Schutz, dsb@baeckerei.de" in named["first_contact_message"].text
    assert "Data protection officer: Max Schutz, dsb@baeckerei.de" in named["ropa_entry"].text
    missing = docs(tr_en, None, dpo="appointed")["first_contact_message"].text
    assert "Our data protection officer: [[name and contact of your data protection officer]]" in missing
    assert "data protection officer" not in docs(tr_en, PROFILE)["first_contact_message"].text


@pytest.mark.parametrize("document_id", documents.DOCUMENT_IDS)
def test_every_placeholder_is_counted(tr_en, tr_de, document_id):
    for tr in (tr_en, tr_de):
        for answers in ({}, BASE, {**BASE, "channel": "coexistence", "provider": "bsp", "bsp_hosting": "unknown", "sector": "professional_secrecy"}):
            document = {d.id: d for d in generate(2, answers, tr)}[document_id]
            assert document.placeholders == len(placeholders(document.text))
            assert document.placeholders > 0 or answers is BASE  # no answers at all: something is always missing


def test_retention_names_the_periods_since_beg_iv(tr_en):
    ropa = docs(tr_en)["ropa_entry"].text
    assert "8 years for accounting vouchers such as invoices" in ropa and "6 years for business letters" in ropa  # M6


# -- German ------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "german", "english"), [(1, "1 Angabe fehlt", "1 detail missing"), (3, "3 Angaben fehlen", "3 details missing"),
                                                         (0, "0 Angaben fehlen", "0 details missing")])  # fmt: skip
def test_the_count_of_missing_details_is_correct_german(tr_de, tr_en, count, german, english):
    assert missing_details(count, tr_de) == german
    assert missing_details(count, tr_en) == english


def test_the_german_texts_cite_german_style_and_use_the_dative(tr_de):
    result = docs(tr_de, PROFILE, initiator="marketing", channel="business_platform", provider="bsp", bsp_name="Sinch")
    message = result["first_contact_message"].text
    assert "Art. 6 Abs. 1 lit. b DSGVO" in message and "Art. 21 Abs. 1 DSGVO" in message and "§ 7 Abs. 3 Nr. 4 UWG" in message
    assert "und unser Dienstleister Sinch verarbeiten" in message  # the subject here (v1's "von … unserem" is the catalog's)
    assert "Verantwortlich für die Datenverarbeitung" in message  # m7
    assert "Wirtschafts-Identifikationsnummer" in result["imprint_snippet"].text or "W-IdNr." in result["imprint_snippet"].text
    assert not re.search(r"\bGDPR\b|\bArt\. \d+\(\d\)", message + result["ropa_entry"].text)  # nothing left in English citation style


def test_version_1_documents_stay_as_they_were(tr_en):
    v1 = {d.id: d.text for d in generate(1, {**BASE, "integrations": ["bot"]}, tr_en)}
    assert "You have the right to object to this processing at any time (Art. 21 GDPR)." in v1["first_contact_message"]
    assert v1 == {d.id: d.text for d in (documents.first_contact_message({**BASE, "integrations": ["bot"]}, tr_en, PROFILE),
                                         documents.imprint_snippet({**BASE, "integrations": ["bot"]}, tr_en, PROFILE),
                                         documents.ropa_entry({**BASE, "integrations": ["bot"]}, tr_en, PROFILE))}  # fmt: skip
