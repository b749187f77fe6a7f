"""Organisations: the slug rule, creation and lookup, shared by the command line and the manager area."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..i18n import SUPPORTED_LOCALES
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
    if not name.strip() or len(name) > NAME_MAX_LENGTH:
        raise InvalidNameError(f"the name must not be empty and may have at most {NAME_MAX_LENGTH} characters")
    if locale not in SUPPORTED_LOCALES:
        raise InvalidLocaleError(f"the language must be one of {', '.join(SUPPORTED_LOCALES)}")
    if organisation_by_slug(session, slug) is not None:
        raise OrganisationExistsError(f"an organisation {slug!r} exists already")
    organisation = Organisation(slug=slug, name=name.strip(), locale=locale)
    session.add(organisation)
    session.commit()
    return organisation
