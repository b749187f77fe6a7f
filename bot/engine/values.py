"""Validate and normalise an answer value for a step; refusals are TurnError keys."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .errors import TurnError

if TYPE_CHECKING:
    from .model import Step

TEXT_LIMIT = 2000
INFO_VALUE = "ok"

# Deliberately simple: one @, no spaces, a dot in the domain. Full RFC 5322 is
# neither needed nor helpful for a contact address shown in a privacy text.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def _email(value: str) -> str | None:
    return None if _EMAIL.match(value) else "invalid_email"


def _http_url(value: str) -> str | None:
    try:
        parts = urlsplit(value)
    except ValueError:
        return "invalid_url"
    ok = parts.scheme in ("http", "https") and bool(parts.hostname) and "." in (parts.hostname or "") and " " not in value
    return None if ok else "invalid_url"


TEXT_VALIDATORS: dict[str, Callable[[str], str | None]] = {"email": _email, "http_url": _http_url}


def validate_value(step: Step, raw: Any) -> Any:
    """Return the normalised value for `step`, or raise TurnError with a code.

    choice: one of the option values. multi: a non-empty list of option values
    without duplicates, in option order; an exclusive option stands alone.
    text: a string of at most 2,000 characters, stored as given; an optional step
    takes an empty string as "no answer" (None). info: the value "ok".
    """
    if step.kind == "choice":
        if not isinstance(raw, str):
            raise TurnError("wrong_type", step.id, expected="string")
        if raw not in step.values:
            raise TurnError("invalid_value", step.id, allowed=list(step.values))
        return raw
    if step.kind == "multi":
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            raise TurnError("wrong_type", step.id, expected="list of strings")
        if not raw:
            raise TurnError("empty_selection", step.id, allowed=list(step.values))
        unknown = [v for v in raw if v not in step.values]
        if unknown:
            raise TurnError("invalid_value", step.id, allowed=list(step.values), given=unknown)
        chosen = set(raw)
        for option in step.options:
            if option.exclusive and option.value in chosen and len(chosen) > 1:
                raise TurnError("exclusive_option", step.id, option=option.value)
        return [v for v in step.values if v in chosen]
    if step.kind == "text":
        if not isinstance(raw, str):
            raise TurnError("wrong_type", step.id, expected="string")
        if len(raw) > TEXT_LIMIT:
            raise TurnError("text_too_long", step.id, limit=TEXT_LIMIT)
        if not raw.strip():
            if step.optional:
                return None
            raise TurnError("value_required", step.id)
        if step.validator:
            code = TEXT_VALIDATORS[step.validator](raw.strip())
            if code:
                raise TurnError(code, step.id)
        return raw
    if raw != INFO_VALUE:
        raise TurnError("invalid_value", step.id, allowed=[INFO_VALUE])
    return INFO_VALUE
