"""People of an organisation: everyone reads the members; admins change roles, remove members (their items reassigned) and require two-factor login."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, select

from bot.store import db
from bot.store.managers import create_manager
from bot.store.models import Event, ItemTracking, Manager, Membership, Organisation, OutboxMessage

PASSWORD = "correct horse battery staple"
ACTIONS = "/manage/orgs/acme/people"


@pytest.fixture
def app(backend_app):
    """acme (German) with ada (admin) and max (member); other (English) with olga (admin); root, the operator (SQLite, then PostgreSQL)."""
    with backend_app.app_context():
        session = db.session()
        session.execute(delete(OutboxMessage))  # password-reset mails have no organisation: the PostgreSQL truncation keeps them
        acme = Organisation(slug="acme", name="ACME GmbH", locale="de", flow_version=1)
        other = Organisation(slug="other", name="Other AG", locale="en", flow_version=1)
        session.add_all([acme, other])
        session.commit()
        create_manager(session, "ada@acme.example", [acme], password=PASSWORD, role="admin")
        create_manager(session, "max@acme.example", [acme], password=PASSWORD, role="member")
        create_manager(session, "olga@other.example", [other], password=PASSWORD, role="admin")
        create_manager(session, "root@example.org", [], password=PASSWORD, operator=True)
    return backend_app


def csrf(client, path: str = "/manage/sessions") -> str:
    """The CSRF token of a page's first form."""
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def browser(app, email: str):
    """A test client logged in as `email`."""
    client = app.test_client()
    response = client.post("/manage/login", data={"csrf_token": csrf(client, "/manage/login"), "email": email, "password": PASSWORD})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return client


def post(client, path: str, **data):
    """A form post with a fresh CSRF token."""
    return client.post(path, data={"csrf_token": csrf(client), **data})


def manager_id(app, email: str) -> int:
    with app.app_context():
        return db.session().scalar(select(Manager.id).where(Manager.email == email))


def roles(app, slug: str = "acme") -> dict[str, str]:
    """Each member's role in the organisation."""
    with app.app_context():
        query = select(Manager.email, Membership.role).join(Membership).join(Organisation).where(Organisation.slug == slug)
        return dict(db.session().execute(query).all())


def events(app, action: str | None = None) -> list[Event]:
    with app.app_context():
        query = select(Event).order_by(Event.id)
        if action:
            query = query.where(Event.action == action)
        rows = list(db.session().scalars(query))
        db.session().expunge_all()
        return rows


def test_everyone_who_sees_the_organisation_reads_its_members(app):
    max_ = browser(app, "max@acme.example")
    response = max_.get(ACTIONS + "?lang=en")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-admin="0"' in page
    assert "ada@acme.example" in page and "max@acme.example" in page and "olga@other.example" not in page
    assert 'data-role="admin"' in page and 'data-two-factor="off"' in page and "Member since" in page
    assert "change_role" not in page and "/role" not in page and "/people/invite" not in page  # no admin forms for a member
    assert 'href="/manage/orgs/acme/people?lang=en"' in page  # the organisation's navigation names the page
    ada_page = browser(app, "ada@acme.example").get(ACTIONS + "?lang=en").get_data(as_text=True)
    assert 'data-admin="1"' in ada_page and "/people/invite" in ada_page and "Require two-factor login" in ada_page
    root_page = browser(app, "root@example.org").get(ACTIONS).get_data(as_text=True)
    assert 'data-admin="1"' in root_page  # the operator counts as an admin
    assert app.test_client().get(ACTIONS).status_code == 302  # not logged in: to the login


def test_another_organisations_admin_gets_404_for_everything(app):
    olga = browser(app, "olga@other.example")
    max_id = manager_id(app, "max@acme.example")
    assert olga.get(ACTIONS).status_code == 404
    assert olga.get(f"{ACTIONS}/{max_id}/remove").status_code == 404
    assert post(olga, f"{ACTIONS}/{max_id}/role", role="admin").status_code == 404
    assert post(olga, f"{ACTIONS}/{max_id}/remove", successor="none").status_code == 404
    assert post(olga, f"{ACTIONS}/invite", email="x@example.de", role="member").status_code == 404
    assert post(olga, f"{ACTIONS}/two-factor", required="yes").status_code == 404
    assert post(olga, "/manage/orgs/acme/invitations/1/revoke").status_code == 404
    assert roles(app)["max@acme.example"] == "member" and events(app, "access.denied") == []
    # acme's admin cannot reach a member of another organisation through acme either
    assert browser(app, "ada@acme.example").get(f"{ACTIONS}/{manager_id(app, 'olga@other.example')}/remove").status_code == 404


def test_a_member_gets_403_for_every_admin_action_nothing_changes_and_each_attempt_is_logged(app):
    max_ = browser(app, "max@acme.example")
    ada_id, max_id = manager_id(app, "ada@acme.example"), manager_id(app, "max@acme.example")
    attempts = [
        (lambda: post(max_, f"{ACTIONS}/{max_id}/role?lang=en", role="admin"), "membership.role_changed"),
        (lambda: max_.get(f"{ACTIONS}/{ada_id}/remove?lang=en"), "membership.removed"),
        (lambda: post(max_, f"{ACTIONS}/{ada_id}/remove?lang=en", successor="none"), "membership.removed"),
        (lambda: post(max_, f"{ACTIONS}/invite?lang=en", email="new@example.de", role="admin"), "invitation.created"),
        (lambda: post(max_, "/manage/orgs/acme/invitations/1/revoke?lang=en"), "invitation.revoked"),
        (lambda: post(max_, f"{ACTIONS}/two-factor?lang=en", required="yes"), "organisation.two_factor_required"),
    ]
    for attempt, _what in attempts:
        response = attempt()
        assert response.status_code == 403
        assert "Only the admins of ACME GmbH can do this" in response.get_data(as_text=True)
    assert roles(app) == {"ada@acme.example": "admin", "max@acme.example": "member"}
    with app.app_context():
        assert not db.session().scalar(select(Organisation.mfa_required).where(Organisation.slug == "acme"))
        assert db.session().scalar(select(OutboxMessage.id)) is None
    denied = events(app, "access.denied")
    assert [e.subject for e in denied] == [what for _attempt, what in attempts]
    assert {(e.actor, e.organisation_slug, e.via) for e in denied} == {("max@acme.example", "acme", "manage")}
    assert {e.action for e in events(app) if not e.action.startswith("login.")} == {"access.denied"}  # nothing else happened


def test_an_admin_changes_roles_and_the_last_admin_stays_admin(app):
    ada = browser(app, "ada@acme.example")
    ada_id, max_id = manager_id(app, "ada@acme.example"), manager_id(app, "max@acme.example")
    refused = post(ada, f"{ACTIONS}/{ada_id}/role?lang=en", role="member")
    assert refused.status_code == 409 and "is the only admin of ACME GmbH" in refused.get_data(as_text=True)
    assert roles(app)["ada@acme.example"] == "admin"
    done = post(ada, f"{ACTIONS}/{max_id}/role?lang=en", role="admin")
    assert done.status_code == 303
    assert "now has the role “Admin”" in ada.get(ACTIONS + "?lang=en").get_data(as_text=True)
    assert roles(app) == {"ada@acme.example": "admin", "max@acme.example": "admin"}
    # now ada may step down; she then reads the page as a member
    assert post(ada, f"{ACTIONS}/{ada_id}/role", role="member").status_code == 303
    assert 'data-admin="0"' in ada.get(ACTIONS).get_data(as_text=True)
    changed = events(app, "membership.role_changed")
    assert [(e.subject, e.details) for e in changed] == [
        ("max@acme.example", {"before": "member", "after": "admin"}),
        ("ada@acme.example", {"before": "admin", "after": "member"}),
    ]
    # the same role again changes nothing and logs nothing
    max_ = browser(app, "max@acme.example")
    assert post(max_, f"{ACTIONS}/{max_id}/role", role="admin").status_code == 303
    assert len(events(app, "membership.role_changed")) == 2


@pytest.mark.parametrize("role", ["owner", "", "admin\x00", "a" * 5000])
def test_a_bad_role_is_refused_in_the_pages_language_and_nothing_changes(app, role):
    ada = browser(app, "ada@acme.example")
    max_id = manager_id(app, "max@acme.example")
    response = post(ada, f"{ACTIONS}/{max_id}/role?lang=en", role=role)
    if "\x00" in role:  # refused at the edge for every form (bot/web/main.py), in the page's language
        assert response.status_code == 400 and "The request could not be understood." in response.get_data(as_text=True)
    else:
        assert response.status_code == 422 and "Please choose a role: member or admin." in response.get_data(as_text=True)
    assert roles(app)["max@acme.example"] == "member" and events(app, "membership.role_changed") == []
    assert post(ada, f"{ACTIONS}/{2**40}/role", role="admin").status_code == 404  # no such member


def _give_items(app, email: str, count: int) -> None:
    with app.app_context():
        session = db.session()
        org_id = session.scalar(select(Organisation.id).where(Organisation.slug == "acme"))
        owner = session.scalar(select(Manager.id).where(Manager.email == email))
        session.add_all(ItemTracking(organisation_id=org_id, item_id=f"WA-{10 + n}", owner_id=owner) for n in range(count))
        session.commit()


def _owners(app) -> list[int | None]:
    with app.app_context():
        return list(db.session().scalars(select(ItemTracking.owner_id).order_by(ItemTracking.id)))


def test_removing_a_member_hands_their_items_to_the_chosen_admin(app):
    _give_items(app, "max@acme.example", 2)
    ada = browser(app, "ada@acme.example")
    max_ = browser(app, "max@acme.example")
    ada_id, max_id = manager_id(app, "ada@acme.example"), manager_id(app, "max@acme.example")
    confirm = ada.get(f"{ACTIONS}/{max_id}/remove?lang=en").get_data(as_text=True)
    assert "Who takes over their 2 items?" in confirm and f'value="{ada_id}"' in confirm and 'value="none"' in confirm
    response = post(ada, f"{ACTIONS}/{max_id}/remove?lang=en", successor=str(ada_id))
    assert response.status_code == 303
    assert "Their 2 items now belong to ada@acme.example." in ada.get(ACTIONS + "?lang=en").get_data(as_text=True)
    assert roles(app) == {"ada@acme.example": "admin"} and _owners(app) == [ada_id, ada_id]
    assert max_.get(ACTIONS).status_code == 404  # max no longer sees acme
    with app.app_context():
        assert db.session().get(Manager, max_id) is not None  # the account stays
    [removed] = events(app, "membership.removed")
    assert (removed.subject, removed.details) == ("max@acme.example", {"items_reassigned_to": "ada@acme.example", "items": 2})


def test_removing_a_member_can_leave_their_items_without_owner(app):
    _give_items(app, "max@acme.example", 1)
    ada = browser(app, "ada@acme.example")
    max_id = manager_id(app, "max@acme.example")
    assert post(ada, f"{ACTIONS}/{max_id}/remove", successor="none").status_code == 303
    assert _owners(app) == [None] and "max@acme.example" not in roles(app)
    [removed] = events(app, "membership.removed")
    assert removed.details == {"items_reassigned_to": None, "items": 1}


@pytest.mark.parametrize("successor", [None, "", "nobody", "\x00", "9" * 5000, "MAX"])
def test_a_bad_choice_of_successor_is_refused_and_nothing_changes(app, successor):
    _give_items(app, "max@acme.example", 1)
    ada = browser(app, "ada@acme.example")
    max_id = manager_id(app, "max@acme.example")
    data = {} if successor is None else {"successor": str(max_id) if successor == "MAX" else successor}  # max cannot take over his own items
    response = post(ada, f"{ACTIONS}/{max_id}/remove?lang=en", **data)
    if successor == "\x00":
        assert response.status_code == 400 and "The request could not be understood." in response.get_data(as_text=True)
    else:
        assert response.status_code == 422 and "Please choose who takes over the items" in response.get_data(as_text=True)
    assert "max@acme.example" in roles(app) and _owners(app) == [max_id] and events(app, "membership.removed") == []


def test_the_last_admin_cannot_be_removed(app):
    ada = browser(app, "ada@acme.example")
    ada_id = manager_id(app, "ada@acme.example")
    response = post(ada, f"{ACTIONS}/{ada_id}/remove?lang=en", successor="none")
    assert response.status_code == 409 and "is the only admin of ACME GmbH and cannot be removed" in response.get_data(as_text=True)
    assert roles(app)["ada@acme.example"] == "admin" and events(app, "membership.removed") == []


def test_an_admin_who_removes_themselves_lands_on_the_overview(app):
    ada = browser(app, "ada@acme.example")
    max_id, ada_id = manager_id(app, "max@acme.example"), manager_id(app, "ada@acme.example")
    assert post(ada, f"{ACTIONS}/{max_id}/role", role="admin").status_code == 303
    response = post(ada, f"{ACTIONS}/{ada_id}/remove", successor=str(max_id))
    assert response.status_code == 303 and response.headers["Location"].endswith("/manage/")
    assert roles(app) == {"max@acme.example": "admin"}


def test_an_admin_requires_two_factor_login_for_the_organisation(app):
    ada = browser(app, "ada@acme.example")
    assert post(ada, f"{ACTIONS}/two-factor?lang=en", required="yes").status_code == 303
    page = ada.get(ACTIONS + "?lang=en").get_data(as_text=True)
    assert "Two-factor login is now required for everyone in ACME GmbH." in page and 'data-mfa-required="1"' in page
    assert post(ada, f"{ACTIONS}/two-factor", required="yes").status_code == 303  # again: no second entry
    assert post(ada, f"{ACTIONS}/two-factor", required="no").status_code == 303
    assert [e.details for e in events(app, "organisation.two_factor_required")] == [{"required": True}, {"required": False}]
    for bad in ["", "maybe", "y" * 5000]:
        response = post(ada, f"{ACTIONS}/two-factor?lang=en", required=bad)
        assert response.status_code == 422 and "Please choose whether two-factor login is required." in response.get_data(as_text=True)
    assert post(ada, f"{ACTIONS}/two-factor?lang=en", required="yes\x00").status_code == 400
    with app.app_context():
        assert db.session().scalar(select(Organisation.mfa_required).where(Organisation.slug == "acme")) is False
    assert len(events(app, "organisation.two_factor_required")) == 2


def test_the_forms_need_their_csrf_token(app):
    ada = browser(app, "ada@acme.example")
    max_id = manager_id(app, "max@acme.example")
    assert ada.post(f"{ACTIONS}/{max_id}/role", data={"role": "admin"}).status_code == 400
    assert ada.post(f"{ACTIONS}/two-factor", data={"required": "yes"}).status_code == 400
    assert roles(app)["max@acme.example"] == "member"
