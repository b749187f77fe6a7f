"""How the manager area names results and where they came from: recommendation titles, counts, step titles, the record's provenance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import get_translations

from ...engine import FlowEngine
from ...engine.vocabulary import StartedVia
from ...i18n import text
from ...store.db import session
from ...store.models import Assessment, Organisation
from ...turns import FlowUnavailableError
from .. import turn_service
from ..records import record_info


def _engines_of(organisation: Organisation) -> list[FlowEngine]:
    """Every loaded version of the organisation's flow, the one its new assessments use last (so its words win)."""
    registry = current_app.extensions["engines"]
    versions = [engine for (flow_id, _version), engine in sorted(registry.engines.items()) if flow_id == organisation.flow_id]
    try:
        current = turn_service().engine_for_organisation(organisation)
    except FlowUnavailableError:
        return versions
    return [engine for engine in versions if engine is not current] + [current]


def recommendation_titles(organisation: Organisation) -> dict[str, str]:
    """Each recommendation value of the organisation's flow with its title in the page's language."""
    tr = get_translations()
    return {value.value: text(value.title, tr) or value.value for engine in _engines_of(organisation) for value in engine.flow.recommendation.values}


def step_titles(organisation: Organisation) -> dict[str, tuple[str, str]]:
    """Each step id of the organisation's flow with its section's title and its question, in the page's language."""
    tr = get_translations()
    titles: dict[str, tuple[str, str]] = {}
    for engine in _engines_of(organisation):
        sections = {section.id: text(section.title, tr) or "" for section in engine.flow.sections}
        for step in engine.flow.steps:
            titles[step.id] = (sections.get(step.section, ""), text(step.text, tr) or step.id)
    return titles


@dataclass(frozen=True)
class Provenance:
    """Which assessment the checklist of record is and how it got there (never its token)."""

    assessment: int
    via: str  # respondent_link, reassessment, adoption, legacy (records.record_info)
    completed_at: datetime | None
    recorded_at: datetime | None
    link_label: str | None = None
    link_known: bool = False
    source: int | None = None  # a re-assessment's source assessment
    source_completed_at: datetime | None = None
    adopted_by: str | None = None
    adopted_at: datetime | None = None


def provenance(assessment: Assessment) -> Provenance:
    """The checklist of record's provenance as the organisation page names it (the same facts the manager API gives)."""
    info: dict[str, Any] = record_info(assessment)
    link = info["respondent_link"]
    source = session().get(Assessment, assessment.reassessment_of) if assessment.reassessment_of is not None else None
    return Provenance(
        assessment=assessment.id,
        via=info["via"],
        completed_at=assessment.completed_at,
        recorded_at=assessment.recorded_at,
        link_label=link["label"] if link is not None else None,
        link_known=link is not None,
        source=assessment.reassessment_of,
        source_completed_at=source.completed_at if source is not None else None,
        adopted_by=info["adopted_by"],
        adopted_at=assessment.adopted_at,
    )


def started_via(assessment: Assessment) -> str:
    """How an assessment of the history came about, for its row: respondent_link, reassessment, adoption or legacy."""
    if assessment.adopted_at is not None:
        return "adoption"
    return str(StartedVia(assessment.started_via)) if assessment.started_via in set(StartedVia) else StartedVia.LEGACY
