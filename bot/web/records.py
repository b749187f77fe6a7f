"""What the manager API and the manager area share about trusted results: the record's provenance, submissions, aggregates."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import request

from ..engine import DONE
from ..store import submissions
from ..store.db import session
from ..store.events import Actor
from ..store.models import Assessment, Manager, Organisation
from ..turns import FlowUnavailableError
from . import turn_service


def actor(manager: Manager, via: str) -> Actor:
    """The acting manager, the surface (api or manage) and the client's address, for the event log."""
    return Actor.manager(manager, via, request.remote_addr)


def record_info(assessment: Assessment) -> dict[str, Any]:
    """Which assessment the checklist of record comes from and how it got there (never its token)."""
    link = assessment.respondent_link
    adopted_by = session().get(Manager, assessment.adopted_by) if assessment.adopted_by is not None else None
    return {
        "assessment": assessment.id,
        "via": assessment.record_via,
        "recorded_at": assessment.recorded_at.isoformat() if assessment.recorded_at else None,
        "completed_at": assessment.completed_at.isoformat() if assessment.completed_at else None,
        "respondent_link": {"id": link.id, "label": link.label} if link is not None else None,
        "reassessment_of": assessment.reassessment_of,
        "adopted_by": adopted_by.email if adopted_by is not None else None,
    }


def result_summary(assessment: Assessment) -> tuple[str | None, dict[str, int] | None]:
    """A completed assessment's recommendation value and item counts by status (None when its flow version is gone)."""
    if assessment.completed_answers is None:
        return None, None
    try:
        engine = turn_service().engine_for(assessment)
    except FlowUnavailableError:
        return None, None
    checklist = engine.checklist(assessment.completed_answers)
    return checklist.recommendation.value, checklist.summary


def submission_dict(assessment: Assessment) -> dict[str, Any]:
    """A consented self-assessment as managers see it: when, what came out, and how to reach the respondent."""
    recommendation, summary = result_summary(assessment)
    return {
        "id": assessment.id,
        "completed_at": assessment.completed_at.isoformat() if assessment.completed_at else None,
        "recommendation": recommendation,
        "summary": summary,
        "contact_email": assessment.contact_email,
    }


def self_assessment_stats(organisation: Organisation) -> dict[str, Any]:
    """Anonymous aggregates of the public self-assessments: counts, recommendations, where unfinished ones stopped."""
    rows = submissions.self_assessment_rows(session(), organisation)
    recommendations: Counter[str] = Counter()
    stopped_at: Counter[str] = Counter()
    for assessment in rows:
        if assessment.completed_at is not None:
            recommendation, _summary = result_summary(assessment)
            if recommendation is not None:
                recommendations[recommendation] += 1
        elif assessment.state != DONE:
            stopped_at[assessment.state] += 1
    return {
        "started": len(rows),
        "completed": sum(1 for a in rows if a.completed_at is not None),
        "consented": sum(1 for a in rows if a.consented_at is not None),
        "adopted": sum(1 for a in rows if a.adopted_at is not None),
        "recommendations": dict(recommendations.most_common()),
        "stopped_at": dict(stopped_at.most_common()),
    }
