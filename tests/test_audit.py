"""The audit log: roles per organisation, who may read it (admins 200, members 403 and logged, others 404), filters, pages, CSV, retention, migration 0010."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import Engine

from bot.cli import cli
from bot.jobs import purge
from bot.store import db, managers
from bot.store.models import Event, Membership, Organisation, utcnow
from tests.test_living_migration import back_and_forth
from tests.test_trusted_results import PLATFORM, bearer, complete

PASSWORD = "correct horse battery staple"


@pytest.fixture
def people(world):
    """acme: anna (its first manager: admin) and bert (member); other: otto (admin); root is an operator. Passwords for the manager area."""
    with world.app.app_context():
        session = db.session()
        acme = session.scalar(select(Organisation).where(Organisation.slug == "acme"))
        _bert, bert = managers.create_manager(session, "bert@acme.example", [acme], password=PASSWORD)
        for email in ("anna@acme.example", "otto@other.example"):
            managers.set_password(session, managers.manager_by_email(session, email), PASSWORD)
    world.bert = bert
    return world


def audit(world, token: str, query: str = "", slug: str = "acme"):
    """GET the audit API."""
    return world.app.test_client().get(f"/api/v1/orgs/{slug}/audit{query}", headers=bearer(token))


def actions(world, slug: str = "acme") -> list[str]:
    """Every action logged for the organisation, oldest first (straight from the database)."""
    with world.app.app_context():
        org_id = db.session().scalar(select(Organisation.id).where(Organisation.slug == slug))
        return list(db.session().scalars(select(Event.action).where(Event.organisation_id == org_id).order_by(Event.id)))


def login(app, email: str):
    """A test client logged in to the manager area."""
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/manage/login").get_data(as_text=True)).group(1)
    response = client.post("/manage/login", data={"csrf_token": token, "email": email, "password": PASSWORD})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return client


def test_the_first_manager_of_an_organisation_is_its_admin_later_ones_members(people):
    with people.app.app_context():
        session = db.session()
        roles = {(m.manager.email, m.organisation.slug): m.role for m in session.scalars(select(Membership))}
        root = managers.manager_by_email(session, "root@example.org")
        acme = session.scalar(select(Organisation).where(Organisation.slug == "acme"))
        assert root.is_operator and managers.role_in(session, root, acme) == "admin"
        assert managers.role_in(session, managers.manager_by_email(session, "otto@other.example"), acme) is None
    assert roles == {("anna@acme.example", "acme"): "admin", ("otto@other.example", "other"): "admin", ("bert@acme.example", "acme"): "member"}


def test_the_last_admin_can_neither_be_demoted_nor_removed(people):
    with people.app.app_context():
        session = db.session()
        acme = session.scalar(select(Organisation).where(Organisation.slug == "acme"))
        anna = managers.manager_by_email(session, "anna@acme.example")
        with pytest.raises(managers.LastAdminError):
            managers.set_role(session, acme, anna, "member")
        with pytest.raises(managers.LastAdminError):
            managers.remove_member(session, acme, anna, None)
        bert = managers.manager_by_email(session, "bert@acme.example")
        managers.set_role(session, acme, bert, "admin")
        assert managers.set_role(session, acme, anna, "member") == "admin"  # now someone else is admin
        session.commit()
        assert managers.is_admin_of(session, bert, acme) and not managers.is_admin_of(session, anna, acme)


def test_the_command_line_gives_roles_per_organisation_and_the_operator_role(app, runner):
    def run(*args: str) -> str:
        outcome = runner.invoke(cli, list(args))
        assert outcome.exit_code == 0, outcome.output
        return outcome.output

    run("create-org", "acme", "--name", "ACME")
    run("create-manager", "first@acme.example", "--org", "acme")
    run("create-manager", "second@acme.example", "--org", "acme")
    run("create-manager", "boss@acme.example", "--org", "acme", "--role", "admin")
    run("create-manager", "ops@example.org", "--org", "acme", "--operator", "--role", "member")
    with app.app_context():
        session = db.session()
        roles = {m.manager.email: m.role for m in session.scalars(select(Membership))}
        assert managers.manager_by_email(session, "ops@example.org").is_operator
        assert not managers.manager_by_email(session, "boss@acme.example").is_operator
    assert roles == {"first@acme.example": "admin", "second@acme.example": "member", "boss@acme.example": "admin", "ops@example.org": "member"}


def test_admins_read_the_audit_log_members_get_403_and_are_logged_others_404(people):
    complete(people, people.acme_link, PLATFORM)
    assert audit(people, people.anna).status_code == 200
    assert audit(people, people.root).status_code == 200  # the operator is admin everywhere
    refused = audit(people, people.bert)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    assert refused.get_json()["error"]["message"]
    assert audit(people, people.otto).status_code == 404  # another organisation's admin: as if it did not exist
    assert audit(people, people.otto, slug="nope").status_code == 404
    assert people.app.test_client().get("/api/v1/orgs/acme/audit").status_code == 401
    denied = [e for e in audit(people, people.anna, "?action=access.denied").get_json()["entries"]]
    assert [(e["actor"], e["target"], e["via"]) for e in denied] == [("bert@acme.example", "audit log", "api")]


def test_entries_carry_who_what_target_and_where_and_page_with_next(people):
    complete(people, people.acme_link, PLATFORM)
    client = people.app.test_client()
    for fmt in ("csv", "pdf", "json"):
        assert client.get(f"/api/v1/orgs/acme/checklist.{fmt}", headers=bearer(people.anna)).status_code == 200
    assert client.get("/api/v1/orgs/acme/documents", headers=bearer(people.anna)).status_code == 200
    first = audit(people, people.anna, "?limit=2").get_json()
    assert [e["action"] for e in first["entries"]] == ["document.viewed", "export.downloaded"]
    export = first["entries"][1]
    assert export["target"] == "checklist.json" and export["actor"] == "anna@acme.example" and export["via"] == "api"
    assert export["address"] == "127.0.0.1" and export["details"]["format"] == "json"
    assert set(export) == {"id", "at", "actor", "action", "target", "via", "address", "details"}
    seen = [e["id"] for e in first["entries"]]
    following = first["next"]
    while following:
        page = client.get(following, headers=bearer(people.anna)).get_json()
        seen += [e["id"] for e in page["entries"]]
        following = page["next"]
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == len(actions(people))
    exports = audit(people, people.anna, "?action=export.").get_json()["entries"]
    assert [e["target"] for e in exports] == ["checklist.json", "checklist.pdf", "checklist.csv"]
    assert audit(people, people.anna, "?actor=ANNA@acme.example&action=document.viewed").get_json()["entries"][0]["actor"] == "anna@acme.example"
    assert audit(people, people.anna, "?actor=nobody@acme.example").get_json() == {"entries": [], "next": None}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("?limit=0", "invalid_limit"),
        ("?limit=501", "invalid_limit"),
        ("?limit=abc", "invalid_limit"),
        ("?before=0", "invalid_before"),
        ("?before=99999999999", "invalid_before"),
        ("?before=-3", "invalid_before"),
        ("?action=Login!", "invalid_action"),
        ("?action=" + "a" * 49, "invalid_action"),
        ("?actor=", "invalid_actor"),
        ("?actor=" + "x" * 255, "invalid_actor"),
    ],
)
def test_bad_audit_queries_are_400_with_the_field_named(people, query, code):
    before = len(actions(people))
    response = audit(people, people.anna, query)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["code"] == code and response.get_json()["error"]["message"]
    assert len(actions(people)) == before  # nothing logged, nothing changed


def test_a_nul_character_in_the_actor_filter_matches_nothing_on_both_databases(people):
    assert audit(people, people.anna, "?actor=anna%00@acme.example").get_json() == {"entries": [], "next": None}


def test_the_audit_page_is_for_admins_with_filters_and_a_csv_download(people):
    complete(people, people.acme_link, PLATFORM)
    anna = login(people.app, "anna@acme.example")
    assert anna.get("/manage/orgs/acme/checklist.csv").status_code == 200
    page = anna.get("/manage/orgs/acme/events?lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-event="export.downloaded"' in html and 'data-event="login.succeeded"' in html
    filtered = anna.get("/manage/orgs/acme/events?lang=en&action=export.downloaded").get_data(as_text=True)
    assert 'data-event="export.downloaded"' in filtered and 'data-event="login.succeeded"' not in filtered
    bad = anna.get("/manage/orgs/acme/events?lang=en&since=2026-13-01")
    assert bad.status_code == 422 and 'role="alert"' in bad.get_data(as_text=True)
    reversed_range = anna.get("/manage/orgs/acme/events?lang=en&since=2026-11-02&until=2026-11-01")
    assert reversed_range.status_code == 422
    download = anna.get("/manage/orgs/acme/events.csv?action=export.downloaded")
    assert download.status_code == 200 and download.headers["Cache-Control"] == "no-store"
    body = download.get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:]), delimiter=";"))
    assert rows[0] == ["id", "at_utc", "actor", "action", "what", "target", "via", "address", "details"]
    assert [r[3] for r in rows[1:]] == ["export.downloaded"] and rows[1][5] == "checklist.csv"
    assert actions(people)[-1] == "export.downloaded"  # the CSV download is itself logged
    bert = login(people.app, "bert@acme.example")
    before = actions(people)
    refused = bert.get("/manage/orgs/acme/events?lang=en")
    assert refused.status_code == 403 and "admins of ACME" in refused.get_data(as_text=True)
    assert bert.get("/manage/orgs/acme/events.csv").status_code == 403
    assert actions(people)[len(before) :] == ["access.denied", "access.denied"]
    otto = login(people.app, "otto@other.example")
    assert otto.get("/manage/orgs/acme/events").status_code == 404


def test_pages_of_the_audit_log_go_back_in_time_without_gaps(people):
    with people.app.app_context():
        session = db.session()
        acme = session.scalar(select(Organisation).where(Organisation.slug == "acme"))
        session.add_all(
            [
                Event(organisation_id=acme.id, organisation_slug="acme", actor="cli", action="organisation.pin_changed", details={}, via="cli")
                for _ in range(120)
            ]
        )
        session.commit()
    anna = login(people.app, "anna@acme.example")
    seen: list[str] = []
    url = "/manage/orgs/acme/events?lang=en&action=organisation.pin_changed"
    while url:
        html = anna.get(url).get_data(as_text=True)
        seen += re.findall(r'data-id="(\d+)"', html)
        more = re.search(r'href="([^"]+)" rel="next"', html)
        url = more.group(1).replace("&amp;", "&") if more else ""
    assert len(seen) == len(set(seen)) == 120


def test_members_see_the_record_history_but_not_others_logins_or_addresses(people):
    login(people.app, "bert@acme.example")
    complete(people, people.acme_link, PLATFORM)
    as_member = people.app.test_client().get("/api/v1/orgs/acme/events", headers=bearer(people.bert)).get_json()["events"]
    as_admin = people.app.test_client().get("/api/v1/orgs/acme/events", headers=bearer(people.anna)).get_json()["events"]
    assert "login.succeeded" in {e["action"] for e in as_admin}
    assert "login.succeeded" not in {e["action"] for e in as_member} and "assessment.completed" in {e["action"] for e in as_member}
    assert all(e["address"] is None for e in as_member)


def test_a_login_is_recorded_in_each_of_the_managers_organisations(people):
    with people.app.app_context():
        session = db.session()
        managers.add_membership(
            session, managers.manager_by_email(session, "anna@acme.example"), session.scalar(select(Organisation).where(Organisation.slug == "other"))
        )
    login(people.app, "anna@acme.example")
    assert actions(people, "acme")[-1] == "login.succeeded" and actions(people, "other")[-1] == "login.succeeded"


def test_retention_deletes_old_entries_and_entries_outlive_a_deleted_organisation(people):
    complete(people, people.acme_link, PLATFORM)
    app = people.app
    with app.app_context():
        session = db.session()
        acme_id = session.scalar(select(Organisation.id).where(Organisation.slug == "acme"))
        session.execute(
            update(Event).where(Event.organisation_id == acme_id, Event.action == "assessment.completed").values(created_at=utcnow() - timedelta(days=731))
        )
        session.commit()
        kept_before = session.scalar(select(func.count()).select_from(Event).where(Event.organisation_id == acme_id))
        result = purge(session, app.config)
        assert result["audit_entries"] == 1
        assert session.scalar(select(func.count()).select_from(Event).where(Event.organisation_id == acme_id)) == kept_before - 1
    outcome = app.test_cli_runner().invoke(cli, ["delete-org", "acme", "--yes"])
    assert outcome.exit_code == 0, outcome.output
    with app.app_context():
        session = db.session()
        left = list(session.scalars(select(Event.action).where(Event.organisation_id == acme_id)))
        assert "organisation.deleted" in left and len(left) >= kept_before  # kept for the retention period


def test_migration_0010_goes_back_and_forth(people):
    """Back at 0009 the operator is a global admin again and the account tables are gone; forward again roles are per membership."""

    def at_0009(engine: Engine) -> None:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT role FROM manager WHERE email = 'root@example.org'")).scalar_one() == "admin"
            assert "invitation" not in {r for r in engine.dialect.get_table_names(conn)}

    back_and_forth(people, "0009", at_0009)
    with people.app.app_context():
        session = db.session()
        roles = {m.manager.email: m.role for m in session.scalars(select(Membership))}
        assert managers.manager_by_email(session, "root@example.org").is_operator
    # each organisation's earliest member became its admin again
    assert roles == {"anna@acme.example": "admin", "otto@other.example": "admin", "bert@acme.example": "member"}


def test_only_admins_create_or_delete_webhooks_and_a_members_attempt_is_logged(people):
    client = people.app.test_client()
    hook = {"url": "https://93.184.215.14/hook", "events": ["item.updated"]}  # a public address literal: no DNS lookup
    refused = client.post("/api/v1/orgs/acme/webhooks", json=hook, headers=bearer(people.bert))
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    created = client.post("/api/v1/orgs/acme/webhooks", json=hook, headers=bearer(people.anna))
    assert created.status_code == 201
    webhook = created.get_json()["id"]
    assert client.delete(f"/api/v1/orgs/acme/webhooks/{webhook}", headers=bearer(people.bert)).status_code == 403
    assert client.get("/api/v1/orgs/acme/webhooks", headers=bearer(people.bert)).get_json()["webhooks"][0]["id"] == webhook  # members still read them
    bert = login(people.app, "bert@acme.example")
    token = re.search(r'name="csrf_token" value="([^"]+)"', bert.get("/manage/orgs/acme/webhooks").get_data(as_text=True)).group(1)
    page = bert.post("/manage/orgs/acme/webhooks?lang=en", data={"csrf_token": token, **hook})
    assert page.status_code == 403 and "Only the admins of ACME" in page.get_data(as_text=True)
    assert bert.post(f"/manage/orgs/acme/webhooks/{webhook}/delete", data={"csrf_token": token}).status_code == 403
    denied = [e["target"] for e in audit(people, people.anna, "?action=access.denied").get_json()["entries"]]
    assert denied == ["webhook deletion", "webhook creation", "webhook deletion", "webhook creation"]
    assert len(client.get("/api/v1/orgs/acme/webhooks", headers=bearer(people.anna)).get_json()["webhooks"]) == 1


def test_a_wrong_password_is_audited_after_the_answer_so_known_and_unknown_accounts_cost_the_same(people):
    """The answer to a wrong password does the same database work for a real and an unknown account; the entry follows once it is out."""
    from sqlalchemy import event as sa_event

    app = people.app
    engine = app.extensions["db_engine"]
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    def attempt(email: str):
        client = app.test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/manage/login").get_data(as_text=True)).group(1)
        statements.clear()
        response = client.post("/manage/login", data={"csrf_token": token, "email": email, "password": "not the password at all"})
        body, done = response.get_data(as_text=True), list(statements)
        return response, body, done

    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        known, known_body, known_work = attempt("bert@acme.example")
        unknown, unknown_body, unknown_work = attempt("nobody@acme.example")
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    assert known.status_code == unknown.status_code == 401
    assert len(known_work) == len(unknown_work) and "INSERT INTO event" not in " ".join(known_work)

    def same(body: str, email: str) -> str:
        return re.sub(r'name="csrf_token" value="[^"]+"', "", body.replace(email, "X"))

    assert same(known_body, "bert@acme.example") == same(unknown_body, "nobody@acme.example")
    assert "login.failed" not in actions(people)
    known.close()  # the server closes the answer once it is sent: then the entry is written
    unknown.close()
    assert actions(people).count("login.failed") == 1


def test_every_page_of_the_manager_area_needs_a_login_but_the_way_in(app):
    """ASVS 4.1.1, deny by default: every manager-area route (from the URL map, so a new one is checked too) sends a visitor to the login."""
    open_routes = {
        "manage.login",
        "manage.login_code",
        "manage.login_enrol",
        "manage.logout",
        "manage.reset_request",
        "manage.send_reset",
        "manage.reset_password",
        "manage.set_new_password",
        "manage.invitation",
        "manage.accept_invitation",
    }
    app.config["WTF_CSRF_ENABLED"] = False  # so a POST reaches the login check instead of the CSRF check
    client = app.test_client()
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("manage.") or rule.endpoint in open_routes:
            continue
        known = {"fmt": "csv", "ext": "txt", "document_id": "imprint_snippet", "item_id": "WA-01", "token": "x" * 32}
        values = {name: known.get(name, "1" if name.endswith("_id") else "acme") for name in rule.arguments}
        path = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method)
            assert response.status_code == 302 and "/manage/login" in response.headers["Location"], (rule.endpoint, method, response.status_code)
            checked += 1
    assert checked > 40


def test_a_change_to_an_accounts_security_is_told_to_its_owner_by_mail(people, mail_sink):
    """ASVS 2.2.3 / 2.5.5: a new password (and a new API token) is mailed to the manager at once: what, when, from where, what to do."""
    from bot import jobs

    app = people.app
    app.config.update(mail_sink.config)
    anna = login(app, "anna@acme.example")
    token = re.search(r'name="csrf_token" value="([^"]+)"', anna.get("/manage/account").get_data(as_text=True)).group(1)
    new_password = "ein ganz neuer Satz für Anna"
    changed = anna.post("/manage/account/password", data={"csrf_token": token, "current-password": PASSWORD, "new-password": new_password})
    assert changed.status_code == 303
    assert mail_sink.messages == []  # sent by the worker, not the request
    with app.app_context():
        jobs.outbox(app, utcnow())
    [notice] = mail_sink.wait_for(1)
    text = next(part.get_content() for part in notice.walk() if part.get_content_type() == "text/plain")
    assert notice["To"] == "anna@acme.example" and "Sicherheit" in notice["Subject"]
    assert "Ihr Passwort wurde geändert." in text and "127.0.0.1" in text and "/manage/reset" in text
    assert new_password not in notice.as_string() and PASSWORD not in notice.as_string()
    assert "List-Unsubscribe" not in notice  # cannot be turned off


def test_under_https_the_session_cookie_is_secure_and_host_only(tmp_path, locales_dir):
    """ASVS 3.4.1 and 3.4.4: with SESSION_COOKIE_SECURE (the default under an https PUBLIC_URL) the cookie is Secure and named __Host-."""
    from bot import create_app

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "t",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
            "LOCALES_DIR": str(locales_dir),
            "SESSION_COOKIE_SECURE": True,
        }
    )
    db.upgrade(app)
    client = app.test_client()
    client.get("/manage/login", base_url="https://localhost")
    cookie = client.get_cookie("__Host-session", domain="localhost")
    assert cookie is not None and cookie.secure and cookie.path == "/" and not cookie.domain.startswith(".")
