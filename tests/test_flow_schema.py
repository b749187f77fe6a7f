"""flows/schema.json: it accepts the real flows, refuses broken ones with a useful message, and `flows check` uses it."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from jsonschema import Draft202012Validator

from bot.engine.lint import schema_problems
from tests.conftest import FLOW_FILE

SCHEMA = json.loads((FLOW_FILE.parent / "schema.json").read_text("utf-8"))
RAW = yaml.safe_load(FLOW_FILE.read_text("utf-8"))


def test_the_schema_is_valid_draft_2020_12_and_the_flow_files_point_at_it():
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    for path in FLOW_FILE.parent.glob("*.yaml"):
        assert path.read_text("utf-8").startswith("# yaml-language-server: $schema=schema.json\n"), path.name


def test_the_schema_accepts_every_flow_file():
    for path in FLOW_FILE.parent.glob("*.yaml"):
        assert schema_problems(yaml.safe_load(path.read_text("utf-8")), path.name, SCHEMA) == []


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda f: f["steps"][0].__setitem__("kind", "slider"), "steps/0/kind: 'slider' is not one of ['choice', 'multi', 'text', 'info']"),
        (lambda f: f["steps"][1]["options"][0].__setitem__("value", False), "steps/1/options/0/value: False is not of type 'string'"),
        (lambda f: f["steps"][1].__setitem__("asked_wen", "x"), "steps/1: Additional properties are not allowed ('asked_wen' was unexpected)"),
        (lambda f: f["checklist"][0]["rules"][0].__setitem__("status", "maybe"), "checklist/0/rules/0/status: 'maybe' is not one of"),
        (
            lambda f: f["steps"][1].__setitem__("asked_when", [{"step": "purpose", "equals": "x"}]),
            "steps/1/asked_when/0: Additional properties are not allowed ('equals' was unexpected)",
        ),
        (lambda f: f.pop("finish"), "top level: 'finish' is a required property"),
    ],
)
def test_the_schema_refuses_broken_flows_naming_the_place(mutate, expected):
    raw = copy.deepcopy(RAW)
    mutate(raw)
    problems = schema_problems(raw, "broken.yaml", SCHEMA)
    assert problems, "the schema accepted a broken flow"
    assert any(p.startswith(f"broken.yaml: {expected}") for p in problems), problems


def test_flows_check_reports_schema_problems(tmp_path):
    from click.testing import CliRunner

    from bot.cli import cli

    question = '    text: "What do you want to use WhatsApp for?"'
    text = FLOW_FILE.read_text("utf-8").replace(question, question + '\n    hint: "typo"', 1)
    (tmp_path / "whatsapp_gdpr.yaml").write_text(text, "utf-8")
    result = CliRunner().invoke(cli, ["flows", "check", "--flows-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "whatsapp_gdpr.yaml: steps/0: Additional properties are not allowed ('hint' was unexpected) (schema)" in result.output
