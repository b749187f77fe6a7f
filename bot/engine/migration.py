"""Carrying answers over to another version of the same flow (a re-assessment, or a preview of one).

One function serves the manager area's "what the new version changes" and the turn
service's re-assessment, so the preview and the real re-assessment cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import TurnError
from .model import Flow
from .values import validate_value
from .vocabulary import StepKind


def migrate_answers(flow: Flow, from_version: int, answers: Mapping[str, Any]) -> dict[str, Any] | None:
    """`answers` of `from_version` as `flow` reads them, in flow order; None when the flow registers no migration from that version.

    The flow's own version: as they are. Otherwise through `flow.migrations[from_version]`;
    either way only valid answers of `flow`'s question steps are kept (info steps, such as
    the recommendation, are shown again, never carried over).
    """
    if from_version == flow.version:
        carried: Mapping[str, Any] = answers
    else:
        migration = flow.migrations.get(from_version)
        if migration is None:
            return None
        carried = migration(dict(answers))
    migrated: dict[str, Any] = {}
    for step in flow.steps:
        if step.kind is StepKind.INFO or carried.get(step.id) is None:
            continue
        try:
            migrated[step.id] = validate_value(step, carried[step.id])
        except TurnError:
            continue  # a value this version does not offer: asked again
    return migrated
