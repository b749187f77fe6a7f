"""Flow walks of version 1: every value of every step, every rule branch, against the contract (v2: test_flow_walks_v2.py).

The answer sets are generated from the flow (each value of each step at least
once, on a path that asks it), played through the real machine, and the result
is compared with the contract oracle in tests/contract.py.
"""

from __future__ import annotations

import pytest

from bot.engine import DONE
from bot.engine.lint import answer_sets, play, sample_values, walk
from tests import contract

# Base answer sets that reach each part of the flow (overridden per case).
CUSTOMER_APP = {"purpose": "customer", "channel": "business_app"}
PLATFORM_BSP = {"purpose": "customer", "channel": "business_platform", "provider": "bsp"}
COEX = {"purpose": "customer", "channel": "coexistence", "provider": "bsp"}


def complete(flow, overrides):
    """A full answer set: the first option everywhere, then the overrides."""
    answers = {}
    for step in flow.steps:
        values = sample_values(step)
        answers[step.id] = values[0]
    answers.update(overrides)
    return answers


def base_for(step_id):
    """A base answer set on whose path `step_id` is asked."""
    if step_id in ("provider", "bsp_name", "bsp_hosting", "bsp_dpa", "meta_local_storage"):
        return PLATFORM_BSP
    if step_id == "coex_review":
        return COEX
    if step_id == "optin":
        return {**CUSTOMER_APP, "initiator": "marketing"}
    if step_id == "bot_disclosure":
        return {**CUSTOMER_APP, "integrations": ["bot"]}
    return CUSTOMER_APP


def cases(flow):
    """One case per (step, value), each on a path that asks the step."""
    for step in flow.steps:
        for value in sample_values(step) + (["Muster GmbH"] if step.kind == "text" and step.validator is None else []):
            yield pytest.param(step.id, value, id=f"{step.id}={value}")


def check_against_contract(engine, answers):
    model, path = play(engine, answers)
    assert model.state == DONE
    assert path == contract.path(answers)
    checklist = engine.checklist(model.answers)
    value, reasons = contract.recommendation(model.answers)
    assert (checklist.recommendation.value, list(checklist.recommendation.reasons)) == (value, reasons)
    assert {i.id: i.status for i in checklist.items} == contract.statuses(model.answers)
    return model, checklist


def test_every_value_of_every_step(engine, flow):
    seen = set()
    for step in flow.steps:
        for value in sample_values(step):
            answers = complete(flow, {**base_for(step.id), step.id: value})
            model, _ = check_against_contract(engine, answers)
            if value is not None:
                assert model.answers[step.id] == value
            seen.add((step.id, str(value)))
    expected = sum(len(sample_values(s)) for s in flow.steps)
    assert len(seen) == expected


def test_every_path_class(engine, flow):
    count = 0
    for answers in answer_sets(flow):
        check_against_contract(engine, answers)
        count += 1
    assert count > 100


@pytest.mark.parametrize("status_step", ["device", "address_book", "backups", "bsp_dpa", "optin", "impressum", "dpia", "dpo",
                                         "security_measures", "sensitive_policy", "bot_disclosure", "internal_messenger", "sick_notes"])
@pytest.mark.parametrize("base", [
    {"purpose": "customer", "channel": "business_app"},
    {"purpose": "customer", "channel": "coexistence", "provider": "bsp", "residency_required": "yes"},
    {"purpose": "both", "channel": "business_platform", "provider": "direct", "meta_local_storage": "de"},
    {"purpose": "customer", "channel": "business_platform", "provider": "bsp", "bsp_hosting": "eu", "meta_local_storage": "de",
     "sensitive_data": "yes", "integrations": ["bot"], "initiator": "marketing"},
    {"purpose": "customer", "channel": "none", "staff_processing": "20_or_more"},
    {"purpose": "internal"},
    {"purpose": "customer", "channel": "business_app", "initiator": "marketing", "agents": "many", "regulated_sector": "yes"},
])
def test_every_branch_of_every_status_rule(engine, flow, base, status_step):
    """Each value of the steps that rules branch on, under different setups."""
    step = flow.step_by_id[status_step]
    for value in sample_values(step):
        check_against_contract(engine, complete(flow, {**base, status_step: value}))


@pytest.mark.parametrize("overrides", [
    {"meta_local_storage": "de", "bsp_hosting": "germany"},
    {"meta_local_storage": "de", "bsp_hosting": "outside_eu"},
    {"meta_local_storage": "unknown", "bsp_hosting": "eu", "residency_required": "yes"},
    {"meta_local_storage": "none", "residency_required": "no"},
    {"provider": "direct", "meta_local_storage": "de"},
    {"provider": "direct", "meta_local_storage": "none", "residency_required": "yes"},
])
def test_data_location_rule(engine, flow, overrides):
    check_against_contract(engine, complete(flow, {**PLATFORM_BSP, **overrides}))


# Hand-checked scenarios: the statuses a person reading the contract expects.
GOLDEN = [
    (
        "solo bakery on the App, everything in place",
        {"purpose": "customer", "sensitive_data": "no", "initiator": "customers_only", "agents": "one", "integrations": ["none"],
         "staff_processing": "under_20", "regulated_sector": "no", "residency_required": "no", "existing_app_number": "no",
         "channel": "business_app", "device": "company_device", "address_book": "no_access", "backups": "encrypted",
         "meta_terms": "accepted_filed", "transfer_basis": "documented", "legal_basis": "yes", "first_contact_message": "yes",
         "number_notice": "yes", "privacy_policy": "updated", "impressum": "in_profile", "ropa": "yes", "dpia": "screened",
         "dpo": "not_required", "security_measures": ["two_step", "device_lock"], "retention": "yes", "dsr_process": "yes",
         "sensitive_policy": "yes", "staff_training": "done", "incident_process": "yes", "internal_messenger": "business_messenger",
         "sick_notes": "eau"},
        ("app_with_mitigations", ["R8"]),
        {"done": 21, "open": 0, "critical": 0, "not_applicable": 5},
    ),
    (
        "dental practice on a private phone with full contacts",
        {"purpose": "both", "sensitive_data": "yes", "initiator": "service_updates", "agents": "few", "integrations": ["none"],
         "staff_processing": "under_20", "regulated_sector": "yes", "residency_required": "no", "existing_app_number": "yes",
         "channel": "business_app", "device": "private_device", "address_book": "full_access", "backups": "unencrypted",
         "meta_terms": "unknown", "transfer_basis": "not_documented", "legal_basis": "no", "optin": "none",
         "first_contact_message": "no", "number_notice": "no", "privacy_policy": "not_updated", "impressum": "missing", "ropa": "no",
         "dpia": "not_done", "dpo": "unclear", "security_measures": ["none"], "retention": "no", "dsr_process": "no",
         "sensitive_policy": "no", "staff_training": "none", "incident_process": "no", "internal_messenger": "whatsapp",
         "sick_notes": "messenger"},
        ("platform_restricted", ["R1", "R2", "R3", "R4", "R7", "R9"]),
        {"done": 0, "open": 10, "critical": 12, "not_applicable": 4},
    ),
    (
        "online shop on the Platform through an EU provider",
        {"purpose": "customer", "sensitive_data": "unsure", "initiator": "marketing", "agents": "many", "integrations": ["crm", "shop"],
         "staff_processing": "20_or_more", "regulated_sector": "no", "residency_required": "yes", "existing_app_number": "no",
         "channel": "business_platform", "provider": "bsp", "bsp_name": "Beispiel BSP GmbH", "bsp_hosting": "germany", "bsp_dpa": "signed",
         "meta_local_storage": "de", "meta_terms": "accepted_filed", "transfer_basis": "documented", "legal_basis": "yes",
         "optin": "documented", "first_contact_message": "yes", "number_notice": "no", "privacy_policy": "updated", "impressum": "linked",
         "ropa": "yes", "dpia": "screened", "dpo": "appointed", "security_measures": ["two_step", "individual_logins"], "retention": "yes",
         "dsr_process": "yes", "sensitive_policy": "yes", "staff_training": "planned", "incident_process": "yes",
         "internal_messenger": "none", "sick_notes": "other"},
        ("platform", ["R2?", "R3", "R4", "R5", "R6", "R7"]),
        {"done": 17, "open": 3, "critical": 0, "not_applicable": 6},
    ),
]


@pytest.mark.parametrize(("name", "answers", "recommendation", "summary"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_golden_scenarios(engine, name, answers, recommendation, summary):
    _model, checklist = check_against_contract(engine, answers)
    assert (checklist.recommendation.value, list(checklist.recommendation.reasons)) == recommendation
    assert checklist.summary == summary
    assert len(checklist.items) == 26


def test_the_lint_walk_finds_no_problem(engine):
    report = walk(engine)
    assert report.problems == []
    assert report.visited == {s.id for s in engine.flow.steps}
