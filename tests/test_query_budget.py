"""Every page people wait on runs as many SQL statements for 9 organisations as for 3: none per organisation, item, evidence or entry.

The pages are those of the budgets in bench/budgets.py, on the same seed (bench/seed.py) in small
numbers: a consultant who is admin of every organisation, a busy organisation with evidence,
comments and audit entries. Statements are counted, never timed.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event

from bench.budgets import PAGES
from bench.seed import Shape, seed
from tests.conftest import _fresh_app

SMALL, LARGE = 3, 9


def statement_counts(app, shape: Shape) -> dict[str, int]:
    """Seed `shape`, log in as the consultant and count the statements of one fetch of each page (after a warm-up fetch)."""
    seeded = seed(app, shape)
    client = app.test_client()
    assert client.post("/manage/login", data={"email": seeded.email, "password": seeded.password}).status_code in (302, 303)
    auth = {"Authorization": f"Bearer {seeded.token}"}
    engine = app.extensions["db_engine"]
    counts = {}
    for page in PAGES:
        path = page.path.format(org=seeded.busiest, item=seeded.item)
        headers = auth if page.api else None
        assert client.get(path, headers=headers).status_code == 200, path
        seen: list[str] = []
        listener = lambda *args, seen=seen: seen.append(args[2])  # noqa: E731 (before_cursor_execute: conn, cursor, statement, ...)
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get(path, headers=headers).status_code == 200, path
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        counts[page.key] = len(seen)
    return counts


def shape(organisations: int) -> Shape:
    """More organisations, and more evidence, comments and entries on the busiest one as well."""
    return Shape(organisations=organisations, evidence=organisations, comments=2 * organisations, audit_entries=20 * organisations)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow])])
def test_queries_per_page_do_not_grow_with_the_organisations(backend, request, tmp_path, locales_dir):
    if backend == "postgres":
        urls = [request.getfixturevalue("pg_url"), request.getfixturevalue("pg_session_url")]
    else:
        urls = [f"sqlite:///{tmp_path / 'small.sqlite'}", f"sqlite:///{tmp_path / 'large.sqlite'}"]
    counts = []
    for url, organisations in zip(urls, (SMALL, LARGE), strict=True):
        app = _fresh_app(url, locales_dir, WTF_CSRF_ENABLED=False, MAIL_SERVER=None)
        try:
            counts.append(statement_counts(app, shape(organisations)))
        finally:
            app.extensions["db_engine"].dispose()
    small, large = counts
    assert large == small, {key: (small[key], large[key]) for key in small if small[key] != large[key]}
    assert all(0 < n <= 20 for n in small.values()), small  # a handful each, whatever the page
