"""Manager sessions on the server: start at login, check on every request, end at logout or on demand, expire.

A session counts while it is not ended, was used within SESSION_IDLE_MINUTES (default 8 h) and
is younger than SESSION_MAX_DAYS (default 7 days). `last_seen_at` is written at most once a
minute, so a busy page does not write on every request.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from .models import Manager, ManagerSession, hash_token, is_row_id, utcnow

SEEN_EVERY = timedelta(minutes=1)


def start(session: Session, manager: Manager, device: str, address: str | None) -> str:
    """Start a session for the manager and commit; the key for the cookie (only its hash is stored)."""
    key = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(ManagerSession(key_hash=hash_token(key), manager_id=manager.id, created_at=now, last_seen_at=now, device=device[:200], address=address))
    session.commit()
    return key


def _counts(row: ManagerSession, now: datetime, idle: timedelta, longest: timedelta) -> bool:
    return row.ended_at is None and now - row.last_seen_at <= idle and now - row.created_at <= longest


def current(session: Session, key: str, idle: timedelta, longest: timedelta) -> ManagerSession | None:
    """The session of a cookie's key while it counts (its last use noted); None when it was ended or has expired."""
    row = session.scalar(select(ManagerSession).where(ManagerSession.key_hash == hash_token(key)))
    now = utcnow()
    if row is None or not _counts(row, now, idle, longest):
        return None
    if now - row.last_seen_at >= SEEN_EVERY:
        row.last_seen_at = now
        session.commit()
    return row


def active(session: Session, manager: Manager, idle: timedelta, longest: timedelta) -> list[ManagerSession]:
    """The manager's sessions that still count, most recently used first."""
    rows = session.scalars(select(ManagerSession).where(ManagerSession.manager_id == manager.id, ManagerSession.ended_at.is_(None)))
    now = utcnow()
    return sorted((r for r in rows if _counts(r, now, idle, longest)), key=lambda r: r.last_seen_at, reverse=True)


def end(session: Session, manager: Manager, session_id: int) -> bool:
    """End one of the manager's sessions and commit; False when there is no such session of theirs."""
    if not is_row_id(session_id):
        return False
    ended = session.execute(
        update(ManagerSession)
        .where(ManagerSession.id == session_id, ManagerSession.manager_id == manager.id, ManagerSession.ended_at.is_(None))
        .values(ended_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    session.commit()
    return bool(ended.rowcount)  # type: ignore[attr-defined]


def end_all(session: Session, manager_id: int, keep: int | None = None) -> int:
    """End every session of a manager (but `keep`), without committing: a new password, "end all other sessions"; how many."""
    query = update(ManagerSession).where(ManagerSession.manager_id == manager_id, ManagerSession.ended_at.is_(None))
    if keep is not None:
        query = query.where(ManagerSession.id != keep)
    return int(session.execute(query.values(ended_at=utcnow()), execution_options={"synchronize_session": False}).rowcount or 0)  # type: ignore[attr-defined]


def purge(session: Session, longest: timedelta, now: datetime | None = None) -> int:
    """Delete sessions ended, or past the absolute limit, more than 30 days ago (the retention job); how many."""
    cutoff = (now or utcnow()) - timedelta(days=30)
    gone = or_(ManagerSession.ended_at < cutoff, ManagerSession.created_at < cutoff - longest)
    return int(session.execute(delete(ManagerSession).where(gone)).rowcount or 0)  # type: ignore[attr-defined]
