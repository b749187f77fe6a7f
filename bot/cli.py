"""The `wa-onboarding` command: a Flask CLI group (so `wa-onboarding run` starts the server)."""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import click
from babel.messages.frontend import BaseError, CommandLineInterface
from babel.messages.pofile import read_po, write_po
from flask import Flask, current_app
from flask.cli import FlaskGroup, ScriptInfo
from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError, ProgrammingError

from . import create_app
from .config import FLOWS_DIR, PROJECT_ROOT
from .engine import EngineRegistry, FlowError, Msg, TurnError, load_flows
from .engine.lint import lint, mermaid
from .i18n import LOCALES_DIR, SUPPORTED_LOCALES, CatalogMissingError, catalog
from .store import db, managers
from .store.models import ROLES, AnswerRevision, Assessment, Organisation, utcnow

EXIT_BAD_INPUT = 2


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
            url = _safe_url(ctx.ensure_object(ScriptInfo).load_app().config["DATABASE_URL"])
            raise click.ClickException(f"{url} has no tables yet: run `wa-onboarding init-db` first (`make run` does it).") from exc


@click.group(cls=CommandGroup, create_app=_create_app)
def cli() -> None:
    """WA Onboarding: GDPR onboarding for WhatsApp in customer communication."""


# -- database and organisations --------------------------------------------------


@cli.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    db.upgrade(current_app)
    click.echo(f"Database ready: {_safe_url(current_app.config['DATABASE_URL'])}")


@cli.command("create-org")
@click.argument("slug")
@click.option("--name", required=True, help="Display name of the organisation.")
@click.option("--locale", type=click.Choice(SUPPORTED_LOCALES), default="de", show_default=True)
def create_org(slug: str, name: str, locale: str) -> None:
    """Create an organisation and print its embed key."""
    if not slug.replace("-", "").replace("_", "").isalnum() or slug != slug.lower() or len(slug) > 64:
        raise click.UsageError("SLUG must be lower-case letters, digits, '-' or '_' (at most 64).")
    session = db.session()
    if session.scalar(select(Organisation).where(Organisation.slug == slug)):
        click.echo(f"Error: an organisation {slug!r} exists already.", err=True)
        sys.exit(EXIT_BAD_INPUT)
    org = Organisation(slug=slug, name=name, locale=locale)
    session.add(org)
    session.commit()
    click.echo(org.embed_key)


@cli.command("create-manager")
@click.argument("email")
@click.option("--org", "org_slugs", multiple=True, required=True, help="Slug of an organisation the manager belongs to (repeatable).")
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True, help="admin: sees every organisation.")
@click.option("--password-stdin", is_flag=True, help="Read a password for the manager area from the first line of standard input.")
def create_manager_command(email: str, org_slugs: tuple[str, ...], role: str, password_stdin: bool) -> None:
    """Create a manager and print their API token (shown once, stored hashed)."""
    session = db.session()
    if "@" not in email or len(email) > 254:
        raise click.UsageError("EMAIL must be an e-mail address.")
    organisations = [_organisation(slug) for slug in org_slugs]
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if len(password) < 10:
            _bad_input("the password must have at least 10 characters")
    try:
        _manager, token = managers.create_manager(session, email, organisations, password=password, role=role)
    except managers.ManagerExistsError:
        _bad_input(f"a manager {managers.normalise_email(email)!r} exists already (add-member adds an organisation, rotate-token makes a new token)")
    click.echo(token)


@cli.command("add-member")
@click.argument("email")
@click.option("--org", "org_slug", required=True, help="Slug of the organisation.")
def add_member(email: str, org_slug: str) -> None:
    """Let an existing manager see one more organisation."""
    session = db.session()
    manager = managers.manager_by_email(session, email)
    if manager is None:
        _bad_input(f"no manager {managers.normalise_email(email)!r}")
    added = managers.add_membership(session, manager, _organisation(org_slug))
    click.echo(f"{manager.email} {'now belongs' if added else 'already belongs'} to {org_slug}")


@cli.command("rotate-token")
@click.argument("email")
def rotate_token(email: str) -> None:
    """Replace a manager's API token and print the new one (the old one stops working)."""
    session = db.session()
    manager = managers.manager_by_email(session, email)
    if manager is None:
        _bad_input(f"no manager {managers.normalise_email(email)!r}")
    click.echo(managers.rotate_token(session, manager))


def _organisation(slug: str) -> Organisation:
    organisation = db.session().scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        _bad_input(f"no organisation {slug!r} (create it with create-org)")
    return organisation


@cli.command("allow-origins")
@click.argument("slug")
@click.argument("origins", nargs=-1)
def allow_origins(slug: str, origins: tuple[str, ...]) -> None:
    """Let the chat widget of SLUG run only on these web origins (e.g. https://www.example.de); none: any."""
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            _bad_input(f"{origin!r} is not an origin like https://www.example.de")
    organisation = _organisation(slug)
    organisation.allowed_origins = " ".join(o.rstrip("/") for o in origins)
    db.session().commit()
    click.echo(f"{slug}: widget allowed on {organisation.allowed_origins or 'any web site'}")


# -- data lifecycle -----------------------------------------------------------------


def _age(value: str) -> timedelta:
    """An age like 90d or 12h."""
    number, unit = value[:-1], value[-1:].lower()
    if not number.isdigit() or unit not in ("d", "h") or int(number) == 0:
        raise click.BadParameter(f"{value!r}: use a whole number of days or hours above zero, e.g. 90d or 12h")
    return timedelta(days=int(number)) if unit == "d" else timedelta(hours=int(number))


@cli.command("purge")
@click.option("--older-than", "older_than", default=None, help="Age of the last answer, e.g. 90d or 12h (default: RETENTION_ABANDONED_DAYS).")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
def purge(older_than: str | None, dry_run: bool) -> None:
    """Delete abandoned (unfinished) assessments whose last answer is older than the given age."""
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


@cli.command("export-org")
@click.argument("slug")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-", show_default=True, help="File to write (- for stdout).")
def export_org(slug: str, output: Any) -> None:
    """Write all data of one organisation as JSON: assessments, answers, revisions and who may see it."""
    organisation = _organisation(slug)
    session = db.session()
    assessments = session.scalars(select(Assessment).where(Assessment.organisation_id == organisation.id).order_by(Assessment.id)).all()
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
        "managers": [{"email": m.manager.email, "role": m.manager.role} for m in organisation.memberships],
        "assessments": [
            {**a.summary(), "answers": a.answers, "completed_answers": a.completed_answers, "revisions": by_assessment.get(a.id, [])} for a in assessments
        ],
    }
    output.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


@cli.command("delete-org")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_org(slug: str, yes: bool) -> None:
    """Delete an organisation with all its assessments, answers and memberships (managers stay)."""
    organisation = _organisation(slug)
    if not yes:
        click.confirm(f"Delete {organisation.name!r} ({slug}) and all its assessments for good?", abort=True)
    session = db.session()
    ids = select(Assessment.id).where(Assessment.organisation_id == organisation.id)
    session.execute(delete(AnswerRevision).where(AnswerRevision.assessment_id.in_(ids)))
    session.execute(delete(Assessment).where(Assessment.organisation_id == organisation.id))
    session.delete(organisation)
    session.commit()
    click.echo(f"Deleted {slug}.")


DEMO_MANAGER = "demo@example.org"


@cli.command("demo")
def demo() -> None:
    """Create the demo organisation and its manager if missing; print the embed key, a fresh token and password.

    Token and password are stored hashed, so each call makes new ones for the demo manager.
    """
    session = db.session()
    org = session.scalar(select(Organisation).where(Organisation.slug == "demo"))
    if org is None:
        org = Organisation(slug="demo", name="Demo GmbH", locale="de")
        session.add(org)
        session.commit()
    manager = managers.manager_by_email(session, DEMO_MANAGER)
    if manager is None:
        manager, token = managers.create_manager(session, DEMO_MANAGER, [org])
    else:
        token = managers.rotate_token(session, manager)
    password = secrets.token_urlsafe(12)
    managers.set_password(session, manager, password)
    click.echo(f"Demo organisation 'demo' ({org.name}), embed key: {org.embed_key}")
    click.echo(f"Demo manager {DEMO_MANAGER}, API token: {token}")
    click.echo(f"Manager area: /manage/ (log in as {DEMO_MANAGER} with the password {password})")
    click.echo(f"Wizard for the demo organisation: /w/{org.embed_key} (on this server)")
    click.echo("Chat widget on a demo page: /demo")


def _safe_url(url: str) -> str:
    """The database URL without a password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


# -- flows -----------------------------------------------------------------------


@cli.group("flows", cls=click.Group)
def flows_group() -> None:
    """Check flow files and draw their diagrams."""


def _load(flows_dir: str) -> EngineRegistry:
    try:
        return EngineRegistry(load_flows(flows_dir))
    except FlowError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)


def _po_translations(locales_dir: Path) -> dict[str, dict[tuple[str | None, str], bool]]:
    """For each locale: which (msgctxt, msgid) have a real (non-empty, non-fuzzy) translation."""
    out: dict[str, dict[tuple[str | None, str], bool]] = {}
    for locale in SUPPORTED_LOCALES:
        po = locales_dir / locale / "LC_MESSAGES" / "messages.po"
        entries: dict[tuple[str | None, str], bool] = {}
        if po.is_file():
            with po.open("rb") as fp:
                for message in read_po(fp, locale=locale):
                    if message.id and isinstance(message.id, str):
                        entries[(message.context, message.id)] = bool(message.string) and not message.fuzzy
        out[locale] = entries
    return out


@flows_group.command("check")
@click.option("--flows-dir", default=str(FLOWS_DIR), show_default=True, type=click.Path(file_okay=False))
@click.option("--locales-dir", default=str(LOCALES_DIR), show_default=True, type=click.Path(file_okay=False))
def flows_check(flows_dir: str, locales_dir: str) -> None:
    """Lint every flow: structure, unreachable steps, dead ends, translations."""
    registry = _load(flows_dir)
    translations = _po_translations(Path(locales_dir))

    def translated(locale: str, msg: Msg) -> bool:
        return translations[locale].get((msg.context, msg.source), False)

    problems: list[str] = []
    for engine in registry.engines.values():
        found = lint(engine, translated, SUPPORTED_LOCALES)
        problems += found
        status = "ok" if not found else f"{len(found)} problem(s)"
        flow = engine.flow
        click.echo(f"{flow.source}: {flow.id} v{flow.version}: {len(flow.steps)} steps, {len(flow.checklist)} items: {status}")
    for problem in problems:
        click.echo(problem, err=True)
    sys.exit(1 if problems else 0)


@flows_group.command("diagram")
@click.argument("flow", required=False)
@click.option("--flows-dir", default=str(FLOWS_DIR), show_default=True, type=click.Path(file_okay=False))
def flows_diagram(flow: str | None, flows_dir: str) -> None:
    """Print a flow (default: the first) as a Mermaid stateDiagram-v2."""
    registry = _load(flows_dir)
    ids = sorted({fid for fid, _ in registry.engines})
    flow_id = flow or ids[0]
    if flow_id not in ids:
        click.echo(f"Error: unknown flow {flow_id!r} (known: {', '.join(ids)})", err=True)
        sys.exit(EXIT_BAD_INPUT)
    click.echo(mermaid(registry.get(flow_id)))


# -- evaluate --------------------------------------------------------------------


@cli.command("evaluate", with_appcontext=False)
@click.argument("answers_file", type=click.File("rb"))
@click.option("--format", "fmt", type=click.Choice(["json", "md"]), default="json", show_default=True)
@click.option("--lang", type=click.Choice(SUPPORTED_LOCALES), default="de", show_default=True)
@click.option("--flow", "flow_id", default="whatsapp_gdpr", show_default=True)
@click.option("--flows-dir", default=str(FLOWS_DIR), show_default=True, type=click.Path(file_okay=False))
def evaluate(answers_file: Any, fmt: str, lang: str, flow_id: str, flows_dir: str) -> None:
    """Print the recommendation and checklist for ANSWERS_FILE ({"step": value, ...}), offline.

    Use - to read the answers from standard input. An unknown step or an invalid
    value exits with status 2 and names the step and the allowed values.
    """
    from .engine.values import validate_value
    from .exporters import build_report
    from .exporters import json as json_export
    from .exporters import markdown as markdown_export

    registry = _load(flows_dir)
    try:
        engine = registry.get(flow_id)
    except KeyError:
        _bad_input(f"unknown flow {flow_id!r}")
    try:
        raw = json.loads(answers_file.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        _bad_input(f"{answers_file.name}: not valid JSON ({exc})")
    if not isinstance(raw, dict):
        _bad_input(f"{answers_file.name}: expected a JSON object {{\"step\": value, ...}}, got {type(raw).__name__}")
    answers: dict[str, Any] = {}
    for step_id, value in raw.items():
        step = engine.flow.step_by_id.get(step_id)
        if step is None:
            known = ", ".join(s.id for s in engine.flow.steps)
            _bad_input(f"unknown step {step_id!r} (steps: {known})")
        try:
            normalised = validate_value(step, value)
        except TurnError as exc:
            _bad_input(_describe(step_id, exc, value))
        if normalised is not None:
            answers[step_id] = normalised
    effective = engine.effective_answers(answers)
    ignored = sorted(set(answers) - set(effective))
    needs_answer = [engine.flow.step_by_id[s] for s in engine.path(effective)]
    missing = [s.id for s in needs_answer if s.id not in effective and not s.optional and s.kind != "info"]
    if ignored:
        click.echo(f"Note: ignored answers of steps that are not asked with these answers: {', '.join(ignored)}", err=True)
    if missing:
        click.echo(f"Note: no answer for {', '.join(missing)}; their items are rated as if unanswered.", err=True)
    try:
        tr = catalog(lang)
    except CatalogMissingError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    report = build_report(engine.flow, engine.checklist(answers), tr, lang)
    click.echo((json_export if fmt == "json" else markdown_export).render(report), nl=False)


def _describe(step_id: str, exc: TurnError, value: Any) -> str:
    allowed = exc.params.get("allowed")
    detail = {
        "invalid_value": "is not allowed",
        "wrong_type": f"has the wrong type (expected {exc.params.get('expected')})",
        "exclusive_option": f"combines the exclusive option {exc.params.get('option')!r} with others",
        "empty_selection": "selects nothing",
        "text_too_long": f"is longer than {exc.params.get('limit')} characters",
        "invalid_email": "is not an e-mail address",
        "invalid_url": "is not an http(s) URL",
        "value_required": "is empty",
    }.get(exc.code, exc.code)
    shown = json.dumps(value, ensure_ascii=False)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    message = f"step {step_id!r}: value {shown} {detail}"
    if allowed:
        message += f" (allowed: {', '.join(allowed)})"
    return message


def _bad_input(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


# -- i18n ------------------------------------------------------------------------


@cli.group("i18n", cls=click.Group)
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
        if message.id and (not message.string or message.fuzzy):
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
    """A catalog's lines without the revision date, which every update rewrites."""
    return [line for line in path.read_text("utf-8").splitlines() if not line.startswith('"PO-Revision-Date:')]


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
