"""The `wa-onboarding` command: a Flask CLI group (so `wa-onboarding run` starts the server).

The commands live beside what they serve: admin (organisations, managers, the demo),
lifecycle (schema, retention, export, deletion), flows (check, diagram, evaluate), i18n and
server (the development server).
"""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo
from sqlalchemy.exc import OperationalError, ProgrammingError

from .. import create_app
from ..engine import FlowError
from ..i18n import CatalogMissingError
from . import admin, flows, i18n, jobs, lifecycle, server
from .common import safe_url
from .i18n import catalog_problems

__all__ = ["catalog_problems", "cli"]


def _create_app() -> Flask:
    """Create the app for a command; a start-up problem becomes one clear line, not a traceback."""
    try:
        return create_app()
    except (FlowError, CatalogMissingError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from exc


def _schema_missing(exc: Exception) -> bool:
    """Whether a database error says a table does not exist (SQLite, or PostgreSQL's SQLSTATE 42P01)."""
    original = getattr(exc, "orig", None)
    return "no such table" in str(original) or getattr(original, "sqlstate", None) == "42P01"


class CommandGroup(FlaskGroup):
    """The command group: a database without its tables ends in one clear line, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; name `init-db` when the database has not been set up yet."""
        try:
            return super().invoke(ctx)
        except (OperationalError, ProgrammingError) as exc:
            if not _schema_missing(exc):
                raise
            url = safe_url(ctx.ensure_object(ScriptInfo).load_app().config["DATABASE_URL"])
            raise click.ClickException(f"{url} has no tables yet: run `wa-onboarding init-db` first (`make run` does it).") from exc


@click.group(cls=CommandGroup, create_app=_create_app)
def cli() -> None:
    """WA Onboarding: GDPR onboarding for WhatsApp in customer communication."""


for _module in (lifecycle, admin, flows, i18n, jobs, server):  # server's `run` replaces Flask's
    for _command in _module.COMMANDS:
        cli.add_command(_command)
