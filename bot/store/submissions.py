"""Public self-assessments: the respondent's consent, the managers' submissions (adopt, dismiss, new client), retention.

A self-assessment belongs to its respondent. Managers see it only once the respondent
consents to pass it on (a "submission"); without consent it counts only in anonymous
aggregates. Adopting a submission makes it the organisation's checklist of record and
closes its token for turns.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..engine.values import TEXT_VALIDATORS
from ..engine.vocabulary import StartedVia
from . import events
from .models import AnswerRevision, Assessment, Membership, Organisation, is_row_id, utcnow
from .organisations import create_organisation

CONTACT_EMAIL_MAX_LENGTH = 254

# Self-assessments of an organisation that no manager has taken over.
_UNADOPTED_SELF = (Assessment.started_via == StartedVia.PUBLIC, Assessment.adopted_at.is_(None))


class SubmissionStateError(ValueError):
    """The self-assessment is not in a state that allows this (not completed, already adopted)."""


def clean_contact_email(value: object) -> str | None:
    """A contact address as stored (None when blank); ValueError when it is not an e-mail address."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("contact_email")
    if not value.strip():
        return None
    # Taken as typed (no trimming): the flow's own e-mail rule, no control characters (the OpenAPI document's pattern).
    if len(value) > CONTACT_EMAIL_MAX_LENGTH or TEXT_VALIDATORS["email"](value) is not None or any(ord(c) < 32 for c in value):
        raise ValueError("contact_email")
    return value


def give_consent(session: Session, assessment: Assessment, contact_email: str | None) -> None:
    """Record the respondent's consent to pass a completed self-assessment on (again: updates the address)."""
    if not assessment.is_self_assessment or assessment.completed_at is None:
        raise SubmissionStateError("only a completed self-assessment can be passed on")
    first = assessment.consented_at is None
    assessment.consented_at = assessment.consented_at or utcnow()
    assessment.contact_email = contact_email
    if first:  # the managers hear of a submission once (a new address later is no new submission)
        respondent = events.Actor("respondent", "respondent")
        events.record(session, respondent, "submission.received", assessment.organisation, f"assessment {assessment.id}", assessment=assessment.id)
    session.commit()


def delete_self_assessment(session: Session, assessment: Assessment) -> None:
    """The respondent deletes their own self-assessment, with its revisions (not once a manager adopted it)."""
    if not assessment.is_self_assessment or assessment.adopted_at is not None:
        raise SubmissionStateError("only the respondent's own, unadopted self-assessment can be deleted")
    session.execute(delete(AnswerRevision).where(AnswerRevision.assessment_id == assessment.id))
    session.execute(delete(Assessment).where(Assessment.id == assessment.id))
    session.commit()


def submissions(session: Session, organisation: Organisation) -> list[Assessment]:
    """The consented, completed self-assessments a manager has neither adopted nor dismissed, newest first."""
    query = (
        select(Assessment)
        .where(
            Assessment.organisation_id == organisation.id,
            *_UNADOPTED_SELF,
            Assessment.consented_at.is_not(None),
            Assessment.completed_at.is_not(None),
            Assessment.dismissed_at.is_(None),
        )
        .order_by(Assessment.completed_at.desc(), Assessment.id.desc())
    )
    return list(session.scalars(query))


def submission_of(session: Session, organisation: Organisation, assessment_id: int) -> Assessment | None:
    """A consented self-assessment of this organisation by id (completed or not, adopted or not); None otherwise."""
    if not is_row_id(assessment_id):
        return None
    query = select(Assessment).where(
        Assessment.id == assessment_id,
        Assessment.organisation_id == organisation.id,
        Assessment.started_via == StartedVia.PUBLIC,
        Assessment.consented_at.is_not(None),
    )
    return session.scalar(query)


def _require_open_submission(assessment: Assessment) -> None:
    if assessment.completed_at is None or assessment.adopted_at is not None or assessment.dismissed_at is not None:
        raise SubmissionStateError("the submission is not completed, or was adopted or dismissed already")


def adopt(session: Session, organisation: Organisation, assessment: Assessment, actor: events.Actor) -> None:
    """Make a submission the organisation's checklist of record; its token can no longer change it."""
    _require_open_submission(assessment)
    now = utcnow()
    assessment.adopted_at = now
    assessment.adopted_by = actor.manager_id
    assessment.recorded_at = now
    events.record(session, actor, "submission.adopted", organisation, f"assessment {assessment.id}", assessment=assessment.id)
    session.commit()


def dismiss(session: Session, organisation: Organisation, assessment: Assessment, actor: events.Actor) -> None:
    """Take a submission off the managers' list (it is deleted with the other self-assessments after the retention period)."""
    _require_open_submission(assessment)
    assessment.dismissed_at = utcnow()
    events.record(session, actor, "submission.dismissed", organisation, f"assessment {assessment.id}", assessment=assessment.id)
    session.commit()


def organisation_from(session: Session, organisation: Organisation, assessment: Assessment, actor: events.Actor, slug: str, name: str) -> Organisation:
    """Create a new organisation (a new client) whose checklist of record is this submission; the acting manager belongs to it.

    The assessment moves to the new organisation, adopted. Raises OrganisationError
    (bad or taken slug, bad name) or SubmissionStateError; nothing changes then.
    """
    _require_open_submission(assessment)
    client = create_organisation(session, slug, name, assessment.locale)  # commits the new organisation
    now = utcnow()
    assessment.organisation_id = client.id
    assessment.adopted_at = now
    assessment.adopted_by = actor.manager_id
    assessment.recorded_at = now
    if actor.manager_id is not None:
        session.add(Membership(manager_id=actor.manager_id, organisation_id=client.id))
    events.record(session, actor, "submission.organisation_created", organisation, slug, assessment=assessment.id, client=slug)
    events.record(session, actor, "organisation.created_from_submission", client, slug, assessment=assessment.id, source=organisation.slug)
    session.commit()
    return client


@dataclass
class SelfAssessmentStats:
    """Anonymous aggregates of an organisation's public self-assessments (no answers, no addresses, no ids)."""

    started: int = 0
    completed: int = 0
    consented: int = 0
    adopted: int = 0
    recommendations: Counter[str] = field(default_factory=Counter)
    stopped_at: Counter[str] = field(default_factory=Counter)  # unfinished ones by the step they stopped at


def self_assessment_rows(session: Session, organisation: Organisation, since: datetime | None = None) -> list[Assessment]:
    """The organisation's public self-assessments (for aggregates only), optionally since a date."""
    query = select(Assessment).where(Assessment.organisation_id == organisation.id, Assessment.started_via == StartedVia.PUBLIC)
    if since is not None:
        query = query.where(Assessment.created_at >= since)
    return list(session.scalars(query))


def purge_self_assessments(session: Session, retention_days: int, now: datetime | None = None) -> int:
    """Delete unadopted self-assessments completed more than `retention_days` ago; return how many."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    old = select(Assessment.id).where(*_UNADOPTED_SELF, Assessment.completed_at.is_not(None), Assessment.completed_at < cutoff)
    ids = list(session.scalars(old))
    if ids:
        session.execute(delete(AnswerRevision).where(AnswerRevision.assessment_id.in_(ids)))
        session.execute(delete(Assessment).where(Assessment.id.in_(ids)))
    session.commit()
    return len(ids)
