"""Commands over the data's life: create the schema, purge abandoned assessments, export or delete an organisation."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import IO, Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload, undefer

from ..store import db, events
from ..store.assessments import TRUSTED
from ..store.models import (
    AnswerRevision,
    Assessment,
    Evidence,
    EvidenceItem,
    ItemComment,
    ItemTracking,
    Organisation,
    OrganisationProfile,
    ProgressSnapshot,
    utcnow,
)
from ..store.profiles import profile_of
from .common import organisation_or_exit, safe_url


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    db.upgrade(current_app)
    click.echo(f"Database ready: {safe_url(current_app.config['DATABASE_URL'])}")


def _age(value: str) -> timedelta:
    """An age like 90d or 12h."""
    number, unit = value[:-1], value[-1:].lower()
    if not number.isdigit() or unit not in ("d", "h") or int(number) == 0:
        raise click.BadParameter(f"{value!r}: use a whole number of days or hours above zero, e.g. 90d or 12h")
    return timedelta(days=int(number)) if unit == "d" else timedelta(hours=int(number))


@click.command("purge")
@click.option("--older-than", "older_than", default=None, help="Age of the last answer, e.g. 90d or 12h (default: RETENTION_ABANDONED_DAYS).")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
@with_appcontext
def purge(older_than: str | None, dry_run: bool) -> None:
    """Delete abandoned assessments and expired self-assessments.

    Abandoned: unfinished, last answered before the given age. Expired self-assessments:
    completed more than RETENTION_SELF_ASSESSMENT_DAYS ago and never adopted.
    """
    age = _age(older_than) if older_than else timedelta(days=int(current_app.config["RETENTION_ABANDONED_DAYS"]))
    cutoff = utcnow() - age
    session = db.session()
    if dry_run:
        stale = select(Assessment.id).where(Assessment.completed_at.is_(None), Assessment.updated_at < cutoff)
        found = len(session.scalars(stale).all())
        click.echo(f"{found} abandoned assessment(s) last answered before {cutoff:%Y-%m-%d %H:%M} UTC would be deleted (dry run).")
        return
    from ..jobs import purge as purge_now  # the daily retention job does the same

    done = purge_now(session, current_app.config, older_than=age)
    click.echo(f"Deleted {done['abandoned']} abandoned assessment(s) last answered before {cutoff:%Y-%m-%d %H:%M} UTC.")
    days = int(current_app.config["RETENTION_SELF_ASSESSMENT_DAYS"])
    click.echo(f"Deleted {done['self_assessments']} self-assessment(s) completed more than {days} days ago and not adopted.")


def _iso(value: Any) -> str | None:
    """A date or timestamp in ISO 8601, or None."""
    return value.isoformat() if value is not None else None


def living_checklist(session: Session, organisation: Organisation) -> dict[str, Any]:
    """The organisation's tracking rows, comments, evidence (each file's bytes as base64 with its SHA-256) and progress snapshots.

    Enough to restore them and to check every file against its hash.
    """
    tracking = session.scalars(
        select(ItemTracking).where(ItemTracking.organisation_id == organisation.id).options(selectinload(ItemTracking.owner)).order_by(ItemTracking.item_id)
    )
    comments = session.scalars(select(ItemComment).where(ItemComment.organisation_id == organisation.id).order_by(ItemComment.id))
    snapshots = session.scalars(select(ProgressSnapshot).where(ProgressSnapshot.organisation_id == organisation.id).order_by(ProgressSnapshot.day))
    evidence_ids = session.scalars(select(Evidence.id).where(Evidence.organisation_id == organisation.id).order_by(Evidence.id)).all()
    evidence = []
    for evidence_id in evidence_ids:  # one file in memory at a time (each up to the upload limit)
        piece = session.scalars(select(Evidence).where(Evidence.id == evidence_id).options(undefer(Evidence.content), selectinload(Evidence.links))).one()
        content = piece.content
        evidence.append({**piece.as_dict(), "content_base64": base64.b64encode(content).decode("ascii") if content is not None else None})
        session.expire(piece, ["content"])
    return {
        "tracking": [
            {
                "item": row.item_id,
                "owner": row.owner.email if row.owner is not None else None,
                "due": _iso(row.due),
                "workflow": row.workflow,
                "risk_acceptance": (
                    {"reason": row.risk_reason, "by": row.risk_by, "until": _iso(row.risk_until), "accepted_at": _iso(row.risk_accepted_at)}
                    if row.risk_reason is not None
                    else None
                ),
                "version": row.version,
                "updated_at": _iso(row.updated_at),
            }
            for row in tracking
        ],
        "comments": [comment.as_dict() for comment in comments],
        "evidence": evidence,
        "progress": [{"day": _iso(s.day), "counts": s.counts, "updated_at": _iso(s.updated_at)} for s in snapshots],
    }


@click.command("export-org")
@click.argument("slug")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-", show_default=True, help="File to write (- for stdout).")
@with_appcontext
def export_org(slug: str, output: IO[str]) -> None:
    """Write all data of one organisation as JSON: its profile, assessments, answers, revisions, managers and living checklist.

    The living checklist: tracking rows, comments, evidence (each file's bytes as base64
    beside its SHA-256, so the export can be checked and restored) and progress snapshots.
    Public self-assessments belong to their respondents: only adopted ones are included.
    """
    organisation = organisation_or_exit(slug)
    session = db.session()
    query = select(Assessment).where(Assessment.organisation_id == organisation.id, TRUSTED).order_by(Assessment.id)
    assessments = session.scalars(query).all()
    ids = [a.id for a in assessments]
    revisions = session.scalars(select(AnswerRevision).where(AnswerRevision.assessment_id.in_(ids)).order_by(AnswerRevision.id)).all() if ids else []
    by_assessment: dict[int, list[dict[str, Any]]] = {}
    for revision in revisions:
        by_assessment.setdefault(revision.assessment_id, []).append(revision.as_dict())
    data = {
        "organisation": {
            "slug": organisation.slug,
            "name": organisation.name,
            "locale": organisation.locale,
            "created_at": organisation.created_at.isoformat(),
            "allowed_origins": organisation.allowed_origins.split(),
        },
        "profile": profile.as_dict() if (profile := profile_of(session, organisation)) is not None else None,
        "managers": [{"email": m.manager.email, "role": m.manager.role} for m in organisation.memberships],
        "assessments": [
            {**a.summary(), "answers": a.answers, "completed_answers": a.completed_answers, "revisions": by_assessment.get(a.id, [])} for a in assessments
        ],
        **living_checklist(session, organisation),
    }
    output.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


@click.command("delete-org")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def delete_org(slug: str, yes: bool) -> None:
    """Delete an organisation with its profile, assessments, answers, memberships and living checklist (managers stay).

    The living checklist: tracking rows, comments, evidence with its files, progress
    snapshots. The event log keeps that the organisation was deleted.
    """
    organisation = organisation_or_exit(slug)
    if not yes:
        click.confirm(f"Delete {organisation.name!r} ({slug}) and all its assessments for good?", abort=True)
    session = db.session()
    ids = select(Assessment.id).where(Assessment.organisation_id == organisation.id)
    session.execute(delete(AnswerRevision).where(AnswerRevision.assessment_id.in_(ids)))
    session.execute(delete(Assessment).where(Assessment.organisation_id == organisation.id))
    session.execute(delete(OrganisationProfile).where(OrganisationProfile.organisation_id == organisation.id))
    # Explicitly, not by the foreign keys' ON DELETE CASCADE: SQLite enforces those only when asked to.
    for table in (EvidenceItem, Evidence, ItemComment, ItemTracking, ProgressSnapshot):
        session.execute(delete(table).where(table.organisation_id == organisation.id))
    events.record(session, events.CLI, "organisation.deleted", organisation, organisation.name)
    session.delete(organisation)
    session.commit()
    click.echo(f"Deleted {slug}.")


COMMANDS = (init_db, purge, export_org, delete_org)
