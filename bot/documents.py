"""Ready-to-paste documents generated from an assessment's answers, in its language.

The first-contact message (WA-10, Art. 13 GDPR first layer), the imprint snippet for
the WhatsApp business profile (WA-12, § 5 DDG) and the record-of-processing entry
(WA-14, Art. 30 GDPR). Missing answers become visible placeholders in [[double
brackets]], never silent gaps. Plain text: the answers are inserted as typed and
whoever shows the text escapes it for its medium.
"""

# ruff: noqa: E501 (each legal sentence stays on one line, as translators see it in the catalog)

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from babel.support import Translations

from .i18n import N_

DOCUMENT_IDS = ("first_contact_message", "imprint_snippet", "ropa_entry")
# The organisation profile's fields (bot/store/profiles.py), None where not filled in.
Profile = Mapping[str, str | None]

TITLES = {
    "first_contact_message": N_("First-contact message for WhatsApp"),
    "imprint_snippet": N_("Imprint for the WhatsApp business profile"),
    "ropa_entry": N_("Entry for the record of processing activities"),
}
ITEMS = {"first_contact_message": "WA-10", "imprint_snippet": "WA-12", "ropa_entry": "WA-14"}

PLACEHOLDERS = {
    "company": N_("name of your business"),
    "address": N_("business address"),
    "email": N_("e-mail address for privacy questions"),
    "privacy_url": N_("link to your privacy notice"),
    "imprint_url": N_("link to your imprint"),
    "bsp": N_("name of your service provider"),
    "representative": N_("managing director or owner"),
    "register": N_("register court and number, if registered"),
    "vat": N_("VAT identification number, if any"),
    "dpo": N_("name and contact of your data protection officer"),
    "retention": N_("how long chats are kept, from your deletion concept"),
}

MEASURES = {
    "two_step": N_("two-step verification"),
    "device_lock": N_("device lock and encryption"),
    "individual_logins": N_("personal logins with roles"),
    "access_review": N_("regular review of who has access"),
}
INTEGRATIONS = {"crm": N_("CRM system"), "helpdesk": N_("helpdesk"), "shop": N_("online shop"), "bot": N_("chatbot")}
CHANNELS = {
    "business_app": N_("WhatsApp Business App"),
    "business_platform": N_("WhatsApp Business Platform (Cloud API)"),
    "coexistence": N_("WhatsApp Business App and Platform on one number"),
}


@dataclass(frozen=True)
class Document:
    """One generated text, ready to paste."""

    id: str
    item: str
    title: str
    text: str
    placeholders: int

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of the documents endpoint."""
        return {"id": self.id, "item": self.item, "title": self.title, "text": self.text, "placeholders": self.placeholders}


class _Filler:
    """Looks up answers, or writes a visible placeholder (and counts it)."""

    def __init__(self, answers: dict[str, Any], tr: Translations) -> None:
        self.answers = answers
        self.tr = tr
        self.missing = 0

    def say(self, message: str, **params: Any) -> str:
        text = self.tr.gettext(message)
        return text % params if params else text

    def placeholder(self, key: str) -> str:
        self.missing += 1
        return f"[[{self.say(PLACEHOLDERS[key])}]]"

    def text(self, step: str, key: str) -> str:
        value = self.answers.get(step)
        return value.strip() if isinstance(value, str) and value.strip() else self.placeholder(key)


def _platform(answers: dict[str, Any]) -> bool:
    return answers.get("channel") in ("business_platform", "coexistence")


def _uses_bsp(answers: dict[str, Any]) -> bool:
    return _platform(answers) and answers.get("provider") == "bsp"


def missing_details(count: int, tr: Translations) -> str:
    """How many details a document still lacks, as a sentence ("1 detail missing", "3 details missing")."""
    return tr.ngettext("%(num)d detail missing", "%(num)d details missing", count) % {"num": count}


def first_contact_message(answers: dict[str, Any], tr: Translations, profile: Profile | None = None) -> Document:
    """The Art. 13 first layer for the first reply on WhatsApp (WA-10); version 1's text (the profile is not used)."""
    f = _Filler(answers, tr)
    company, address = f.text("company_name", "company"), f.text("company_address", "address")
    parts = [f.say(N_("Hello, and thank you for your message! This chat is run by %(company)s, %(address)s."), company=company, address=address)]
    if "bot" in (answers.get("integrations") or []):
        parts.append(f.say(N_("You are chatting with an automated assistant; you can ask for a person at any time.")))
    parts.append(f.say(N_("We use WhatsApp to answer your enquiry (Art. 6(1)(b) GDPR).")))
    if answers.get("initiator") in ("service_updates", "marketing"):
        parts.append(f.say(N_("We only send you updates or offers if you have agreed (Art. 6(1)(a) GDPR); you can withdraw your consent at any time, for example by replying STOP.")))
    if _uses_bsp(answers):
        recipients = f.say(N_("WhatsApp Ireland Ltd. (Meta) and our service provider %(bsp)s"), bsp=f.text("bsp_name", "bsp"))
    else:
        recipients = f.say(N_("WhatsApp Ireland Ltd. (Meta)"))
    parts.append(
        f.say(
            N_("Your number, your profile name and your messages are processed by %(recipients)s, also in the USA (EU-US Data Privacy Framework; standard contractual clauses)."),
            recipients=recipients,
        )
    )
    parts.append(f.say(N_("Please do not send health or bank data or copies of ID documents via WhatsApp; write to us at %(email)s instead."), email=f.text("contact_email", "email")))
    parts.append(f.say(N_("You have the right to object to this processing at any time (Art. 21 GDPR).")))
    parts.append(f.say(N_("You also have the rights to access, rectification, erasure, restriction and data portability, and you may complain to a data protection supervisory authority.")))
    parts.append(
        f.say(N_("Privacy notice: %(privacy_url)s · Imprint: %(imprint_url)s"), privacy_url=f.text("privacy_url", "privacy_url"), imprint_url=f.placeholder("imprint_url"))
    )
    return Document("first_contact_message", ITEMS["first_contact_message"], f.say(TITLES["first_contact_message"]), "\n\n".join(parts), f.missing)


def imprint_snippet(answers: dict[str, Any], tr: Translations, profile: Profile | None = None) -> Document:
    """The imprint for the business profile's description (WA-12, § 5 DDG); version 1's text (the profile is not used)."""
    f = _Filler(answers, tr)
    lines = [
        f.say(N_("Imprint")),
        f.text("company_name", "company"),
        f.text("company_address", "address"),
        f.say(N_("Represented by: %(representative)s"), representative=f.placeholder("representative")),
        f.say(N_("E-mail: %(email)s"), email=f.text("contact_email", "email")),
        f.say(N_("Register: %(register)s"), register=f.placeholder("register")),
        f.say(N_("VAT ID: %(vat)s"), vat=f.placeholder("vat")),
        "",
        f.say(N_("This imprint also applies to our WhatsApp business profile. Full imprint: %(imprint_url)s"), imprint_url=f.placeholder("imprint_url")),
    ]
    return Document("imprint_snippet", ITEMS["imprint_snippet"], f.say(TITLES["imprint_snippet"]), "\n".join(lines), f.missing)


def ropa_entry(answers: dict[str, Any], tr: Translations, profile: Profile | None = None) -> Document:
    """The record-of-processing entry for customer communication via WhatsApp (WA-14, Art. 30 GDPR); version 1's text."""
    f = _Filler(answers, tr)
    channel = answers.get("channel")
    integrations = [i for i in (answers.get("integrations") or []) if i in INTEGRATIONS]
    purposes = [f.say(N_("answering enquiries from customers and prospects"))]
    legal_bases = [f.say(N_("Art. 6(1)(b) GDPR (enquiries and contracts)"))]
    if answers.get("initiator") in ("service_updates", "marketing"):
        purposes.append(f.say(N_("service messages and, with consent, offers sent by us first")))
        legal_bases.append(f.say(N_("Art. 6(1)(a) GDPR (consent to messages we send first)")))
    recipients = [f.say(N_("WhatsApp Ireland Ltd. and Meta Platforms, Inc."))]
    if _uses_bsp(answers):
        recipients.append(f.say(N_("%(bsp)s (service provider, data processing agreement)"), bsp=f.text("bsp_name", "bsp")))
    recipients += [f.say(INTEGRATIONS[i]) for i in integrations]
    measures = [f.say(MEASURES[m]) for m in (answers.get("security_measures") or []) if m in MEASURES]
    dpo = f.placeholder("dpo") if answers.get("dpo") == "appointed" else f.say(N_("none appointed"))
    transfer = (
        f.say(N_("USA (Meta): EU-US Data Privacy Framework, adequacy decision of 10 July 2023; standard contractual clauses as fallback."))
        if answers.get("transfer_basis") == "documented"
        else f.say(N_("USA (Meta): to be documented (EU-US Data Privacy Framework; standard contractual clauses as fallback)."))
    )
    retention = f.say(N_("as defined in the deletion concept")) if answers.get("retention") == "yes" else f.placeholder("retention")
    rows = [
        (N_("Processing activity"), f.say(N_("Customer communication via %(channel)s"), channel=f.say(CHANNELS[channel]) if channel in CHANNELS else "WhatsApp")),
        (N_("Controller"), f"{f.text('company_name', 'company')}, {f.text('company_address', 'address')}, {f.text('contact_email', 'email')}"),
        (N_("Data protection officer"), dpo),
        (N_("Purposes"), "; ".join(purposes)),
        (N_("Legal bases"), "; ".join(legal_bases)),
        (N_("Data subjects"), f.say(N_("customers and prospects who write to us or whom we write to via WhatsApp"))),
        (
            N_("Categories of data"),
            f.say(N_("phone number, profile name and picture, message content and attachments, time stamps and other metadata; no special categories intended")),
        ),
        (N_("Recipients"), "; ".join(recipients)),
        (N_("Third-country transfers"), transfer),
        (N_("Retention"), retention),
        (N_("Technical and organisational measures"), "; ".join(measures) if measures else f.say(N_("none recorded yet"))),
    ]
    text = "\n".join(f"{f.say(label)}: {value}" for label, value in rows)
    return Document("ropa_entry", ITEMS["ropa_entry"], f.say(TITLES["ropa_entry"]), text, f.missing)

