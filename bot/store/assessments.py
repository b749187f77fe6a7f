"""Load and save assessments: one turn is one transaction, guarded by a version counter.

Pure persistence: the turn service (`bot/turns.py`) runs the engine on a detached
copy of the state and hands over a `TurnRecord`; `save_turn` updates the row
`WHERE version = <read>` and appends one answer revision, in one commit. If another
writer committed in between, the update matches no row and it raises
`StaleAssessmentError`. Nothing lives in process memory, so any number of workers or
hosts can share one database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import Insert, Select, Table, Update, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ..engine import DONE
from ..engine.vocabulary import StartedVia, TurnAction
from .models import AnswerRevision, Assessment, Organisation, RespondentLink, TurnGate, hash_token, new_assessment_token, utcnow


class StaleAssessmentError(Exception):
    """Another writer changed the assessment since it was read (the loser of a race)."""


@dataclass(frozen=True)
class TurnRecord:
    """What one accepted turn writes: the new state and answers, and the revision that records it."""

    state: str
    answers: dict[str, Any]
    action: str
    step: str
    value: Any
    surface: str
    completed_answers: dict[str, Any] | None = None  # set when the turn finished the flow
    becomes_record: bool = False  # the finished assessment is trusted: it becomes the organisation's checklist of record


def organisation_by_embed_key(session: Session, embed_key: str) -> Organisation | None:
    """The organisation with this public embed key, if any."""
    return session.scalar(select(Organisation).where(Organisation.embed_key == embed_key))


# Trusted assessments: those that are (or may become) the organisation's checklist of record.
TRUSTED = or_(Assessment.started_via != StartedVia.PUBLIC, Assessment.adopted_at.is_not(None))


@cache
def _by_token() -> Select[Assessment, str, datetime | None]:
    """The turn's read, built once (the hash is a bound parameter): rebuilding it each turn cost more than running it.

    One object and two columns: what a turn checks of the organisation (its origin allow-list) and of
    the respondent link (revoked?) comes in the same row, without the ORM loading two more objects
    (docs/turn-profile.md). Whoever needs more of them loads them as they are used.
    """
    return (
        select(Assessment, Organisation.allowed_origins, RespondentLink.revoked_at)
        .join(Organisation, Organisation.id == Assessment.organisation_id)
        .outerjoin(RespondentLink, RespondentLink.id == Assessment.respondent_link_id)
        .where(Assessment.token_hash == bindparam("token_hash"))
    )


@cache
def _writes(change_keys: frozenset[str], revision_keys: frozenset[str]) -> tuple[Update, Insert]:
    """The turn's UPDATE (with the version check) and revision INSERT for these columns, built once per set of columns.

    Core statements on the tables with typed bound parameters (JSON, UTC times): the same SQL the ORM
    would send, without building and coercing it again on every turn (docs/turn-profile.md).
    """
    table, columns = cast(Table, Assessment.__table__), Assessment.__mapper__.columns
    revisions, revision_columns = cast(Table, AnswerRevision.__table__), AnswerRevision.__mapper__.columns
    change = (
        update(table)
        .where(table.c.id == bindparam("w_id"), table.c.version == bindparam("w_version"))
        .values({columns[key]: bindparam(f"c_{key}", type_=columns[key].type) for key in sorted(change_keys)})
    )
    keys = sorted(revision_keys | {"assessment_id", "seq", "created_at"})
    add = insert(revisions).values({revision_columns[key]: bindparam(f"r_{key}", type_=revision_columns[key].type) for key in keys})
    return change, add


@cache
def _write_once(change_keys: frozenset[str], revision_keys: frozenset[str]) -> Insert:
    """PostgreSQL: the turn's UPDATE (with the version check) and its revision INSERT as one statement.

    A data-modifying CTE: `WITH changed AS (UPDATE … WHERE id = ? AND version = ? RETURNING id)
    INSERT INTO answer_revision … SELECT changed.id, … FROM changed`. The INSERT takes its row from
    the UPDATE's RETURNING, so it writes the revision if and only if the version matched, and its
    row count is the version check. The same rows in the same transaction, one round trip fewer
    (docs/turn-profile.md). SQLite has no DML in a CTE: it runs the two statements of `_writes`.
    """
    change, _add = _writes(change_keys, revision_keys)
    table = cast(Table, Assessment.__table__)
    revisions, revision_columns = cast(Table, AnswerRevision.__table__), AnswerRevision.__mapper__.columns
    changed = change.returning(table.c.id).cte("changed")
    keys = sorted(revision_keys - {"assessment_id"})
    row = select(changed.c.id, *(bindparam(f"r_{key}", type_=revision_columns[key].type) for key in keys))
    columns = [revision_columns["assessment_id"], *(revision_columns[key] for key in keys)]
    # The RETURNING inside makes SQLAlchemy treat the statement as returning rows; keep the INSERT's row count.
    return insert(revisions).from_select(columns, row).execution_options(preserve_rowcount=True)


def assessment_by_token(session: Session, token: str) -> Assessment | None:
    """The assessment with this token (compared by hash), if any, with what a turn checks of its organisation and link (one query)."""
    row = session.execute(_by_token(), {"token_hash": hash_token(token)}).first()
    if row is None:
        return None
    assessment, allowed_origins, link_revoked_at = row
    assessment._token = token  # the caller holds the capability: let it build its own links
    assessment._gate = TurnGate(allowed_origins, link_revoked_at)
    return assessment


def create(
    session: Session,
    organisation: Organisation,
    flow_id: str,
    flow_version: int,
    state: str,
    locale: str,
    surface: str,
    started_via: StartedVia = StartedVia.PUBLIC,
    respondent_link_id: int | None = None,
) -> Assessment:
    """Create and commit a new assessment of a flow version at its first step; its token is on the object only."""
    assessment = Assessment(
        organisation_id=organisation.id,
        flow_id=flow_id,
        flow_version=flow_version,
        state=state,
        answers={},
        locale=locale,
        surface=surface,
        started_via=started_via,
        respondent_link_id=respondent_link_id,
    )
    assessment.token = new_assessment_token()
    session.add(assessment)
    session.commit()
    return assessment


def create_reassessment(session: Session, source: Assessment, flow_version: int, state: str, answers: dict[str, Any], locale: str, surface: str) -> Assessment:
    """Create and commit a re-assessment of `source` on `flow_version` with its migrated answers, in one transaction.

    Each migrated answer is recorded as an `answer` revision that names the assessment
    and flow version it was carried over from (`migrated_from`, `migrated_from_version`).
    The revisions take seq 1..n and the assessment's version counter starts at n, so the
    first turn (seq n + 1) follows them.
    """
    assessment = Assessment(
        organisation_id=source.organisation_id,
        flow_id=source.flow_id,
        flow_version=flow_version,
        state=state,
        answers=answers,
        locale=locale,
        surface=surface,
        reassessment_of=source.id,
        started_via=StartedVia.REASSESSMENT,
    )
    assessment.token = new_assessment_token()
    session.add(assessment)
    session.flush()
    now = utcnow()
    for seq, (step, value) in enumerate(answers.items(), start=1):
        session.add(
            AnswerRevision(
                assessment_id=assessment.id,
                seq=seq,
                action=TurnAction.ANSWER,
                step=step,
                value=value,
                surface=surface,
                created_at=now,
                migrated_from=source.id,
                migrated_from_version=source.flow_version,
            )
        )
    counter = max(1, len(answers))
    session.execute(update(Assessment).where(Assessment.id == assessment.id).values(version=counter), execution_options={"synchronize_session": False})
    session.commit()
    set_committed_value(assessment, "version", counter)
    return assessment


def save_turn(session: Session, assessment: Assessment, record: TurnRecord) -> None:
    """Commit one turn and its revision, if nobody else changed the assessment since it was read.

    Raises StaleAssessmentError (nothing changed; reload to get the current state)
    when a concurrent writer won.
    """
    now = utcnow()
    changes: dict[str, Any] = {"state": record.state, "answers": record.answers, "updated_at": now}
    if record.completed_answers is not None:
        changes |= {"completed_at": now, "completed_answers": record.completed_answers}
        if record.becomes_record:
            changes["recorded_at"] = now
    revision = {"action": record.action, "step": record.step, "value": record.value, "surface": record.surface}
    recorded = None
    if record.completed_answers is not None and record.becomes_record:

        def recorded() -> None:
            """The new checklist of record in the event log (its notices and webhooks commit with the turn)."""
            from . import events

            actor = events.Actor("respondent", str(record.surface))
            kind = "reassessment" if assessment.reassessment_of is not None else "assessment"
            events.record(session, actor, "assessment.completed", assessment.organisation, f"{kind} {assessment.id}", assessment=assessment.id, kind=kind)

    _commit_versioned(session, assessment, changes, revision, now, also=recorded)


def _commit_versioned(
    session: Session, assessment: Assessment, changes: dict[str, Any], revision: dict[str, Any], now: Any, also: Callable[[], None] | None = None
) -> None:
    """Update the assessment `WHERE version = <read>`, append its revision (seq = the new version), run `also`, commit.

    Plain statements, as a hand-written turn would do: the version check in the UPDATE, then the
    revision (Core statements rather than the ORM's unit of work: the same SQL, at a fraction of the
    Python cost); on PostgreSQL both in one statement (`_write_once`). Raises StaleAssessmentError,
    with nothing changed, when a concurrent writer won.
    """
    changes = {**changes, "version": assessment.version + 1}
    revision = {**revision, "assessment_id": assessment.id, "seq": changes["version"], "created_at": now}
    change_keys, revision_keys = frozenset(changes), frozenset(revision)
    params = {"w_id": assessment.id, "w_version": assessment.version, **{f"c_{k}": v for k, v in changes.items()}}
    params |= {f"r_{k}": v for k, v in revision.items()}
    try:
        session.flush()  # what the ORM would flush before its own statements (nothing, on a plain turn)
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            if connection.execute(_write_once(change_keys, revision_keys), params).rowcount != 1:
                raise StaleAssessmentError(assessment.id)  # the UPDATE matched no row, so no revision was written
        else:
            change, add = _writes(change_keys, revision_keys)
            if connection.execute(change, params).rowcount != 1:
                raise StaleAssessmentError(assessment.id)
            connection.execute(add, params)
        if also is not None:
            also()
        session.commit()
    except (StaleAssessmentError, IntegrityError) as exc:
        session.rollback()
        raise StaleAssessmentError(assessment.id) from exc
    for name, value in changes.items():  # the object now shows what was committed
        set_committed_value(assessment, name, value)


def save_amendment(session: Session, record: Assessment, completed_answers: dict[str, Any], step: str, value: Any, surface: str, actor: Any) -> None:
    """Commit a manager's amendment of the checklist of record: its answers that count, one revision naming who, the event.

    The state never moves. An open re-assessment of the record on the same flow version
    whose carried-over answer is still the old one gets the new one too, so completing
    it does not undo the amendment. Raises StaleAssessmentError (nothing changed) when a
    concurrent writer won.
    """
    from . import events

    now = utcnow()
    old = (record.completed_answers or {}).get(step)

    def with_value(answers: dict[str, Any]) -> dict[str, Any]:
        changed = dict(answers)  # a new dict, so the ORM's JSON column sees the change
        if value is None:
            changed.pop(step, None)
        else:
            changed[step] = value
        return changed

    def carry_over_and_log() -> None:
        open_reassessments = select(Assessment).where(
            Assessment.reassessment_of == record.id, Assessment.completed_at.is_(None), Assessment.flow_version == record.flow_version
        )
        for reassessment in session.scalars(open_reassessments):
            if reassessment.answers.get(step) == old:
                reassessment.answers = with_value(reassessment.answers)
        organisation = session.get(Organisation, record.organisation_id)
        events.record(session, actor, "answer.amended", organisation, step, assessment=record.id, step=step, before=old, after=value)

    changes = {"answers": with_value(record.answers), "completed_answers": completed_answers, "updated_at": now, "recorded_at": now}
    revision = {"action": TurnAction.AMEND, "step": step, "value": value, "surface": surface, "actor_id": actor.manager_id, "actor": actor.name}
    _commit_versioned(session, record, changes, revision, now, also=carry_over_and_log)


def reload(session: Session, assessment: Assessment) -> Assessment:
    """Read the assessment again from the database (after a StaleAssessmentError)."""
    session.expire(assessment)
    session.refresh(assessment)
    return assessment


def set_locale(session: Session, assessment: Assessment, locale: str) -> None:
    """Change the assessment's language; not a turn, so no version check and no revision."""
    session.execute(update(Assessment).where(Assessment.id == assessment.id).values(locale=locale))
    session.commit()
    session.refresh(assessment)


def record_of(session: Session, organisation: Organisation) -> Assessment | None:
    """The organisation's checklist of record: the trusted assessment that most recently became it, if any.

    A completed respondent-link assessment or re-assessment becomes it on completion
    (and again whenever its respondent completes a change); a public self-assessment
    only when a manager adopts it.
    """
    query = (
        select(Assessment)
        .where(Assessment.organisation_id == organisation.id, Assessment.recorded_at.is_not(None))
        .order_by(Assessment.recorded_at.desc(), Assessment.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def is_idle(assessment: Assessment, idle_days: int, now: Any = None) -> bool:
    """Whether an unfinished assessment has been left alone too long: its token no longer opens it."""
    return assessment.completed_at is None and assessment.updated_at < (now or utcnow()) - timedelta(days=idle_days)


def history(session: Session, organisation: Organisation, limit: int) -> tuple[list[Assessment], list[AnswerRevision]]:
    """The organisation's trusted assessments and their answer revisions, newest first (at most `limit` each).

    Public self-assessments are the respondents' own: they appear only once adopted.
    """
    assessments = list(
        session.scalars(
            select(Assessment)
            .where(Assessment.organisation_id == organisation.id, TRUSTED)
            .order_by(Assessment.created_at.desc(), Assessment.id.desc())
            .limit(limit)
        )
    )
    revisions = list(
        session.scalars(
            select(AnswerRevision)
            .join(Assessment, Assessment.id == AnswerRevision.assessment_id)
            .where(Assessment.organisation_id == organisation.id, TRUSTED)
            .order_by(AnswerRevision.created_at.desc(), AnswerRevision.id.desc())
            .limit(limit)
        )
    )
    return assessments, revisions


def _latest_per_organisation(session: Session, organisation_ids: list[int], where: Any, order: tuple[Any, ...]) -> dict[int, Assessment]:
    """One assessment per organisation (the first by `order` among those matching `where`), in one query."""
    if not organisation_ids:
        return {}
    rank = func.row_number().over(partition_by=Assessment.organisation_id, order_by=order).label("rank")
    ranked = select(Assessment.id, rank).where(Assessment.organisation_id.in_(organisation_ids), where).subquery()
    query = select(Assessment).join(ranked, ranked.c.id == Assessment.id).where(ranked.c.rank == 1)
    return {a.organisation_id: a for a in session.scalars(query)}


def overview(session: Session, organisations: list[Organisation]) -> dict[int, tuple[Assessment | None, Assessment | None]]:
    """For each organisation: its checklist of record and its latest unfinished trusted assessment (two queries in all)."""
    ids = [o.id for o in organisations]
    completed = _latest_per_organisation(session, ids, Assessment.recorded_at.is_not(None), (Assessment.recorded_at.desc(), Assessment.id.desc()))
    open_ = _latest_per_organisation(session, ids, (Assessment.state != DONE) & TRUSTED, (Assessment.updated_at.desc(), Assessment.id.desc()))
    return {i: (completed.get(i), open_.get(i)) for i in ids}


def assessment_of(session: Session, organisation: Organisation, assessment_id: int) -> Assessment | None:
    """A trusted assessment by id, only if it belongs to this organisation (a self-assessment only once adopted)."""
    return session.scalar(select(Assessment).where(Assessment.id == assessment_id, Assessment.organisation_id == organisation.id, TRUSTED))
