"""Organisations: the slug rule, creation, lookup and the flow version they use, shared by the command line and the manager area."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..i18n import SUPPORTED_LOCALES
from . import events
from .models import Organisation

# A DNS label (RFC 1123): the slug travels in URLs and download file names, so it must be plain
# ASCII; old rows with other slugs keep working because only creation checks it (docs/decisions.md).
SLUG_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
SLUG_RULE = "lower-case ASCII letters a-z, digits and hyphens, 1 to 63 characters, starting and ending with a letter or digit"
NAME_MAX_LENGTH = 200


class OrganisationError(ValueError):
    """An organisation cannot be created as asked; the message says why in one line."""


class InvalidSlugError(OrganisationError):
    """The slug breaks the slug rule."""


class InvalidNameError(OrganisationError):
    """The display name is empty or too long."""


class InvalidLocaleError(OrganisationError):
    """The language is not one the app supports."""


class OrganisationExistsError(OrganisationError):
    """An organisation with this slug exists already."""


def slug_allowed(slug: str) -> bool:
    """Whether `slug` follows the slug rule (for new organisations)."""
    return SLUG_PATTERN.fullmatch(slug) is not None


def organisation_by_slug(session: Session, slug: str) -> Organisation | None:
    """The organisation with this slug, if any."""
    return session.scalar(select(Organisation).where(Organisation.slug == slug))


def create_organisation(session: Session, slug: str, name: str, locale: str = "de") -> Organisation:
    """Validate and store a new organisation; nothing is stored when an OrganisationError is raised."""
    if not slug_allowed(slug):
        raise InvalidSlugError(f"{slug!r} is not a valid slug: use {SLUG_RULE}")
    # Control characters (a NUL, which PostgreSQL refuses; a line break) have no place in a display name.
    if not name.strip() or len(name) > NAME_MAX_LENGTH or any(ord(c) < 32 for c in name):
        raise InvalidNameError(f"the name must not be empty, may have at most {NAME_MAX_LENGTH} characters and no control characters")
    if locale not in SUPPORTED_LOCALES:
        raise InvalidLocaleError(f"the language must be one of {', '.join(SUPPORTED_LOCALES)}")
    if organisation_by_slug(session, slug) is not None:
        raise OrganisationExistsError(f"an organisation {slug!r} exists already")
    organisation = Organisation(slug=slug, name=name.strip(), locale=locale)
    session.add(organisation)
    session.commit()
    return organisation


# -- the flow an organisation's new assessments use ---------------------------------------

LATEST = "latest"
FLOW_REF_RULE = "ID@VERSION (e.g. whatsapp_gdpr@1), ID for its latest version, or latest"


class UnknownFlowError(OrganisationError):
    """A flow reference names no loaded flow or version; the message names what exists."""


@dataclass(frozen=True)
class FlowChoice:
    """A parsed flow reference: a flow id (None: the organisation's own) and a version (None: the latest)."""

    flow_id: str | None
    version: int | None

    def __str__(self) -> str:
        """The reference as written: ID@VERSION, ID or latest."""
        if self.flow_id is None:
            return LATEST
        return self.flow_id if self.version is None else f"{self.flow_id}@{self.version}"


def flow_refs(available: Iterable[tuple[str, int]]) -> list[str]:
    """Every loaded flow version as ID@VERSION, sorted by flow and version."""
    return [f"{flow_id}@{version}" for flow_id, version in sorted(available)]


def parse_flow_ref(text: str, available: Iterable[tuple[str, int]]) -> FlowChoice:
    """Read `ID@VERSION`, `ID` (its latest version) or `latest` against the loaded flow versions.

    Raises UnknownFlowError with one line naming what exists: the flows, or the
    versions of the named flow.
    """
    loaded = sorted(set(available))
    reference = text.strip()
    if reference == LATEST:
        return FlowChoice(None, None)
    flow_id, at, raw_version = reference.partition("@")
    if not flow_id or (at and not raw_version.isdigit()):
        raise UnknownFlowError(f"{text!r} is not a flow reference: use {FLOW_REF_RULE} (loaded: {', '.join(flow_refs(loaded))})")
    versions = [v for fid, v in loaded if fid == flow_id]
    if not versions:
        raise UnknownFlowError(f"unknown flow {flow_id!r} (loaded: {', '.join(flow_refs(loaded))})")
    if not at:
        return FlowChoice(flow_id, None)
    version = int(raw_version)
    if version not in versions:
        raise UnknownFlowError(f"flow {flow_id!r} has no version {version} (versions: {', '.join(map(str, versions))})")
    return FlowChoice(flow_id, version)


def pin_flow(session: Session, organisation: Organisation, choice: FlowChoice, actor: events.Actor = events.CLI) -> None:
    """Pin the organisation's new assessments to a flow version, or unpin (version None: always the latest); logged as an event.

    Assessments already started keep their own version; only new ones follow the pin.
    """
    before = flow_label(organisation)
    if choice.flow_id is not None:
        organisation.flow_id = choice.flow_id
    organisation.flow_version = choice.version
    events.record(session, actor, "organisation.pin_changed", organisation, flow_label(organisation), before=before, after=flow_label(organisation))
    session.commit()


def set_public_widget(session: Session, organisation: Organisation, on: bool, actor: events.Actor = events.CLI) -> bool:
    """Turn the public self-check (the embed key's widget and wizard link) on or off; a change is logged. Return whether it changed."""
    if organisation.public_widget == on:
        return False
    organisation.public_widget = on
    events.record(session, actor, "settings.public_widget", organisation, "on" if on else "off")
    session.commit()
    return True


def flow_label(organisation: Organisation) -> str:
    """The organisation's flow as a reference: ID@VERSION when pinned, else ID (its latest version)."""
    return str(FlowChoice(organisation.flow_id, organisation.flow_version))
