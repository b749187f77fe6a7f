"""Benchmark: exports. One checklist as PDF and XLSX, and the CSV of 1,000 organisations' checklists.

Targets (DESIGN.md): a checklist PDF <= 300 ms; the CSV of 1,000 organisations <= 2 s.
The CSV is fetched the way a consultant gets it: GET /manage/checklists.csv, logged in.
"""

from __future__ import annotations

import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_turns import scenario  # noqa: E402
from bench.report import Figure  # noqa: E402
from bot.gunicorn_conf import post_worker_init  # noqa: E402

PDF_TARGET_MS = 300.0
XLSX_TARGET_MS = 150.0
CSV_TARGET_S = 2.0


def _median_ms(action, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def run(organisations: int = 1000, rounds: int = 5) -> dict[str, Any]:
    """Time the PDF and XLSX of one checklist and the CSV of `organisations` checklists."""
    from bot import create_app
    from bot.exporters import build_report, formats
    from bot.i18n import catalog
    from bot.store import db
    from bot.store.models import utcnow

    folder = tempfile.mkdtemp(prefix="wa-bench-")
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{folder}/exports.sqlite", "WTF_CSRF_ENABLED": False})
    db.upgrade(app)
    engine = app.extensions["engines"].get("whatsapp_gdpr")
    _path, answers = scenario()
    effective = engine.effective_answers(answers)
    tr = catalog("de", app.config["LOCALES_DIR"])
    report = build_report(engine.flow, engine.checklist(effective), tr, "de", answers=effective, org={"slug": "x", "name": "Bäckerei Muster GmbH"},
                          assessment={"completed_at": utcnow().isoformat(), "flow": "whatsapp_gdpr", "version": engine.flow.version})  # fmt: skip
    exporters = formats()
    formats()["pdf"].render(report)  # warm up: font files, imports
    post_worker_init(None)  # as a production worker does once the app is loaded (bot/gunicorn_conf.py)
    try:
        return _timed(app, engine, report, exporters, answers, effective, organisations, rounds)
    finally:
        gc.unfreeze()


def _timed(app: Any, engine: Any, report: Any, exporters: Any, answers: Any, effective: Any, organisations: int, rounds: int) -> dict[str, Any]:
    """The timings of `run`, once the app is loaded."""
    from bot.store import db
    from bot.store.managers import create_manager
    from bot.store.models import Assessment, Organisation, utcnow

    result: dict[str, Any] = {
        "pdf_ms": _median_ms(lambda: exporters["pdf"].render(report), rounds),
        "xlsx_ms": _median_ms(lambda: exporters["xlsx"].render(report), rounds),
        "organisations": organisations,
    }
    with app.app_context():
        session = db.session()
        orgs = [Organisation(slug=f"org-{i:04d}", name=f"Kunde {i} GmbH", locale="de") for i in range(organisations)]
        session.add_all(orgs)
        session.flush()
        now = utcnow()
        done = {"flow_id": "whatsapp_gdpr", "flow_version": engine.flow.version, "state": "done", "answers": answers, "locale": "de", "surface": "api"}
        times = {"created_at": now, "updated_at": now, "completed_at": now, "recorded_at": now}  # each the organisation's checklist of record
        done["started_via"] = "respondent_link"
        session.add_all(Assessment(organisation_id=o.id, completed_answers=effective, **done, **times) for o in orgs)
        session.commit()
        create_manager(session, "consultant@example.de", [], password="bench-password", operator=True)
    client = app.test_client()
    client.post("/manage/login", data={"email": "consultant@example.de", "password": "bench-password"})
    started = time.perf_counter()
    response = client.get("/manage/checklists.csv")
    result["csv_s"] = time.perf_counter() - started
    result["csv_rows"] = response.data.decode("utf-8").count("\r\n") - 1
    assert response.status_code == 200 and result["csv_rows"] == len(engine.flow.checklist) * organisations, (response.status_code, result["csv_rows"])
    app.extensions["db_engine"].dispose()
    return result


def figures(result: dict[str, Any]) -> list[Figure]:
    """The PDF, XLSX and all-organisations CSV against their targets."""
    rows = f"{result['csv_rows']:,} rows"
    return [
        Figure("export: PDF of one checklist (render), median", result["pdf_ms"], "ms", PDF_TARGET_MS),
        Figure("export: XLSX of one checklist (render), median", result["xlsx_ms"], "ms", XLSX_TARGET_MS),
        Figure(f"export: CSV of {result['organisations']:,} organisations, sqlite", result["csv_s"], "s", CSV_TARGET_S, detail=rows),
    ]


def describe(result: dict[str, Any]) -> str:
    """A readable report."""
    return "exports:\n" + "\n".join(f.line() for f in figures(result))


if __name__ == "__main__":
    print(describe(run(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)))
