"""What the manager API and the manager area share about trusted results: the record's provenance, submissions, aggregates."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from flask import request
from flask_babel import get_translations

from ..engine import DONE
from ..i18n import text
from ..store import submissions
from ..store.db import session
from ..store.events import Actor, record, record_many
from ..store.models import Assessment, Manager, Organisation
from ..turns import FlowUnavailableError
from . import turn_service


def actor(manager: Manager, via: str) -> Actor:
    """The acting manager, the surface (api or manage) and the client's address, for the event log."""
    return Actor.manager(manager, via, request.remote_addr)


def note_access(manager: Manager, via: str, action: str, organisations: Organisation | list[Organisation], subject: str | None = None, **details: Any) -> None:
    """Write who read or downloaded what into the audit log (exports, documents, evidence) and commit it before the answer goes out."""
    if isinstance(organisations, list):
        record_many(session(), actor(manager, via), action, organisations, subject, **details)  # one INSERT for any number
    else:
        record(session(), actor(manager, via), action, organisations, subject, **details)
    session().commit()


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


@dataclass(frozen=True)
class Result:
    """A completed assessment's recommendation (value and title in the request's language) and its item counts by status."""

    recommendation: str | None = None
    title: str | None = None
    summary: dict[str, int] | None = None


def result_of(assessment: Assessment) -> Result:
    """The result of a completed assessment; empty when it is unfinished or its flow version is no longer loaded."""
    if assessment.completed_answers is None:
        return Result()
    try:
        engine = turn_service().engine_for(assessment)
    except FlowUnavailableError:
        return Result()
    checklist = engine.checklist(assessment.completed_answers)
    return Result(checklist.recommendation.value, text(checklist.recommendation.title, get_translations()), checklist.summary)


def submission_dict(assessment: Assessment) -> dict[str, Any]:
    """A consented self-assessment as managers see it: when, what came out, and how to reach the respondent."""
    result = result_of(assessment)
    return {
        "id": assessment.id,
        "completed_at": assessment.completed_at.isoformat() if assessment.completed_at else None,
        "recommendation": result.recommendation,
        "summary": result.summary,
        "contact_email": assessment.contact_email,
    }


def self_assessment_stats(organisation: Organisation) -> dict[str, Any]:
    """Anonymous aggregates of the public self-assessments: counts, recommendations, where unfinished ones stopped."""
    rows = submissions.self_assessment_rows(session(), organisation)
    recommendations: Counter[str] = Counter()
    stopped_at: Counter[str] = Counter()
    for assessment in rows:
        if assessment.completed_at is not None:
            recommendation = result_of(assessment).recommendation
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
