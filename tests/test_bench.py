"""`make bench` runs (in its short mode) and writes its report. No timing is asserted: numbers drift."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.budgets import PAGES
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
        "chat turn throughput vs ceiling, sqlite",
        "exports:",
        "CSV of 100 organisations",
        "page budgets on sqlite (20 organisations",
        "evidence upload of 10 MB, median, sqlite",
        "daily reminder job, 20 organisations, sqlite",
        "reminders job on sqlite (50 organisations",
        "worker RSS growth over 400 assessments and 40 evidence downloads",
        "every figure against its target",
    ):
        assert line in result.stdout
    report = json.loads(report_file.read_text())
    http = report["http"][0]
    assert http["database"] == "sqlite" and http["ceiling"]["turns"] > 0 and http["product"]["turns"] > 0
    assert http["ceiling"]["errors"] == 0 and http["product"]["errors"] == 0  # every benchmark turn was accepted
    assert report["exports"]["csv_rows"] == 100 * len(contract.item_ids(2))  # one row per item of the latest version, per organisation
    budgets = report["budgets"][0]
    assert budgets["database"] == "sqlite" and set(budgets["pages"]) == {page.key for page in PAGES}
    assert all(page["median_ms"] > 0 and page["queries"] > 0 for page in budgets["pages"].values())
    assert budgets["upload_10mb"]["median_ms"] > 0 and budgets["reminders"]["queries"] > 0
    # Every figure is printed once with its verdict, and the report keeps them all.
    figures = report["figures"]
    assert len(figures) == len(PAGES) * 2 + 3 + 3 + 1 + 3 + 1  # pages (median, p95), upload and job, turns, engine, exports, memory
    for figure in figures:
        verdict = "PASS" if figure["passed"] else "FAIL"
        assert sum(1 for line in result.stdout.splitlines() if line.startswith(f"  {verdict}  {figure['name']} ")) == 2, figure["name"]  # section + table
    assert f"{len(figures)} figures: " in result.stdout
    reminders = report["reminders"][0]
    assert reminders["database"] == "sqlite" and reminders["organisations"] == 50
    assert reminders["first"]["notices"] > 0 and reminders["first"]["mails"] > 0 and reminders["first"]["webhooks"] > 0
    assert reminders["notices_stored"] == reminders["first"]["notices"]  # every notice was stored once
    assert reminders["second"]["notices"] == 0 and reminders["second"]["mails"] == 0 and reminders["second"]["webhooks"] == 0  # the sent-log
    assert reminders["outbox"]["mail"] == reminders["first"]["mails"] and reminders["first"]["queries"] > 0
    assert report["memory"]["rss_after_kib"] > 0 and report["engine_turn_median_us"] > 0
