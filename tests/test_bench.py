"""`make bench` runs (in its short mode) and writes its report. No timing is asserted: numbers drift."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import contract

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_bench_short_mode_produces_its_report(tmp_path):
    report_file = tmp_path / "bench-report.json"
    result = subprocess.run(
        ["make", "-s", "bench", f"BENCH_ARGS=--short --databases sqlite --report {report_file}"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    for line in (
        "engine turn:",
        "HTTP turns on sqlite",
        "throughput",
        "exports: PDF",
        "CSV of 100 organisations",
        "living checklist on sqlite",
        "10 MB upload",
        "reminders job on sqlite (50 organisations",
        "memory: worker RSS",
    ):
        assert line in result.stdout
    report = json.loads(report_file.read_text())
    http = report["http"][0]
    assert http["database"] == "sqlite" and http["ceiling"]["turns"] > 0 and http["product"]["turns"] > 0
    assert http["ceiling"]["errors"] == 0 and http["product"]["errors"] == 0  # every benchmark turn was accepted
    assert report["exports"]["csv_rows"] == 100 * len(contract.item_ids(2))  # one row per item of the latest version, per organisation
    living = report["living"][0]
    assert living["database"] == "sqlite" and living["checklist_json_ms"] > 0 and living["upload_10mb_ms"] > 0
    reminders = report["reminders"][0]
    assert reminders["database"] == "sqlite" and reminders["organisations"] == 50
    assert reminders["first"]["notices"] > 0 and reminders["first"]["mails"] > 0 and reminders["first"]["webhooks"] > 0
    assert reminders["notices_stored"] == reminders["first"]["notices"]  # every notice was stored once
    assert reminders["second"]["notices"] == 0 and reminders["second"]["mails"] == 0 and reminders["second"]["webhooks"] == 0  # the sent-log
    assert reminders["outbox"]["mail"] == reminders["first"]["mails"] and reminders["first"]["queries"] > 0
    assert report["memory"]["rss_after_kib"] > 0 and report["engine_turn_median_us"] > 0
