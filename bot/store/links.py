"""Respondent links: a manager's trusted way in for the organisation's own people (token stored hashed)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from . import events
from .models import Organisation, RespondentLink, hash_token, is_row_id, new_link_token, utcnow

DEFAULT_EXPIRES_DAYS = 30
MAX_EXPIRES_DAYS = 365
LABEL_MAX_LENGTH = 100


class LinkInputError(ValueError):
    """A link cannot be created as asked: `field` names the part that is wrong."""

    def __init__(self, field: str) -> None:
        """Name the field."""
        super().__init__(field)
        self.field = field


def clean_label(label: object) -> str | None:
    """A label as stored: trimmed, None when blank; LinkInputError for a non-string, an overlong one or one with control characters."""
    if label is None:
        return None
    if not isinstance(label, str) or len(label) > LABEL_MAX_LENGTH or any(ord(c) < 32 for c in label):
        raise LinkInputError("label")
    return label.strip() or None


def clean_expires_days(value: object) -> int:
    """Days until the link expires: a whole number from 1 to MAX_EXPIRES_DAYS (default DEFAULT_EXPIRES_DAYS)."""
    if value is None or value == "":
        return DEFAULT_EXPIRES_DAYS
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():  # JSON's 30.0 is the integer 30
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_EXPIRES_DAYS:
        raise LinkInputError("expires_days")
    return value


def create_link(
    session: Session, organisation: Organisation, actor: events.Actor, label: object = None, expires_days: object = None
) -> tuple[RespondentLink, str]:
    """Validate, store and log a new respondent link; return it and its token (shown once, only its hash is kept)."""
    clean = clean_label(label)
    days = clean_expires_days(expires_days)
    token = new_link_token()
    link = RespondentLink(
        organisation_id=organisation.id,
        token_hash=hash_token(token),
        label=clean,
        created_by=actor.manager_id,
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(link)
    session.flush()
    events.record(session, actor, "respondent_link.created", organisation, clean, link=link.id, expires=link.expires_at.isoformat())
    session.commit()
    return link, token


def links_of(session: Session, organisation: Organisation) -> list[RespondentLink]:
    """The organisation's links, newest first."""
    query = select(RespondentLink).where(RespondentLink.organisation_id == organisation.id).order_by(RespondentLink.created_at.desc(), RespondentLink.id.desc())
    return list(session.scalars(query))


def link_of(session: Session, organisation: Organisation, link_id: int) -> RespondentLink | None:
    """A link by id, only if it belongs to this organisation."""
    if not is_row_id(link_id):
        return None
    return session.scalar(select(RespondentLink).where(RespondentLink.id == link_id, RespondentLink.organisation_id == organisation.id))


def link_by_token(session: Session, token: str) -> RespondentLink | None:
    """The link with this token (compared by hash), usable or not, with its organisation."""
    query = select(RespondentLink).options(joinedload(RespondentLink.organisation)).where(RespondentLink.token_hash == hash_token(token))
    return session.scalar(query)


def revoke(session: Session, link: RespondentLink, actor: events.Actor) -> None:
    """Revoke a link (idempotent): it starts nothing more, and assessments started from it can no longer be changed."""
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        events.record(session, actor, "respondent_link.revoked", link.organisation, link.label, link=link.id)
    session.commit()
