"""Typed SQLAlchemy 2.x models."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """The current time in UTC (timezone-aware)."""
    return datetime.now(UTC)


def new_embed_key() -> str:
    """A random public embed key for an organisation's widget and wizard link."""
    return secrets.token_urlsafe(18)


class Base(DeclarativeBase):
    """Base class of all models."""


class Organisation(Base):
    """A business (or a consultant's client) that runs assessments."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(5), default="de")
    embed_key: Mapped[str] = mapped_column(String(64), unique=True, default=new_embed_key)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
