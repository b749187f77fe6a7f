"""Code of the flow `whatsapp_gdpr`, version 2: how version 1's answers carry over (a re-assessment).

Version 2 branches and rates with predicates only (flows/whatsapp_gdpr_v2.yaml);
what remains in Python is the migration of answers from version 1, exactly as the
contract's migration section says, and the registration of its ready-to-paste
documents (built in bot/documents_v2.py) with the steps and values they read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import documents_v2
from ..engine import FlowCode

CODE = FlowCode()

# Steps whose version-1 answer never carries over: `sector` replaces it and is asked again
# (v1's "no" may hide a § 203 profession its option text never named).
DROPPED_STEPS = ("regulated_sector",)
# Answers whose version-1 option meant more than any version-2 option: asked again.
DROPPED_VALUES: dict[str, str] = {
    "sick_notes": "messenger",  # v1's option also covered business messengers
    "internal_messenger": "business_messenger",  # v1's examples included Signal (no processor contract)
}
# The info step whose advice may be stricter now: always shown again, before the old channel answer is reused.
SHOWN_AGAIN = "recommendation"


@CODE.migration(from_version=1)
def from_version_1(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Version 1's answers as version 2's: every answer keeps its step and value, except the re-asked ones."""
    migrated: dict[str, Any] = {}
    for step, value in answers.items():
        if step in DROPPED_STEPS or step == SHOWN_AGAIN or DROPPED_VALUES.get(step) == value:
            continue
        if step == "integrations" and isinstance(value, list) and "bot" in value:
            continue  # asked again: a rule-based bot or an AI assistant?
        migrated[step] = list(value) if isinstance(value, list) else value
    return migrated


# -- the ready-to-paste documents (bot/documents_v2.py), with what each reads -----------

_CONTACT = ("company_name", "company_address", "contact_email")
_CHANNEL = ("channel", "provider", "bsp_name")
_CHANNEL_VALUES: dict[str, tuple[str, ...]] = {"channel": (*documents_v2.CHANNELS, "none"), "provider": ("bsp",)}
_SECTOR = {"sector": ("professional_secrecy", "public_body")}
_OUTREACH = {"initiator": documents_v2.OUTREACH}

CODE.document(
    "first_contact_message",
    documents_v2.first_contact_message,
    item=documents_v2.ITEMS["first_contact_message"],
    reads=(*_CONTACT, *_CHANNEL, "privacy_url", "imprint_url", "integrations", "initiator", "sector", "dpo", "meta_ai", "meta_local_storage"),
    values={
        **_CHANNEL_VALUES,
        **_SECTOR,
        **_OUTREACH,
        "integrations": ("bot_rules", "bot_ai"),
        "dpo": ("appointed",),
        "meta_ai": ("yes",),
        "meta_local_storage": ("de",),
    },
)
CODE.document(
    "imprint_snippet",
    documents_v2.imprint_snippet,
    item=documents_v2.ITEMS["imprint_snippet"],
    reads=(*_CONTACT, "imprint_url", "sector"),
    values={"sector": ("professional_secrecy",)},
)
CODE.document(
    "ropa_entry",
    documents_v2.ropa_entry,
    item=documents_v2.ITEMS["ropa_entry"],
    reads=(
        *_CONTACT,
        *_CHANNEL,
        "bsp_hosting",
        "integrations",
        "initiator",
        "sector",
        "sensitive_data",
        "secrecy_safeguards",
        "meta_ai",
        "security_measures",
        "dpo",
        "transfer_basis",
        "retention",
    ),
    values={
        **_CHANNEL_VALUES,
        **_SECTOR,
        **_OUTREACH,
        "bsp_hosting": ("outside_eu", "unknown"),
        "integrations": tuple(documents_v2.INTEGRATIONS_V2),
        "sensitive_data": ("yes", "unsure"),
        "secrecy_safeguards": ("release_and_commitments",),
        "meta_ai": ("yes",),
        "security_measures": tuple(documents_v2.MEASURES),
        "dpo": ("appointed",),
        "transfer_basis": ("documented",),
        "retention": ("yes",),
    },
)


# The respondent's result shows the chosen channel beside the recommendation, and says so when they differ.
CODE.chosen_channel(
    "channel",
    {"app_with_mitigations": "business_app", "platform": "business_platform", "platform_restricted": "business_platform", "no_whatsapp": "none"},
)
