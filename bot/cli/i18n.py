"""The translation catalog workflow: extract, update, compile and check (wraps pybabel)."""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from pathlib import Path

import click
from babel.messages.frontend import BaseError, CommandLineInterface
from babel.messages.pofile import read_po, write_po

from ..config import PROJECT_ROOT
from ..i18n import LOCALES_DIR, SUPPORTED_LOCALES


@click.group("i18n")
def i18n_group() -> None:
    """Extract, update, compile and check the translation catalogs (wraps pybabel)."""


def _pybabel(*args: str) -> None:
    try:
        CommandLineInterface().run(["pybabel", "-q", *args])
    except BaseError as exc:
        raise click.ClickException(str(exc)) from exc


def _extract(pot: Path) -> None:
    # Run from the project root so that the catalogs name files by relative paths.
    with contextlib.chdir(PROJECT_ROOT):
        _pybabel("extract", "-F", "pyproject.toml", "-k", "_l", "--sort-by-file", "--no-wrap",
                 "--project", "wa-onboarding", "--msgid-bugs-address", "-", "-o", str(pot.resolve()), ".")


@i18n_group.command("extract")
def i18n_extract() -> None:
    """Write locales/messages.pot from the code, the templates and the flow files."""
    _extract(LOCALES_DIR / "messages.pot")
    click.echo(f"Wrote {LOCALES_DIR / 'messages.pot'}")


@i18n_group.command("update")
def i18n_update() -> None:
    """Extract, then merge new and changed texts into de and en (changed ones become fuzzy).

    English is the source language: its empty entries get the source text.
    """
    pot = LOCALES_DIR / "messages.pot"
    _extract(pot)
    _pybabel("update", "-i", str(pot), "-d", str(LOCALES_DIR), "--no-wrap", "--ignore-pot-creation-date")
    po = LOCALES_DIR / "en" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fp:
        en = read_po(fp, locale="en")
    for message in en:
        # A plural's empty translation is a tuple of empty strings, which is truthy: check its parts.
        empty = not message.string or (isinstance(message.string, tuple) and not all(message.string))
        if message.id and (empty or message.fuzzy):
            message.string = message.id
            message.flags.discard("fuzzy")
    with po.open("wb") as fp:
        write_po(fp, en, width=0, ignore_obsolete=True)
    click.echo("Updated the catalogs; now translate every empty or fuzzy entry in locales/de/LC_MESSAGES/messages.po")


@i18n_group.command("compile")
def i18n_compile() -> None:
    """Compile the catalogs (.po to .mo); fuzzy entries are not used."""
    _pybabel("compile", "-d", str(LOCALES_DIR))
    click.echo("Compiled the catalogs for " + ", ".join(SUPPORTED_LOCALES))


@i18n_group.command("check")
def i18n_check() -> None:
    """Fail if a catalog is out of date, has untranslated or fuzzy entries, or is not compiled."""
    problems = catalog_problems(LOCALES_DIR)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        sys.exit(1)
    click.echo("Catalogs are complete and up to date.")


def _po_body(path: Path) -> list[str]:
    """A catalog's lines without the revision date and the source locations, which every update or code edit rewrites.

    A string that moved to another line is still the same entry; only new, changed
    or obsolete entries make a catalog out of date.
    """
    return [line for line in path.read_text("utf-8").splitlines() if not line.startswith(('"PO-Revision-Date:', "#: "))]


def catalog_problems(locales_dir: Path) -> list[str]:
    """Every problem of the catalogs in `locales_dir` (empty when all is well)."""
    problems: list[str] = []
    # `pybabel update --check` cannot be used: Catalog.is_identical() is always
    # False for catalogs with msgctxt (python-babel/babel#1307, fix in #1308 not
    # released). So run a real update on a copy and compare the files instead.
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        _extract(pot)
        copy = Path(tmp) / "locales"
        shutil.copytree(locales_dir, copy, ignore=shutil.ignore_patterns("*.mo", "*.pot"))
        _pybabel("update", "-i", str(pot), "-d", str(copy), "--no-wrap", "--ignore-pot-creation-date")
        for locale in SUPPORTED_LOCALES:
            relative = Path(locale) / "LC_MESSAGES" / "messages.po"
            if (locales_dir / relative).is_file() and _po_body(copy / relative) != _po_body(locales_dir / relative):
                problems.append(f"{relative}: out of date: run `wa-onboarding i18n update` and translate the new entries.")
    for locale in SUPPORTED_LOCALES:
        po = locales_dir / locale / "LC_MESSAGES" / "messages.po"
        if not po.is_file():
            problems.append(f"{po}: missing")
            continue
        with po.open("rb") as fp:
            for message in read_po(fp, locale=locale):
                if not message.id:
                    continue
                label = f"{message.context} " if message.context else ""
                if message.fuzzy:
                    problems.append(f"{po.relative_to(locales_dir.parent)}: fuzzy: {label}{message.id!r}")
                elif not message.string or (isinstance(message.string, tuple) and not all(message.string)):
                    problems.append(f"{po.relative_to(locales_dir.parent)}: untranslated: {label}{message.id!r}")
        mo = po.with_suffix(".mo")
        if not mo.is_file():
            problems.append(f"{mo}: missing (run `wa-onboarding i18n compile`)")
        elif mo.stat().st_mtime < po.stat().st_mtime:
            problems.append(f"{mo}: older than {po.name} (run `wa-onboarding i18n compile`)")
    return problems


COMMANDS = (i18n_group,)
