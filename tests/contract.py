"""An independent oracle: ../shared/flow-contract.md (version 1) and flow-contract-v2.md (version 2) as plain Python.

It shares no code with the engine or the flow files, so a test that compares the
two catches a rule typed wrong in either place. Every public function takes
`version` (1 unless given), so callers written for version 1 keep testing version 1.
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


def _asked_v1(step: str, a: dict[str, Any]) -> bool:
    """Version 1's "asked when" column, on the answers given so far."""
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


def step_order(version: int = 1) -> list[str]:
    """Every step of a version, in the contract's order."""
    return {1: STEP_ORDER, 2: STEP_ORDER_V2}[version]


def item_ids(version: int = 1) -> list[str]:
    """Every item id of a version, in order."""
    return {1: ITEM_IDS, 2: ITEM_IDS_V2}[version]


def asked(step: str, a: dict[str, Any], version: int = 1) -> bool:
    """The contract's "asked when" column, on the answers given so far."""
    return _asked_v2(step, a) if version == 2 else _asked_v1(step, a)


def path(answers: dict[str, Any], version: int = 1) -> list[str]:
    """The steps asked for these answers, in order (the contract's "asked when", step by step)."""
    steps, given_so_far = [], {}
    for step in step_order(version):
        if asked(step, given_so_far, version):
            steps.append(step)
            if answers.get(step) is not None:
                given_so_far[step] = answers[step]
    return steps


def next_step(state: str, answers: dict[str, Any], version: int = 1) -> str:
    """The step after `state` once it is answered: the next asked one, or done."""
    order = step_order(version)
    position = order.index(state)
    return next((s for s in path(answers, version) if order.index(s) > position), "done")


def previous_step(state: str, answers: dict[str, Any], version: int = 1) -> str | None:
    """The asked step before `state` (the last one from done), or None at the first step."""
    order = step_order(version)
    steps = path(answers, version)
    if state == "done":
        return steps[-1]
    earlier = [s for s in steps if order.index(s) < order.index(state)]
    return earlier[-1] if earlier else None


def effective(answers: dict[str, Any], version: int = 1) -> dict[str, Any]:
    """Keep only the answers of asked steps, deciding in step order."""
    out: dict[str, Any] = {}
    for step in step_order(version):
        if asked(step, out, version) and answers.get(step) is not None:
            out[step] = answers[step]
    return out


def recommendation(answers: dict[str, Any], version: int = 1) -> tuple[str, list[str]]:
    """The recommendation rules (R1 to R9; R1 to R11 in version 2): (value, reasons in the contract's order)."""
    if version == 2:
        return _recommendation_v2(effective(answers, 2))
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


def _dpia_required_v1(a: dict[str, Any]) -> bool:
    integrations = a.get("integrations") or []
    return a.get("sensitive_data") == "yes" or "bot" in integrations or (a.get("initiator") == "marketing" and a.get("agents") == "many")


def _dpo_required_v1(a: dict[str, Any]) -> bool:
    return a.get("staff_processing") == "20_or_more" or _dpia_required_v1(a)


def _items_kept_from_v1(a: dict[str, Any], channel: str) -> dict[str, str]:
    """The items whose rule version 2 keeps exactly (WA-03 to 08, 11, 14, 16 to 19, 23 to 25), for a chosen channel."""
    app = channel in ("business_app", "coexistence")
    platform = channel in ("business_platform", "coexistence")
    na = "not_applicable"
    s: dict[str, str] = {}

    def pick(answer: Any, table: dict[Any, str], otherwise: str = "open") -> str:
        return table.get(answer, otherwise)

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
    s["WA-11"] = "done" if a.get("privacy_policy") == "updated" else "open"
    s["WA-14"] = "done" if a.get("ropa") == "yes" else "open"
    measures = set(a.get("security_measures") or [])
    needed = {"two_step"} | ({"device_lock"} if app else set()) | ({"individual_logins"} if platform else set())
    s["WA-16"] = "critical" if "none" in measures else ("done" if needed <= measures else "open")
    s["WA-17"] = pick(a.get("backups"), {"off": "done", "encrypted": "done", "unencrypted": "critical"}) if app else na
    s["WA-18"] = "done" if a.get("retention") == "yes" else "open"
    s["WA-19"] = "done" if a.get("dsr_process") == "yes" else "open"
    s["WA-23"] = "done" if a.get("staff_training") == "done" else "open"
    s["WA-24"] = ("done" if a.get("coex_review") == "yes" else "open") if channel == "coexistence" else na
    s["WA-25"] = "done" if a.get("incident_process") == "yes" else "open"
    return s


def statuses(answers: dict[str, Any], version: int = 1) -> dict[str, str]:
    """The status of each item (26 in version 1, 30 in version 2), from the contract's table."""
    if version == 2:
        return _statuses_v2(effective(answers, 2))
    a = effective(answers)
    value, _ = recommendation(answers)
    channel = a.get("channel", "none")
    app = channel in ("business_app", "coexistence")
    integrations = a.get("integrations") or []
    dpia_required = _dpia_required_v1(a)
    dpo_required = _dpo_required_v1(a)
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
    s |= _items_kept_from_v1(a, channel)
    if a.get("initiator") == "customers_only":
        s["WA-09"] = na
    else:
        s["WA-09"] = pick(a.get("optin"), {"documented": "done", "informal": "open", "none": "critical"})
    s["WA-10"] = "done" if a.get("first_contact_message") == "yes" and a.get("number_notice") == "yes" else "open"
    s["WA-12"] = pick(a.get("impressum"), {"in_profile": "done", "linked": "done", "missing": "critical"})
    s["WA-13"] = pick(a.get("bot_disclosure"), {"yes": "done", "no": "critical"}) if "bot" in integrations else na
    if dpia_required:
        s["WA-15"] = pick(a.get("dpia"), {"done": "done", "screened": "open", "not_done": "critical"})
    else:
        s["WA-15"] = pick(a.get("dpia"), {"done": "done", "screened": "done", "not_done": "open"})
    if a.get("sensitive_policy") == "yes":
        s["WA-20"] = "done"
    else:
        s["WA-20"] = "critical" if a.get("sensitive_data") == "yes" else "open"
    if dpo_required:
        s["WA-22"] = "done" if a.get("dpo") == "appointed" else "critical"
    else:
        s["WA-22"] = pick(a.get("dpo"), {"appointed": "done", "not_required": "done", "unclear": "open"})
    return {item: s[item] for item in ITEM_IDS}


# -- version 2: ../shared/flow-contract-v2.md ------------------------------------------------------

STEP_ORDER_V2 = [
    "purpose", "sensitive_data", "initiator", "agents", "integrations", "staff_processing", "sector",
    "residency_required", "existing_app_number", "recommendation", "channel", "provider", "bsp_name", "bsp_hosting",
    "bsp_dpa", "meta_local_storage", "coex_review", "device", "address_book", "backups", "meta_terms",
    "transfer_basis", "legal_basis", "secrecy_safeguards", "optin", "optout", "first_contact_message", "number_notice",
    "privacy_policy", "impressum", "meta_ai", "bot_disclosure", "ropa", "dpia", "dpo", "works_council",
    "security_measures", "retention", "dsr_process", "sensitive_policy", "staff_training", "incident_process",
    "internal_messenger", "sick_notes", "company_name", "company_address", "contact_email", "privacy_url", "imprint_url",
]  # fmt: skip

ITEM_IDS_V2 = [f"WA-{n:02d}" for n in range(1, 31)]

# Steps new in version 2: a migrated v1 assessment never has an answer for them.
NEW_IN_V2 = ("secrecy_safeguards", "optout", "meta_ai", "works_council", "imprint_url")
BOTS = ("bot_rules", "bot_ai")


def _asked_v2(step: str, a: dict[str, Any]) -> bool:
    """Version 2's "asked when" column, on the answers given so far."""
    internal = a.get("purpose") == "internal"
    channel = None if internal else a.get("channel")
    has_channel = channel not in (None, "none")
    app_side = channel in ("business_app", "coexistence")
    platform_side = channel in ("business_platform", "coexistence")
    integrations = a.get("integrations") or []
    if step in ("purpose", "internal_messenger", "sick_notes"):
        return True
    if step in STEP_ORDER_V2[1:11]:  # sensitive_data .. channel
        return not internal
    if step == "provider":
        return platform_side
    if step in ("bsp_name", "bsp_hosting", "bsp_dpa"):
        return platform_side and a.get("provider") == "bsp"
    if step == "meta_local_storage":
        return channel == "business_platform"
    if step == "coex_review":
        return channel == "coexistence"
    if step in ("device", "address_book", "backups"):
        return app_side
    if step == "secrecy_safeguards":
        return has_channel and a.get("sector") == "professional_secrecy"
    if step in ("optin", "optout"):
        # The contract's row of optout says "as 24": 24 was optin before secrecy_safeguards was inserted
        # (docs/decisions.md); an opt-out only matters where the business writes first, and WA-28 reads initiator.
        return has_channel and a.get("initiator") != "customers_only"
    if step == "bot_disclosure":
        return has_channel and (any(b in integrations for b in BOTS) or a.get("meta_ai") == "yes")
    if step == "works_council":
        return has_channel or a.get("purpose") != "customer"
    return has_channel


def _dpia_required_v2(a: dict[str, Any]) -> bool:
    return a.get("sensitive_data") == "yes" or "bot_ai" in (a.get("integrations") or []) or a.get("meta_ai") == "yes"


def _dpo_required_v2(a: dict[str, Any]) -> bool:
    return a.get("staff_processing") == "20_or_more" or _dpia_required_v2(a) or a.get("sector") == "public_body"


def _recommendation_v2(a: dict[str, Any]) -> tuple[str, list[str]]:
    """Rules R1 to R11 of version 2 on effective answers: (value, reasons in the contract's order)."""
    if a.get("purpose") == "internal":
        return "no_whatsapp", ["R1"]  # nothing else is evaluated
    reasons = ["R1"] if a.get("purpose") == "both" else []
    if a.get("sector") == "public_body":
        return "no_whatsapp", [*reasons, "R11"]
    r2 = a.get("sensitive_data") == "yes"
    r10 = a.get("sector") == "professional_secrecy"
    platform_rules = {
        "R3": a.get("initiator") in ("service_updates", "marketing"),
        "R4": a.get("agents") in ("few", "many"),
        "R5": any(i in (a.get("integrations") or []) for i in ("crm", "helpdesk", *BOTS)),
        "R7": a.get("staff_processing") == "20_or_more" or a.get("sector") == "financial",
    }
    fired = {
        "R2": r2,
        "R2?": a.get("sensitive_data") == "unsure",
        **platform_rules,
        "R6": a.get("residency_required") == "yes",  # advice only
        "R10": r10,
    }
    reasons += [rid for rid in ("R2", "R2?", "R3", "R4", "R5", "R6", "R7", "R10") if fired[rid]]
    if r2 or r10:
        value = "platform_restricted"
    elif any(platform_rules.values()):
        value = "platform"
    else:
        value = "app_with_mitigations"
        reasons.append("R8")
    if a.get("existing_app_number") == "yes" and value in ("platform", "platform_restricted"):
        reasons.append("R9")
    return value, reasons


def _statuses_v2(a: dict[str, Any]) -> dict[str, str]:
    """The status of each of version 2's 30 items on effective answers, from the contract's table."""
    value, _ = _recommendation_v2(a)
    channel = "none" if a.get("purpose") == "internal" else a.get("channel", "none")
    app = channel in ("business_app", "coexistence")
    integrations = a.get("integrations") or []
    sensitive, sector, initiator = a.get("sensitive_data"), a.get("sector"), a.get("initiator")
    na = "not_applicable"
    s: dict[str, str] = {}

    def pick(answer: Any, table: dict[Any, str], otherwise: str = "open") -> str:
        return table.get(answer, otherwise)

    app_for_protected_data = app and (sensitive == "yes" or sector in ("professional_secrecy", "financial"))
    if app_for_protected_data or (sector == "public_body" and channel != "none"):
        s["WA-01"] = "critical"
    elif app and (value == "platform" or sensitive == "unsure"):
        s["WA-01"] = "open"
    else:
        s["WA-01"] = "done"
    s["WA-21"] = pick(a.get("internal_messenger"), {"business_messenger": "done", "whatsapp": "critical", "none": na})
    s["WA-26"] = pick(a.get("sick_notes"), {"eau": "done", "business_messenger": "done", "other": "done", "messenger": "critical"})
    if _asked_v2("works_council", a):
        s["WA-29"] = pick(a.get("works_council"), {"agreement": "done", "not_yet": "open", "none": na})
    else:
        s["WA-29"] = na
    if channel == "none":
        return {item: s.get(item, na) for item in ITEM_IDS_V2}
    if app:
        small = a.get("agents") == "one" and a.get("staff_processing") == "under_20"
        s["WA-02"] = pick(a.get("device"), {"company_device": "done", "private_device": "open" if small else "critical"})
    else:
        s["WA-02"] = na
    s |= _items_kept_from_v1(a, channel)
    if initiator == "customers_only":
        s["WA-09"] = na
    else:
        s["WA-09"] = pick(a.get("optin"), {"documented": "done", "informal": "open", "none": "critical" if initiator == "marketing" else "open"})
    if a.get("first_contact_message") == "yes" and a.get("number_notice") == "yes":
        s["WA-10"] = "done"
    elif a.get("first_contact_message") == "no" and a.get("number_notice") == "no" and a.get("privacy_policy") == "not_updated":
        s["WA-10"] = "critical"
    else:
        s["WA-10"] = "open"
    s["WA-12"] = pick(a.get("impressum"), {"in_profile": "done", "linked": "done", "missing": "open"})
    if _asked_v2("bot_disclosure", a):
        s["WA-13"] = pick(a.get("bot_disclosure"), {"yes": "done", "no": "critical" if "bot_ai" in integrations else "open"})
    else:
        s["WA-13"] = na
    if _dpia_required_v2(a):
        s["WA-15"] = pick(a.get("dpia"), {"done": "done", "screened": "open", "not_done": "critical"})
    else:
        s["WA-15"] = pick(a.get("dpia"), {"done": "done", "screened": "done", "not_done": "open"})
    if a.get("sensitive_policy") == "yes":
        s["WA-20"] = "done"
    else:
        s["WA-20"] = "critical" if sensitive == "yes" or sector == "professional_secrecy" else "open"
    if _dpo_required_v2(a):
        s["WA-22"] = "done" if a.get("dpo") == "appointed" else "critical"
    else:
        s["WA-22"] = pick(a.get("dpo"), {"appointed": "done", "not_required": "done", "unclear": "open"})
    if _asked_v2("meta_ai", a):
        risky = sensitive == "yes" or sector in ("professional_secrecy", "public_body")
        s["WA-27"] = pick(a.get("meta_ai"), {"no": "done", "unsure": "open", "yes": "critical" if risky else "open"})
    else:
        s["WA-27"] = na
    if _asked_v2("optout", a):
        s["WA-28"] = pick(a.get("optout"), {"yes": "done", "no": "critical" if initiator == "marketing" else "open"})
    else:
        s["WA-28"] = na
    if _asked_v2("secrecy_safeguards", a):
        s["WA-30"] = pick(a.get("secrecy_safeguards"), {"release_and_commitments": "done", "partial": "critical", "none": "critical"})
    else:
        s["WA-30"] = na
    return {item: s[item] for item in ITEM_IDS_V2}


def derived_flags(answers: dict[str, Any], version: int = 1) -> dict[str, bool]:
    """The contract's derived flags (dpia_required, dpo_required) on the answers' effective part."""
    a = effective(answers, version)
    if version == 2:
        return {"dpia_required": _dpia_required_v2(a), "dpo_required": _dpo_required_v2(a)}
    return {"dpia_required": _dpia_required_v1(a), "dpo_required": _dpo_required_v1(a)}


# -- migration of a v1 assessment's answers to version 2 ---------------------------------------------


def migrate_v1_to_v2(answers: dict[str, Any]) -> dict[str, Any]:
    """The contract's migration section: each v1 answer keeps its step and value, except the four named ones.

    The answers migrated are the v1 assessment's answers that count (a stale answer of a step v1 no
    longer asked is no answer); steps new in v2 have none.
    """
    migrated = dict(effective(answers, 1))
    migrated.pop("regulated_sector", None)  # sector is asked again: v1's "no" may hide a § 203 profession
    if "bot" in (migrated.get("integrations") or []):
        del migrated["integrations"]  # rule-based or AI?
    if migrated.get("sick_notes") == "messenger":
        del migrated["sick_notes"]  # v1's option also covered business messengers
    if migrated.get("internal_messenger") == "business_messenger":
        del migrated["internal_messenger"]  # v1's examples included Signal
    for step in NEW_IN_V2:
        migrated.pop(step, None)
    return migrated


def reassessment_steps(v1_answers: dict[str, Any], new_answers: dict[str, Any] | None = None) -> list[str]:
    """The v2 steps a re-assessment asks, in path order: those without a migrated answer, and `recommendation` always.

    `new_answers` are the respondent's answers to the steps asked again (those of steps with a
    migrated answer are never asked, so never used); they decide the rest of the path (e.g.
    `sector` = professional_secrecy asks `secrecy_safeguards`).
    """
    migrated = migrate_v1_to_v2(v1_answers)
    answers = {**(new_answers or {}), **migrated}
    return [s for s in path(answers, version=2) if s not in migrated or s == "recommendation"]
