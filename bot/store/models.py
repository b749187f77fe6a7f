"""Typed SQLAlchemy 2.x models: organisations, managers, respondent links, assessments, answer revisions, events, tracking."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, date, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from ..engine.vocabulary import StartedVia, Surface

# A manager's role in one organisation (per membership): admins also manage its people and read its audit log.
ROLES = ("member", "admin")
# The global role of a manager: an operator sees every organisation (given only on the command line).
OPERATOR = "operator"
# The flow a new organisation uses (its latest version unless pinned).
DEFAULT_FLOW_ID = "whatsapp_gdpr"


# The largest row id (PostgreSQL's INTEGER): a larger number from a URL names no row, and PostgreSQL would refuse
# to compare it with an INTEGER column where SQLite just finds nothing, so lookups check it first.
ID_MAX = 2**31 - 1


def is_row_id(value: int) -> bool:
    """Whether `value` can be the id of a row at all."""
    return 0 < value <= ID_MAX


def utcnow() -> datetime:
    """The current time in UTC (timezone-aware)."""
    return datetime.now(UTC)


def _random_key(nbytes: int) -> str:
    """A URL-safe random key that does not start with "-" (it would read as an option on a command line)."""
    while True:
        key = secrets.token_urlsafe(nbytes)
        if not key.startswith("-"):
            return key


def new_embed_key() -> str:
    """A random public embed key (144 bits) for an organisation's widget and wizard link."""
    return _random_key(18)


def new_assessment_token() -> str:
    """A random assessment token (192 bits): the capability the widget and wizard hold."""
    return _random_key(24)


# Respondent link tokens carry a prefix (as API tokens do), so secret scanners and people recognise them.
LINK_TOKEN_PREFIX = "war_"


def new_link_token() -> str:
    """A random respondent link token (192 bits) with its prefix; only its hash is stored."""
    return LINK_TOKEN_PREFIX + secrets.token_urlsafe(24)


def new_api_token() -> str:
    """A random manager API token (256 bits); only its hash is stored."""
    return "wam_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of a token (API, assessment, respondent link): SHA-256 suffices for 192+ random bits (no salt or stretching needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database (SQLite keeps no offset, so add it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store UTC; naive values are taken as UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Read back as an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base class of all models."""

    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON}  # noqa: RUF012 (SQLAlchemy's declarative convention)


class Organisation(Base):
    """A business (or a consultant's client) that runs assessments."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(5), default="de")
    embed_key: Mapped[str] = mapped_column(String(64), unique=True, default=new_embed_key)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Web origins allowed to run the chat widget (space-separated, e.g. "https://www.example.de"); empty: any.
    allowed_origins: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The flow its new assessments use; a pinned version (e.g. to finish an audit cycle) or None for the latest.
    flow_id: Mapped[str] = mapped_column(String(64), default=DEFAULT_FLOW_ID, server_default=DEFAULT_FLOW_ID)
    flow_version: Mapped[int | None] = mapped_column(Integer)
    # Whether the public embed key starts self-assessments (the widget on a public page, /w/<embed key>).
    public_widget: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # Whether its managers must log in with a second factor (set by its admins).
    mfa_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    memberships: Mapped[list[Membership]] = relationship(back_populates="organisation", cascade="all, delete-orphan", passive_deletes=True)


def origin_allowed(allowed_origins: str, origin: str | None) -> bool:
    """Whether a browser on `origin` may use the chat of an organisation with this allow-list (none: every origin)."""
    allowed = allowed_origins.split()
    return not allowed or origin is None or origin.rstrip("/") in {o.rstrip("/") for o in allowed}


class Manager(Base):
    """A person who reads (and exports) the checklists of the organisations they belong to."""

    __tablename__ = "manager"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # "operator" sees every organisation; "member": only those of their memberships (whose roles are per membership).
    role: Mapped[str] = mapped_column(String(16), default="member")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The language of the mails the manager receives (de or en).
    locale: Mapped[str] = mapped_column(String(5), default="de", server_default="de")
    # Two-factor login (TOTP): the secret, encrypted (Fernet, like webhook secrets); set once a first code confirmed it.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None] = mapped_column()
    # The 30-second time step of the last accepted code: a code of that step or an earlier one is refused (replay).
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    memberships: Mapped[list[Membership]] = relationship(back_populates="manager", cascade="all, delete-orphan", passive_deletes=True)

    @property
    def is_operator(self) -> bool:
        """Operators see (and administer) every organisation."""
        return self.role == OPERATOR

    @property
    def has_two_factor(self) -> bool:
        """Whether the manager logs in with a second factor."""
        return self.totp_enabled_at is not None and self.totp_secret is not None


class Membership(Base):
    """A manager belongs to an organisation."""

    __tablename__ = "membership"

    manager_id: Mapped[int] = mapped_column(ForeignKey("manager.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    role: Mapped[str] = mapped_column(String(16), default="member", server_default="member")  # one of ROLES

    manager: Mapped[Manager] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")


class RespondentLink(Base):
    """A manager's link for the organisation's own people: assessments started from it are trusted.

    Only the token's hash is stored (the manager sees the token once). It can be used
    any number of times until it expires or is revoked.
    """

    __tablename__ = "respondent_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("manager.id", ondelete="SET NULL", name="fk_respondent_link_created_by"))
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    organisation: Mapped[Organisation] = relationship()

    def usable(self, now: datetime | None = None) -> bool:
        """Whether the link still starts assessments (neither revoked nor expired)."""
        return self.revoked_at is None and (now or utcnow()) < self.expires_at

    def as_dict(self) -> dict[str, Any]:
        """The link as the manager API lists it (never its token)."""
        return {
            "id": self.id,
            "label": self.label,
            "created_at": self.created_at.isoformat(),
            "expires": self.expires_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "active": self.usable(),
        }


class Assessment(Base):
    """One run of a flow for one organisation: the persisted conversation.

    `state` and `answers` are what the engine reads and writes. `version` is the
    optimistic lock: every turn updates the row `WHERE version = <read>`, so of two
    concurrent turns exactly one commits and the other gets 409. When the flow
    reaches "done", the effective answers are copied to `completed_answers`, so the
    checklist stays the last completed one even while someone goes back to edit.

    Only the token's hash is stored; `token` is known on the object only where it was
    created or opened with its token. `started_via` says whom it belongs to: a public
    self-assessment (the respondent's own, never the organisation's record unless a
    manager adopts it) or a trusted one (respondent link, re-assessment). `recorded_at`
    is when it last became the organisation's checklist of record.
    """

    __tablename__ = "assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    # Made without a token (a test, an import): a random one that nobody holds.
    token_hash: Mapped[str] = mapped_column(String(64), default=lambda: hash_token(new_assessment_token()))
    flow_id: Mapped[str] = mapped_column(String(64))
    flow_version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(64))
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    locale: Mapped[str] = mapped_column(String(5))
    # The surface the assessment was started from (widget, wizard, api); the column keeps its first name.
    surface: Mapped[str] = mapped_column("channel", String(16), default=Surface.API)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column()
    completed_answers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # A re-assessment: the assessment whose answers were migrated into this one (on a newer flow version).
    reassessment_of: Mapped[int | None] = mapped_column(ForeignKey("assessment.id", ondelete="SET NULL", name="fk_assessment_reassessment_of"))
    started_via: Mapped[str] = mapped_column(String(16), default=StartedVia.PUBLIC, server_default=StartedVia.LEGACY)
    respondent_link_id: Mapped[int | None] = mapped_column(ForeignKey("respondent_link.id", ondelete="SET NULL", name="fk_assessment_respondent_link"))
    recorded_at: Mapped[datetime | None] = mapped_column()
    # A public self-assessment's consent to pass the result to the organisation, with an optional contact address.
    consented_at: Mapped[datetime | None] = mapped_column()
    contact_email: Mapped[str | None] = mapped_column(String(254))
    adopted_at: Mapped[datetime | None] = mapped_column()
    adopted_by: Mapped[int | None] = mapped_column(ForeignKey("manager.id", ondelete="SET NULL", name="fk_assessment_adopted_by"))
    dismissed_at: Mapped[datetime | None] = mapped_column()

    organisation: Mapped[Organisation] = relationship()
    respondent_link: Mapped[RespondentLink | None] = relationship()

    # The token itself: set where the assessment was created or opened with it (never stored, never loaded).
    _token = cast("str | None", None)
    # What a turn checks of its organisation and respondent link, read with it by token (assessments.assessment_by_token):
    # two columns of the same query rather than two more objects for the ORM to load on every turn.
    _gate = cast("TurnGate | None", None)

    @property
    def allowed_origins(self) -> str:
        """The organisation's origin allow-list for its chat (blank: every origin)."""
        return self._gate.allowed_origins if self._gate is not None else self.organisation.allowed_origins

    @property
    def link_revoked(self) -> bool:
        """Whether it was started from a respondent link that has been revoked since."""
        if self.respondent_link_id is None:
            return False
        if self._gate is not None:
            return self._gate.link_revoked_at is not None
        return self.respondent_link is not None and self.respondent_link.revoked_at is not None

    @property
    def token(self) -> str:
        """The assessment's token, known only to whoever created or opened it with it."""
        if self._token is None:
            raise AttributeError("only the hash of an assessment token is stored")
        return self._token

    @token.setter
    def token(self, value: str) -> None:
        self._token = value
        self.token_hash = hash_token(value)

    @property
    def is_self_assessment(self) -> bool:
        """Started with the public embed key: the respondent's own result."""
        return self.started_via == StartedVia.PUBLIC

    @property
    def trusted(self) -> bool:
        """Whether it may be (or become) the organisation's checklist of record."""
        return not self.is_self_assessment or self.adopted_at is not None

    @property
    def record_via(self) -> str:
        """How it became the checklist of record: respondent_link, reassessment, adoption or legacy."""
        return "adoption" if self.adopted_at is not None else self.started_via

    def summary(self) -> dict[str, Any]:
        """The assessment's facts as JSON-ready values (never its token: that is the respondent's capability)."""
        return {
            "id": self.id,
            "flow": self.flow_id,
            "version": self.flow_version,
            "state": self.state,
            "locale": self.locale,
            "channel": self.surface,  # the public name of the surface
            "started_via": self.started_via,
            "respondent_link": self.respondent_link_id,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "completed_at": self.completed_at.isoformat() if self.completed_at else None,
            "recorded_at": self.recorded_at.isoformat() if self.recorded_at else None,
        }

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's declarative convention)
    __table_args__ = (
        Index("ix_assessment_org_completed", "organisation_id", "completed_at"),
        Index("ix_assessment_org_updated", "organisation_id", "updated_at"),
        Index("ix_assessment_org_recorded", "organisation_id", "recorded_at"),
        UniqueConstraint("token_hash", name="uq_assessment_token_hash"),
    )


class TurnGate(NamedTuple):
    """The organisation's origin allow-list and the respondent link's revocation, as read with an assessment by its token."""

    allowed_origins: str
    link_revoked_at: datetime | None


class AnswerRevision(Base):
    """One accepted turn of an assessment, append-only: never updated, never deleted with a turn.

    `seq` is the assessment's version after the turn; (assessment, seq) is unique,
    so a race can never record the same turn twice.
    """

    __tablename__ = "answer_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    step: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    surface: Mapped[str] = mapped_column("channel", String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A migrated answer (re-assessment): the assessment and flow version it was carried over from.
    migrated_from: Mapped[int | None] = mapped_column(Integer)
    migrated_from_version: Mapped[int | None] = mapped_column(Integer)
    # A manager's amendment of the checklist of record: who made it (the e-mail stays when the account goes).
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str | None] = mapped_column(String(254))

    __table_args__ = (UniqueConstraint("assessment_id", "seq", name="uq_answer_revision_seq"),)

    def as_dict(self) -> dict[str, Any]:
        """The revision as JSON-ready values."""
        return {
            "assessment": self.assessment_id,
            "seq": self.seq,
            "action": self.action,
            "step": self.step,
            "value": self.value,
            "channel": self.surface,  # the public name of the surface
            "created_at": self.created_at.isoformat(),
            "by": self.actor,
        }


# The organisation profile's fields and their length limits (the documents of flow version 2 use them).
PROFILE_FIELDS: dict[str, int] = {
    "representative": 200,
    "register_court": 200,
    "register_number": 100,
    "vat_id": 20,
    "business_id": 30,
    "phone": 40,
    "dpo_contact": 300,
    "chamber": 300,
    "professional_title": 200,
    "professional_rules_url": 500,
}


class OrganisationProfile(Base):
    """What the documents need beyond the answers: who represents the organisation, its register, and for
    professional secrecy its chamber, title and rules. Every field is optional; a missing one stays a visible placeholder."""

    __tablename__ = "organisation_profile"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True)
    representative: Mapped[str | None] = mapped_column(String(PROFILE_FIELDS["representative"]))
    register_court: Mapped[str | None] = mapped_column(String(PROFILE_FIELDS["register_court"]))
    register_number: Mapped[str | None] = mapped_column(String(PROFILE_FIELDS["register_number"]))
    vat_id: Mapped[str | None] = mapped_column(String(PROFILE_FIELDS["vat_id"]))
    business_id: Mapped[str | None] = mapped_column(String(PROFILE_FIELDS["business_id"]))
    phone: Mapped[str | None] = mapped_column(String(PROFILE_FIELDS["phone"]))
    dpo_contact: Mapped[str | None] = mapped_column(String(PROFILE_FIELDS["dpo_contact"]))
    chamber: Mapped[str | None] = mapped_column(String(PROFILE_FIELDS["chamber"]))
    professional_title: Mapped[str | None] = mapped_column(String(PROFILE_FIELDS["professional_title"]))
    professional_rules_url: Mapped[str | None] = mapped_column(String(PROFILE_FIELDS["professional_rules_url"]))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def as_dict(self) -> dict[str, str | None]:
        """The profile's fields (None where not filled in)."""
        return {name: getattr(self, name) for name in PROFILE_FIELDS}


class Event(Base):
    """One entry of the append-only event log: who did what, when, from where.

    No foreign keys: an entry outlives the organisation or manager it names (the
    deletion of an organisation is itself an event), so it keeps their slug and e-mail.
    """

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # the retention job deletes by age
    organisation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    organisation_slug: Mapped[str | None] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(254))  # the manager's e-mail, "cli" or "respondent"
    action: Mapped[str] = mapped_column(String(48))
    subject: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    via: Mapped[str] = mapped_column(String(16))  # api, manager area, cli, wizard, widget
    address: Mapped[str | None] = mapped_column(String(64))  # the client's IP address

    # The audit log pages through one organisation's entries by id, newest first.
    __table_args__ = (Index("ix_event_org_id", "organisation_id", "id"),)

    def as_dict(self) -> dict[str, Any]:
        """The event as JSON-ready values."""
        return {
            "id": self.id,
            "at": self.created_at.isoformat(),
            "organisation": self.organisation_slug,
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "details": self.details,
            "via": self.via,
            "address": self.address,
        }


class ItemTracking(Base):
    """A manager's overlay on one checklist item of an organisation: owner, due date, workflow, risk acceptance.

    Keyed by the item id, which is stable across re-assessments and flow versions, so
    the tracking stays when the checklist of record changes. The assessed status
    (done, open, critical, not applicable) is never stored here: the answers decide it.
    `version` is the optimistic lock of concurrent edits.
    """

    __tablename__ = "item_tracking"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("manager.id", ondelete="SET NULL", name="fk_item_tracking_owner"))
    due: Mapped[date | None] = mapped_column(Date)
    workflow: Mapped[str] = mapped_column(String(16), default="todo", server_default="todo")
    risk_reason: Mapped[str | None] = mapped_column(Text)
    risk_by: Mapped[str | None] = mapped_column(String(254))  # who accepted it (the e-mail stays when the account goes)
    risk_until: Mapped[date | None] = mapped_column(Date)
    risk_accepted_at: Mapped[datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner: Mapped[Manager | None] = relationship()

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's declarative convention)
    __table_args__ = (UniqueConstraint("organisation_id", "item_id", name="uq_item_tracking_item"),)


class ItemComment(Base):
    """A manager's comment on one checklist item of an organisation (append-only)."""

    __tablename__ = "item_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int | None] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(254))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_item_comment_item", "organisation_id", "item_id"),)

    def as_dict(self) -> dict[str, Any]:
        """The comment as JSON-ready values."""
        return {"id": self.id, "item": self.item_id, "author": self.author, "text": self.text, "created_at": self.created_at.isoformat()}


class Evidence(Base):
    """A piece of evidence of an organisation: an uploaded file (kept in the database) or a link; linked to one or more items.

    The file's bytes are loaded only when it is downloaded (`content` is deferred).
    """

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # file or link
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(2000))
    media_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    effective: Mapped[date | None] = mapped_column(Date)
    expires: Mapped[date | None] = mapped_column(Date)
    uploaded_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    links: Mapped[list[EvidenceItem]] = relationship(back_populates="evidence", cascade="all, delete-orphan", passive_deletes=True)

    def expired(self, today: date) -> bool:
        """Whether the evidence is past its expiry date."""
        return self.expires is not None and self.expires < today

    def as_dict(self) -> dict[str, Any]:
        """The evidence as JSON-ready values (never its bytes)."""
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "url": self.url,
            "media_type": self.media_type,
            "size": self.size,
            "sha256": self.sha256,
            "effective": self.effective.isoformat() if self.effective else None,
            "expires": self.expires.isoformat() if self.expires else None,
            "uploaded_by": self.uploaded_by,
            "created_at": self.created_at.isoformat(),
            "items": sorted(link.item_id for link in self.links),
        }


class EvidenceItem(Base):
    """Evidence linked to one checklist item of its organisation."""

    __tablename__ = "evidence_item"

    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)

    evidence: Mapped[Evidence] = relationship(back_populates="links")

    __table_args__ = (Index("ix_evidence_item_org_item", "organisation_id", "item_id"),)


class ProgressSnapshot(Base):
    """An organisation's counts per assessed status and workflow state on one day (the last change of the day wins)."""

    __tablename__ = "progress_snapshot"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("organisation_id", "day", name="uq_progress_snapshot_day"),)


# -- notifications: what to tell whom, the messages to send, webhooks, job runs ------------------------------------

NOTIFICATION_KINDS = ("reminders", "completions", "digest")
CADENCES = ("off", "immediately", "daily", "weekly")


class NotificationSetting(Base):
    """How often a manager receives one kind of notification (a missing row: the kind's default)."""

    __tablename__ = "notification_setting"

    manager_id: Mapped[int] = mapped_column(ForeignKey("manager.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # reminders, completions, digest
    cadence: Mapped[str] = mapped_column(String(16))  # off, immediately, daily, weekly


class Notice(Base):
    """One thing to tell one manager (an item falls due, a checklist was completed); mailed once, alone or grouped.

    The unique key per manager is the sent-log: the same reminder is never created, so never mailed, twice.
    """

    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("manager.id", ondelete="CASCADE"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # reminders or completions
    topic: Mapped[str] = mapped_column(String(32))  # item_due, item_overdue, evidence_expiring, ..., checklist_recorded
    key: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    mailed_at: Mapped[datetime | None] = mapped_column()  # put into a mail (an outbox row) at this time

    __table_args__ = (
        UniqueConstraint("manager_id", "key", name="uq_notice_key"),
        Index("ix_notice_unmailed", "manager_id", "mailed_at"),
    )


class OutboxMessage(Base):
    """A mail or a webhook delivery to send, committed with what caused it; the worker sends it (at least once).

    `key` is unique: one message per cause and recipient. A row being sent is claimed
    until `claimed_until`, so two workers never send it at the same time; a worker that
    dies mid-send leaves a claim that runs out and the row is sent again.
    """

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))  # mail or webhook
    key: Mapped[str] = mapped_column(String(200), unique=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(48))  # the mail's template or the webhook's event type
    recipient: Mapped[str | None] = mapped_column(String(254))  # an e-mail address (blanked after sending to a respondent)
    locale: Mapped[str] = mapped_column(String(5), default="de")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(8), default="pending")  # pending, sent, failed (gave up)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column()
    last_response_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)


class WebhookEndpoint(Base):
    """A URL of an organisation's that receives signed events; its secret is stored encrypted (signing needs it)."""

    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobRun(Base):
    """One run of a periodic job for one period (a day or a week): claimed once, so two workers never both run it."""

    __tablename__ = "job_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(32))  # the day (2026-11-25), or "manual-<timestamp>" for `jobs run`
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(8), default="running")  # running, done, failed
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (UniqueConstraint("name", "period", name="uq_job_run_period"),)


class ManagerSession(Base):
    """A manager's login in one browser, kept on the server so that it can be ended at once.

    The cookie holds only a random key; the row (its SHA-256) says whether the login still
    counts: not ended (logout, "end this session", a new password), used within the idle
    timeout and younger than the absolute limit.
    """

    __tablename__ = "manager_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("manager.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()
    device: Mapped[str] = mapped_column(String(200), default="")  # the browser's User-Agent, shortened
    address: Mapped[str | None] = mapped_column(String(64))


class RecoveryCode(Base):
    """One of a manager's single-use recovery codes for two-factor login (only its SHA-256 is stored)."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("manager.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column()


class Invitation(Base):
    """An invitation to join an organisation: a single-use link (only its hash is stored), valid 7 days."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16), default="member")  # one of ROLES
    invited_by: Mapped[str] = mapped_column(String(254))  # the inviting manager's e-mail, or "cli"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    accepted_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    organisation: Mapped[Organisation] = relationship()


class PasswordReset(Base):
    """A password reset link sent by e-mail: single-use (only its hash is stored), valid 1 hour."""

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("manager.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
