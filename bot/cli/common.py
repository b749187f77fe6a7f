"""What the command modules share: the exit status and one-line message for bad input, organisation lookup."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from ..store import db
from ..store.models import Organisation
from ..store.organisations import organisation_by_slug

EXIT_BAD_INPUT = 2


def bad_input(message: str) -> NoReturn:
    """Print one line naming what is wrong and exit with status 2 (nothing has been written)."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def organisation_or_exit(slug: str) -> Organisation:
    """The organisation `slug`, or exit with status 2 naming the command that creates it."""
    organisation = organisation_by_slug(db.session(), slug)
    if organisation is None:
        bad_input(f"no organisation {slug!r} (create it with create-org)")
    return organisation


def safe_url(url: str) -> str:
    """The database URL without a password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
