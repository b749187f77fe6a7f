"""`make bench`: every benchmark in one run, printed and written to bench-report.json.

    python bench/run.py            the full run (HTTP turns 15 s per app on SQLite and PostgreSQL,
                                   1,000 organisations, 10,000 assessments, the reminders job for
                                   100 and 1,000 organisations)
    python bench/run.py --short    a quick run of the same code (the test suite uses it)
Benchmarks are not tests: they report against the targets in DESIGN.md and never fail on a number.
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

from bench import engine_turn, exports, http_turns, living, memory, reminders  # noqa: E402


def main() -> int:
    """Run everything; print the report and write it as JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", action="store_true", help="a quick run (seconds, not minutes)")
    parser.add_argument("--databases", default="sqlite,postgres", help="for the HTTP benchmark (default: sqlite,postgres)")
    parser.add_argument("--report", default=str(ROOT / "bench-report.json"))
    args = parser.parse_args()
    started = time.time()
    report: dict[str, object] = {"short": args.short, "machine": {"python": platform.python_version(), "cpus": _cpus(), "system": platform.platform()}}

    report["engine_turn_median_us"] = engine_turn.main(3 if args.short else 30)
    report["http"] = []
    for kind in args.databases.split(","):
        if kind == "postgres" and not http_turns.pg_up():
            print("HTTP turns on postgres: skipped (PostgreSQL is not reachable on 127.0.0.1:5432)")
            continue
        result = http_turns.run(kind, 3.0 if args.short else 15.0)
        report["http"].append(result)
        print(http_turns.describe(result))
    export_result = exports.run(100 if args.short else 1000, 3 if args.short else 5)
    report["exports"] = export_result
    print(exports.describe(export_result))
    databases = tuple(kind for kind in args.databases.split(",") if kind)
    living_result = living.run(3 if args.short else 5, 20 if args.short else living.CONSULTANT_ORGS, databases)
    report["living"] = living_result
    print(living.describe(living_result))
    reminders_result = reminders.run((50,) if args.short else reminders.SIZES, databases)
    report["reminders"] = reminders_result
    print(reminders.describe(reminders_result))
    memory_result = memory.run(400 if args.short else 10_000)
    report["memory"] = memory_result
    print(memory.describe(memory_result))
    report["seconds"] = round(time.time() - started, 1)
    Path(args.report).write_text(json.dumps(report, indent=2), "utf-8")
    print(f"report: {args.report} ({report['seconds']} s)")
    return 0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
