"""Invitations: an admin (or the operator on the command line) invites by e-mail; the single-use link, valid 7 days, adds the person once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot import edges
from bot.cli import cli
from bot.delivery import flush_outbox
from bot.store import db
from bot.store.models import Event, Invitation, Manager, OutboxMessage, utcnow
from tests.test_people import ACTIONS, browser, csrf, events, manager_id, post, roles
from tests.test_people import app as app  # the fixture: acme with ada and max, other with olga, root

NEW_PASSWORD = "a quiet harbour at dawn"
LINK = re.compile(r"http://localhost/manage/invitations/[A-Za-z0-9_-]+")


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(db.session().scalars(select(OutboxMessage).where(OutboxMessage.event == "invitation").order_by(OutboxMessage.id)))
        db.session().expunge_all()
        return rows


def invitations(app) -> list[Invitation]:
    with app.app_context():
        rows = list(db.session().scalars(select(Invitation).order_by(Invitation.id)))
        db.session().expunge_all()
        return rows


def invite(client, email: str, role: str = "member", lang: str = "en"):
    return post(client, f"{ACTIONS}/invite?lang={lang}", email=email, role=role)


def shown_link(response) -> str:
    """The link the page shows once when mail is off."""
    return LINK.search(response.get_data(as_text=True)).group(0)


def path_of(link: str) -> str:
    return link.removeprefix("http://localhost")


def accept(client, path: str, password: str = NEW_PASSWORD, repeat: str | None = None):
    data = {"csrf_token": csrf(client, "/manage/login"), "password": password, "password_repeat": password if repeat is None else repeat}
    return client.post(path + "?lang=en", data=data)


def test_an_invitation_by_mail_is_followed_to_a_new_account_in_the_organisation(app, mail_sink):
    app.config.update(mail_sink.config)
    ada = browser(app, "ada@acme.example")
    response = invite(ada, "Nina@Example.DE", "admin")
    page = response.get_data(as_text=True)
    assert response.status_code == 201 and "nina@example.de has been invited as “Admin”" in page and "We have sent the invitation by e-mail" in page
    assert not LINK.search(page)  # mailed: the link is not shown
    [row] = outbox(app)
    assert (row.recipient, row.locale) == ("nina@example.de", "de")  # someone new: the organisation's language
    assert "/manage/invitations/" not in str(row.payload)  # the link is sealed in the outbox row
    with app.app_context():
        assert flush_outbox(app).sent == 1
    [message] = mail_sink.wait_for(1)
    assert message["To"] == "nina@example.de" and message["Content-Language"] == "de" and "ACME GmbH" in str(message["Subject"])
    plain, html = message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()
    link = LINK.search(plain).group(0)
    assert link in html and "ada@acme.example" in plain and "<img" not in html
    assert outbox(app)[0].recipient is None  # forgotten once sent
    # the invited person follows the link
    nina = app.test_client()
    form = nina.get(path_of(link) + "?lang=en")
    assert form.status_code == 200 and 'data-mode="new"' in form.get_data(as_text=True) and "ACME GmbH" in form.get_data(as_text=True)
    done = accept(nina, path_of(link))
    assert done.status_code == 303 and done.headers["Location"].startswith("/manage/login")
    assert "Your account has been created" in nina.get(done.headers["Location"]).get_data(as_text=True)
    assert roles(app)["nina@example.de"] == "admin"
    with app.app_context():
        assert db.session().scalar(select(Manager.locale).where(Manager.email == "nina@example.de")) == "de"
    login = nina.post("/manage/login", data={"csrf_token": csrf(nina, "/manage/login"), "email": "nina@example.de", "password": NEW_PASSWORD})
    assert login.status_code == 303
    # the link works once
    again = nina.get(path_of(link) + "?lang=en")
    assert again.status_code == 410 and 'data-reason="accepted"' in again.get_data(as_text=True)
    assert accept(app.test_client(), path_of(link)).status_code == 410
    assert len(roles(app)) == 3
    created, accepted, added = events(app, "invitation.created"), events(app, "invitation.accepted"), events(app, "membership.added")
    assert [(e.actor, e.subject, e.details["role"]) for e in created] == [("ada@acme.example", "nina@example.de", "admin")]
    assert [(e.actor, e.details["role"]) for e in accepted] == [("nina@example.de", "admin")]
    assert [(e.subject, e.details) for e in added] == [("nina@example.de", {"role": "admin", "via": "invitation"})]
    for event in events(app):
        assert "nina@example.de" not in str(event.details)  # the address is the subject at most, never in the details


def test_with_mail_off_the_admin_sees_the_link_once_and_it_works(app):
    ada = browser(app, "ada@acme.example")
    response = invite(ada, "nina@example.de")
    assert response.status_code == 201 and "Mail is off on this server" in response.get_data(as_text=True)
    link = shown_link(response)
    assert outbox(app) == [] and link not in ada.get(ACTIONS).get_data(as_text=True)  # shown once
    assert accept(app.test_client(), path_of(link)).status_code == 303
    assert roles(app)["nina@example.de"] == "member"


def test_revoked_expired_replaced_and_unknown_links_change_nothing(app):
    ada = browser(app, "ada@acme.example")
    revoked = shown_link(invite(ada, "rita@example.de"))
    expired = shown_link(invite(ada, "eric@example.de"))
    first = shown_link(invite(ada, "paul@example.de"))
    second = shown_link(invite(ada, "paul@example.de", "admin"))  # a new invitation replaces the waiting one
    rita = next(i for i in invitations(app) if i.email == "rita@example.de")
    assert post(ada, f"/manage/orgs/acme/invitations/{rita.id}/revoke?lang=en").status_code == 303
    assert "The invitation to rita@example.de has been revoked" in ada.get(ACTIONS + "?lang=en").get_data(as_text=True)
    with app.app_context():
        db.session().execute(update(Invitation).where(Invitation.email == "eric@example.de").values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session().commit()
    client = app.test_client()
    for link, reason in [(revoked, "revoked"), (expired, "expired"), (first, "revoked")]:
        page = client.get(path_of(link) + "?lang=en")
        assert page.status_code == 410 and f'data-reason="{reason}"' in page.get_data(as_text=True)
        assert accept(client, path_of(link)).status_code == 410
    unknown = client.get("/manage/invitations/" + "x" * 43)
    assert unknown.status_code == 404 and 'data-reason="unknown"' in unknown.get_data(as_text=True)
    assert client.get("/manage/invitations/" + "x" * 5000).status_code == 404
    assert set(roles(app)) == {"ada@acme.example", "max@acme.example"}
    with app.app_context():
        assert db.session().scalar(select(Manager.id).where(Manager.email.in_(["rita@example.de", "eric@example.de", "paul@example.de"]))) is None
    page = ada.get(ACTIONS).get_data(as_text=True)
    statuses = {i.email + ":" + i.role: re.search(rf'data-invitation="{i.id}" data-status="(\w+)"', page).group(1) for i in invitations(app)}
    assert statuses == {
        "rita@example.de:member": "revoked",
        "eric@example.de:member": "expired",
        "paul@example.de:member": "revoked",
        "paul@example.de:admin": "pending",
    }
    assert [e.details.get("replaced") for e in events(app, "invitation.revoked")] == [True, None]
    assert accept(client, path_of(second)).status_code == 303  # the newest one works
    assert roles(app)["paul@example.de"] == "admin"
    # revoking what is no longer waiting changes nothing
    assert post(ada, f"/manage/orgs/acme/invitations/{rita.id}/revoke").status_code == 303
    assert len(events(app, "invitation.revoked")) == 2
    assert post(ada, f"/manage/orgs/acme/invitations/{2**40}/revoke").status_code == 404


@pytest.mark.parametrize(
    ("email", "role", "status", "message"),
    [
        ("not-an-address", "member", 422, "Please enter a valid e-mail address"),
        ("", "member", 422, "Please enter a valid e-mail address"),
        ("a" * 250 + "@example.de", "member", 422, "Please enter a valid e-mail address"),
        ("nina@example.de\x01", "member", 422, "Please enter a valid e-mail address"),
        ("nina@example.de\x00", "member", 400, "The request could not be understood."),
        ("nina@example.de", "owner", 422, "Please choose a role: member or admin."),
        ("MAX@acme.example", "member", 409, "max@acme.example belongs to ACME GmbH already."),
    ],
)
def test_bad_invitations_are_refused_and_nothing_is_stored(app, email, role, status, message):
    ada = browser(app, "ada@acme.example")
    response = invite(ada, email, role)
    assert response.status_code == status and message in response.get_data(as_text=True)
    assert invitations(app) == [] and outbox(app) == [] and events(app, "invitation.created") == []


@pytest.mark.parametrize(
    ("password", "repeat", "message"),
    [
        ("short one", None, "The password needs at least 12 characters."),
        ("password123456", None, "This password is too common or too easy to guess"),
        ("nina@example.de", None, "This password is too common or too easy to guess"),
        ("x" * 300, None, "The password may have at most 128 characters."),
        ("tab\there and long enough", None, "The password may not contain control characters."),
        (NEW_PASSWORD, NEW_PASSWORD + "!", "The two passwords are not the same."),
    ],
)
def test_a_password_the_rules_refuse_keeps_the_invitation_waiting(app, password, repeat, message):
    link = shown_link(invite(browser(app, "ada@acme.example"), "nina@example.de"))
    response = accept(app.test_client(), path_of(link), password, repeat)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert [i.accepted_at for i in invitations(app)] == [None] and "nina@example.de" not in roles(app)
    assert accept(app.test_client(), path_of(link)).status_code == 303  # still usable


def test_an_existing_manager_joins_only_when_logged_in_as_the_invited_address(app):
    olga_id = manager_id(app, "olga@other.example")
    link = shown_link(invite(browser(app, "ada@acme.example"), "olga@other.example", "admin"))
    anonymous = app.test_client()
    page = anonymous.get(path_of(link) + "?lang=en").get_data(as_text=True)
    assert 'data-mode="log_in"' in page and "/manage/login?" in page
    assert accept(anonymous, path_of(link)).status_code == 403  # no account is made for an existing address
    wrong = browser(app, "max@acme.example")
    other = wrong.get(path_of(link) + "?lang=en")
    assert other.status_code == 403 and 'data-mode="other_account"' in other.get_data(as_text=True)
    assert post(wrong, path_of(link)).status_code == 403
    assert "olga@other.example" not in roles(app)
    olga = browser(app, "olga@other.example")
    assert 'data-mode="join"' in olga.get(path_of(link)).get_data(as_text=True)
    joined = post(olga, path_of(link))
    assert joined.status_code == 303 and joined.headers["Location"].startswith("/manage/orgs/acme")
    assert roles(app)["olga@other.example"] == "admin" and roles(app, "other")["olga@other.example"] == "admin"
    with app.app_context():
        assert db.session().scalar(select(Manager.id).where(Manager.email == "olga@other.example")) == olga_id  # the same account
    assert post(olga, path_of(link)).status_code == 410


def test_an_existing_managers_mail_is_in_their_language(app, mail_sink):
    app.config.update(mail_sink.config)
    with app.app_context():
        db.session().execute(update(Manager).where(Manager.email == "olga@other.example").values(locale="en"))
        db.session().commit()
    assert invite(browser(app, "ada@acme.example"), "olga@other.example").status_code == 201
    with app.app_context():
        flush_outbox(app)
    [message] = mail_sink.wait_for(1)
    assert message["Content-Language"] == "en" and "You have an account with this address already" in message.get_body(("plain",)).get_content()


def test_the_operator_invites_on_the_command_line(app):
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["invite", "Nina@example.de", "--org", "acme", "--role", "admin"])
    assert result.exit_code == 0, result.output
    link = LINK.search(result.stdout).group(0)
    assert "mail is off" in result.stderr
    [invitation] = invitations(app)
    assert (invitation.email, invitation.role, invitation.invited_by) == ("nina@example.de", "admin", "cli")
    assert [e.actor for e in events(app, "invitation.created")] == ["cli"]
    assert accept(app.test_client(), path_of(link)).status_code == 303
    assert roles(app)["nina@example.de"] == "admin"
    for args in (["invite", "x", "--org", "acme"], ["invite", "max@acme.example", "--org", "acme"], ["invite", "y@example.de", "--org", "nope"]):
        refused = runner.invoke(cli, args)
        assert refused.exit_code == 2 and refused.stderr.startswith("Error:"), args
    assert runner.invoke(cli, ["invite", "y@example.de", "--org", "acme", "--role", "owner"]).exit_code == 2
    assert len(invitations(app)) == 1


def test_the_command_line_mails_when_mail_is_on(app):
    app.config["MAIL_SERVER"] = "127.0.0.1"
    result = app.test_cli_runner().invoke(cli, ["invite", "nina@example.de", "--org", "acme"])
    assert result.exit_code == 0 and "invitation mailed to nina@example.de" in result.stdout and not LINK.search(result.output)
    assert [row.recipient for row in outbox(app)] == ["nina@example.de"]


def test_invitation_links_are_kept_out_of_logs():
    token = "Abc_def-123" * 4
    lines = [f"GET /manage/invitations/{token}?lang=de HTTP/1.1", f"POST /manage/reset/{token} HTTP/1.1", f"GET /manage/login?next=/manage/invitations/{token}"]
    for line in lines:
        assert token not in edges.redact(line), line
    assert edges.redact("POST /manage/reset HTTP/1.1") == "POST /manage/reset HTTP/1.1"


def test_the_audit_log_names_who_invited_and_who_joined(app):
    ada = browser(app, "ada@acme.example")
    link = shown_link(invite(ada, "nina@example.de"))
    accept(app.test_client(), path_of(link))
    with app.app_context():
        rows = db.session().execute(select(Event.action, Event.actor, Event.organisation_slug).where(Event.action.like("invitation.%"))).all()
    assert sorted(rows) == [("invitation.accepted", "nina@example.de", "acme"), ("invitation.created", "ada@acme.example", "acme")]
