"""Localisation at the edge: the flow-file extractor, catalogs and localisers.

English is the source language of the code and the flow files; `locales/` holds
the gettext catalogs for de and en. Flow texts are looked up with
`pgettext(msgctxt, source)`, where msgctxt is `flow.step.field`. The localisers
here take a `babel.support.Translations` object, so the same code serves a Flask
request (Flask-Babel's catalog), the CLI and the exporters.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from babel.support import Translations

from . import resources
from .engine import Checklist, Flow, FlowEngine, Msg, Prompt, RecommendationResult, Step, TurnError, parse_flow

SUPPORTED_LOCALES = ("de", "en")
DEFAULT_LOCALE = "de"
LOCALES_DIR = resources.locales_dir()
DOMAIN = "messages"


def N_(message: str) -> str:  # noqa: N802 (the gettext marker convention)
    """Mark a string for extraction without translating it now."""
    return message


# Messages of refused turns, by TurnError code (localised when shown).
TURN_ERRORS = {
    "stale_step": N_("This question was already answered, perhaps in another window. Here is the current question."),
    "invalid_value": N_("Please choose one of the offered answers: %(allowed)s."),
    "exclusive_option": N_("\"%(option)s\" cannot be combined with other answers."),
    "empty_selection": N_("Please choose at least one answer."),
    "wrong_type": N_("This answer has the wrong format: expected %(expected)s."),
    "value_required": N_("Please enter an answer."),
    "text_too_long": N_("Please shorten your answer to at most %(limit)s characters."),
    "invalid_email": N_("Please enter a valid e-mail address, for example info@example.de."),
    "invalid_url": N_("Please enter a web address that starts with https:// or http://."),
    "not_optional": N_("This question cannot be skipped."),
    "no_previous_step": N_("This is the first question; there is no earlier step."),
    "assessment_closed": N_("This assessment can no longer be changed: the organisation has taken it over or withdrawn its link."),
    "flow_finished": N_("This assessment is already complete."),
    "unknown_step": N_("This step does not exist in the questionnaire."),
    "unknown_trigger": N_("This action is not possible here."),
    "step_not_asked": N_("This question is not asked with the current answers, so its answer cannot be changed."),
    "amendment_opens_steps": N_("This answer would lead to questions nobody has answered yet (%(steps)s). Please start a re-assessment instead."),
}

# "Nothing given" in the words of the step's kind: choosing for choice and multi, typing for text.
# The error code stays `value_required` (or `empty_selection`); only the message follows the kind.
NOTHING_GIVEN = ("value_required", "empty_selection")
REQUIRED_BY_KIND = {
    "choice": N_("Please choose an answer."),
    "multi": N_("Please choose at least one answer."),
    "text": N_("Please enter an answer."),
}

STATUS_LABELS = {
    "critical": N_("Critical"),
    "open": N_("To do"),
    "done": N_("Done"),
    "not_applicable": N_("Not applicable"),
}

# The workflow states of a tracked item, worded apart from the assessed statuses ("To do" is an open item):
# the workflow says how far the work is, the status what the answers say.
WORKFLOW_LABELS = {
    "todo": N_("Not started"),
    "in_progress": N_("In progress"),
    "in_review": N_("In review"),
    "closed": N_("Closed (work finished)"),
}


class CatalogMissingError(RuntimeError):
    """A compiled catalog (.mo) is missing: run `wa-onboarding i18n compile`."""


def normalise_locale(value: str | None) -> str | None:
    """Map `de-DE`, `EN`, `en_GB` to a supported locale, or None."""
    if not value:
        return None
    base = value.replace("_", "-").split("-")[0].strip().lower()
    return base if base in SUPPORTED_LOCALES else None


@cache
def catalog(locale: str, directory: str = str(LOCALES_DIR)) -> Translations:
    """The compiled catalog of a supported locale; fail loudly if it is missing.

    Without a .mo file gettext silently falls back to English, which would ship
    an English product to German users without anyone noticing.
    """
    mo = Path(directory) / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if locale not in SUPPORTED_LOCALES or not mo.is_file():
        raise CatalogMissingError(f"no compiled catalog for {locale!r} at {mo}: run `wa-onboarding i18n compile`")
    with mo.open("rb") as fp:
        return Translations(fp, domain=DOMAIN)


def check_catalogs(directory: str | Path = LOCALES_DIR) -> None:
    """Raise CatalogMissingError unless every supported locale has a compiled catalog."""
    for locale in SUPPORTED_LOCALES:
        catalog(locale, str(directory))


def text(msg: Msg | None, tr: Translations) -> str | None:
    """Localise one flow text, remembered on the catalog: an export of 1,000 organisations looks up the same texts 30,000 times."""
    if msg is None:
        return None
    memo: dict[tuple[str, str], str] | None = getattr(tr, "_flow_texts", None)
    if memo is None:
        memo = tr._flow_texts = {}  # type: ignore[attr-defined]  # a catalog never changes while the process runs
    key = (msg.context, msg.source)
    found = memo.get(key)
    if found is None:
        found = memo[key] = str(tr.pgettext(msg.context, msg.source))
    return found


def turn_error_message(error: TurnError, tr: Translations, engine: FlowEngine | None = None) -> str:
    """The localised message of a refused turn, naming what is allowed; with the engine, a missing answer is named by the step's kind."""
    params = dict(error.params)
    if isinstance(params.get("allowed"), list):
        params["allowed"] = ", ".join(params["allowed"])
    if isinstance(params.get("steps"), list):  # the questions an amendment would open, by their text where known
        steps = engine.flow.step_by_id if engine is not None else {}
        params["steps"] = "; ".join(text(steps[s].text, tr) or s if s in steps else s for s in params["steps"])
    if "option" in params and engine is not None and error.step in engine.flow.step_by_id:
        step = engine.flow.step_by_id[error.step]
        label = next((o.label for o in step.options if o.value == params["option"]), None)
        params["option"] = text(label, tr) if label else params["option"]
    message = TURN_ERRORS.get(error.code, TURN_ERRORS["unknown_trigger"])
    if error.code in NOTHING_GIVEN and engine is not None and error.step in engine.flow.step_by_id:
        message = REQUIRED_BY_KIND.get(engine.flow.step_by_id[error.step].kind, message)
    template = tr.gettext(message)
    try:
        return template % params
    except (KeyError, TypeError, ValueError):
        return template


def prompt_dict(prompt: Prompt, tr: Translations) -> dict[str, Any]:
    """The public Prompt object of the HTTP contract, localised."""
    out: dict[str, Any] = {
        "step": prompt.step,
        "kind": prompt.kind,
        "text": text(prompt.text, tr),
        "help": text(prompt.help, tr),
        "options": [{"value": o.value, "label": text(o.label, tr), "exclusive": o.exclusive} for o in prompt.options],
        "optional": prompt.optional,
        "progress": {"answered": prompt.answered, "total": prompt.total},
        "value": prompt.value,
        "section": prompt.section,
    }
    if prompt.recommendation is not None:
        rec = prompt.recommendation
        words = recommendation_texts(rec, tr)
        out["recommendation"] = {
            "value": rec.value,
            "reasons": list(rec.reasons),
            "title": words["title"],
            "text": words["text"],
            "reason_texts": [r["text"] for r in words["reasons"]],
        }
    if prompt.checklist is not None:
        out["summary"] = prompt.checklist.summary
    return out


def checklist_dict(checklist: Checklist, tr: Translations) -> dict[str, Any]:
    """The recommendation/items/summary part of the checklist contract, localised."""
    rec = checklist.recommendation
    return {
        "recommendation": {"value": rec.value, "reasons": list(rec.reasons)},
        "items": [
            {
                "id": item.id,
                "status": item.status,
                "title": text(item.title, tr),
                "legal_basis": text(item.legal_basis, tr),
                "action": text(item.action, tr),
                "evidence": text(item.evidence, tr),
            }
            for item in checklist.items
        ],
        "summary": checklist.summary,
    }


def answer_text(step: Step, value: Any, tr: Translations) -> str | None:
    """An answer as a person reads it: option labels for choices, the text as given otherwise."""
    if value is None:
        return None
    labels: dict[str, str] = {o.value: text(o.label, tr) or o.value for o in step.options}
    if isinstance(value, list):
        return ", ".join(labels.get(str(v), str(v)) for v in value)
    return labels.get(str(value), str(value))


def answer_rows(flow: Flow, answers: dict[str, Any], tr: Translations, path: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The question and answer of every asked step (info steps left out), in flow order."""
    steps = [flow.step_by_id[s] for s in path] if path is not None else [s for s in flow.steps if s.id in answers]
    return [
        {"step": s.id, "question": text(s.text, tr), "answer": answer_text(s, answers.get(s.id), tr)}
        for s in steps
        if s.kind != "info"
    ]


def recommendation_texts(rec: RecommendationResult, tr: Translations) -> dict[str, Any]:
    """The recommendation in plain words: title, explanation and reason texts."""
    return {
        "title": text(rec.title, tr),
        "text": text(rec.text, tr),
        "reasons": [{"id": rid, "text": text(m, tr)} for rid, m in zip(rec.reasons, rec.reason_texts, strict=True)],
    }


def extract_flow_yaml(fileobj: Any, keywords: Any, comment_tags: Any, options: Any) -> Iterator[tuple[int, str, tuple[str, str], list[str]]]:
    """Babel extractor for flows/*.yaml: one pgettext entry per flow text.

    msgctxt is `flow.step.field`; the line number is where the text stands.
    """
    data = fileobj.read()
    source = data.decode("utf-8") if isinstance(data, bytes) else data
    lines: dict[str, int] = {}
    for node in _scalar_nodes(yaml.compose(source)):
        lines.setdefault(node.value, node.start_mark.line + 1)
    from .flowcode import FLOW_CODE  # not at the top: the flows' document builders import this module

    flow = parse_flow(yaml.safe_load(source), source=getattr(fileobj, "name", "<flow>"), code=FLOW_CODE)
    for msg in flow.messages():
        yield lines.get(msg.source, 0), "pgettext", (msg.context, msg.source), []


def _scalar_nodes(node: Any) -> Iterator[Any]:
    if isinstance(node, yaml.ScalarNode):
        yield node
    elif isinstance(node, yaml.SequenceNode):
        for child in node.value:
            yield from _scalar_nodes(child)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _scalar_nodes(key)
            yield from _scalar_nodes(value)
