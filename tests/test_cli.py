"""The `wa-onboarding` command: flows check/diagram, evaluate, database and organisations."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bot import create_app
from bot.cli import cli
from bot.store import db
from bot.store.models import Manager, Organisation
from tests import contract
from tests.conftest import FLOW_FILE
from tests.test_flow_walks import GOLDEN


@pytest.fixture
def cli_runner():
    """A runner for the whole command group (no app needed for offline commands)."""
    return CliRunner()


def write_answers(tmp_path, answers, name="answers.json"):
    path = tmp_path / name
    path.write_text(json.dumps(answers, ensure_ascii=False), "utf-8")
    return str(path)


def check_flow_text(cli_runner, tmp_path, text):
    """Run `flows check` on a copy of the flow file with `text` as its content."""
    (tmp_path / "whatsapp_gdpr.yaml").write_text(text, "utf-8")
    result = cli_runner.invoke(cli, ["flows", "check", "--flows-dir", str(tmp_path)])
    assert result.exit_code == 1
    return result.output


def test_flows_check_passes(cli_runner):
    result = cli_runner.invoke(cli, ["flows", "check"])
    assert result.exit_code == 0, result.output
    assert "whatsapp_gdpr v1: 44 steps, 26 items: ok" in result.output


def test_flows_check_names_a_broken_file(cli_runner, tmp_path):
    text = FLOW_FILE.read_text("utf-8").replace('asked_when: [{step: "provider", in: ["bsp"]}]', 'asked_when: "uses_bps"', 1)
    output = check_flow_text(cli_runner, tmp_path, text)
    assert "whatsapp_gdpr.yaml: step bsp_name: asked_when names no registered condition: 'uses_bps'" in output


def test_flows_check_finds_an_unreachable_step(cli_runner, tmp_path, monkeypatch):
    from bot.engine.conditions import Condition
    from bot.flowcode import FLOW_CODE

    monkeypatch.setitem(FLOW_CODE[("whatsapp_gdpr", 1)].conditions, "never", Condition("never", lambda a: False, ("purpose",)))
    text = FLOW_FILE.read_text("utf-8").replace('asked_when: [{step: "channel", in: ["coexistence"]}]', 'asked_when: "never"', 1)
    output = check_flow_text(cli_runner, tmp_path, text)
    assert "whatsapp_gdpr.yaml: step coex_review: unreachable" in output


def test_flows_check_finds_missing_translations(cli_runner, tmp_path):
    output = check_flow_text(cli_runner, tmp_path, FLOW_FILE.read_text("utf-8").replace("What is your business address?", "Where is your business?", 1))
    assert "company_address: no de translation for 'whatsapp_gdpr.company_address.text'" in output


def test_flows_diagram_is_mermaid(cli_runner):
    result = cli_runner.invoke(cli, ["flows", "diagram", "whatsapp_gdpr"])
    assert result.exit_code == 0, result.output
    assert "stateDiagram-v2" in result.output
    assert "purpose --> internal_messenger: answer [purpose not in internal]" not in result.output  # labels show the destination's condition
    assert "purpose --> sensitive_data: answer [purpose not in internal]" in result.output
    assert "sick_notes --> done" in result.output


def test_flows_diagram_unknown_flow(cli_runner):
    result = cli_runner.invoke(cli, ["flows", "diagram", "nope"])
    assert result.exit_code == 2
    assert "unknown flow 'nope'" in result.output


@pytest.mark.parametrize(("name", "answers", "recommendation", "summary"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_evaluate_json_gives_the_contract_result(cli_runner, tmp_path, name, answers, recommendation, summary):
    result = cli_runner.invoke(cli, ["evaluate", write_answers(tmp_path, answers), "--lang", "en", "--flow", "whatsapp_gdpr@1"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["recommendation"] == {"value": recommendation[0], "reasons": recommendation[1]}
    assert {i["id"]: i["status"] for i in data["items"]} == contract.statuses(answers)
    assert data["summary"] == summary
    assert set(data["items"][0]) == {"id", "status", "title", "legal_basis", "action", "evidence"}


def test_evaluate_markdown_in_german(cli_runner, tmp_path):
    result = cli_runner.invoke(cli, ["evaluate", write_answers(tmp_path, GOLDEN[1][1]), "--format", "md", "--lang", "de", "--flow", "whatsapp_gdpr@1"])
    assert result.exit_code == 0, result.output
    md = result.stdout
    assert md.startswith("# WhatsApp in der Kundenkommunikation: DSGVO-Check")
    assert "## Empfehlung: WhatsApp für sensible Daten vermeiden" in md
    assert "## Kritisch (12)" in md
    assert md.index("## Kritisch") < md.index("## Offen")
    assert "- Rechtsgrundlage: Art. 9, 88 DSGVO; § 26 BDSG; LDI NRW" in md


def test_evaluate_reads_stdin(cli_runner):
    answers = {"purpose": "internal", "internal_messenger": "none", "sick_notes": "eau"}
    result = cli_runner.invoke(cli, ["evaluate", "-", "--flow", "whatsapp_gdpr@1"], input=json.dumps(answers))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["recommendation"] == {"value": "no_whatsapp", "reasons": ["R1"]}
    assert data["summary"] == {"done": 2, "open": 0, "critical": 0, "not_applicable": 24}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"purpose": "customer", "favourite_colour": "green"}', "unknown step 'favourite_colour'"),
        ('{"purpose": "sometimes"}', "step 'purpose': value \"sometimes\" is not allowed (allowed: customer, internal, both)"),
        ('{"integrations": ["none", "bot"]}', "combines the exclusive option 'none'"),
        ('{"contact_email": "nope"}', "is not an e-mail address"),
        ('{"purpose": ', "not valid JSON"),
        ('["purpose"]', "expected a JSON object"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_evaluate_bad_input_exits_2(cli_runner, tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    before = sorted(p.name for p in tmp_path.iterdir())
    result = cli_runner.invoke(cli, ["evaluate", str(path), "--flow", "whatsapp_gdpr@1"])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_evaluate_reports_ignored_and_missing_answers(cli_runner, tmp_path):
    answers = {"purpose": "customer", "channel": "business_app", "provider": "bsp"}
    result = cli_runner.invoke(cli, ["evaluate", write_answers(tmp_path, answers)])
    assert result.exit_code == 0
    assert "ignored answers of steps that are not asked with these answers: provider" in result.stderr
    assert "no answer for sensitive_data" in result.stderr
    assert "recommendation," not in result.stderr  # the info step needs no answer


def test_init_db_create_org_and_demo(runner, app):
    result = runner.invoke(cli, ["init-db"])
    assert result.exit_code == 0 and "Database ready" in result.output
    result = runner.invoke(cli, ["create-org", "baeckerei-muster", "--name", "Bäckerei Muster GmbH", "--locale", "de"])
    assert result.exit_code == 0, result.output
    key = result.output.strip()
    assert len(key) >= 20
    again = runner.invoke(cli, ["create-org", "baeckerei-muster", "--name", "Other"])
    assert again.exit_code == 2 and "exists already" in again.output
    bad = runner.invoke(cli, ["create-org", "Bad Slug!", "--name", "X"])
    assert bad.exit_code == 2
    first = runner.invoke(cli, ["demo"]).output.splitlines()
    second = runner.invoke(cli, ["demo"]).output.splitlines()
    assert first[0] == second[0] and "embed key: " in first[0]  # idempotent: same organisation and key
    assert first[1] != second[1] and "API token: wam_" in first[1]  # a fresh manager token each time (stored hashed)
    with app.app_context():
        orgs = db.session().scalars(select(Organisation).order_by(Organisation.slug)).all()
        assert [(o.slug, o.name) for o in orgs] == [("baeckerei-muster", "Bäckerei Muster GmbH"), ("demo", "Demo GmbH")]
        assert orgs[0].embed_key == key


@pytest.mark.postgres
def test_init_db_and_create_org_on_postgresql(pg_url, locales_dir):
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": pg_url, "LOCALES_DIR": str(locales_dir)})
    runner = app.test_cli_runner()
    assert runner.invoke(cli, ["init-db"]).exit_code == 0
    assert runner.invoke(cli, ["init-db"]).exit_code == 0  # idempotent
    result = runner.invoke(cli, ["create-org", "acme", "--name", "ACME Ümlaut GmbH"])
    assert result.exit_code == 0, result.output
    engine = create_engine(pg_url)
    with Session(engine) as session:
        org = session.scalar(select(Organisation))
        assert (org.slug, org.name, org.embed_key) == ("acme", "ACME Ümlaut GmbH", result.output.strip())
    engine.dispose()
    with app.app_context():
        app.extensions["db_engine"].dispose()


def test_console_script_is_installed():
    assert shutil.which("wa-onboarding") or (FLOW_FILE.parent.parent / ".venv" / "bin" / "wa-onboarding").exists()


@pytest.mark.parametrize("flow", [[], ["whatsapp_gdpr@1"]], ids=["latest", "version 1"])
def test_docs_show_the_current_diagram(cli_runner, flow):
    result = cli_runner.invoke(cli, ["flows", "diagram", *flow])
    assert result.exit_code == 0, result.output
    diagram = result.stdout.rstrip("\n")
    page = (FLOW_FILE.parent.parent / "docs" / "flow-diagram.md").read_text("utf-8")
    assert f"```mermaid\n{diagram}\n```" in page, "run `wa-onboarding flows diagram [FLOW]` and paste it into docs/flow-diagram.md"


def test_readme_starts_with_the_two_commands():
    readme = (FLOW_FILE.parent.parent / "README.md").read_text("utf-8")
    first = readme[: readme.index("## What is here")]
    assert "make run" in first and "make test" in first


def test_a_malformed_flow_stops_the_command_with_one_clear_line(cli_runner, tmp_path, locales_dir):
    text = FLOW_FILE.read_text("utf-8").replace('asked_when: [{step: "channel", in: ["business_app", "coexistence"]}]', 'asked_when: "app_sid"', 1)
    (tmp_path / "whatsapp_gdpr.yaml").write_text(text, "utf-8")
    env = {"FLASK_FLOWS_DIR": str(tmp_path), "FLASK_LOCALES_DIR": str(locales_dir), "SECRET_KEY": "test"}
    result = cli_runner.invoke(cli, ["init-db"], env=env)
    assert result.exit_code == 1
    assert result.output.strip() == "Error: whatsapp_gdpr.yaml: step device: asked_when names no registered condition: 'app_sid'"


def _invoke(runner, *args, input=None):
    return runner.invoke(cli, list(args), input=input)


def test_create_manager_prints_a_token_once_and_stores_its_hash(runner, app):
    from bot.store.managers import check_password, manager_by_email, manager_by_token

    assert _invoke(runner, "create-org", "acme", "--name", "ACME").exit_code == 0
    result = _invoke(runner, "create-manager", "Anna@ACME.example", "--org", "acme", "--password-stdin", input="correct horse battery\n")
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("wam_") and len(token) > 40
    with app.app_context():
        session = db.session()
        manager = manager_by_email(session, "anna@acme.example")
        assert manager.email == "anna@acme.example" and manager.role == "member"
        assert token not in (manager.api_token_hash or "") and len(manager.api_token_hash) == 64
        assert manager_by_token(session, token).id == manager.id
        assert check_password(manager, "correct horse battery") and not check_password(manager, "wrong")
        assert "correct horse" not in manager.password_hash
    client = app.test_client()
    response = client.get("/api/v1/orgs", headers={"Authorization": f"Bearer {token}"})
    assert response.get_json() == {"organisations": [{"slug": "acme", "name": "ACME", "locale": "de"}]}


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("create-manager", "x@acme.example", "--org", "nope"), None, "no organisation 'nope'"),
        (("create-manager", "not-an-address", "--org", "acme"), None, "'not-an-address' is not an e-mail address"),
        (("create-manager", "x@acme.example", "--org", "acme", "--password-stdin"), "short\n", "at least 12 characters"),
        (("create-manager", "anna@acme.example", "--org", "acme"), None, "exists already"),
        (("add-member", "nobody@acme.example", "--org", "acme"), None, "no manager"),
        (("rotate-token", "nobody@acme.example"), None, "no manager"),
    ],
)
def test_manager_commands_refuse_bad_input(runner, app, args, stdin, message):
    _invoke(runner, "create-org", "acme", "--name", "ACME")
    _invoke(runner, "create-manager", "anna@acme.example", "--org", "acme")
    result = _invoke(runner, *args, input=stdin)
    assert result.exit_code == 2, result.output
    assert message in result.output
    with app.app_context():
        assert [m.email for m in db.session().scalars(select(Manager))] == ["anna@acme.example"]  # nothing stored


@pytest.mark.parametrize(
    "slug",
    ["kunde-名前", "Acme", "bad slug", "under_score", "-acme", "acme-", "", "a" * 64, "café", "acme.de", "acme\x00"],
)
def test_create_org_refuses_a_slug_outside_the_rule_and_stores_nothing(runner, app, slug):
    result = _invoke(runner, "create-org", "--name", "Kunde", "--", slug)  # "--": "-acme" is a slug here, not an option
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1  # one line, no usage text or traceback
    assert f"Error: {slug!r} is not a valid slug: use lower-case ASCII letters a-z, digits and hyphens, 1 to 63 characters" in result.output
    with app.app_context():
        assert db.session().scalars(select(Organisation)).all() == []


@pytest.mark.parametrize("slug", ["a", "7", "kunde-42", "b" * 63, "x--y"])
def test_create_org_accepts_dns_label_slugs(runner, app, slug):
    result = _invoke(runner, "create-org", slug, "--name", "Kunde")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert [o.slug for o in db.session().scalars(select(Organisation))] == [slug]


def test_create_org_refuses_an_empty_name(runner, app):
    result = _invoke(runner, "create-org", "acme", "--name", "  ")
    assert result.exit_code == 2 and "the name must not be empty" in result.output
    with app.app_context():
        assert db.session().scalars(select(Organisation)).all() == []


def test_an_organisation_with_an_old_style_slug_keeps_working(runner, app):
    """Slugs stored before the rule (here with an underscore and a non-ASCII letter) are still found by every command."""
    with app.app_context():
        db.session().add(Organisation(slug="alt_kunde-ä", name="Alt GmbH", locale="de"))
        db.session().commit()
    assert _invoke(runner, "allow-origins", "alt_kunde-ä", "https://www.example.de").exit_code == 0
    exported = _invoke(runner, "export-org", "alt_kunde-ä")
    assert exported.exit_code == 0 and json.loads(exported.output)["organisation"]["slug"] == "alt_kunde-ä"
    assert _invoke(runner, "create-manager", "alt@example.de", "--org", "alt_kunde-ä").exit_code == 0


def test_add_member_and_rotate_token(runner, app):
    _invoke(runner, "create-org", "acme", "--name", "ACME")
    _invoke(runner, "create-org", "beta", "--name", "Beta")
    old = _invoke(runner, "create-manager", "consultant@example.de", "--org", "acme").output.strip()
    assert "now belongs to beta" in _invoke(runner, "add-member", "consultant@example.de", "--org", "beta").output
    assert "already belongs to beta" in _invoke(runner, "add-member", "consultant@example.de", "--org", "beta").output
    client = app.test_client()
    listed = client.get("/api/v1/orgs", headers={"Authorization": f"Bearer {old}"}).get_json()["organisations"]
    assert [o["slug"] for o in listed] == ["acme", "beta"]
    new = _invoke(runner, "rotate-token", "consultant@example.de").output.strip()
    assert new != old
    assert client.get("/api/v1/orgs", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    assert client.get("/api/v1/orgs", headers={"Authorization": f"Bearer {new}"}).status_code == 200


def test_admin_role_sees_every_organisation(runner, app):
    _invoke(runner, "create-org", "acme", "--name", "ACME")
    _invoke(runner, "create-org", "beta", "--name", "Beta")
    token = _invoke(runner, "create-manager", "root@example.de", "--org", "acme", "--operator").output.strip()
    listed = app.test_client().get("/api/v1/orgs", headers={"Authorization": f"Bearer {token}"}).get_json()["organisations"]
    assert [o["slug"] for o in listed] == ["acme", "beta"]


def test_demo_password_opens_the_manager_area(runner, app):
    from tests.test_manage import log_in

    lines = _invoke(runner, "demo").output.splitlines()
    password = next(line for line in lines if "with the password " in line).split("with the password ")[1].rstrip(")")
    client = app.test_client()
    assert log_in(client, "demo@example.org", password).status_code == 303
    assert client.get("/manage/orgs/demo").status_code == 200


def test_demo_token_reads_the_demo_checklist_endpoint(runner, app):
    lines = _invoke(runner, "demo").output.splitlines()
    key = lines[0].rsplit(" ", 1)[1]
    token = lines[1].rsplit(" ", 1)[1]
    client = app.test_client()
    assert client.post("/api/v1/assessments", json={"embed_key": key}).status_code == 201  # a visitor's self-assessment: not in the history
    bearer = {"Authorization": f"Bearer {token}"}
    link = client.post("/api/v1/orgs/demo/respondent-links", json={"label": "Office"}, headers=bearer).get_json()["token"]
    assert client.post("/api/v1/assessments", json={"respondent_link": link}).status_code == 201
    response = client.get("/api/v1/orgs/demo/history", headers=bearer)
    assert response.status_code == 200 and len(response.get_json()["assessments"]) == 1


@pytest.mark.parametrize("command", [["purge", "--dry-run"], ["export-org", "demo"], ["create-org", "acme", "--name", "ACME"]])
def test_a_database_without_tables_names_init_db(cli_runner, tmp_path, locales_dir, monkeypatch, command):
    """Before `init-db` (or `make run`), a command says what to do in one line instead of a traceback."""
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SECRET_KEY", "test")
    monkeypatch.setenv("FLASK_LOCALES_DIR", str(locales_dir))
    result = cli_runner.invoke(cli, command)
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {url} has no tables yet: run `wa-onboarding init-db` first (`make run` does it)."


# -- export-org and delete-org cover the living checklist (SQLite and PostgreSQL) ---------------------------

EVIDENCE_FILE = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def track(world, slug: str, link: str, token: str, owner: str, note: str) -> None:
    """Complete the organisation's checklist of record and track WA-10: owner, due, workflow, a risk accepted, a file, a link, a comment."""
    import io

    from tests.test_trusted_results import PLATFORM, bearer, complete, manager_call

    complete(world, link, PLATFORM)
    item = f"/api/v1/orgs/{slug}/items/WA-10"
    assert manager_call(world, "PATCH", item, {"version": 0, "owner": owner, "due": "2030-06-30", "workflow": "in_review"}, token).status_code == 200
    assert manager_call(world, "PUT", f"{item}/risk-acceptance", {"reason": f"{note}: contract follows", "until": "2030-03-31"}, token).status_code == 200
    form = {"file": (io.BytesIO(EVIDENCE_FILE + note.encode()), "avv.pdf"), "name": f"={note} AVV", "effective": "2025-01-15", "expires": "2026-01-15"}
    assert world.api.client.post(f"{item}/evidence", data=form, headers=bearer(token), content_type="multipart/form-data").status_code == 201
    assert manager_call(world, "POST", f"{item}/evidence", {"url": f"https://dms.example/{slug}", "name": f"{note} link"}, token).status_code == 201
    assert manager_call(world, "POST", f"{item}/comments", {"text": f"+{note} signed copy in the safe"}, token).status_code == 201


@pytest.fixture
def two_tracked(world):
    """acme (tracked by anna) and other (tracked by otto), each with tracking, evidence, comments and progress."""
    track(world, "acme", world.acme_link, world.anna, "anna@acme.example", "acme-note")
    track(world, "other", world.other_link, world.otto, "otto@other.example", "other-note")
    return world


def test_export_org_writes_the_living_checklist_restorably(two_tracked, tmp_path):
    import base64
    import hashlib
    from datetime import date

    world = two_tracked
    target = tmp_path / "acme.json"
    result = world.app.test_cli_runner().invoke(cli, ["export-org", "acme", "-o", str(target)])
    assert result.exit_code == 0, result.output
    exported = json.loads(target.read_text("utf-8"))
    (row,) = exported["tracking"]
    assert {k: row[k] for k in ("item", "owner", "due", "workflow")} == {
        "item": "WA-10",
        "owner": "anna@acme.example",
        "due": "2030-06-30",
        "workflow": "in_review",
    }
    risk = row["risk_acceptance"]
    assert (risk["reason"], risk["by"], risk["until"]) == ("acme-note: contract follows", "anna@acme.example", "2030-03-31") and risk["accepted_at"]
    assert row["version"] >= 1 and row["updated_at"]
    assert [(c["item"], c["author"], c["text"]) for c in exported["comments"]] == [("WA-10", "anna@acme.example", "+acme-note signed copy in the safe")]
    file, link = exported["evidence"]
    content = base64.b64decode(file["content_base64"])
    assert content == EVIDENCE_FILE + b"acme-note" and hashlib.sha256(content).hexdigest() == file["sha256"] and file["size"] == len(content)
    assert (file["name"], file["kind"], file["media_type"], file["items"]) == ("=acme-note AVV", "file", "application/pdf", ["WA-10"])
    assert (file["effective"], file["expires"]) == ("2025-01-15", "2026-01-15")
    assert (link["kind"], link["url"], link["content_base64"], link["sha256"]) == ("link", "https://dms.example/acme", None, None)
    assert [p["day"] for p in exported["progress"]] == [date.today().isoformat()]
    assert exported["progress"][0]["counts"]["workflow"]["in_review"] == 1 and exported["progress"][0]["counts"]["risk_accepted"] == 1
    assert "other-note" not in target.read_text("utf-8") and "otto@" not in target.read_text("utf-8")


def test_delete_org_leaves_nothing_of_its_living_checklist(two_tracked):
    from sqlalchemy import func

    from bot.store.models import Event, Evidence, EvidenceItem, ItemComment, ItemTracking, ProgressSnapshot

    world = two_tracked
    tables = (ItemTracking, ItemComment, Evidence, EvidenceItem, ProgressSnapshot)
    with world.app.app_context():
        session = db.session()
        ids = {o.slug: o.id for o in session.scalars(select(Organisation))}

        def counts(org_id: int) -> dict[str, int]:
            return {t.__tablename__: session.scalar(select(func.count()).select_from(t).where(t.organisation_id == org_id)) for t in tables}

        assert all(counts(ids["acme"]).values()) and all(counts(ids["other"]).values())
        before = counts(ids["other"])
    result = world.app.test_cli_runner().invoke(cli, ["delete-org", "acme", "--yes"])
    assert result.exit_code == 0, result.output
    with world.app.app_context():
        session = db.session()
        assert counts(ids["acme"]) == dict.fromkeys(before, 0)
        assert counts(ids["other"]) == before  # the other organisation keeps everything
        assert session.scalar(select(func.count()).select_from(Evidence)) == before["evidence"]
        assert session.scalar(select(Event.action).where(Event.organisation_slug == "acme").order_by(Event.id.desc()).limit(1)) == "organisation.deleted"
    response = world.app.test_client().get("/api/v1/orgs/other/checklist.json?lang=en", headers={"Authorization": f"Bearer {world.otto}"})
    assert next(i for i in response.get_json()["items"] if i["id"] == "WA-10")["tracking"]["owner"] == "otto@other.example"
