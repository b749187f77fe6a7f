"""Quick checks of flow version 2's rules (flows/whatsapp_gdpr_v2.yaml) against the tables of the v2 contract.

Each case is a small set of answers on top of a plain baseline (a small business on the
Business App where every answer is the good one) and what the contract says follows from
it. The full oracle and the path walks are elsewhere (tests/contract.py, test_flow_walks.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.engine import EngineRegistry, FlowEngine, load_flows
from bot.flowcode import FLOW_CODE
from tests.conftest import ROOT

CHANNEL_NEUTRAL_ITEMS = {"WA-01", "WA-21", "WA-26", "WA-29"}

# Every step of version 2 answered; steps off the path are ignored by the engine.
BASELINE: dict[str, Any] = {
    "purpose": "customer",
    "sensitive_data": "no",
    "initiator": "customers_only",
    "agents": "one",
    "integrations": ["none"],
    "staff_processing": "under_20",
    "sector": "general",
    "residency_required": "no",
    "existing_app_number": "no",
    "recommendation": "ok",
    "channel": "business_app",
    "provider": "bsp",
    "bsp_name": "Chat GmbH",
    "bsp_hosting": "germany",
    "bsp_dpa": "signed",
    "meta_local_storage": "de",
    "coex_review": "yes",
    "device": "company_device",
    "address_book": "no_access",
    "backups": "off",
    "meta_terms": "accepted_filed",
    "transfer_basis": "documented",
    "legal_basis": "yes",
    "secrecy_safeguards": "release_and_commitments",
    "optin": "documented",
    "optout": "yes",
    "first_contact_message": "yes",
    "number_notice": "yes",
    "privacy_policy": "updated",
    "impressum": "in_profile",
    "meta_ai": "no",
    "bot_disclosure": "yes",
    "ropa": "yes",
    "dpia": "done",
    "dpo": "appointed",
    "works_council": "agreement",
    "security_measures": ["two_step", "device_lock", "individual_logins"],
    "retention": "yes",
    "dsr_process": "yes",
    "sensitive_policy": "yes",
    "staff_training": "done",
    "incident_process": "yes",
    "internal_messenger": "business_messenger",
    "sick_notes": "eau",
    "company_name": "Bäckerei Muster GmbH",
    "company_address": "Hauptstr. 1, 12345 Musterstadt",
    "contact_email": "datenschutz@example.org",
    "privacy_url": "https://example.org/datenschutz",
    "imprint_url": "https://example.org/impressum",
}

# Everything that can fire a reason, for the order and suppression cases.
EVERYTHING = {
    "purpose": "both",
    "sensitive_data": "yes",
    "initiator": "marketing",
    "agents": "many",
    "integrations": ["crm", "helpdesk", "shop", "bot_rules", "bot_ai"],
    "staff_processing": "20_or_more",
    "residency_required": "yes",
    "existing_app_number": "yes",
}


@pytest.fixture(scope="module")
def v2() -> FlowEngine:
    """The engine of version 2, from the checkout's flow files with their code."""
    return EngineRegistry(load_flows(ROOT / "flows", code=FLOW_CODE)).get("whatsapp_gdpr", 2)


def answers(**changes: Any) -> dict[str, Any]:
    """The baseline with some answers changed."""
    return {**BASELINE, **changes}


def statuses(engine: FlowEngine, **changes: Any) -> dict[str, str]:
    """Item id -> status for the baseline with these changes."""
    return {item.id: str(item.status) for item in engine.checklist(answers(**changes)).items}


def test_version_2_has_the_contracts_shape(v2):
    assert v2.flow.version == 2
    assert len(v2.flow.steps) == 49
    assert [item.id for item in v2.flow.checklist] == [f"WA-{n:02d}" for n in range(1, 31)]
    assert v2.flow.conditions == {}  # v2 needs no named Python conditions
    integrations = v2.flow.step_by_id["integrations"]
    assert [o.value for o in integrations.options if o.exclusive] == ["none"]
    assert {s: v2.flow.step_by_id[s].validator for s in ("contact_email", "privacy_url", "imprint_url")} == {
        "contact_email": "email",
        "privacy_url": "http_url",
        "imprint_url": "http_url",
    }


# --- Recommendation: value and reasons in report order -------------------------------------

RECOMMENDATIONS = [
    pytest.param({}, "app_with_mitigations", ("R8",), id="baseline"),
    pytest.param({"purpose": "internal", "sector": "public_body", "sensitive_data": "yes"}, "no_whatsapp", ("R1",), id="R1-internal-evaluates-nothing-else"),
    pytest.param({"purpose": "both"}, "app_with_mitigations", ("R1", "R8"), id="R1-both"),
    pytest.param({"sector": "public_body"}, "no_whatsapp", ("R11",), id="R11"),
    pytest.param({**EVERYTHING, "sector": "public_body"}, "no_whatsapp", ("R1", "R11"), id="R11-suppresses-all-but-R1"),
    pytest.param({**EVERYTHING, "purpose": "customer", "sensitive_data": "unsure", "sector": "public_body"}, "no_whatsapp", ("R11",), id="R11-suppresses-R2?"),
    pytest.param({"sensitive_data": "yes"}, "platform_restricted", ("R2",), id="R2"),
    pytest.param({"sensitive_data": "unsure"}, "app_with_mitigations", ("R2?", "R8"), id="R2?-advice-only"),
    pytest.param({"sector": "professional_secrecy"}, "platform_restricted", ("R10",), id="R10"),
    pytest.param({"sector": "professional_secrecy", "existing_app_number": "yes"}, "platform_restricted", ("R10", "R9"), id="R10-R9"),
    pytest.param({"initiator": "service_updates"}, "platform", ("R3",), id="R3"),
    pytest.param({"agents": "few"}, "platform", ("R4",), id="R4"),
    pytest.param({"integrations": ["shop"]}, "app_with_mitigations", ("R8",), id="R5-ignores-shop"),
    pytest.param({"integrations": ["shop", "bot_rules"]}, "platform", ("R5",), id="R5-bot_rules"),
    pytest.param({"integrations": ["bot_ai"]}, "platform", ("R5",), id="R5-bot_ai"),
    pytest.param({"integrations": ["crm"]}, "platform", ("R5",), id="R5-crm"),
    pytest.param({"residency_required": "yes"}, "app_with_mitigations", ("R6", "R8"), id="R6-advice-only"),
    pytest.param({"residency_required": "yes", "agents": "many"}, "platform", ("R4", "R6"), id="R6-with-R4"),
    pytest.param({"staff_processing": "20_or_more"}, "platform", ("R7",), id="R7-size"),
    pytest.param({"sector": "financial"}, "platform", ("R7",), id="R7-financial"),
    pytest.param({"sector": "financial", "staff_processing": "20_or_more"}, "platform", ("R7",), id="R7-once"),
    pytest.param({"existing_app_number": "yes"}, "app_with_mitigations", ("R8",), id="R9-not-for-the-App"),
    pytest.param({"existing_app_number": "yes", "agents": "few"}, "platform", ("R4", "R9"), id="R9-platform"),
    pytest.param({"existing_app_number": "yes", "sensitive_data": "yes"}, "platform_restricted", ("R2", "R9"), id="R9-restricted"),
    pytest.param(
        {**EVERYTHING, "sector": "professional_secrecy"},
        "platform_restricted",
        ("R1", "R2", "R3", "R4", "R5", "R6", "R7", "R10", "R9"),
        id="report-order",
    ),
    pytest.param(
        {**EVERYTHING, "sensitive_data": "unsure", "sector": "financial"},
        "platform",
        ("R1", "R2?", "R3", "R4", "R5", "R6", "R7", "R9"),
        id="report-order-R2?",
    ),
]


@pytest.mark.parametrize(("changes", "value", "reasons"), RECOMMENDATIONS)
def test_recommendation(v2, changes, value, reasons):
    result = v2.checklist(answers(**changes)).recommendation
    assert (result.value, result.reasons) == (value, reasons)


# --- Derived flags: dpia_required (WA-15) and dpo_required (WA-22) -------------------------


@pytest.mark.parametrize(
    ("changes", "required"),
    [
        pytest.param({}, False, id="nothing"),
        pytest.param({"sensitive_data": "yes"}, True, id="sensitive"),
        pytest.param({"sensitive_data": "unsure"}, False, id="unsure"),
        pytest.param({"integrations": ["bot_ai"]}, True, id="bot_ai"),
        pytest.param({"integrations": ["bot_rules", "crm"]}, False, id="bot_rules"),
        pytest.param({"meta_ai": "yes"}, True, id="meta_ai"),
        pytest.param({"meta_ai": "unsure"}, False, id="meta_ai-unsure"),
        pytest.param({"initiator": "marketing", "agents": "many"}, False, id="v1s-marketing-rule-gone"),
    ],
)
def test_dpia_required(v2, changes, required):
    assert statuses(v2, **changes, dpia="not_done")["WA-15"] == ("critical" if required else "open")
    assert statuses(v2, **changes, dpia="screened")["WA-15"] == ("open" if required else "done")
    assert statuses(v2, **changes, dpia="done")["WA-15"] == "done"
    # A DPIA makes a DPO mandatory, whatever the size (§ 38 Abs. 1 S. 2 BDSG).
    assert statuses(v2, **changes, dpo="not_required")["WA-22"] == ("critical" if required else "done")


@pytest.mark.parametrize(
    ("changes", "required"),
    [
        pytest.param({"staff_processing": "20_or_more"}, True, id="size"),
        pytest.param({"sector": "public_body"}, True, id="public_body"),
        pytest.param({"sector": "professional_secrecy"}, False, id="secrecy-alone"),
        pytest.param({"integrations": ["bot_ai"]}, True, id="via-dpia"),
    ],
)
def test_dpo_required(v2, changes, required):
    assert statuses(v2, **changes, dpo="not_required")["WA-22"] == ("critical" if required else "done")
    assert statuses(v2, **changes, dpo="unclear")["WA-22"] == ("critical" if required else "open")
    assert statuses(v2, **changes, dpo="appointed")["WA-22"] == "done"


# --- Item status rules ---------------------------------------------------------------------

ITEM_CASES = [
    # WA-01: channel decision
    ("WA-01", {}, "done"),
    ("WA-01", {"sensitive_data": "yes"}, "critical"),
    ("WA-01", {"sensitive_data": "yes", "channel": "business_platform"}, "done"),
    ("WA-01", {"sector": "professional_secrecy"}, "critical"),
    ("WA-01", {"sector": "financial", "channel": "coexistence"}, "critical"),
    ("WA-01", {"sector": "financial", "channel": "business_platform"}, "done"),
    ("WA-01", {"sector": "public_body", "channel": "business_platform"}, "critical"),
    ("WA-01", {"sector": "public_body", "channel": "none"}, "done"),
    ("WA-01", {"agents": "few"}, "open"),  # recommendation platform, App chosen
    ("WA-01", {"agents": "few", "channel": "business_platform"}, "done"),
    ("WA-01", {"sensitive_data": "unsure", "channel": "coexistence"}, "open"),
    ("WA-01", {"residency_required": "yes"}, "done"),  # R6 no longer pushes to the Platform
    # WA-02: company device
    ("WA-02", {}, "done"),
    ("WA-02", {"device": "private_device"}, "open"),
    ("WA-02", {"device": "private_device", "agents": "few"}, "critical"),
    ("WA-02", {"device": "private_device", "staff_processing": "20_or_more"}, "critical"),
    ("WA-02", {"channel": "business_platform"}, "not_applicable"),
    # WA-09: opt-in
    ("WA-09", {"optin": "none"}, "not_applicable"),  # customers_only: not asked
    ("WA-09", {"initiator": "marketing"}, "done"),
    ("WA-09", {"initiator": "marketing", "optin": "informal"}, "open"),
    ("WA-09", {"initiator": "marketing", "optin": "none"}, "critical"),
    ("WA-09", {"initiator": "service_updates", "optin": "none"}, "open"),
    # WA-10: Art. 13 information
    ("WA-10", {}, "done"),
    ("WA-10", {"number_notice": "no"}, "open"),
    ("WA-10", {"first_contact_message": "no", "number_notice": "no"}, "open"),
    ("WA-10", {"first_contact_message": "no", "number_notice": "no", "privacy_policy": "not_updated"}, "critical"),
    ("WA-10", {"first_contact_message": "yes", "number_notice": "no", "privacy_policy": "not_updated"}, "open"),
    # WA-12: imprint
    ("WA-12", {}, "done"),
    ("WA-12", {"impressum": "linked"}, "done"),
    ("WA-12", {"impressum": "missing"}, "open"),
    # WA-13: bot/AI transparency
    ("WA-13", {"bot_disclosure": "no"}, "not_applicable"),  # no bot, no Meta AI: not asked
    ("WA-13", {"integrations": ["bot_rules"], "bot_disclosure": "no"}, "open"),
    ("WA-13", {"integrations": ["bot_ai"], "bot_disclosure": "no"}, "critical"),
    ("WA-13", {"meta_ai": "yes", "bot_disclosure": "no"}, "open"),
    ("WA-13", {"integrations": ["bot_ai"]}, "done"),
    # WA-20: sensitive data rules
    ("WA-20", {}, "done"),
    ("WA-20", {"sensitive_policy": "no"}, "open"),
    ("WA-20", {"sensitive_policy": "no", "sensitive_data": "yes"}, "critical"),
    ("WA-20", {"sensitive_policy": "no", "sector": "professional_secrecy"}, "critical"),
    ("WA-20", {"sensitive_policy": "no", "sector": "financial"}, "open"),
    # WA-21 and WA-26: internal
    ("WA-21", {"internal_messenger": "whatsapp"}, "critical"),
    ("WA-21", {"internal_messenger": "none"}, "not_applicable"),
    ("WA-26", {"sick_notes": "business_messenger"}, "done"),
    ("WA-26", {"sick_notes": "other"}, "done"),
    ("WA-26", {"sick_notes": "messenger"}, "critical"),
    # WA-27: Meta AI
    ("WA-27", {}, "done"),
    ("WA-27", {"meta_ai": "unsure"}, "open"),
    ("WA-27", {"meta_ai": "yes"}, "open"),
    ("WA-27", {"meta_ai": "yes", "sensitive_data": "yes"}, "critical"),
    ("WA-27", {"meta_ai": "yes", "sector": "professional_secrecy"}, "critical"),
    ("WA-27", {"meta_ai": "yes", "sector": "public_body"}, "critical"),
    ("WA-27", {"meta_ai": "yes", "sector": "financial"}, "open"),
    # WA-28: opt-out
    ("WA-28", {"optout": "no"}, "not_applicable"),  # customers_only: not asked
    ("WA-28", {"initiator": "marketing"}, "done"),
    ("WA-28", {"initiator": "marketing", "optout": "no"}, "critical"),
    ("WA-28", {"initiator": "service_updates", "optout": "no"}, "open"),
    # WA-29: works council
    ("WA-29", {}, "done"),
    ("WA-29", {"works_council": "not_yet"}, "open"),
    ("WA-29", {"works_council": "none"}, "not_applicable"),
    ("WA-29", {"purpose": "internal", "works_council": "not_yet"}, "open"),
    ("WA-29", {"purpose": "both", "channel": "none", "works_council": "not_yet"}, "open"),
    ("WA-29", {"channel": "none", "works_council": "not_yet"}, "not_applicable"),
    # WA-30: professional-secrecy safeguards
    ("WA-30", {"secrecy_safeguards": "none"}, "not_applicable"),  # sector general: not asked
    ("WA-30", {"sector": "professional_secrecy"}, "done"),
    ("WA-30", {"sector": "professional_secrecy", "secrecy_safeguards": "partial"}, "critical"),
    ("WA-30", {"sector": "professional_secrecy", "secrecy_safeguards": "none", "channel": "business_platform"}, "critical"),
    ("WA-30", {"sector": "professional_secrecy", "channel": "none"}, "not_applicable"),
]


@pytest.mark.parametrize(("item", "changes", "status"), ITEM_CASES, ids=[f"{c[0]}-{n}" for n, c in enumerate(ITEM_CASES)])
def test_item_status(v2, item, changes, status):
    assert statuses(v2, **changes)[item] == status


# --- Without WhatsApp for customers, only the channel-neutral items apply --------------------


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"purpose": "customer", "channel": "none"}, id="customer-none"),
        pytest.param({"purpose": "both", "channel": "none"}, id="both-none"),
        pytest.param({"purpose": "internal"}, id="internal"),
    ],
)
def test_without_a_customer_channel_only_the_channel_neutral_items_apply(v2, changes):
    # Answers that would make the other items critical, to show they do not count.
    worst = {"sensitive_data": "yes", "sector": "professional_secrecy", "initiator": "marketing", "optin": "none", "meta_ai": "yes", "dpia": "not_done"}
    result = statuses(v2, **worst, **changes, internal_messenger="whatsapp", sick_notes="messenger", works_council="not_yet")
    applicable = {item for item, status in result.items() if status != "not_applicable"}
    expected = CHANNEL_NEUTRAL_ITEMS if changes["purpose"] != "customer" else CHANNEL_NEUTRAL_ITEMS - {"WA-29"}
    assert applicable == expected
    assert result["WA-21"] == result["WA-26"] == "critical"


# --- Branching of the new steps ------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "asked", "not_asked"),
    [
        pytest.param({}, {"works_council", "meta_ai", "imprint_url"}, {"secrecy_safeguards", "optin", "optout", "bot_disclosure", "provider"}, id="baseline"),
        pytest.param(
            {"purpose": "internal"}, {"works_council", "internal_messenger", "sick_notes"}, {"sector", "channel", "meta_ai", "imprint_url"}, id="internal"
        ),
        pytest.param({"purpose": "both", "channel": "none"}, {"works_council"}, {"meta_ai", "dpo"}, id="both-none"),
        pytest.param({"channel": "none"}, {"internal_messenger"}, {"works_council"}, id="customer-none"),
        pytest.param({"sector": "professional_secrecy"}, {"secrecy_safeguards"}, set(), id="secrecy"),
        pytest.param({"sector": "professional_secrecy", "channel": "none"}, set(), {"secrecy_safeguards"}, id="secrecy-none"),
        pytest.param({"initiator": "service_updates"}, {"optin", "optout"}, set(), id="business-initiated"),
        pytest.param({"sector": "professional_secrecy", "initiator": "customers_only"}, set(), {"optin", "optout"}, id="optout-follows-optin"),
        pytest.param({"meta_ai": "yes"}, {"bot_disclosure"}, set(), id="meta_ai-asks-disclosure"),
        pytest.param({"integrations": ["bot_rules"]}, {"bot_disclosure"}, set(), id="bot_rules-asks-disclosure"),
        pytest.param({"integrations": ["shop"], "meta_ai": "unsure"}, set(), {"bot_disclosure"}, id="no-bot"),
    ],
)
def test_path(v2, changes, asked, not_asked):
    path = set(v2.path(answers(**changes)))
    assert asked <= path
    assert not (not_asked & path)


def test_new_steps_sit_where_the_contract_puts_them(v2):
    order = [step.id for step in v2.flow.steps]
    assert order.index("secrecy_safeguards") == order.index("legal_basis") + 1
    assert order.index("optout") == order.index("optin") + 1
    assert order.index("meta_ai") + 1 == order.index("bot_disclosure")
    assert order.index("dpo") + 1 == order.index("works_council") == order.index("security_measures") - 1
    assert order[-1] == "imprint_url"
