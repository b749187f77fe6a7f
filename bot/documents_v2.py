"""The ready-to-paste documents of flow version 2: version 1's three texts with the legal review's corrections.

Each builder takes the effective answers, a translator and the organisation profile
(bot/store/profiles.py; None or empty fields become placeholders). What changed from
version 1 (docs/flow-versions.md, "Documents of version 2"):

- a legal basis per purpose: Art. 6(1)(b) GDPR for requests and contracts, (f) with
  its named interest for general enquiries, (a) for advertising by consent and (f)
  with § 7 Abs. 3 UWG for advertising to existing customers; a public body (e) with
  the specific law it acts under, never (f);
- rights that match the bases: the Art. 21(1) objection against (e)/(f), the Art.
  21(2) objection against direct marketing as its own paragraph (Art. 21(4)), the
  Art. 7(3) withdrawal where consent is used, and the § 7 Abs. 3 Nr. 4 UWG notice;
- a secure channel (phone) instead of e-mail for sensitive data, and "appointments
  only" for professions bound to secrecy;
- content and metadata kept apart: with the App the content is end-to-end encrypted
  and WhatsApp processes metadata as a controller of its own; with the Platform Meta
  (and a BSP) process the content on the business's behalf;
- the DPO's contact when one is appointed, the imprint link from `imprint_url`, and
  the profile's representative, phone, register, VAT ID, business ID (W-IdNr.) and,
  for `professional_secrecy`, chamber, professional title and rules.
"""

# ruff: noqa: E501 (each legal sentence stays on one line, as translators see it in the catalog)

from __future__ import annotations

from typing import Any

from babel.support import Translations

from .documents import CHANNELS, ITEMS, MEASURES, PLACEHOLDERS, TITLES, Document, Profile, _Filler
from .i18n import N_

PLACEHOLDERS_V2 = {
    **PLACEHOLDERS,
    "phone": N_("phone number for enquiries"),
    "register_court": N_("register court"),
    "register_number": N_("register number"),
    "business_id": N_("business identification number (W-IdNr.), if any"),
    "chamber": N_("professional chamber or supervisory authority"),
    "professional_title": N_("professional title and the state that awarded it"),
    "professional_rules": N_("professional rules and where to read them"),
    "public_law": N_("the specific legal provision for this task"),
    "bsp_transfer": N_("country and transfer basis of your service provider"),
    "bsp_location": N_("where your service provider hosts the data"),
    "ai_transfer": N_("country and transfer basis of your AI provider"),
}

INTEGRATIONS_V2 = {
    "crm": N_("CRM system"),
    "helpdesk": N_("helpdesk"),
    "shop": N_("online shop"),
    "bot_rules": N_("rule-based chatbot"),
    "bot_ai": N_("AI assistant"),
}

OUTREACH = ("service_updates", "marketing")  # initiator values: the business writes first
PLATFORM = ("business_platform", "coexistence")
APP = ("business_app", "coexistence")
STATUTORY_RETENTION = N_(
    "statutory retention where a chat is a business letter or an accounting voucher: 6 years for business letters, 8 years for accounting vouchers such as invoices, 10 years for books and annual accounts (§ 147 AO, § 257 HGB, § 14b UStG)"
)


class _ProfileFiller(_Filler):
    """Version 1's filler with the organisation profile and version 2's placeholders."""

    def __init__(self, answers: dict[str, Any], tr: Translations, profile: Profile | None) -> None:
        super().__init__(answers, tr)
        self.profile = profile or {}

    def placeholder(self, key: str) -> str:
        self.missing += 1
        return f"[[{self.say(PLACEHOLDERS_V2[key])}]]"

    def field(self, name: str, key: str) -> str:
        """A profile field as filled in, or a visible placeholder."""
        value = self.profile.get(name)
        return value.strip() if isinstance(value, str) and value.strip() else self.placeholder(key)

    def filled(self, name: str) -> str | None:
        """A profile field if it is filled in (no placeholder)."""
        value = self.profile.get(name)
        return value.strip() if isinstance(value, str) and value.strip() else None


def _is(answers: dict[str, Any], step: str, *values: str) -> bool:
    return answers.get(step) in values


def _public(answers: dict[str, Any]) -> bool:
    return _is(answers, "sector", "public_body")


def _secrecy(answers: dict[str, Any]) -> bool:
    return _is(answers, "sector", "professional_secrecy")


def _uses_bsp(answers: dict[str, Any]) -> bool:
    return _is(answers, "channel", *PLATFORM) and _is(answers, "provider", "bsp")


def _integrations(answers: dict[str, Any]) -> list[str]:
    return [i for i in (answers.get("integrations") or []) if i in INTEGRATIONS_V2]


def first_contact_message(answers: dict[str, Any], tr: Translations, profile: Profile | None = None) -> Document:
    """The Art. 13 first layer for the first reply on WhatsApp (WA-10), with bases and rights that match each purpose."""
    f = _ProfileFiller(answers, tr, profile)
    public, marketing = _public(answers), _is(answers, "initiator", "marketing")
    integrations = _integrations(answers)
    parts = [
        f.say(N_("Hello, and thank you for your message!")),
        f.say(N_("The controller responsible for processing your data in this chat is %(company)s, %(address)s."), company=f.text("company_name", "company"), address=f.text("company_address", "address")),
    ]
    if _is(answers, "dpo", "appointed"):
        parts.append(f.say(N_("Our data protection officer: %(dpo)s"), dpo=f.field("dpo_contact", "dpo")))
    if "bot_ai" in integrations:
        parts.append(f.say(N_("You are chatting with an automated AI assistant; you can ask for a person at any time.")))
    elif "bot_rules" in integrations:
        parts.append(f.say(N_("You are chatting with an automated assistant; you can ask for a person at any time.")))
    if _is(answers, "meta_ai", "yes"):
        parts.append(f.say(N_("Some answers may come from Meta's AI: what you write to it is processed by Meta under its own terms and is not end-to-end encrypted.")))
    # Why we process: one legal basis per purpose (Art. 13(1)(c) and (d) GDPR).
    if public:
        parts.append(f.say(N_("We process your messages to perform our public tasks (Art. 6(1)(e) GDPR in conjunction with %(law)s)."), law=f.placeholder("public_law")))
    else:
        parts.append(f.say(N_("We process your messages to answer your request and to prepare or perform a contract with you (Art. 6(1)(b) GDPR). We answer general enquiries on the basis of our legitimate interest in answering them quickly on the channel you chose (Art. 6(1)(f) GDPR).")))
    if _is(answers, "initiator", *OUTREACH):
        if public:
            parts.append(f.say(N_("We send you updates on WhatsApp only if you have asked for them.")))
        else:
            parts.append(f.say(N_("We send you updates about your order or appointment on WhatsApp only if you have asked for them (Art. 6(1)(b) GDPR).")))
    if marketing:
        if public:
            parts.append(f.say(N_("We send you news only with your consent (Art. 6(1)(a) GDPR).")))
        else:
            parts.append(f.say(N_("We send you offers only with your consent (Art. 6(1)(a) GDPR) or, if you are already our customer, offers for similar products of ours (Art. 6(1)(f) GDPR and § 7(3) UWG; our interest: advertising to our customers).")))
    # Who sees what: content and metadata are not the same (legal review M2, M9).
    parts.append(_content_paragraph(f, answers))
    parts.append(f.say(N_("Independently of us, WhatsApp Ireland Ltd. processes your number, your profile name and data about your use of WhatsApp (metadata) as a controller in its own right, also in the USA (EU-US Data Privacy Framework); see WhatsApp's privacy policy.")))
    # Sensitive data: a secure channel, never plain e-mail (M11); secrecy holders: appointments only (§ 203 StGB).
    if _secrecy(answers):
        parts.append(f.say(N_("We are bound by professional secrecy. Please send no details of your matter via WhatsApp: we use it only to arrange appointments.")))
    parts.append(f.say(N_("Please do not send health or bank data or copies of ID documents via WhatsApp. For such data, please call us or ask us for a secure way to send them.")))
    parts.append(f.say(N_("You do not have to use WhatsApp: you can also reach us by phone at %(phone)s or by e-mail at %(email)s."), phone=f.field("phone", "phone"), email=f.text("contact_email", "email")))
    # Rights that match the bases used.
    objection_basis = f.say(N_("Art. 6(1)(e) GDPR")) if public else f.say(N_("Art. 6(1)(f) GDPR"))
    parts.append(f.say(N_("You may object at any time, on grounds relating to your particular situation, to processing based on %(basis)s (Art. 21(1) GDPR)."), basis=objection_basis))
    if marketing:
        # Art. 21(4): the right against direct marketing is presented clearly and separately.
        if public:
            parts.append(f.say(N_("You may object to the use of your data for advertising at any time; we will then stop (Art. 21(2) and (3) GDPR).")))
        else:
            parts.append(f.say(N_("You may object to the use of your data for advertising at any time; we will then stop (Art. 21(2) and (3) GDPR). Objecting costs you nothing but the transmission costs at the basic rates (§ 7(3) no. 4 UWG): simply reply STOP.")))
        parts.append(f.say(N_("You can withdraw your consent at any time with effect for the future, for example by replying STOP (Art. 7(3) GDPR).")))
    parts.append(f.say(N_("You also have the rights to access, rectification, erasure, restriction and data portability, and you may complain to a data protection supervisory authority.")))
    parts.append(f.say(N_("Privacy notice: %(privacy_url)s · Imprint: %(imprint_url)s"), privacy_url=f.text("privacy_url", "privacy_url"), imprint_url=f.text("imprint_url", "imprint_url")))
    return Document("first_contact_message", ITEMS["first_contact_message"], f.say(TITLES["first_contact_message"]), "\n\n".join(parts), f.missing)


def _content_paragraph(f: _ProfileFiller, answers: dict[str, Any]) -> str:
    """Where the content of the messages goes: end-to-end encrypted with the App; processed by Meta (and a BSP) with the Platform."""
    if not _is(answers, "channel", *PLATFORM):
        return f.say(N_("Our chats are end-to-end encrypted between your device and ours: WhatsApp cannot read the content of your messages."))
    if _uses_bsp(answers):
        content = f.say(
            N_("We receive your messages through the WhatsApp Business Platform: WhatsApp Ireland Ltd. (Meta) and our service provider %(bsp)s process their content on our behalf, under data processing agreements."),
            bsp=f.text("bsp_name", "bsp"),
        )
    else:
        content = f.say(N_("We receive your messages through the WhatsApp Business Platform: WhatsApp Ireland Ltd. (Meta) processes their content on our behalf, under a data processing agreement."))
    if _is(answers, "meta_local_storage", "de"):
        where = f.say(N_("Meta stores the content in Germany; to deliver a message it may process it briefly in other countries, including the USA (EU-US Data Privacy Framework; standard contractual clauses)."))
    else:
        where = f.say(N_("This includes processing in the USA (EU-US Data Privacy Framework; standard contractual clauses)."))
    return f"{content} {where}"


def imprint_snippet(answers: dict[str, Any], tr: Translations, profile: Profile | None = None) -> Document:
    """The imprint for the business profile's description (WA-12, § 5 DDG), with the profile's details."""
    f = _ProfileFiller(answers, tr, profile)
    court, number = f.filled("register_court"), f.filled("register_number")
    if court is None and number is None:
        register = f.placeholder("register")
    else:
        register = f"{court or f.placeholder('register_court')}, {number or f.placeholder('register_number')}"
    lines = [
        f.say(N_("Imprint")),
        f.text("company_name", "company"),
        f.text("company_address", "address"),
        f.say(N_("Represented by: %(representative)s"), representative=f.field("representative", "representative")),
        f.say(N_("Phone: %(phone)s"), phone=f.field("phone", "phone")),
        f.say(N_("E-mail: %(email)s"), email=f.text("contact_email", "email")),
        f.say(N_("Register: %(register)s"), register=register),
        f.say(N_("VAT ID: %(vat)s"), vat=f.field("vat_id", "vat")),
        f.say(N_("Business ID (W-IdNr.): %(business_id)s"), business_id=f.field("business_id", "business_id")),
    ]
    if _secrecy(answers):  # § 5 Abs. 1 Nr. 3 and 5 DDG: regulated professions
        lines += [
            f.say(N_("Professional title: %(title)s"), title=f.field("professional_title", "professional_title")),
            f.say(N_("Chamber: %(chamber)s"), chamber=f.field("chamber", "chamber")),
            f.say(N_("Professional rules: %(rules)s"), rules=f.field("professional_rules_url", "professional_rules")),
        ]
    lines += ["", f.say(N_("Full imprint: %(imprint_url)s"), imprint_url=f.text("imprint_url", "imprint_url"))]
    return Document("imprint_snippet", ITEMS["imprint_snippet"], f.say(TITLES["imprint_snippet"]), "\n".join(lines), f.missing)


def _legal_bases(f: _ProfileFiller, answers: dict[str, Any]) -> list[str]:
    """One legal basis per purpose (and Art. 9 where special categories are processed)."""
    outreach, marketing = _is(answers, "initiator", *OUTREACH), _is(answers, "initiator", "marketing")
    if _public(answers):
        bases = [f.say(N_("Art. 6(1)(e) GDPR with %(law)s (public tasks)"), law=f.placeholder("public_law"))]
    else:
        bases = [
            f.say(N_("Art. 6(1)(b) GDPR (enquiries about and performance of contracts)")),
            f.say(N_("Art. 6(1)(f) GDPR (general enquiries; legitimate interest: answering them quickly on the channel the person chose)")),
        ]
        if outreach:
            bases.append(f.say(N_("Art. 6(1)(b) GDPR (service messages about orders and appointments)")))
    if marketing:
        bases.append(f.say(N_("Art. 6(1)(a) GDPR (consent to advertising messages)")))
        if not _public(answers):
            bases.append(f.say(N_("Art. 6(1)(f) GDPR with § 7(3) UWG (advertising similar products to existing customers; every advertising message says that they may object at any time, § 7(3) no. 4 UWG)")))
    if _is(answers, "sensitive_data", "yes"):
        bases.append(f.say(N_("special categories: Art. 9(2)(a) GDPR (explicit consent), unless another exception of Art. 9(2) GDPR applies (e.g. lit. h with § 22(1) no. 1(b) BDSG for health care)")))
    return bases


def _recipients(f: _ProfileFiller, answers: dict[str, Any]) -> list[str]:
    """Who receives the data, and in which role (recipients, not systems)."""
    if _is(answers, "channel", *PLATFORM):
        recipients = [f.say(N_("WhatsApp Ireland Ltd. and Meta Platforms, Inc.: processors for message content (WhatsApp Business Data Processing Terms); controller in its own right for metadata"))]
    else:
        recipients = [f.say(N_("WhatsApp Ireland Ltd.: controller in its own right for metadata; processor only for uploading contacts from the address book (message content is end-to-end encrypted)"))]
    if _uses_bsp(answers):
        recipients.append(f.say(N_("%(bsp)s (service provider, data processing agreement)"), bsp=f.text("bsp_name", "bsp")))
    recipients += [f.say(N_("provider of our %(system)s (processor)"), system=f.say(INTEGRATIONS_V2[i])) for i in _integrations(answers)]
    if _is(answers, "meta_ai", "yes"):
        recipients.append(f.say(N_("Meta (its AI features in our chats): role under Meta's AI terms to be checked")))
    return recipients


def _transfers(f: _ProfileFiller, answers: dict[str, Any]) -> str:
    """Third-country transfers: Meta, and a service provider or AI provider outside the EU."""
    transfers = [
        f.say(N_("USA (Meta): EU-US Data Privacy Framework, adequacy decision of 10 July 2023; standard contractual clauses as fallback."))
        if _is(answers, "transfer_basis", "documented")
        else f.say(N_("USA (Meta): to be documented (EU-US Data Privacy Framework; standard contractual clauses as fallback)."))
    ]
    if _uses_bsp(answers) and _is(answers, "bsp_hosting", "outside_eu"):
        transfers.append(f"{f.text('bsp_name', 'bsp')}: {f.placeholder('bsp_transfer')}.")
    elif _uses_bsp(answers) and _is(answers, "bsp_hosting", "unknown"):
        transfers.append(f"{f.text('bsp_name', 'bsp')}: {f.placeholder('bsp_location')}.")
    if "bot_ai" in _integrations(answers):
        transfers.append(f"{f.say(INTEGRATIONS_V2['bot_ai'])}: {f.placeholder('ai_transfer')}.")
    return " ".join(transfers)


def ropa_entry(answers: dict[str, Any], tr: Translations, profile: Profile | None = None) -> Document:
    """The record-of-processing entry for customer communication via WhatsApp (WA-14, Art. 30(1) GDPR)."""
    f = _ProfileFiller(answers, tr, profile)
    channel = answers.get("channel")
    purposes = [f.say(N_("answering enquiries from customers and prospects")), f.say(N_("preparing and performing contracts"))]
    if _is(answers, "initiator", *OUTREACH):
        purposes.append(f.say(N_("service messages about orders and appointments")))
    if _is(answers, "initiator", "marketing"):
        purposes.append(f.say(N_("advertising messages (offers)")))
    if _is(answers, "dpo", "appointed"):
        dpo = f.field("dpo_contact", "dpo")
    elif _public(answers):
        dpo = f.say(N_("none appointed yet: a public body must appoint one (Art. 37(1)(a) GDPR)"))
    else:
        dpo = f.say(N_("none appointed"))
    controller = [f.text("company_name", "company"), f.text("company_address", "address"), f.text("contact_email", "email")]
    if (phone := f.filled("phone")) is not None:
        controller.append(phone)
    sensitive = answers.get("sensitive_data")
    special = {
        "yes": N_("special categories (e.g. health data) can be contained in messages"),
        "unsure": N_("whether special categories are contained is to be clarified"),
    }.get(sensitive or "", N_("no special categories intended"))
    measures = [f.say(MEASURES[m]) for m in (answers.get("security_measures") or []) if m in MEASURES]
    retention = f.say(N_("as defined in the deletion concept")) if _is(answers, "retention", "yes") else f.placeholder("retention")
    rows = [
        (N_("Processing activity"), f.say(N_("Customer communication via %(channel)s"), channel=f.say(CHANNELS[channel]) if channel in CHANNELS else "WhatsApp")),
        (N_("Controller"), ", ".join(controller)),
        (N_("Data protection officer"), dpo),
        (N_("Purposes"), "; ".join(purposes)),
        (N_("Legal bases"), "; ".join(_legal_bases(f, answers))),
    ]
    if _secrecy(answers):
        secrecy = f.say(N_("the clients' release from confidentiality or their consent (§ 203 StGB); every service provider bound to secrecy in text form (§ 203(3) and (4) StGB)"))
        if not _is(answers, "secrecy_safeguards", "release_and_commitments"):
            secrecy += " " + f.say(N_("(not yet in place for every client and provider)"))
        rows.append((N_("Professional secrecy"), secrecy))
    rows += [
        (N_("Data subjects"), f.say(N_("customers and prospects who write to us or whom we write to via WhatsApp"))),
        (N_("Categories of data"), f.say(N_("phone number, profile name and picture, message content and attachments, time stamps and other metadata")) + "; " + f.say(special)),
        (N_("Recipients"), "; ".join(_recipients(f, answers))),
        (N_("Third-country transfers"), _transfers(f, answers)),
        (N_("Retention"), f"{retention}; {f.say(STATUTORY_RETENTION)}"),
        (N_("Technical and organisational measures"), "; ".join(measures) if measures else f.say(N_("none recorded yet"))),
    ]
    text = "\n".join(f"{f.say(label)}: {value}" for label, value in rows)
    return Document("ropa_entry", ITEMS["ropa_entry"], f.say(TITLES["ropa_entry"]), text, f.missing)

