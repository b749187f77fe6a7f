"""The wizard through HTTP, without a browser: forms parsed and posted as a browser without JavaScript would."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import engines
from bot.engine import TurnError
from bot.i18n import catalog, turn_error_message
from bot.store import db
from bot.store.models import AnswerRevision, Assessment
from tests import contract
from tests.apiclient import Api
from tests.conftest import add_organisation
from tests.test_api import INTERNAL_ONLY, SCENARIOS, snapshot
from tests.test_flow_walks import GOLDEN
from tests.wizard_user import WizardUser


@pytest.fixture
def embed_key(app) -> str:
    """The embed key of an organisation in the test database."""
    return add_organisation(app, "acme", "ACME GmbH")


@pytest.fixture
def user(client, embed_key) -> WizardUser:
    """A person who opened the wizard link (English)."""
    return WizardUser(client).start(f"/w/{embed_key}?lang=en")


def revisions(app) -> int:
    """How many answer revisions are stored."""
    with app.app_context():
        return len(db.session().scalars(select(AnswerRevision)).all())


def test_opening_the_link_shows_a_start_page_and_creates_nothing(app, client, embed_key):
    for _ in range(3):  # a link preview, a crawler, a curl
        response = client.get(f"/w/{embed_key}?lang=en")
        assert response.status_code == 200
    with app.app_context():
        assert db.session().scalars(select(Assessment)).all() == []
    page = WizardUser(client).open(f"/w/{embed_key}?lang=en")
    assert page.step == "start"
    text = page.page.get_text(" ", strip=True)
    # the real range over version 1's paths (ACME is pinned to it): the shortest path is internal use only
    assert "ACME GmbH" in text and "3 to 42 questions, depending on your answers About 1 to 14 minutes" in text
    assert [b["value"] for b in page.page.find("form", class_="start").find_all("button")] == ["start"]


def test_start_without_a_csrf_token_creates_nothing(app, client, embed_key):
    client.get(f"/w/{embed_key}")
    assert client.post(f"/w/{embed_key}", data={"action": "start"}).status_code == 400
    with app.app_context():
        assert db.session().scalars(select(Assessment)).all() == []


def test_the_start_button_starts_an_assessment_and_redirects_to_its_first_step(client, embed_key):
    user = WizardUser(client).start(f"/w/{embed_key}")
    assert user.posts[-1][1] == 303 and "/w/a/" in user.url
    assert user.step == "purpose" and user.status == 200
    assert user.options() == ["customer", "internal", "both"]
    assert user.buttons() == ["next"]  # no back on the first step, no skip on a required one
    assert user.page.find("a", href=lambda h: h and h.endswith(f"/w/a/{user.token}"))  # the bookmarkable link is shown


@pytest.mark.parametrize(("name", "answers", "recommendation"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_full_wizard_run(user, name, answers, recommendation):
    steps = user.finish(answers)
    assert steps == contract.path(answers)
    assert user.step == "done"
    assert user.statuses() == contract.statuses(answers)
    assert len(user.statuses()) == 26
    # every status rule's legal basis and action are shown
    items = user.page.find_all("li", attrs={"data-item": True})
    assert all(li.find("h4") and "Legal basis" in li.get_text() for li in items)
    # the answers are listed, each with a way to change it
    rows = user.page.find_all(attrs={"data-answer": True})
    assert {r["data-answer"] for r in rows} == {s for s in steps if s != "recommendation"}
    # every accepted post was answered with a redirect (post/redirect/get), so a reload never re-submits
    assert len(user.posts) == 1 + len(steps) and {status for _action, status in user.posts} == {303}  # Start, then one per step


def test_a_full_run_in_german(client, embed_key):
    user = WizardUser(client).start(f"/w/{embed_key}", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert user.buttons() == ["next"] and user.form().find("button").get_text(strip=True) == "Weiter"
    answers = GOLDEN[1][1]
    user.finish(answers)
    assert user.statuses() == contract.statuses(answers)
    text = user.page.get_text(" ", strip=True)
    assert "Ihre Checkliste" in text and "Kritisch" in text and "Rechtsgrundlage" in text
    assert user.page.find("html")["lang"] == "de"


def test_summary_groups_by_status_with_critical_first(user):
    user.finish(GOLDEN[1][1])
    headings = [h.get_text(strip=True) for h in user.page.find_all("h3", class_=lambda c: c and c.startswith("status-"))]
    assert headings[0].startswith("Critical") and headings[1].startswith("To do")


def test_the_recommendation_page_explains_and_the_channel_can_differ(user):
    answers = GOLDEN[1][1]  # recommends the Platform (restricted), but the practice keeps the App
    while user.step != "recommendation":
        user.press("next", answers[user.step])
    text = user.page.find("main").get_text(" ", strip=True)
    assert "health data" in text.lower() or "special categories" in text.lower()
    assert "choose another one" in text
    user.press("next")
    assert user.step == "channel" and "business_app" in user.options()
    user.finish(answers)
    assert user.statuses()["WA-01"] == "critical"  # what choosing the App costs with health data


def test_back_shows_the_previous_answer_selected(user):
    user.press("next", "customer")
    user.press("next", "unsure")
    assert user.step == "initiator" and "back" in user.buttons()
    user.press("back")
    assert user.step == "sensitive_data" and user.checked() == ["unsure"]


def test_multi_step_checkboxes_and_an_exclusive_option(user, app):
    for step in ("purpose", "sensitive_data", "initiator", "agents"):
        user.press("next", GOLDEN[0][1][step])
    assert user.step == "integrations"
    before = snapshot(app, user.token)
    user.press("next", ["none", "crm"])
    assert user.status == 422 and user.step == "integrations"
    assert "cannot be combined" in user.error()
    assert sorted(user.checked()) == ["crm", "none"]  # what the user chose is kept
    assert user.page.find("fieldset")["aria-invalid"] == "true"
    assert user.page.find(id="error-summary").has_attr("autofocus")
    assert user.page.find(id="error-summary").find("a")["href"] == "#field-value"
    assert snapshot(app, user.token) == before  # nothing stored from a refused post
    user.press("next", ["shop", "crm"])
    assert user.step == "staff_processing"


def test_nothing_chosen_on_a_required_step(user, app):
    before = snapshot(app, user.token)
    user.press("next", None)
    assert user.status == 422 and user.step == "purpose"
    assert user.error() and "answer" in user.error().lower()
    assert snapshot(app, user.token) == before


@pytest.mark.parametrize(("lang", "choice", "multi", "text"), [
    ("en", "Please choose an answer.", "Please choose at least one answer.", "Please enter an answer."),
    ("de", "Bitte wählen Sie eine Antwort aus.", "Bitte wählen Sie mindestens eine Antwort aus.", "Bitte geben Sie eine Antwort ein."),
])  # fmt: skip
def test_a_missing_answer_is_named_by_the_kind_of_question(client, embed_key, app, lang, choice, multi, text):
    """Nothing chosen on a choice, nothing ticked on a multi, nothing typed into a text: three messages, one error code."""
    user = WizardUser(client).start(f"/w/{embed_key}?lang={lang}")
    user.press("next", None)
    assert user.status == 422 and user.step == "purpose"
    assert user.page.find(id="value-error").get_text() == choice and choice in user.error()
    for step in ("purpose", "sensitive_data", "initiator", "agents"):
        user.press("next", GOLDEN[0][1][step])
    user.press("next", [])
    assert user.status == 422 and user.step == "integrations" and user.page.find(id="value-error").get_text() == multi
    # the chat API says the same, and keeps its error code
    api = Api(app)
    token, _prompt = api.start(embed_key, locale=lang)
    refused = api.answer(token, "purpose", None)
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "value_required"
    assert refused.get_json()["error"]["message"] == choice
    # every text step of the flows is optional (an empty one is skipped), so the text message is checked where it is chosen
    with app.app_context():
        engine = engines(app).get("whatsapp_gdpr", 1)
    tr = catalog(lang, app.config["LOCALES_DIR"])
    assert turn_error_message(TurnError("value_required", "bsp_name"), tr, engine) == text
    assert turn_error_message(TurnError("value_required", "integrations"), tr, engine) == multi
    assert turn_error_message(TurnError("value_required", "purpose"), tr) == tr.gettext("Please enter an answer.")  # without the engine: the general words


def test_focus_goes_to_the_question_and_the_whole_option_box_is_its_label(user):
    """After each step the question heading takes focus (autofocus: no script); an error takes it instead. Each option box is the label of its input."""
    for _ in range(2):
        heading = user.page.find("h1")
        assert heading["id"] == "question" and heading["tabindex"] == "-1" and heading.has_attr("autofocus")
        assert [tag["id"] for tag in user.page.find_all(autofocus=True)] == ["question"]
        for box in user.form().find_all(class_="option"):
            assert box.name == "label" and box.find("input")["id"] == box["for"]
        user.press("next", user.options()[0])
    assert user.page.select_one("nav.progress .section-now").get_text() == "Section 1 of 9: Your use of WhatsApp"
    user.press("next", None)
    assert [tag["id"] for tag in user.page.find_all(autofocus=True)] == ["error-summary"]


def _walk(user, target, answers):
    while user.step != target:
        value = answers.get(user.step)
        user.press("next", value) if value is not None else user.press("next")


def test_text_steps_validate_keep_the_typed_text_and_can_be_skipped(user, app):
    answers = GOLDEN[0][1]
    _walk(user, "company_name", answers)
    assert user.buttons() == ["next", "skip", "back"]
    user.press("skip")
    assert user.step == "company_address"
    user.press("next", "Musterstraße 1, 12345 Musterstadt")
    assert user.step == "contact_email"
    before = snapshot(app, user.token)
    user.press("next", "kontakt(at)example.de")
    assert user.status == 422 and "e-mail" in user.error().lower()
    field = user.page.find("input", id="field-value")
    assert field["value"] == "kontakt(at)example.de" and field["aria-invalid"] == "true"
    assert "value-error" in field["aria-describedby"]
    assert snapshot(app, user.token) == before
    user.press("next", "kontakt@example.de")
    assert user.step == "privacy_url"


def test_text_answers_are_shown_escaped(user):
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    _walk(user, "company_name", GOLDEN[0][1])
    user.press("next", payload)
    user.press("back")
    raw = user.client.get(user.url).data.decode()
    assert payload not in raw and "&lt;script&gt;" in raw
    assert user.page.find("input", id="field-value")["value"] == payload  # shown as text, exactly as typed
    user.press("next", payload)
    user.finish({})
    raw = user.client.get(user.url).data.decode()
    assert "<script>alert" not in raw and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in raw


def test_change_an_answer_from_the_summary_keeps_later_answers(user):
    answers = dict(GOLDEN[0][1])
    user.finish(answers)
    assert user.statuses()["WA-05"] == "not_applicable"
    user.change("channel")
    assert user.step == "channel" and user.checked() == ["business_app"]
    user.press("next", "coexistence")
    # new steps for the new channel are asked; answers that still apply are kept and skipped over
    assert user.step == "provider"
    user.press("next", "bsp")
    user.press("next", "Beispiel BSP GmbH")
    assert user.step == "bsp_hosting"
    user.press("next", "eu")
    user.press("next", "in_progress")
    assert user.step == "coex_review"
    user.press("next", "yes")
    assert user.step == "company_name"  # the first step after that without an answer (it was skipped)
    user.finish({})
    assert user.step == "done"
    new_channel = {"channel": "coexistence", "provider": "bsp", "bsp_name": "Beispiel BSP GmbH", "bsp_hosting": "eu"}
    new_channel |= {"bsp_dpa": "in_progress", "coex_review": "yes"}
    changed = {**answers, **new_channel}
    assert user.statuses() == contract.statuses(changed)


def test_change_to_an_unchanged_answer_returns_to_the_summary(user):
    user.finish(INTERNAL_ONLY)
    user.change("purpose")
    user.press("next", "internal")
    assert user.step == "done"


def test_a_post_without_a_valid_csrf_token_is_refused_and_changes_nothing(user, app):
    before = snapshot(app, user.token)
    fields = [(k, v) for k, v in user.fields() if k != "csrf_token"]
    user.press("next", "customer", fields=fields)
    assert user.status == 400 and "expired" in user.page.get_text()  # in the assessment's language
    assert user.page.find("a", href=f"/w/a/{user.token}")  # a way back to the question
    forged = [(k, "forged" if k == "csrf_token" else v) for k, v in user.fields(WizardUser(user.client).open(user.url).form())]
    user.open(f"/w/a/{user.token}").press("next", "customer", fields=forged)
    assert user.status == 400
    assert snapshot(app, user.token) == before


def test_a_stale_step_shows_the_current_one_with_a_note(user, app):
    user.press("next", "customer")
    other_tab = WizardUser(user.client).open(f"/w/a/{user.token}")
    user.press("next", "no")  # this tab moves on
    before = snapshot(app, user.token)
    fields = [(k, "purpose" if k == "step" else v) for k, v in other_tab.fields()]
    other_tab.page = user.page  # the old tab still shows the old question; post its form
    other_tab.press("next", "internal", fields=fields)
    assert other_tab.status == 409 and other_tab.step == "initiator"
    assert "already answered" in other_tab.page.find(id="note").get_text()
    assert snapshot(app, user.token) == before


def test_languages_lang_parameter_then_assessment_then_browser(client, embed_key):
    german = WizardUser(client).start(f"/w/{embed_key}", headers={"Accept-Language": "de-DE"})
    assert german.page.find("html")["lang"] == "de" and "Wofür möchten Sie WhatsApp nutzen?" in german.page.get_text()
    english = WizardUser(client).open(f"/w/a/{german.token}?lang=en")
    assert english.page.find("html")["lang"] == "en"
    again = WizardUser(client).open(f"/w/a/{german.token}", headers={"Accept-Language": "de"})
    assert again.page.find("html")["lang"] == "en"  # the switch is remembered by the assessment
    switch = {a.get_text(strip=True): a["href"] for a in again.page.select("nav.lang a")}
    assert set(switch) == {"Deutsch", "English"}


@pytest.mark.parametrize("path", ["/w/no-such-key", "/w/a/no-such-token"])
def test_unknown_links_are_404_pages(client, path):
    response = client.get(path, headers={"Accept-Language": "en"})
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_pages_have_strict_headers_and_no_inline_script(user):
    response = user.client.get(user.url)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"  # answers under a capability URL
    assert user.page.find("script") is None and not user.page.find(style=True)


def test_the_wizard_records_its_channel(user, app):
    user.press("next", "customer")
    with app.app_context():
        session = db.session()
        assert session.scalar(select(Assessment.surface)) == "wizard"
        assert session.scalar(select(AnswerRevision.surface)) == "wizard"
