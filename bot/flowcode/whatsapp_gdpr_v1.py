"""Conditions and document builders of the flow `whatsapp_gdpr`, version 1.

Only what the flow's predicates cannot say well stays here: whether a DPIA or a
data protection officer is required. Both are used by checklist rules, which the
engine evaluates on the effective answers (of the steps that are asked); still,
each holds only when the steps it reads are asked (purpose is not `internal`), so
it is right on any answers. The three ready-to-paste documents are rendered in
bot/documents.py; they are registered here with the steps and values they read,
so the loader refuses a flow file that no longer has them.
"""

from __future__ import annotations

from .. import documents
from ..engine import FlowCode
from ..engine.conditions import Answers

CODE = FlowCode()


def _for_customers(a: Answers) -> bool:
    """WhatsApp is (also) meant for customers: purpose is not `internal` (an unanswered purpose counts)."""
    return a.get("purpose") != "internal"


@CODE.condition(
    "dpia_required",
    reads=("purpose", "sensitive_data", "integrations", "initiator", "agents"),
    values={"purpose": ("internal",), "sensitive_data": ("yes",), "integrations": ("bot",), "initiator": ("marketing",), "agents": ("many",)},
)
def dpia_required(a: Answers) -> bool:
    """A DPIA is required: sensitive data, a bot, or marketing by many agents."""
    if not _for_customers(a):
        return False
    return (
        a.get("sensitive_data") == "yes"
        or "bot" in (a.get("integrations") or ())
        or (a.get("initiator") == "marketing" and a.get("agents") == "many")
    )


@CODE.condition(
    "dpo_required",
    reads=("purpose", "staff_processing", "sensitive_data", "integrations", "initiator", "agents"),
    values={
        "purpose": ("internal",),
        "staff_processing": ("20_or_more",),
        "sensitive_data": ("yes",),
        "integrations": ("bot",),
        "initiator": ("marketing",),
        "agents": ("many",),
    },
)
def dpo_required(a: Answers) -> bool:
    """A data protection officer is required (§ 38 BDSG): 20+ people or a DPIA."""
    return (_for_customers(a) and a.get("staff_processing") == "20_or_more") or dpia_required(a)


_CONTACT = ("company_name", "company_address", "contact_email")
_OUTREACH = ("service_updates", "marketing")  # initiator values: the business writes first
_PLATFORM = ("business_platform", "coexistence")

CODE.document(
    "first_contact_message",
    documents.first_contact_message,
    item=documents.ITEMS["first_contact_message"],
    reads=(*_CONTACT, "privacy_url", "integrations", "initiator", "channel", "provider", "bsp_name"),
    values={"integrations": ("bot",), "initiator": _OUTREACH, "channel": _PLATFORM, "provider": ("bsp",)},
)
CODE.document("imprint_snippet", documents.imprint_snippet, item=documents.ITEMS["imprint_snippet"], reads=_CONTACT)
CODE.document(
    "ropa_entry",
    documents.ropa_entry,
    item=documents.ITEMS["ropa_entry"],
    reads=(*_CONTACT, "channel", "provider", "bsp_name", "integrations", "initiator", "security_measures", "dpo", "transfer_basis", "retention"),
    values={
        "channel": (*documents.CHANNELS, *_PLATFORM),
        "provider": ("bsp",),
        "integrations": tuple(documents.INTEGRATIONS),
        "initiator": _OUTREACH,
        "security_measures": tuple(documents.MEASURES),
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
