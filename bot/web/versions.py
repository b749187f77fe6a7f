"""What the manager area shows about a checklist made with an older flow version: the versions, and what the newest one makes of it.

The decisions are in `bot/review.py` (pure); this module gathers the loaded engines
and localises the result for the organisation page and the overview.
"""

from __future__ import annotations

from typing import Any

from babel.support import Translations
from flask import current_app

from ..engine import Flow
from ..i18n import N_, STATUS_LABELS, text
from ..review import NEEDS_ANSWER, compare_versions, outdated
from ..store.models import Assessment, Organisation
from . import turn_service

NEEDS_ANSWER_LABEL = N_("needs an answer")


def latest_version(flow_id: str) -> int | None:
    """The newest loaded version of a flow (None when none is loaded)."""
    try:
        return int(current_app.extensions["engines"].get(flow_id).flow.version)
    except KeyError:
        return None


def is_outdated(assessment: Assessment) -> bool:
    """Whether a (completed) assessment was made with an older version of its flow than the newest loaded one."""
    return outdated(assessment.flow_version, latest_version(assessment.flow_id))


def version_changes(organisation: Organisation, latest: Assessment, tr: Translations) -> dict[str, Any] | None:
    """For a checklist made with an older flow version: the versions and the newest version's view of it, item by item.

    None when the checklist was made with the newest version. The answers are migrated as
    a re-assessment migrates them and rated with the newest version; an item that a
    question without a migrated answer decides "needs an answer" (`review.compare_versions`).
    Without a registered migration only the versions are given (`comparison` is None).
    Raises FlowUnavailableError when the assessment's own version is no longer loaded.
    """
    newest = latest_version(latest.flow_id)
    if newest is None or not outdated(latest.flow_version, newest):
        return None
    service = turn_service()
    old = service.engine_for(latest)
    new = service.engines.get(latest.flow_id, newest)
    comparison = compare_versions(old, new, latest.completed_answers or {})
    pinned = organisation.flow_version if organisation.flow_version is not None and organisation.flow_version < newest else None
    view: dict[str, Any] = {"version": latest.flow_version, "latest": newest, "pinned": pinned, "comparison": comparison}
    if comparison is None:
        return view
    labels = {status: tr.gettext(label) for status, label in STATUS_LABELS.items()} | {NEEDS_ANSWER: tr.gettext(NEEDS_ANSWER_LABEL)}
    view["items"] = [
        {
            "id": item.id,
            "title": _item_title(new.flow if item.after is not None else old.flow, item.id, tr),
            "before": labels[item.before] if item.before else None,
            "after": labels[item.after] if item.after else None,
            "from": item.before,
            "to": item.after,
            "needs": [text(new.flow.step_by_id[step].text, tr) for step in item.needs],
            "changed": item.changed,
        }
        for item in comparison.items
    ]
    view["questions"] = [text(new.flow.step_by_id[step].text, tr) for step in comparison.open_steps]
    view["recommendation_before"] = _recommendation_title(old.flow, comparison.recommendation_before, tr)
    after = comparison.recommendation_after
    view["recommendation_after"] = labels[NEEDS_ANSWER] if after == NEEDS_ANSWER else _recommendation_title(new.flow, after, tr)
    return view


def _item_title(flow: Flow, item_id: str, tr: Translations) -> str | None:
    """The localised title of a checklist item of `flow`."""
    return next((text(item.title, tr) for item in flow.checklist if item.id == item_id), None)


def _recommendation_title(flow: Flow, value: str, tr: Translations) -> str:
    """The localised title of a recommendation value of `flow`."""
    return next((text(v.title, tr) or value for v in flow.recommendation.values if v.value == value), value)
