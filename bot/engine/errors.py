"""Errors of the engine: a broken flow file, and a refused turn (as a key)."""

from __future__ import annotations

from typing import Any


class FlowError(ValueError):
    """A flow file is malformed; the message names the file, the place and the problem."""

    def __init__(self, source: str, where: str, problem: str) -> None:
        """Keep the parts so that callers can show them separately."""
        self.source = source
        self.where = where
        self.problem = problem
        super().__init__(f"{source}: {where}: {problem}" if where else f"{source}: {problem}")


class TurnError(Exception):
    """A turn was refused. `code` is a stable key; `params` fill the localised message.

    Codes: `stale_step` (the step is not the current one), `invalid_value` (not among
    the options; params `allowed`), `exclusive_option` (params `option`), `empty_selection`,
    `wrong_type` (params `expected`), `value_required`, `text_too_long` (params `limit`),
    `invalid_email`, `invalid_url`, `not_optional` (skip on a required step),
    `no_previous_step`, `flow_finished`, `unknown_step`, `unknown_trigger`.
    """

    def __init__(self, code: str, step: str | None = None, **params: Any) -> None:
        """Record the error code, the step it concerns and the message parameters."""
        self.code = code
        self.step = step
        self.params = params
        super().__init__(f"{code} at {step}: {params}" if params else f"{code} at {step}")
