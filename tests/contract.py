"""An independent oracle: ../shared/flow-contract.md written out as plain Python.

It shares no code with the engine or the flow file, so a test that compares the
two catches a rule typed wrong in either place.
"""

from __future__ import annotations

from typing import Any

STEP_ORDER = [
    "purpose", "sensitive_data", "initiator", "agents", "integrations", "staff_processing", "regulated_sector",
    "residency_required", "existing_app_number", "recommendation", "channel", "provider", "bsp_name", "bsp_hosting",
    "bsp_dpa", "meta_local_storage", "coex_review", "device", "address_book", "backups", "meta_terms",
    "transfer_basis", "legal_basis", "optin", "first_contact_message", "number_notice", "privacy_policy", "impressum",
    "bot_disclosure", "ropa", "dpia", "dpo", "security_measures", "retention", "dsr_process", "sensitive_policy",
    "staff_training", "incident_process", "internal_messenger", "sick_notes", "company_name", "company_address",
    "contact_email", "privacy_url",
]  # fmt: skip

ITEM_IDS = [f"WA-{n:02d}" for n in range(1, 27)]


def asked(step: str, a: dict[str, Any]) -> bool:
    """The contract's "asked when" column, on the answers given so far."""
    internal = a.get("purpose") == "internal"
    channel = None if internal else a.get("channel")
    has_channel = channel not in (None, "none")
    if step in ("purpose", "internal_messenger", "sick_notes"):
        return True
    if step in STEP_ORDER[1:11]:  # sensitive_data .. channel
        return not internal
    if step == "provider":
        return channel in ("business_platform", "coexistence")
    if step in ("bsp_name", "bsp_hosting", "bsp_dpa"):
        return channel in ("business_platform", "coexistence") and a.get("provider") == "bsp"
    if step == "meta_local_storage":
        return channel == "business_platform"
    if step == "coex_review":
        return channel == "coexistence"
    if step in ("device", "address_book", "backups"):
        return channel in ("business_app", "coexistence")
    if step == "optin":
        return has_channel and a.get("initiator") != "customers_only"
    if step == "bot_disclosure":
        return has_channel and "bot" in (a.get("integrations") or [])
    return has_channel


def path(answers: dict[str, Any]) -> list[str]:
    """The steps asked for these answers, in order (the contract's "asked when", step by step)."""
    steps, given_so_far = [], {}
    for step in STEP_ORDER:
        if asked(step, given_so_far):
            steps.append(step)
            if answers.get(step) is not None:
                given_so_far[step] = answers[step]
    return steps


def next_step(state: str, answers: dict[str, Any]) -> str:
    """The step after `state` once it is answered: the next asked one, or done."""
    position = STEP_ORDER.index(state)
    return next((s for s in path(answers) if STEP_ORDER.index(s) > position), "done")


def previous_step(state: str, answers: dict[str, Any]) -> str | None:
    """The asked step before `state` (the last one from done), or None at the first step."""
    steps = path(answers)
    if state == "done":
        return steps[-1]
    earlier = [s for s in steps if STEP_ORDER.index(s) < STEP_ORDER.index(state)]
    return earlier[-1] if earlier else None


def effective(answers: dict[str, Any]) -> dict[str, Any]:
    """Keep only the answers of asked steps, deciding in step order."""
    out: dict[str, Any] = {}
    for step in STEP_ORDER:
        if asked(step, out) and answers.get(step) is not None:
            out[step] = answers[step]
    return out


def recommendation(answers: dict[str, Any]) -> tuple[str, list[str]]:
    """Rules R1 to R9 of the contract: (value, reasons in rule order)."""
    a = effective(answers)
    reasons = []
    if a.get("purpose") in ("internal", "both"):
        reasons.append("R1")
    r2 = a.get("sensitive_data") == "yes"
    if r2:
        reasons.append("R2")
    if a.get("sensitive_data") == "unsure":
        reasons.append("R2?")
    platform_rules = [
        ("R3", a.get("initiator") in ("service_updates", "marketing")),
        ("R4", a.get("agents") in ("few", "many")),
        ("R5", bool(a.get("integrations")) and a.get("integrations") != ["none"]),
        ("R6", a.get("residency_required") == "yes"),
        ("R7", a.get("staff_processing") == "20_or_more" or a.get("regulated_sector") == "yes"),
    ]
    reasons += [rid for rid, fired in platform_rules if fired]
    if a.get("purpose") == "internal":
        value = "no_whatsapp"
    elif r2:
        value = "platform_restricted"
    elif any(fired for _, fired in platform_rules):
        value = "platform"
    else:
        value = "app_with_mitigations"
        reasons.append("R8")
    if a.get("existing_app_number") == "yes" and value in ("platform", "platform_restricted"):
        reasons.append("R9")
    return value, reasons


def statuses(answers: dict[str, Any]) -> dict[str, str]:
    """The status of each of the 26 items, from the contract's table."""
    a = effective(answers)
    value, _ = recommendation(answers)
    channel = a.get("channel", "none")
    app = channel in ("business_app", "coexistence")
    platform = channel in ("business_platform", "coexistence")
    integrations = a.get("integrations") or []
    dpia_required = a.get("sensitive_data") == "yes" or "bot" in integrations or (a.get("initiator") == "marketing" and a.get("agents") == "many")
    dpo_required = a.get("staff_processing") == "20_or_more" or dpia_required
    na = "not_applicable"
    s: dict[str, str] = {}

    def pick(answer: Any, table: dict[Any, str], otherwise: str = "open") -> str:
        return table.get(answer, otherwise)

    if a.get("sensitive_data") == "yes" and app:
        s["WA-01"] = "critical"
    elif value == "platform" and app:
        s["WA-01"] = "open"
    else:
        s["WA-01"] = "done"
    s["WA-21"] = pick(a.get("internal_messenger"), {"business_messenger": "done", "whatsapp": "critical", "none": na})
    s["WA-26"] = pick(a.get("sick_notes"), {"eau": "done", "other": "done", "messenger": "critical"})
    if channel == "none":
        for item in ITEM_IDS:
            s.setdefault(item, na)
        return s
    s["WA-02"] = pick(a.get("device"), {"company_device": "done", "private_device": "critical"}) if app else na
    s["WA-03"] = pick(a.get("address_book"), {"no_access": "done", "business_contacts_only": "done", "full_access": "critical"}) if app else na
    s["WA-04"] = "done" if a.get("meta_terms") == "accepted_filed" else "open"
    s["WA-05"] = pick(a.get("bsp_dpa"), {"signed": "done", "in_progress": "open", "none": "critical"}) if platform and a.get("provider") == "bsp" else na
    if channel == "business_platform":
        located = a.get("meta_local_storage") == "de" and (a.get("provider") == "direct" or a.get("bsp_hosting") in ("germany", "eu"))
        s["WA-06"] = "done" if located else ("critical" if a.get("residency_required") == "yes" else "open")
    elif channel == "coexistence":
        s["WA-06"] = "critical" if a.get("residency_required") == "yes" else "open"
    else:
        s["WA-06"] = na
    s["WA-07"] = "done" if a.get("transfer_basis") == "documented" else "open"
    s["WA-08"] = "done" if a.get("legal_basis") == "yes" else "open"
    if a.get("initiator") == "customers_only":
        s["WA-09"] = na
    else:
        s["WA-09"] = pick(a.get("optin"), {"documented": "done", "informal": "open", "none": "critical"})
    s["WA-10"] = "done" if a.get("first_contact_message") == "yes" and a.get("number_notice") == "yes" else "open"
    s["WA-11"] = "done" if a.get("privacy_policy") == "updated" else "open"
    s["WA-12"] = pick(a.get("impressum"), {"in_profile": "done", "linked": "done", "missing": "critical"})
    s["WA-13"] = pick(a.get("bot_disclosure"), {"yes": "done", "no": "critical"}) if "bot" in integrations else na
    s["WA-14"] = "done" if a.get("ropa") == "yes" else "open"
    if dpia_required:
        s["WA-15"] = pick(a.get("dpia"), {"done": "done", "screened": "open", "not_done": "critical"})
    else:
        s["WA-15"] = pick(a.get("dpia"), {"done": "done", "screened": "done", "not_done": "open"})
    measures = set(a.get("security_measures") or [])
    needed = {"two_step"} | ({"device_lock"} if app else set()) | ({"individual_logins"} if platform else set())
    s["WA-16"] = "critical" if "none" in measures else ("done" if needed <= measures else "open")
    s["WA-17"] = pick(a.get("backups"), {"off": "done", "encrypted": "done", "unencrypted": "critical"}) if app else na
    s["WA-18"] = "done" if a.get("retention") == "yes" else "open"
    s["WA-19"] = "done" if a.get("dsr_process") == "yes" else "open"
    if a.get("sensitive_policy") == "yes":
        s["WA-20"] = "done"
    else:
        s["WA-20"] = "critical" if a.get("sensitive_data") == "yes" else "open"
    if dpo_required:
        s["WA-22"] = "done" if a.get("dpo") == "appointed" else "critical"
    else:
        s["WA-22"] = pick(a.get("dpo"), {"appointed": "done", "not_required": "done", "unclear": "open"})
    s["WA-23"] = "done" if a.get("staff_training") == "done" else "open"
    s["WA-24"] = ("done" if a.get("coex_review") == "yes" else "open") if channel == "coexistence" else na
    s["WA-25"] = "done" if a.get("incident_process") == "yes" else "open"
    return {item: s[item] for item in ITEM_IDS}
