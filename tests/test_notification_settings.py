"""A manager's notification settings page, the retention policy it shows, and unsubscribe links (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from bot.mail import UNSUBSCRIBE_SALT, unsubscribe_token
from bot.store import db, managers
from bot.store.models import JobRun, Manager, NotificationSetting
from bot.store.notifications import cadences

# The views register on their blueprints when imported; importing them here (before any app exists) keeps these
# tests independent of whether bot/web/manage/__init__.py and bot/__init__.py wire them up yet.
from bot.web import notifications as unsubscribe_views
from bot.web.manage import notifications as _settings_views  # noqa: F401
from tests.test_manage import PASSWORD, log_in, page

ANNA = "anna@acme.example"
SAVED = {"reminders": "weekly", "completions": "off", "digest": "weekly", "locale": "en"}


def wire_unsubscribe(app) -> None:
    """Register the unsubscribe blueprint as bot/__init__.py should (CSRF-exempt), unless the app already has it."""
    from bot.web.csrf import csrf

    if "notifications" not in app.blueprints:
        app.register_blueprint(unsubscribe_views.bp)
        csrf.exempt(unsubscribe_views.bp)


@pytest.fixture
def anna(world):
    """A browser in which Anna (manager of acme, mails in German by default) is logged in; mail is off."""
    wire_unsubscribe(world.app)
    world.app.config["MAIL_SERVER"] = None
    with world.app.app_context():
        session = db.session()
        managers.set_password(session, managers.manager_by_email(session, ANNA), PASSWORD)
    client = world.app.test_client()
    assert log_in(client, ANNA).status_code == 303
    return client


def stored(app, email: str = ANNA) -> tuple[dict[str, str], int, str]:
    """The manager's cadences, how many setting rows exist, and their mail language."""
    with app.app_context():
        session = db.session()
        manager = managers.manager_by_email(session, email)
        rows = len(list(session.scalars(select(NotificationSetting).where(NotificationSetting.manager_id == manager.id))))
        return cadences(session, manager.id), rows, manager.locale


def checked(soup) -> dict[str, str]:
    """The checked radio button of each group on the settings page."""
    return {radio["name"]: radio["value"] for radio in soup.select("input[type=radio][checked]")}


def form_post(client, data: dict[str, str]):
    """Post the settings form with the page's CSRF token."""
    soup = page(client.get("/manage/notifications"))
    token = soup.find("input", attrs={"name": "csrf_token"})["value"]
    return client.post("/manage/notifications?lang=en", data={"csrf_token": token, **data})


# -- the settings page -----------------------------------------------------------------------------


def test_settings_page_shows_the_defaults_the_mail_status_and_the_retention_policy(anna, world):
    response = anna.get("/manage/notifications?lang=en")
    assert response.status_code == 200
    soup = page(response)
    assert checked(soup) == {"reminders": "daily", "completions": "immediately", "digest": "off", "locale": "de"}
    legends = [legend.get_text(strip=True) for legend in soup.select("fieldset legend")]
    assert legends[:3] == [
        "Reminders about my items (due dates, evidence, risk acceptances, reviews)",
        "Completed assessments and new submissions",
        "Digest of all my organisations",
    ]
    # The digest is made by the daily or weekly run: "immediately" is not offered for it.
    assert [r["value"] for r in soup.select("fieldset[data-kind=digest] input")] == ["off", "daily", "weekly"]
    assert [r["value"] for r in soup.select("fieldset[data-kind=reminders] input")] == ["off", "immediately", "daily", "weekly"]
    assert "nothing is sent until an operator sets MAIL_SERVER" in soup.select_one("[data-mail=off]").get_text()
    policy = soup.select_one("section.retention").get_text(" ", strip=True)
    assert "Unfinished assessments are deleted 90 days after their last answer." in policy
    assert "Public self-assessments that no organisation adopted are deleted 90 days after they were completed." in policy
    assert "evidence files" in policy
    assert soup.select_one("[data-last-run]")["data-last-run"] == "never" and "has not run yet" in policy
    assert stored(world.app) == ({"reminders": "daily", "completions": "immediately", "digest": "off"}, 0, "de")  # showing stores nothing


def test_the_page_is_in_the_manager_area_only(world):
    response = world.app.test_client().get("/manage/notifications")
    assert response.status_code == 302 and "/manage/login" in response.headers["Location"]


def test_saving_stores_the_choices_and_the_mail_language(anna, world):
    response = form_post(anna, SAVED)
    assert response.status_code == 303
    assert stored(world.app) == ({"reminders": "weekly", "completions": "off", "digest": "weekly"}, 3, "en")
    soup = page(anna.get(response.headers["Location"]))
    assert checked(soup) == SAVED
    assert soup.select_one("#saved") is not None
    # Saving again updates the rows in place.
    assert form_post(anna, {**SAVED, "reminders": "immediately"}).status_code == 303
    assert stored(world.app) == ({"reminders": "immediately", "completions": "off", "digest": "weekly"}, 3, "en")


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"digest": "immediately"}, 422, "digest"),
        ({"reminders": "dai\x00ly"}, 400, None),  # NUL: refused at the edge (bot/web/main.py) before the view
        ({"completions": "hourly"}, 422, "completions"),
        ({"completions": ""}, 422, "completions"),
        ({"locale": "fr"}, 422, "locale"),
        ({"locale": "de\x00"}, 400, None),
        ({"newsletter": "daily"}, 400, "unknown"),  # an unknown kind
        ({"digest\x00": "daily"}, 400, None),
        ({"reminders": "x" * 5000}, 422, "reminders"),
    ],
)
def test_refused_settings_change_nothing(anna, world, change, status, field):
    response = form_post(anna, {**SAVED, **change})
    assert response.status_code == status
    soup = page(response)
    if field == "unknown":
        assert "a field that does not belong to it; nothing was saved" in soup.get_text()
    elif field:
        assert soup.select_one(f"#choice-{field}")["aria-invalid"] == "true"
        assert "nothing was saved" in soup.select_one("#error-summary").get_text()
        assert checked(soup).get(field) is None  # the refused choice is not shown as chosen
    assert stored(world.app) == ({"reminders": "daily", "completions": "immediately", "digest": "off"}, 0, "de")


def test_a_missing_kind_is_refused_and_the_page_speaks_german(anna, world):
    response = form_post(anna, {"reminders": "weekly", "completions": "off", "locale": "en"})  # no digest
    assert response.status_code == 422
    assert stored(world.app)[1] == 0
    token = page(anna.get("/manage/notifications")).find("input", attrs={"name": "csrf_token"})["value"]
    german = anna.post("/manage/notifications?lang=de", data={"csrf_token": token, "locale": "xx"})
    assert german.status_code == 422
    assert page(german).find("html")["lang"] == "de"


def test_the_last_retention_run_is_shown(anna, world):
    with world.app.app_context():
        session = db.session()
        session.add(JobRun(name="retention", period="2026-03-01", started_at=datetime(2026, 3, 1, 3, 0, tzinfo=UTC), status="done"))
        session.add(JobRun(name="retention", period="2026-03-02", started_at=datetime(2026, 3, 2, 3, 0, tzinfo=UTC), status="failed"))
        session.add(JobRun(name="reminders", period="2026-03-03", started_at=datetime(2026, 3, 3, 7, 0, tzinfo=UTC), status="done"))
        session.commit()
    soup = page(anna.get("/manage/notifications?lang=en"))
    last = soup.select_one("[data-last-run]")
    assert last["data-last-run"] == "failed"  # the latest retention run, not the reminders' run
    assert "Mar 2, 2026" in last.get_text() and "It failed" in last.get_text()


def test_no_mail_off_note_when_mail_is_on(anna, world):
    world.app.config["MAIL_SERVER"] = "127.0.0.1"
    soup = page(anna.get("/manage/notifications?lang=en"))
    assert soup.select_one("[data-mail=off]") is None


def test_settings_cannot_be_saved_without_the_csrf_token(anna, world):
    response = anna.post("/manage/notifications", data=SAVED)
    assert response.status_code == 400
    assert stored(world.app)[1] == 0


# -- unsubscribe links -------------------------------------------------------------------------------


def anna_id(app) -> int:
    with app.app_context():
        session = db.session()
        return managers.manager_by_email(session, ANNA).id


def test_unsubscribe_asks_first_then_turns_the_kind_off_without_login(world):
    wire_unsubscribe(world.app)
    app, manager_id = world.app, anna_id(world.app)
    with app.app_context():
        token = unsubscribe_token(app, manager_id, "completions")
    browser = app.test_client()  # nobody is logged in
    question = browser.get(f"/unsubscribe/{token}")
    assert question.status_code == 200
    assert question.headers["Cache-Control"] == "no-store"
    soup = page(question)
    assert soup.find("html")["lang"] == "de"  # Anna's mails are in German, so is the page behind their link
    assert ANNA in soup.get_text()
    assert stored(app)[0]["completions"] == "immediately"  # a link preview that follows the link changes nothing
    # A mail client's one-click unsubscribe (RFC 8058): a POST without any CSRF token.
    done = browser.post(f"/unsubscribe/{token}?lang=en", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert page(done).select_one("[data-unsubscribed]")["data-unsubscribed"] == "completions"
    said = page(done).get_text(" ", strip=True)
    assert "Done: anna@acme.example no longer receives these e-mails: notices of completed assessments and new submissions." in said
    assert stored(app)[0] == {"reminders": "daily", "completions": "off", "digest": "off"}  # only that kind
    assert browser.post(f"/unsubscribe/{token}").status_code == 200  # again: still off, no error
    assert stored(app)[0]["completions"] == "off"


def test_the_unsubscribe_page_speaks_the_managers_mail_language(world):
    wire_unsubscribe(world.app)
    app, manager_id = world.app, anna_id(world.app)
    with app.app_context():
        session = db.session()
        session.get(Manager, manager_id).locale = "en"
        session.commit()
        token = unsubscribe_token(app, manager_id, "reminders")
    soup = page(app.test_client().get(f"/unsubscribe/{token}", headers={"Accept-Language": "de"}))
    assert soup.find("html")["lang"] == "en"
    assert "Stop sending these e-mails to anna@acme.example: reminders about your items?" in soup.get_text(" ", strip=True)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_forged_or_stale_unsubscribe_tokens_are_404_and_change_nothing(world, method):
    wire_unsubscribe(world.app)
    app, manager_id = world.app, anna_id(world.app)
    with app.app_context():
        good = unsubscribe_token(app, manager_id, "reminders")
    other_key = URLSafeSerializer("another secret", salt=UNSUBSCRIBE_SALT).dumps([manager_id, "reminders"])
    unknown_kind = URLSafeSerializer(app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT).dumps([manager_id, "newsletter"])
    no_manager = URLSafeSerializer(app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT).dumps([999999, "reminders"])
    wrong_shape = URLSafeSerializer(app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT).dumps({"manager": manager_id})
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    client = app.test_client()
    for token in (other_key, unknown_kind, no_manager, wrong_shape, tampered, "x" * 600, "%00"):
        response = client.open(f"/unsubscribe/{token}", method=method, headers={"Accept-Language": "en"})
        assert response.status_code == 404, token
        assert "This page or resource does not exist." in response.get_data(as_text=True)
    german = client.open(f"/unsubscribe/{tampered}", method=method)
    assert german.status_code == 404 and 'lang="de"' in german.get_data(as_text=True)
    assert stored(app) == ({"reminders": "daily", "completions": "immediately", "digest": "off"}, 0, "de")
