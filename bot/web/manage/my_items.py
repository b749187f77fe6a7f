"""'My items': the open items a manager takes care of, across all their organisations, by due date.

A consultant may look after hundreds of organisations: the page reads the manager's
tracking rows in one query, the checklists of record of only the organisations that
have such items in one more, and derives just those checklists (pure and fast);
it never builds a full report per organisation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

from flask import render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date, get_translations, gettext
from flask_login import login_required

from ...i18n import STATUS_LABELS, text
from ...review import review_due
from ...store import assessments as store
from ...store import portfolio
from ...store.db import session
from ...store.models import Assessment, Organisation, utcnow
from ...turns import FlowUnavailableError
from .. import turn_service
from ..items import WORKFLOW_LABELS, review_interval
from . import bp, kept_language, me, page_locale


@dataclass(frozen=True)
class MyItem:
    """One row of 'my items'."""

    organisation: Organisation
    item_id: str
    title: str
    status: str
    workflow: str
    due: date | None
    overdue: bool
    needs_review: bool
    risk_until: date | None
    url: str

    def sort_key(self) -> tuple[Any, ...]:
        """By due date (none last), then organisation and item."""
        return (self.due is None, self.due or date.max, self.organisation.name.casefold(), self.organisation.slug, self.item_id)


# Stand-ins for the slug and item id in a link built once per page (`url_for` per row was a tenth of the page's time).
_SLUG, _ITEM = "__slug__", "__item__"


def item_urls() -> Callable[[str, str], str]:
    """A function that gives the item page's link for (slug, item id), with the page's language kept."""
    pattern = url_for("manage.item", slug=_SLUG, item_id=_ITEM, **kept_language())
    return lambda slug, item_id: pattern.replace(_SLUG, quote(slug, safe=""), 1).replace(_ITEM, quote(item_id, safe=""), 1)


def collect() -> list[MyItem]:
    """The current manager's open items (workflow not closed) in the organisations they see, by due date."""
    owned = portfolio.owned_items(session(), me())
    organisations = list({entry.organisation.id: entry.organisation for entry in owned}.values())
    records = store.overview(session(), organisations)
    now = utcnow()
    today = now.date()
    expired = portfolio.expired_evidence(session(), (o.id for o in organisations), today)
    tr = get_translations()
    interval = review_interval()
    item_url = item_urls()
    checklists: dict[int, dict[str, Any]] = {}
    due_for_review: dict[int, bool] = {}
    for organisation in organisations:
        record: Assessment | None = records[organisation.id][0]
        if record is None or record.completed_answers is None:
            continue
        try:
            checklist = turn_service().engine_for(record).checklist(record.completed_answers)
        except FlowUnavailableError:
            continue  # a removed flow version: its items cannot be shown (the organisation page says why)
        checklists[organisation.id] = {item.id: item for item in checklist.items}
        due_for_review[organisation.id] = review_due(record.recorded_at, now, interval)
    rows = []
    for entry in owned:
        org, row = entry.organisation, entry.tracking
        item = checklists.get(org.id, {}).get(row.item_id)
        if item is None:
            continue  # no checklist of record, or an item the current flow version no longer has
        risk = row.risk_until if row.risk_reason is not None and row.risk_until is not None and row.risk_until >= today else None
        rows.append(
            MyItem(
                organisation=org,
                item_id=row.item_id,
                title=text(item.title, tr) or row.item_id,
                status=str(item.status),
                workflow=row.workflow,
                due=row.due,
                overdue=row.due is not None and row.due < today,
                needs_review=due_for_review[org.id] or (org.id, row.item_id) in expired,
                risk_until=risk,
                url=item_url(org.slug, row.item_id),
            )
        )
    return sorted(rows, key=MyItem.sort_key)


@bp.get("/my-items")
@login_required
def my_items() -> ResponseReturnValue:
    """The items this manager takes care of that are not closed, across their organisations, soonest due first."""
    rows = collect()
    # Each label and date once per page, not once per row: a consultant's page can have thousands of rows.
    due_texts = {day: format_date(day, "medium") for day in {row.due for row in rows if row.due is not None}}
    return render_template(
        "manage/my_items.html",
        rows=rows,
        organisations=len({r.organisation.id for r in rows}),
        status_labels={status: gettext(label) for status, label in STATUS_LABELS.items()},
        workflow_labels={state: gettext(label) for state, label in WORKFLOW_LABELS.items()},
        due_texts=due_texts,
        locale=page_locale(),
        is_operator=me().is_operator,
    )
