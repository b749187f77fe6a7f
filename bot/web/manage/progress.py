"""Progress over time in the manager area: the chart of one organisation, and the portfolio of all the manager's organisations with their trend.

The charts are SVG drawn on the server (`bot/charts.py`): no script, no requests
elsewhere, readable without colour, with the same numbers in a table. The portfolio
answers for hundreds of organisations with a handful of queries: the checklists of
record in one, active risk acceptances and expired evidence in one each, and all
progress snapshots of the window in one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import format_date, gettext
from flask_login import login_required
from markupsafe import Markup

from ... import charts
from ...i18n import N_
from ...review import review_due
from ...store import assessments as store
from ...store import managers, portfolio, tracking
from ...store.db import session
from ...store.models import Organisation, utcnow
from ...turns import FlowUnavailableError
from ...worklist import RISK_STATUSES
from .. import turn_service
from ..items import WORKFLOW_LABELS, review_interval
from . import bp, me, page_locale, visible_organisation_or_404

CHART_DAYS = (30, 90, 365)
PORTFOLIO_DAYS = (30, 90)
DEFAULT_DAYS = 90
# The chart's lines, in the order of SERIES; "closed" is the workflow state, the others the assessed status.
LINE_LABELS = {
    "critical": N_("Critical"),
    "open": N_("To do"),
    "done": N_("Done"),
    "closed": WORKFLOW_LABELS["closed"],
    "risk_accepted": N_("Risks accepted"),
}
# The portfolio's trend: the sparkline's lines and the changes said in words.
TREND_LINES = ("critical", "open")
TREND_CHANGES = ("critical", "open", "done")


def chosen_days(allowed: tuple[int, ...]) -> int:
    """The window the page asks for (`?days=`), the default for anything else."""
    raw = request.args.get("days", "")
    return int(raw) if raw.isdigit() and int(raw) in allowed else DEFAULT_DAYS


def labels() -> dict[str, str]:
    """The chart's line labels in the page's language."""
    return {key: gettext(label) for key, label in LINE_LABELS.items()}


def changes_text(values: dict[str, list[int | None]], names: dict[str, str], keys: tuple[str, ...]) -> list[tuple[str, str, int, int]]:
    """Each series' first and last value in the window: (key, label, before, after), for those with a value."""
    out = []
    for key in keys:
        found = charts.change(values[key])
        if found is not None:
            out.append((key, names[key], found[0], found[1]))
    return out


def changed_days(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The days on which the counts changed (and the last day), for the table beside the chart."""
    rows = []
    previous: Any = None
    for index, entry in enumerate(entries):
        if entry["counts"] is None:
            continue
        if entry["counts"] != previous or index == len(entries) - 1:
            rows.append({"day": date.fromisoformat(entry["day"]), **{key: charts.value_of(entry["counts"], key) for key in charts.SERIES}})
        previous = entry["counts"]
    return rows


@bp.get("/orgs/<slug>/progress")
@login_required
def progress(slug: str) -> ResponseReturnValue:
    """The organisation's progress over 30, 90 or 365 days: a line chart and a table of the days that changed."""
    org = visible_organisation_or_404(slug)
    days = chosen_days(CHART_DAYS)
    entries = tracking.progress(session(), org, days)
    names = labels()
    chart = None
    summary: list[tuple[str, str, int, int]] = []
    if any(entry["counts"] is not None for entry in entries):
        values = charts.series_of(entries)
        summary = changes_text(values, names, tuple(charts.SERIES))
        start, end = date.fromisoformat(entries[0]["day"]), date.fromisoformat(entries[-1]["day"])
        title = gettext("Progress of %(name)s over the last %(days)s days", name=org.name, days=days)
        said = "; ".join(gettext("%(label)s: %(before)s → %(after)s", label=label, before=before, after=after) for _k, label, before, after in summary)
        desc = gettext(
            "Items per assessed status, items closed in the workflow and risks accepted from %(start)s to %(end)s. %(changes)s.",
            start=format_date(start, "long"),
            end=format_date(end, "long"),
            changes=said,
        )
        # Built with ElementTree: every text in it (the organisation's name too) is escaped.
        chart = Markup(charts.progress_chart(entries, names, title, desc, lambda day: format_date(day, "short")))
    return render_template(
        "manage/progress.html",
        org=org,
        days=days,
        choices=CHART_DAYS,
        chart=chart,
        summary=summary,
        rows=changed_days(entries),
        names=names,
        series=tuple(charts.SERIES),
        locale=page_locale(),
    )


@dataclass
class PortfolioRow:
    """One organisation in the portfolio: its current counts and its trend."""

    org: Organisation
    summary: dict[str, int] | None = None
    risk_accepted: int = 0
    needs_review: int = 0
    review_due: bool = False
    trend: Markup | None = None
    changes: list[tuple[str, str, int, int]] = field(default_factory=list)


def portfolio_rows(organisations: list[Organisation], days: int) -> list[PortfolioRow]:
    """Every organisation's current counts (from its checklist of record) and trend (from its snapshots), in a handful of queries."""
    now = utcnow()
    today = now.date()
    start = today - timedelta(days=days - 1)
    ids = [o.id for o in organisations]
    records = store.overview(session(), organisations)
    risks = portfolio.active_risks(session(), ids, today)
    expired = portfolio.expired_evidence(session(), ids, today)
    snapshots = portfolio.snapshots(session(), ids, start, today)
    interval = review_interval()
    names = labels()
    rows = []
    for org in organisations:
        row = PortfolioRow(org)
        record = records[org.id][0]
        if record is not None and record.completed_answers is not None:
            try:
                checklist = turn_service().engine_for(record).checklist(record.completed_answers)
            except FlowUnavailableError:
                checklist = None
            if checklist is not None:
                item_ids = [item.id for item in checklist.items]
                row.summary = checklist.summary
                # An accepted risk counts while its item is open or critical (bot/worklist.py: RISK_STATUSES).
                row.risk_accepted = sum(1 for i in checklist.items if i.status in RISK_STATUSES and (org.id, i.id) in risks)
                # One definition of "needs review" (bot/worklist.py): every item when the checklist is due, else those with expired evidence.
                row.review_due = review_due(record.recorded_at, now, interval)
                row.needs_review = len(item_ids) if row.review_due else sum(1 for i in item_ids if (org.id, i) in expired)
        entries = portfolio.daily(snapshots.get(org.id, []), start, days)
        if any(entry["counts"] is not None for entry in entries):
            values = charts.series_of(entries, TREND_LINES + tuple(k for k in TREND_CHANGES if k not in TREND_LINES))
            row.changes = changes_text(values, names, TREND_CHANGES)
            said = "; ".join(gettext("%(label)s: %(before)s → %(after)s", label=label, before=b, after=a) for k, label, b, a in row.changes if k in TREND_LINES)
            title = gettext(
                "Trend of %(name)s over %(days)s days (solid line: critical, dashed line: to do). %(changes)s.", name=org.name, days=days, changes=said
            )
            row.trend = Markup(charts.sparkline({k: values[k] for k in TREND_LINES}, title, f"trend-{org.id}"))
        rows.append(row)
    return rows


@bp.get("/portfolio", endpoint="portfolio")
@login_required
def portfolio_page() -> ResponseReturnValue:
    """Every organisation of this manager with its current counts and its trend over 30 or 90 days."""
    organisations = sorted(managers.visible_organisations(session(), me()), key=lambda o: (o.name.casefold(), o.slug))
    days = chosen_days(PORTFOLIO_DAYS)
    return render_template(
        "manage/portfolio.html",
        rows=portfolio_rows(organisations, days),
        days=days,
        choices=PORTFOLIO_DAYS,
        locale=page_locale(),
        is_operator=me().is_operator,
    )
