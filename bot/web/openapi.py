"""The OpenAPI document of the HTTP contract, kept as YAML beside this module and served as JSON."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from flask import Blueprint, jsonify

OPENAPI_FILE = Path(__file__).resolve().parent / "openapi.yaml"

bp = Blueprint("openapi", __name__)


@cache
def document() -> dict[str, Any]:
    """The OpenAPI document (read once)."""
    with OPENAPI_FILE.open(encoding="utf-8") as fp:
        return yaml.safe_load(fp)


@bp.get("/api/openapi.json")
def openapi_json():
    """Serve the OpenAPI document."""
    return jsonify(document())
