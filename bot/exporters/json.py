"""JSON export: the checklist object of the HTTP contract, UTF-8."""

from __future__ import annotations

import json

from . import Report

MEDIA_TYPE = "application/json; charset=utf-8"


def render(report: Report) -> str:
    """Serialise the report's contract object (umlauts kept as they are)."""
    return json.dumps(report.data, ensure_ascii=False, indent=2) + "\n"
