"""Commands over the flow files: lint them, draw them, and evaluate a set of answers offline."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import click
from babel.messages.pofile import read_po

from ..config import FLOWS_DIR
from ..engine import EngineRegistry, FlowEngine, FlowError, Msg, TurnError, load_flows
from ..engine.lint import lint, mermaid, schema_problems
from ..flowcode import FLOW_CODE
from ..i18n import LOCALES_DIR, SUPPORTED_LOCALES, CatalogMissingError, catalog
from ..store.organisations import UnknownFlowError, parse_flow_ref
from .common import bad_input


@click.group("flows")
def flows_group() -> None:
    """Check flow files and draw their diagrams."""


def _load(flows_dir: str, on_file: Callable[[Path, Any], None] | None = None) -> EngineRegistry:
    try:
        return EngineRegistry(load_flows(flows_dir, code=FLOW_CODE, on_file=on_file))
    except FlowError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)


def _select(registry: EngineRegistry, reference: str | None) -> list[FlowEngine]:
    """The engines a reference names: ID@VERSION one version, ID every version of it, none every version loaded.

    An unknown flow or version exits with status 2, naming what exists.
    """
    if reference is None:
        return [registry.engines[key] for key in sorted(registry.engines)]
    try:
        choice = parse_flow_ref(reference, registry.engines)
    except UnknownFlowError as exc:
        bad_input(str(exc))
    if choice.flow_id is None:  # `latest`: the newest version of each flow
        return registry.latest()
    if choice.version is not None:
        return [registry.get(choice.flow_id, choice.version)]
    return [registry.engines[key] for key in sorted(registry.engines) if key[0] == choice.flow_id]


def _one(registry: EngineRegistry, reference: str | None, default: str) -> FlowEngine:
    """The one engine a reference names (ID: its latest version); exits with status 2 when it names none."""
    try:
        choice = parse_flow_ref(reference or default, registry.engines)
    except UnknownFlowError as exc:
        bad_input(str(exc))
    return registry.get(choice.flow_id or default, choice.version)


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
@click.argument("flow", required=False)
@click.option("--flows-dir", default=str(FLOWS_DIR), show_default=True, type=click.Path(file_okay=False))
@click.option("--locales-dir", default=str(LOCALES_DIR), show_default=True, type=click.Path(file_okay=False))
def flows_check(flow: str | None, flows_dir: str, locales_dir: str) -> None:
    """Lint every flow version (or FLOW: ID, ID@VERSION): the JSON Schema, structure, unreachable steps, dead ends, translations."""
    # The schema describes the flow language of this code, so it comes with the code, not with --flows-dir.
    schema = json.loads((Path(FLOWS_DIR) / "schema.json").read_text("utf-8"))
    schema_found: dict[str, list[str]] = {}
    registry = _load(flows_dir, on_file=lambda path, raw: schema_found.__setitem__(path.name, schema_problems(raw, path.name, schema)))
    translations = _po_translations(Path(locales_dir))

    def translated(locale: str, msg: Msg) -> bool:
        return translations[locale].get((msg.context, msg.source), False)

    problems: list[str] = []
    for engine in _select(registry, flow):
        found = schema_found.get(engine.flow.source, []) + lint(engine, translated, SUPPORTED_LOCALES)
        problems += found
        status = "ok" if not found else f"{len(found)} problem(s)"
        checked = engine.flow
        click.echo(f"{checked.source}: {checked.id} v{checked.version}: {len(checked.steps)} steps, {len(checked.checklist)} items: {status}")
    for problem in problems:
        click.echo(problem, err=True)
    sys.exit(1 if problems else 0)


@flows_group.command("diagram")
@click.argument("flow", required=False)
@click.option("--flows-dir", default=str(FLOWS_DIR), show_default=True, type=click.Path(file_okay=False))
def flows_diagram(flow: str | None, flows_dir: str) -> None:
    """Print a flow version as a Mermaid stateDiagram-v2 (FLOW: ID@VERSION, or ID for its latest; default: the first flow)."""
    registry = _load(flows_dir)
    click.echo(mermaid(_one(registry, flow, sorted({fid for fid, _ in registry.engines})[0])))


@click.command("evaluate")
@click.argument("answers_file", type=click.File("rb"))
@click.option("--format", "fmt", type=click.Choice(["json", "md"]), default="json", show_default=True)
@click.option("--lang", type=click.Choice(SUPPORTED_LOCALES), default="de", show_default=True)
@click.option("--flow", "flow_ref", default="whatsapp_gdpr", show_default=True, help="ID@VERSION (e.g. whatsapp_gdpr@1), or ID for its latest version.")
@click.option("--flows-dir", default=str(FLOWS_DIR), show_default=True, type=click.Path(file_okay=False))
def evaluate(answers_file: IO[bytes], fmt: str, lang: str, flow_ref: str, flows_dir: str) -> None:
    """Print the recommendation and checklist for ANSWERS_FILE ({"step": value, ...}), offline.

    Use - to read the answers from standard input. An unknown step or an invalid
    value exits with status 2 and names the step and the allowed values.
    """
    from ..engine.values import validate_value
    from ..exporters import build_report
    from ..exporters import json as json_export
    from ..exporters import markdown as markdown_export

    registry = _load(flows_dir)
    engine = _one(registry, flow_ref, "whatsapp_gdpr")
    try:
        raw = json.loads(answers_file.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        bad_input(f"{answers_file.name}: not valid JSON ({exc})")
    if not isinstance(raw, dict):
        bad_input(f'{answers_file.name}: expected a JSON object {{"step": value, ...}}, got {type(raw).__name__}')
    answers: dict[str, Any] = {}
    for step_id, value in raw.items():
        step = engine.flow.step_by_id.get(step_id)
        if step is None:
            known = ", ".join(s.id for s in engine.flow.steps)
            bad_input(f"unknown step {step_id!r} (steps: {known})")
        try:
            normalised = validate_value(step, value)
        except TurnError as exc:
            bad_input(_describe(step_id, exc, value))
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
    """One line naming the step, the refused value and why (with the allowed values, if any)."""
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


COMMANDS = (flows_group, evaluate)
