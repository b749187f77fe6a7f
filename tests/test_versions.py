"""Flow versions side by side: the ID@VERSION reference, pinning (command line and admin page), and assessments that keep their version."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import cli
from bot.engine import DONE, EngineRegistry, load_flows
from bot.engine.vocabulary import Surface
from bot.store import db
from bot.store.models import Organisation
from bot.store.organisations import FlowChoice, UnknownFlowError, parse_flow_ref, pin_flow
from bot.turns import TurnService
from tests.test_flow_versions import TINY_CODE, VERSIONS_DIR
from tests.test_manage import PASSWORD, csrf, log_in, page


@pytest.fixture
def cli_runner():
    """A runner for the whole command group (no app needed for offline commands)."""
    return CliRunner()


LOADED = [("whatsapp_gdpr", 1), ("whatsapp_gdpr", 2), ("tiny", 1)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("whatsapp_gdpr@1", FlowChoice("whatsapp_gdpr", 1)),
        ("whatsapp_gdpr@2", FlowChoice("whatsapp_gdpr", 2)),
        ("whatsapp_gdpr", FlowChoice("whatsapp_gdpr", None)),
        ("latest", FlowChoice(None, None)),
        (" tiny@1 ", FlowChoice("tiny", 1)),
    ],
)
def test_a_flow_reference_names_a_loaded_version(text, expected):
    assert parse_flow_ref(text, LOADED) == expected
    assert str(expected) == text.strip()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("whatsapp_gdpr@3", "flow 'whatsapp_gdpr' has no version 3 (versions: 1, 2)"),
        ("nope@1", "unknown flow 'nope' (loaded: tiny@1, whatsapp_gdpr@1, whatsapp_gdpr@2)"),
        ("nope", "unknown flow 'nope' (loaded: tiny@1, whatsapp_gdpr@1, whatsapp_gdpr@2)"),
        ("whatsapp_gdpr@v1", "'whatsapp_gdpr@v1' is not a flow reference: use ID@VERSION (e.g. whatsapp_gdpr@1), ID for its latest version, or latest"),
        ("whatsapp_gdpr@", "is not a flow reference"),
        ("@1", "is not a flow reference"),
        ("", "is not a flow reference"),
    ],
)
def test_an_unknown_flow_reference_names_what_exists(text, message):
    with pytest.raises(UnknownFlowError) as caught:
        parse_flow_ref(text, LOADED)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


# -- pin-flow on the command line ----------------------------------------------------------------


def _org(app, slug="acme") -> Organisation:
    with app.app_context():
        return db.session().scalar(select(Organisation).where(Organisation.slug == slug))


def test_pin_flow_pins_and_latest_unpins(runner, app):
    assert runner.invoke(cli, ["create-org", "acme", "--name", "ACME"]).exit_code == 0
    result = runner.invoke(cli, ["pin-flow", "acme", "whatsapp_gdpr@1"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "acme: new assessments use whatsapp_gdpr@1"
    org = _org(app)
    assert (org.flow_id, org.flow_version) == ("whatsapp_gdpr", 1)
    result = runner.invoke(cli, ["pin-flow", "acme", "latest"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "acme: new assessments use whatsapp_gdpr (its latest version)"
    org = _org(app)
    assert (org.flow_id, org.flow_version) == ("whatsapp_gdpr", None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pin-flow", "acme", "whatsapp_gdpr@99"], "Error: flow 'whatsapp_gdpr' has no version 99 (versions: "),
        (["pin-flow", "acme", "nope@1"], "Error: unknown flow 'nope' (loaded: whatsapp_gdpr@1"),
        (["pin-flow", "acme", "whatsapp_gdpr@one"], "Error: 'whatsapp_gdpr@one' is not a flow reference"),
        (["pin-flow", "nobody", "whatsapp_gdpr@1"], "Error: no organisation 'nobody'"),
    ],
)
def test_pin_flow_refuses_bad_input_and_changes_nothing(runner, app, args, message):
    runner.invoke(cli, ["create-org", "acme", "--name", "ACME"])
    runner.invoke(cli, ["pin-flow", "acme", "whatsapp_gdpr@1"])
    result = runner.invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert result.output.startswith(message) and result.output.count("\n") == 1
    org = _org(app)
    assert (org.flow_id, org.flow_version) == ("whatsapp_gdpr", 1)


# -- evaluate, flows check and flows diagram take the same reference ----------------------------


def test_evaluate_takes_a_flow_version(cli_runner, tmp_path):
    answers = tmp_path / "answers.json"
    # regulated_sector is a step of version 1 only: the version named is the one that reads the answers.
    answers.write_text('{"purpose": "internal", "internal_messenger": "whatsapp", "sick_notes": "eau", "regulated_sector": "no"}', "utf-8")
    pinned = cli_runner.invoke(cli, ["evaluate", str(answers), "--flow", "whatsapp_gdpr@1"])
    assert pinned.exit_code == 0, pinned.output
    assert '"value": "no_whatsapp"' in pinned.output
    answers.write_text('{"purpose": "internal", "internal_messenger": "whatsapp", "sick_notes": "eau"}', "utf-8")
    latest = cli_runner.invoke(cli, ["evaluate", str(answers)])
    assert latest.exit_code == 0, latest.output
    assert '"value": "no_whatsapp"' in latest.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["evaluate", "-", "--flow", "whatsapp_gdpr@99"], "Error: flow 'whatsapp_gdpr' has no version 99 (versions: 1"),
        (["evaluate", "-", "--flow", "nope"], "Error: unknown flow 'nope' (loaded: whatsapp_gdpr@1"),
        (["flows", "check", "whatsapp_gdpr@99"], "Error: flow 'whatsapp_gdpr' has no version 99"),
        (["flows", "diagram", "whatsapp_gdpr@99"], "Error: flow 'whatsapp_gdpr' has no version 99"),
        (["flows", "diagram", "whatsapp_gdpr@x"], "Error: 'whatsapp_gdpr@x' is not a flow reference"),
    ],
)
def test_flow_commands_refuse_an_unknown_version_naming_what_exists(cli_runner, args, message):
    result = cli_runner.invoke(cli, args, input="{}")
    assert result.exit_code == 2, result.output
    assert result.output.startswith(message) and result.output.count("\n") == 1


def test_flows_check_checks_every_version_or_the_one_named(cli_runner):
    every = cli_runner.invoke(cli, ["flows", "check"])
    checked = [line.split(": ")[1] for line in every.output.splitlines() if line.startswith("whatsapp_gdpr") and " steps, " in line]
    assert checked == ["whatsapp_gdpr v1", "whatsapp_gdpr v2"]
    one = cli_runner.invoke(cli, ["flows", "check", "whatsapp_gdpr@1"])
    assert one.exit_code == 0, one.output
    assert one.output.splitlines() == ["whatsapp_gdpr.yaml: whatsapp_gdpr v1: 44 steps, 26 items: ok"]


def test_flows_diagram_of_a_version(cli_runner):
    result = cli_runner.invoke(cli, ["flows", "diagram", "whatsapp_gdpr@1"])
    assert result.exit_code == 0, result.output
    assert "regulated_sector" in result.output  # version 1's step


# -- an assessment keeps its version whatever happens to the pin --------------------------------


def test_an_assessment_in_progress_finishes_on_its_version_whatever_the_pin(app):
    registry = EngineRegistry(load_flows(VERSIONS_DIR, code=TINY_CODE))
    with app.app_context():
        session = db.session()
        org = Organisation(slug="tiny-co", name="Tiny", locale="en", flow_id="tiny", flow_version=1)
        session.add(org)
        session.commit()
        service = TurnService(session, registry)
        on_v1 = service.start(org, "en", Surface.API)
        assert on_v1.engine.flow.version == 1
        pin_flow(session, org, parse_flow_ref("latest", registry.engines))  # unpinned: new ones use v2
        assert service.start(org, "en", Surface.API).engine.flow.version == 2
        resumed = service.open(on_v1.assessment.token)
        assert resumed.engine.flow.version == 1
        # Version 1 asks about the team of a large business (version 2 would not).
        assert service.answer(resumed, "size", "large", Surface.API).prompt.step == "team"
        pin_flow(session, org, parse_flow_ref("tiny@2", registry.engines))
        resumed = service.open(on_v1.assessment.token)
        assert service.answer(resumed, "team", "one", Surface.API).prompt.step == "thanks"
        finished = service.answer(service.open(on_v1.assessment.token), "thanks", "ok", Surface.API)
        assert finished.prompt.step == DONE
        assert resumed.assessment.flow_version == 1 and finished.prompt.checklist.items[0].status == "done"


# -- the admin page ------------------------------------------------------------------------------


@pytest.fixture
def admin_client(app):
    from bot.store.managers import create_manager

    with app.app_context():
        session = db.session()
        session.add_all([Organisation(slug="acme", name="ACME GmbH", locale="de"), Organisation(slug="beta", name="Beta KG", locale="de")])
        session.commit()
        create_manager(session, "root@example.de", [], password=PASSWORD, operator=True)
        create_manager(session, "anna@example.de", [session.scalar(select(Organisation).where(Organisation.slug == "acme"))], password=PASSWORD)
    client = app.test_client()
    assert log_in(client, "root@example.de").status_code == 303
    return client


def test_the_admin_page_pins_and_unpins(app, admin_client):
    url = "/manage/admin?lang=en"
    shown = page(admin_client.get(url))
    choices = [o["value"] for o in shown.select("select#flow-acme option")]
    assert choices[0] == "latest" and "whatsapp_gdpr@1" in choices
    response = admin_client.post(url, data={"csrf_token": csrf(admin_client, url), "create": "pin", "org": "acme", "flow": "whatsapp_gdpr@1"})
    assert response.status_code == 200
    assert "New assessments of ACME GmbH now use:" in response.get_data(as_text=True)
    assert page(response).select_one("select#flow-acme option[selected]")["value"] == "whatsapp_gdpr@1"
    assert _org(app).flow_version == 1
    response = admin_client.post(url, data={"csrf_token": csrf(admin_client, url), "create": "pin", "org": "acme", "flow": "latest"})
    assert response.status_code == 200 and _org(app).flow_version is None


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"org": "acme", "flow": "whatsapp_gdpr@99"}, "Bitte wählen Sie eine der angebotenen Versionen des Fragebogens."),
        ({"org": "nobody", "flow": "whatsapp_gdpr@1"}, "Bitte wählen Sie eine der aufgeführten Organisationen."),
    ],
)
def test_the_admin_page_refuses_an_unknown_version_in_the_page_language(app, admin_client, form, message):
    url = "/manage/admin?lang=de"
    response = admin_client.post(url, data={"csrf_token": csrf(admin_client, url), "create": "pin", **form})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _org(app).flow_version is None


def test_only_admins_pin(app, admin_client):
    client = app.test_client()
    assert log_in(client, "anna@example.de").status_code == 303
    token = csrf(client, "/manage/")
    assert client.post("/manage/admin", data={"csrf_token": token, "create": "pin", "org": "acme", "flow": "whatsapp_gdpr@1"}).status_code == 404
    assert _org(app).flow_version is None
