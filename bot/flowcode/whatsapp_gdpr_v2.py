"""Code of the flow `whatsapp_gdpr`, version 2: how version 1's answers carry over (a re-assessment).

Version 2 branches and rates with predicates only (flows/whatsapp_gdpr_v2.yaml);
what remains in Python is the migration of answers from version 1, exactly as the
contract's migration section says, and (registered by bot/documents.py's v2
builders) its ready-to-paste documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
