"""Organisation profiles: what the documents need beyond the answers, validated in one place for the API and the manager area.

Every field is optional text with a length limit (`PROFILE_FIELDS`). A change names
any subset of fields; `None` or an empty (blank) text clears a field. Before anything
is stored, every named field is checked and *all* problems are reported at once
(`ProfileError.problems`), so nothing is stored when one field is wrong. The rules:

- any field: text, at most its length limit (after trimming), no control characters
  (a NUL, a line break: each field is one line of a document);
- `vat_id`: an EU VAT identification number in the VIES format of its country, e.g.
  `DE` + 9 digits; spaces, dots and hyphens are dropped and letters upper-cased before
  the check, and it is stored in that compact form (only the format is checked, not
  whether the number was issued: that is what the VIES service confirms);
- `business_id` (Wirtschafts-Identifikationsnummer, § 139c AO): `DE` + 9 digits,
  optionally `-` + a 5-digit distinguishing feature (e.g. `DE123456789-00001`);
- `phone`: digits, spaces and `+ / - ( )`, a `+` only at the start, 6 to 20 digits;
- `professional_rules_url`: an absolute http(s) address with a host.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from ..i18n import N_
from .models import PROFILE_FIELDS, Organisation, OrganisationProfile

# The VIES formats of the EU member states' VAT numbers, after the country prefix (Greece: EL;
# Northern Ireland: XI). Check digits are not verified: a plausible format is what a form can know.
VAT_FORMATS: dict[str, str] = {
    "AT": r"U\d{8}",
    "BE": r"[01]\d{9}",
    "BG": r"\d{9,10}",
    "CY": r"\d{8}[A-Z]",
    "CZ": r"\d{8,10}",
    "DE": r"\d{9}",
    "DK": r"\d{8}",
    "EE": r"\d{9}",
    "EL": r"\d{9}",
    "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"\d{8}",
    "FR": r"[A-HJ-NP-Z0-9]{2}\d{9}",
    "HR": r"\d{11}",
    "HU": r"\d{8}",
    "IE": r"\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W]",
    "IT": r"\d{11}",
    "LT": r"\d{9}|\d{12}",
    "LU": r"\d{8}",
    "LV": r"\d{11}",
    "MT": r"\d{8}",
    "NL": r"\d{9}B\d{2}",
    "PL": r"\d{10}",
    "PT": r"\d{9}",
    "RO": r"[1-9]\d{1,9}",
    "SE": r"\d{10}01",
    "SI": r"\d{8}",
    "SK": r"\d{10}",
    "XI": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
}
BUSINESS_ID_PATTERN = re.compile(r"DE\d{9}(?:-\d{5})?")
PHONE_CHARACTERS = re.compile(r"\+?[0-9 ()/\-]+")
PHONE_DIGITS = (6, 20)
URL_FIELDS = ("professional_rules_url",)

# Why a field was refused (stable codes for the API), with the localised message each one shows.
PROBLEMS = {
    "unknown_field": N_("This field does not exist. Fields: %(allowed)s."),
    "not_text": N_("Please enter text (or null to clear the field)."),
    "too_long": N_("Please shorten this to at most %(limit)s characters."),
    "control_character": N_("Please remove the control characters (such as line breaks or NUL characters)."),
    "invalid_vat_id": N_("Please enter an EU VAT identification number: the country code and the number, e.g. DE123456789."),
    "invalid_business_id": N_("Please enter the business identification number as DE and 9 digits, optionally with its suffix, e.g. DE123456789-00001."),
    "invalid_phone": N_("Please enter a phone number of 6 to 20 digits; only spaces and + / - ( ) may stand between them, e.g. +49 30 1234567."),
    "invalid_url": N_("Please enter a web address that starts with https:// or http://."),
}

# Each field's label, for the form and for the messages that name a field.
FIELD_LABELS = {
    "representative": N_("Represented by (managing director or owner)"),
    "register_court": N_("Register court"),
    "register_number": N_("Register number"),
    "vat_id": N_("VAT identification number"),
    "business_id": N_("Business identification number (W-IdNr.)"),
    "phone": N_("Phone"),
    "dpo_contact": N_("Data protection officer: name and contact"),
    "chamber": N_("Professional chamber or supervisory authority"),
    "professional_title": N_("Professional title and the state that awarded it"),
    "professional_rules_url": N_("Link to the professional rules"),
}


@dataclass(frozen=True)
class Problem:
    """Why one field of a change was refused: the field, a stable code and the message's parameters."""

    field: str
    code: str
    params: Mapping[str, Any]

    def message(self, gettext: Any) -> str:
        """The problem in the language of `gettext` (a function from English to the page's language)."""
        return str(gettext(PROBLEMS[self.code])) % dict(self.params)


class ProfileError(ValueError):
    """A profile change was refused; `problems` names every field that is wrong (nothing was stored)."""

    def __init__(self, problems: list[Problem]) -> None:
        """Keep the problems, one line each in the English message."""
        super().__init__("; ".join(f"{p.field}: {p.code}" for p in problems))
        self.problems = problems


def empty_profile() -> dict[str, str | None]:
    """A profile with no field filled in."""
    return dict.fromkeys(PROFILE_FIELDS)


def _has_control_character(value: str) -> bool:
    return any(unicodedata.category(c) == "Cc" for c in value)


def _compact(value: str) -> str:
    """A VAT or business ID as written without spaces, dots or hyphens in the middle, upper-cased."""
    return re.sub(r"[\s.]", "", value).upper()


def valid_vat_id(value: str) -> bool:
    """Whether `value` (compact, upper-case) has the VIES format of its country."""
    pattern = VAT_FORMATS.get(value[:2])
    return pattern is not None and re.fullmatch(f"(?:{pattern})", value[2:]) is not None


def valid_phone(value: str) -> bool:
    """Digits, spaces and + / - ( ), a + only at the start, and 6 to 20 digits."""
    digits = sum(c.isdigit() for c in value)
    return PHONE_CHARACTERS.fullmatch(value) is not None and PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]


def valid_url(value: str) -> bool:
    """An absolute http(s) address with a host and no spaces."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in value)


def _check(name: str, raw: Any) -> tuple[str | None, Problem | None]:
    """One field's value as stored (None clears it), or the problem with it."""
    if raw is None:
        return None, None
    if not isinstance(raw, str):
        return None, Problem(name, "not_text", {})
    value = raw.strip()
    if not value:
        return None, None
    if _has_control_character(value):
        return None, Problem(name, "control_character", {})
    if len(value) > PROFILE_FIELDS[name]:
        return None, Problem(name, "too_long", {"limit": PROFILE_FIELDS[name]})
    if name == "vat_id":
        value = _compact(value).replace("-", "")
        if not valid_vat_id(value):
            return None, Problem(name, "invalid_vat_id", {})
    elif name == "business_id":
        value = _compact(value)
        if BUSINESS_ID_PATTERN.fullmatch(value) is None:
            return None, Problem(name, "invalid_business_id", {})
    elif name == "phone" and not valid_phone(value):
        return None, Problem(name, "invalid_phone", {})
    elif name in URL_FIELDS and not valid_url(value):
        return None, Problem(name, "invalid_url", {})
    return value, None


def validate_changes(changes: Mapping[str, Any]) -> dict[str, str | None]:
    """The changes as they would be stored (None clears a field); ProfileError naming every wrong field otherwise."""
    cleaned: dict[str, str | None] = {}
    problems: list[Problem] = []
    for name, raw in changes.items():
        if name not in PROFILE_FIELDS:
            problems.append(Problem(str(name), "unknown_field", {"allowed": ", ".join(PROFILE_FIELDS)}))
            continue
        value, problem = _check(name, raw)
        if problem is not None:
            problems.append(problem)
        else:
            cleaned[name] = value
    if problems:
        raise ProfileError(problems)
    return cleaned


def profile_of(session: Session, organisation: Organisation) -> OrganisationProfile | None:
    """The organisation's stored profile, if one was ever saved."""
    return session.get(OrganisationProfile, organisation.id)


def profile_fields(session: Session, organisation: Organisation) -> dict[str, str | None]:
    """The organisation's profile as a dict of every field (None where not filled in)."""
    profile = profile_of(session, organisation)
    return profile.as_dict() if profile is not None else empty_profile()


def update_profile(session: Session, organisation: Organisation, changes: Mapping[str, Any]) -> OrganisationProfile:
    """Validate `changes` (any subset of the fields) and store them; on ProfileError nothing is stored."""
    cleaned = validate_changes(changes)
    profile = profile_of(session, organisation)
    if profile is None:
        profile = OrganisationProfile(organisation_id=organisation.id)
        session.add(profile)
    for name, value in cleaned.items():
        setattr(profile, name, value)
    session.commit()
    return profile
