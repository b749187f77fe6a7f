"""The respondent's result by e-mail: queued once in the outbox, sent over real SMTP, the address forgotten, rate limited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.delivery import flush_outbox
from bot.engine.vocabulary import ItemStatus
from bot.i18n import STATUS_LABELS, text
from bot.store import db
from bot.store.models import Assessment, Event, OutboxMessage
from bot.web.limits import limiter
from tests.apiclient import Api
from tests.conftest import _fresh_app, add_organisation
from tests.test_flow_walks import GOLDEN
from tests.test_manage import page

DENTAL = GOLDEN[1][1]  # version 1 answers with critical, open and not applicable items
ADDRESS = "Erika.Muster@example.de"


def completed(world, key: str | None = None, locale: str = "de") -> str:
    """A completed self-assessment (the public link of acme unless `key`); its token."""
    token, prompt = world.api.start(key or world.acme_key, locale=locale)
    world.api.finish(token, DENTAL, prompt)
    return token


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        session = db.session()
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
        return rows


def summary_csrf(client, token: str) -> str:
    return page(client.get(f"/w/a/{token}")).select_one("#result-mail input[name=csrf_token]")["value"]


@pytest.fixture
def mailing(world):
    """The world with mail on (an SMTP server that is never reached unless a test flushes the outbox)."""
    world.app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=9)
    return world


# -- the form and the outbox row ---------------------------------------------------------------------


def test_the_result_page_offers_the_mail_only_when_mail_is_on(world):
    token = completed(world)
    client = world.app.test_client()
    world.app.config["MAIL_SERVER"] = None
    assert page(client.get(f"/w/a/{token}")).select_one("#result-mail") is None
    csrf_token = page(client.get(f"/w/a/{token}")).find("input", attrs={"name": "csrf_token"})["value"]
    refused = client.post(f"/w/a/{token}/result-mail?lang=en", data={"csrf_token": csrf_token, "email": ADDRESS})
    assert refused.status_code == 409 and "not available on this server" in page(refused).select_one("#result-mail-error").get_text()
    assert outbox(world.app) == []
    world.app.config["MAIL_SERVER"] = "127.0.0.1"
    form = page(client.get(f"/w/a/{token}?lang=en")).select_one("#result-mail form")
    assert form["action"] == f"/w/a/{token}/result-mail"
    assert form.select_one("input[type=email][name=email]") is not None
    unfinished, _prompt = world.api.start(world.acme_key, locale="de")
    assert page(client.get(f"/w/a/{unfinished}")).select_one("#result-mail") is None  # a question page, not a result


def test_the_wizard_queues_one_mail_without_the_address_anywhere_else(mailing):
    app, token = mailing.app, completed(mailing)
    client = app.test_client()
    response = client.post(f"/w/a/{token}/result-mail", data={"csrf_token": summary_csrf(client, token), "email": ADDRESS})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/w/a/{token}?mailed=1#result-mail")
    assert ADDRESS not in response.headers["Location"]
    note = page(client.get(f"/w/a/{token}?mailed=1&lang=en")).select_one("[data-result-mail=queued]")
    assert "on its way" in note.get_text()
    [row] = outbox(app)
    assert (row.channel, row.event, row.recipient, row.locale, row.status) == ("mail", "result", ADDRESS, "de", "pending")
    assert row.payload["template"] == "result" and row.payload["forget_recipient"] is True and "unsubscribe" not in row.payload
    stored = json.dumps(row.payload) + row.key
    assert token not in stored  # never the capability in a mail
    assert ADDRESS.lower() not in stored.lower() and "example.de" not in row.key
    context = row.payload["context"]
    assert context["organisation"] == "ACME GmbH"
    statuses = [group["status"] for group in context["groups"]]
    assert statuses[:2] == ["critical", "open"] and statuses == [s for s in ("critical", "open", "done", "not_applicable") if s in statuses]
    with app.app_context():
        session = db.session()
        events = session.scalars(select(Event)).all()
        assert events  # the assessment's own events are there …
        logged = json.dumps([[e.action, e.actor, e.subject, e.details] for e in events], default=str)
        assert ADDRESS.lower() not in logged.lower()  # … but not the address
        assessment = session.scalar(select(Assessment).where(Assessment.completed_at.is_not(None)))
        assert assessment.contact_email is None and assessment.consented_at is None  # asking for the mail passes nothing on
    # The same address again the same day: still one mail.
    again = client.post(f"/w/a/{token}/result-mail", data={"csrf_token": summary_csrf(client, token), "email": ADDRESS.upper()})
    assert again.status_code == 303
    assert len(outbox(app)) == 1


@pytest.mark.parametrize("typed", ["", "   ", "not an address", "a@b", "erika@exam ple.de", "x" * 250 + "@example.de", "erika@example.de\n"])
def test_a_bad_address_is_refused_in_the_pages_language_and_nothing_is_queued(mailing, typed):
    app, token = mailing.app, completed(mailing)
    client = app.test_client()
    response = client.post(f"/w/a/{token}/result-mail?lang=en", data={"csrf_token": summary_csrf(client, token), "email": typed})
    assert response.status_code == 422
    soup = page(response)
    assert soup.select_one("#result-mail-error").get_text() == "Please enter a valid e-mail address, for example info@example.de."
    assert soup.select_one("#result-mail-address")["aria-invalid"] == "true"
    assert outbox(app) == []


def test_a_nul_in_the_address_is_refused_and_nothing_is_queued(mailing):
    app, token = mailing.app, completed(mailing)
    client = app.test_client()
    response = client.post(f"/w/a/{token}/result-mail", data={"csrf_token": summary_csrf(client, token), "email": "erika\x00@example.de"})
    assert response.status_code == 400
    api = mailing.api.call("POST", f"/api/v1/assessments/{token}/result-mail", {"email": "erika\x00@example.de"})
    assert api.status_code == 422 and api.get_json()["error"]["code"] == "invalid_email"
    assert outbox(app) == []


def test_the_wizard_form_needs_its_csrf_token(mailing):
    token = completed(mailing)
    assert mailing.app.test_client().post(f"/w/a/{token}/result-mail", data={"email": ADDRESS}).status_code == 400
    assert outbox(mailing.app) == []


# -- the chat API ------------------------------------------------------------------------------------------


def test_the_api_queues_the_mail_and_refuses_bad_requests(mailing):
    app, api = mailing.app, mailing.api
    token = completed(mailing)
    path = f"/api/v1/assessments/{token}/result-mail"
    refused = [
        (api.call("POST", path + "?lang=en", {"email": "nope"}), 422, "invalid_email"),
        (api.call("POST", path, {"email": 42}), 400, "invalid_body"),
        (api.call("POST", path, {}), 400, "invalid_body"),
        (api.call("POST", path, raw="email=erika@example.de", content_type="application/x-www-form-urlencoded"), 415, "unsupported_media_type"),
        (api.call("POST", "/api/v1/assessments/no-such-token/result-mail", {"email": ADDRESS}), 404, "unknown_assessment"),
    ]
    for response, status, code in refused:
        assert (response.status_code, response.get_json()["error"]["code"]) == (status, code)
    assert refused[0][0].get_json()["error"]["message"] == "Please enter a valid e-mail address, for example info@example.de."
    unfinished, _prompt = api.start(mailing.acme_key, locale="en")
    not_done = api.call("POST", f"/api/v1/assessments/{unfinished}/result-mail", {"email": ADDRESS})
    assert (not_done.status_code, not_done.get_json()["error"]["code"]) == (409, "not_completed")
    assert outbox(app) == []
    accepted = api.call("POST", path, {"email": ADDRESS})
    assert (accepted.status_code, accepted.get_json()) == (202, {"queued": True})
    assert [row.recipient for row in outbox(app)] == [ADDRESS]


def test_without_mail_the_api_says_so_and_keeps_no_address(world):
    world.app.config["MAIL_SERVER"] = None
    token = completed(world, locale="en")
    response = world.api.call("POST", f"/api/v1/assessments/{token}/result-mail?lang=en", {"email": ADDRESS})
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "mail_off")
    assert "not available on this server" in response.get_json()["error"]["message"]
    assert outbox(world.app) == []


# -- sent for real ---------------------------------------------------------------------------------------


def test_the_mail_arrives_with_both_parts_in_the_assessments_language_and_the_address_is_forgotten(world, mail_sink, tr_de):
    app = world.app
    app.config.update(mail_sink.config)
    german = completed(world)  # acme's public self-check, in German
    english = completed(world, world.other_key, locale="en")
    assert world.api.call("POST", f"/api/v1/assessments/{german}/result-mail", {"email": ADDRESS}).status_code == 202
    assert world.api.call("POST", f"/api/v1/assessments/{english}/result-mail", {"email": "max@example.org"}).status_code == 202
    with app.app_context():
        report = flush_outbox(app)
        engine = app.extensions["engines"].get("whatsapp_gdpr", 1)
        critical = [item for item in engine.checklist(DENTAL).items if item.status == ItemStatus.CRITICAL]
    assert (report.sent, report.failed) == (2, 0)
    messages = {str(m["To"]): m for m in mail_sink.wait_for(2)}
    assert set(messages) == {ADDRESS, "max@example.org"}
    for message in messages.values():
        plain, html = message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()
        assert message.is_multipart() and plain.strip() and "<html" in html
        assert "<img" not in html and "List-Unsubscribe" not in message  # no pixel; a one-off mail has nothing to unsubscribe from
        for token in (german, english):
            assert token not in plain and token not in html
    de_plain, de_html = messages[ADDRESS].get_body(("plain",)).get_content(), messages[ADDRESS].get_body(("html",)).get_content()
    assert "ACME GmbH" in str(messages[ADDRESS]["Subject"])
    critical_de = tr_de.gettext(STATUS_LABELS[ItemStatus.CRITICAL])
    assert critical_de != STATUS_LABELS[ItemStatus.CRITICAL] and critical_de in de_plain and critical_de in de_html
    first_title = text(critical[0].title, tr_de)
    assert f"{critical[0].id} {first_title}" in de_plain and first_title in de_html
    en_plain = messages["max@example.org"].get_body(("plain",)).get_content()
    assert "Other AG" in en_plain and STATUS_LABELS[ItemStatus.CRITICAL] in en_plain and "Your checklist" in en_plain
    rows = outbox(app)
    assert [(row.status, row.recipient) for row in rows] == [("sent", None), ("sent", None)]
    with app.app_context():
        assert flush_outbox(app).sent == 0  # sent once
    assert len(mail_sink.messages) == 2


# -- rate limits -----------------------------------------------------------------------------------------


@pytest.fixture
def limited(tmp_path, locales_dir):
    """An app with its rate limits on (result mails: 3 per hour), mail on, a clean limiter."""
    app = _fresh_app(
        f"sqlite:///{tmp_path / 'limits.sqlite'}",
        locales_dir,
        RATELIMIT_ENABLED=True,
        RATELIMIT_TURN="1000 per minute",
        RATELIMIT_CREATE="100 per minute",
        RATELIMIT_RESULT_MAIL="3 per hour",
        MAIL_SERVER="127.0.0.1",
    )
    limiter.reset()
    key = add_organisation(app, "acme", "ACME GmbH")
    yield app, Api(app), key
    limiter.reset()


def finished(api: Api, key: str) -> str:
    token, prompt = api.start(key, locale="en")
    api.finish(token, DENTAL, prompt)
    return token


def test_one_address_gets_at_most_three_result_mails_an_hour(limited):
    app, api, key = limited
    tokens = [finished(api, key) for _ in range(5)]
    for attempt in range(2):  # mistyped addresses do not use up the budget
        assert api.call("POST", f"/api/v1/assessments/{tokens[0]}/result-mail", {"email": f"typo{attempt}@"}).status_code == 422
    for token in tokens[:2]:
        assert api.call("POST", f"/api/v1/assessments/{token}/result-mail", {"email": ADDRESS}).status_code == 202
    # The wizard's form counts against the same budget as the API.
    client = app.test_client()
    response = client.post(f"/w/a/{tokens[2]}/result-mail", data={"csrf_token": summary_csrf(client, tokens[2]), "email": ADDRESS.lower()})
    assert response.status_code == 303
    refused = api.call("POST", f"/api/v1/assessments/{tokens[3]}/result-mail", {"email": ADDRESS.upper()}, headers={"Accept-Language": "en"})
    assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) > 0
    page_refused = client.post(f"/w/a/{tokens[4]}/result-mail", data={"csrf_token": summary_csrf(client, tokens[4]), "email": ADDRESS})
    assert page_refused.status_code == 429
    assert len(outbox(app)) == 3  # the refused requests queued nothing
    assert api.call("POST", f"/api/v1/assessments/{tokens[3]}/result-mail", {"email": "someone.else@example.de"}).status_code == 202


def test_one_assessment_sends_at_most_three_result_mails_an_hour(limited):
    app, api, key = limited
    token = finished(api, key)
    for n in range(3):
        assert api.call("POST", f"/api/v1/assessments/{token}/result-mail", {"email": f"person{n}@example.de"}).status_code == 202
    refused = api.call("POST", f"/api/v1/assessments/{token}/result-mail", {"email": "person9@example.de"})
    assert refused.status_code == 429
    assert len(outbox(app)) == 3
    with app.app_context():
        count = db.session().scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.recipient == "person9@example.de"))
    assert count == 0
    other = finished(api, key)
    assert api.call("POST", f"/api/v1/assessments/{other}/result-mail", {"email": "person9@example.de"}).status_code == 202
