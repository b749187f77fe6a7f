"""`make bench`: every benchmark in one run; each figure beside its target with PASS or FAIL, and bench-report.json.

    python bench/run.py            the full run (a few minutes): HTTP turns 30 s per app on SQLite and
                                   PostgreSQL, the page budgets on 200 organisations, exports of 1,000
                                   organisations, the reminders job for 100 and 1,000 organisations,
                                   10,000 assessments and 1,000 downloads for the memory
    python bench/run.py --short    a quick run of the same code (the test suite uses it)
Benchmarks are not tests: they report against the targets in docs/performance.md; the exit status is 0
whatever the numbers (a slow machine is not a broken build).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import budgets, engine_turn, exports, http_turns, memory, reminders  # noqa: E402
from bench.report import Figure, summary  # noqa: E402
from bench.seed import Shape  # noqa: E402

SHORT_SHAPE = Shape(organisations=20, evidence=20, comments=50, audit_entries=1_000)


def main() -> int:
    """Run everything; print each section, then every figure with its verdict; write the report as JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", action="store_true", help="a quick run (seconds, not minutes)")
    parser.add_argument("--databases", default="sqlite,postgres", help="for the database benchmarks (default: sqlite,postgres)")
    parser.add_argument("--report", default=str(ROOT / "bench-report.json"))
    args = parser.parse_args()
    started = time.time()
    databases = tuple(kind for kind in args.databases.split(",") if kind)
    report: dict[str, object] = {"short": args.short, "machine": {"python": platform.python_version(), "cpus": _cpus(), "system": platform.platform()}}
    figures: list[Figure] = []

    median_us = engine_turn.main(3 if args.short else 30)
    report["engine_turn_median_us"] = median_us
    figures.append(engine_turn.figure(median_us))
    report["http"] = []
    for kind in databases:
        if kind == "postgres" and not http_turns.pg_up():
            print("HTTP turns on postgres: skipped (PostgreSQL is not reachable on 127.0.0.1:5432)")
            continue
        result = http_turns.run(kind, 3.0 if args.short else 30.0, 2 if args.short else 10)
        report["http"].append(result)
        print(http_turns.describe(result))
        figures.extend(http_turns.figures(result))
    budget_results = budgets.run(3 if args.short else 15, databases, SHORT_SHAPE if args.short else budgets.FULL)
    report["budgets"] = budget_results
    print(budgets.describe(budget_results))
    figures.extend(budgets.figures(budget_results))
    export_result = exports.run(100 if args.short else 1000, 3 if args.short else 5)
    report["exports"] = export_result
    print(exports.describe(export_result))
    figures.extend(exports.figures(export_result))
    reminders_result = reminders.run((50,) if args.short else reminders.SIZES, databases)
    report["reminders"] = reminders_result
    print(reminders.describe(reminders_result))
    figures.extend(reminders.figures(reminders_result))
    memory_result = memory.run(400 if args.short else 10_000)
    report["memory"] = memory_result
    print(memory.describe(memory_result))
    figures.extend(memory.figures(memory_result))

    print("\nevery figure against its target" + (" (short mode: smaller data, so a number below is not the full run's)" if args.short else "") + ":")
    for figure in figures:
        print(figure.line())
    print(summary(figures))
    report["figures"] = [figure.as_dict() for figure in figures]
    report["seconds"] = round(time.time() - started, 1)
    Path(args.report).write_text(json.dumps(report, indent=2), "utf-8")
    print(f"report: {args.report} ({report['seconds']} s)")
    return 0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
