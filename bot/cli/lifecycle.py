"""Commands over the data's life: create the schema, purge abandoned assessments, export or delete an organisation."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import IO, Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import delete, select

from ..store import db, events, submissions
from ..store.assessments import TRUSTED
from ..store.models import AnswerRevision, Assessment, OrganisationProfile, utcnow
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
    stale = select(Assessment.id).where(Assessment.completed_at.is_(None), Assessment.updated_at < cutoff)
    found = len(session.scalars(stale).all())
    if dry_run:
        click.echo(f"{found} abandoned assessment(s) last answered before {cutoff:%Y-%m-%d %H:%M} UTC would be deleted (dry run).")
        return
    session.execute(delete(AnswerRevision).where(AnswerRevision.assessment_id.in_(stale)))
    session.execute(delete(Assessment).where(Assessment.id.in_(stale)))
    session.commit()
    click.echo(f"Deleted {found} abandoned assessment(s) last answered before {cutoff:%Y-%m-%d %H:%M} UTC.")
    days = int(current_app.config["RETENTION_SELF_ASSESSMENT_DAYS"])
    deleted = submissions.purge_self_assessments(session, days)
    click.echo(f"Deleted {deleted} self-assessment(s) completed more than {days} days ago and not adopted.")


@click.command("export-org")
@click.argument("slug")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-", show_default=True, help="File to write (- for stdout).")
@with_appcontext
def export_org(slug: str, output: IO[str]) -> None:
    """Write all data of one organisation as JSON: its profile, assessments, answers, revisions and who may see it.

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
    }
    output.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


@click.command("delete-org")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def delete_org(slug: str, yes: bool) -> None:
    """Delete an organisation with its profile and all its assessments, answers and memberships (managers stay)."""
    organisation = organisation_or_exit(slug)
    if not yes:
        click.confirm(f"Delete {organisation.name!r} ({slug}) and all its assessments for good?", abort=True)
    session = db.session()
    ids = select(Assessment.id).where(Assessment.organisation_id == organisation.id)
    session.execute(delete(AnswerRevision).where(AnswerRevision.assessment_id.in_(ids)))
    session.execute(delete(Assessment).where(Assessment.organisation_id == organisation.id))
    session.execute(delete(OrganisationProfile).where(OrganisationProfile.organisation_id == organisation.id))
    events.record(session, events.CLI, "organisation.deleted", organisation, organisation.name)
    session.delete(organisation)
    session.commit()
    click.echo(f"Deleted {slug}.")


COMMANDS = (init_db, purge, export_org, delete_org)
