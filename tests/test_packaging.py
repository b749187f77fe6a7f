"""Packaging: where data files and the instance folder are; the wheel, installed outside the checkout, checks its flows and serves."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot import create_app, resources
from tests.conftest import ROOT, free_port, stop_gunicorn

# What a build must not see: local state, build products (the wheel compiles its own .mo files) and caches.
NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", "instance", "test-artifacts",
    ".hypothesis", ".pytest_cache", ".ruff_cache", ".mypy_cache", "*.mo", "*.pot", "bench-report.json",
)
# Settings of the surrounding test run that must not leak into the installed app.
LEAKING_SETTINGS = ("DATABASE_URL", "SECRET_KEY", "INSTANCE_PATH", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")


@dataclass(frozen=True)
class Installed:
    """A venv outside the checkout with the wheel installed, and a scratch folder to run it from."""

    venv: Path
    site_packages: Path
    workdir: Path

    def command(self, name: str) -> str:
        """The path of a console script of the venv."""
        return str(self.venv / "bin" / name)

    def env(self, **settings: str) -> dict[str, str]:
        """The environment for the installed app: none of the test run's settings, plus these."""
        base = {k: v for k, v in os.environ.items() if k not in LEAKING_SETTINGS and not k.startswith("FLASK_")}
        return {**base, **settings}

    def run(self, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
        """Run a command of the venv from the scratch folder; fail with its output when it fails."""
        result = subprocess.run(args, cwd=self.workdir, env=self.env(**settings), capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        return result

    def files(self) -> set[Path]:
        """Every file under site-packages except bytecode caches."""
        return {p.relative_to(self.site_packages) for p in self.site_packages.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> Installed:
    """Build the wheel from a copy of the working tree and install it (dependencies through pip's cache) once per session."""
    base = tmp_path_factory.mktemp("wheel")
    source, wheels, venv, workdir = base / "source", base / "wheels", base / "venv", base / "work"
    # A copy, so the build writes no build/ or egg-info into the checkout and sees no compiled catalogs.
    shutil.copytree(ROOT, source, ignore=NOT_SOURCES)
    workdir.mkdir()
    quiet = {"capture_output": True, "text": True, "cwd": workdir, "timeout": 900}
    steps = [
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(source)],
        [sys.executable, "-m", "venv", str(venv)],
    ]
    for step in steps:
        result = subprocess.run(step, **quiet)
        assert result.returncode == 0, f"{step} failed:\n{result.stdout}\n{result.stderr}"
    (wheel,) = wheels.glob("wa_onboarding-*.whl")
    result = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)], **quiet)
    assert result.returncode == 0, f"installing {wheel.name} failed:\n{result.stdout}\n{result.stderr}"
    (site_packages,) = venv.glob("lib/python*/site-packages")
    return Installed(venv=venv, site_packages=site_packages, workdir=workdir)


def test_a_checkout_reads_flows_and_catalogs_from_its_top_level_folders():
    assert (resources.flows_dir(), resources.locales_dir()) == (ROOT / "flows", ROOT / "locales")


@pytest.mark.parametrize("variable", ["INSTANCE_PATH", "FLASK_INSTANCE_PATH"])
def test_the_instance_folder_comes_from_the_environment_and_is_created(variable, monkeypatch, tmp_path, locales_dir):
    instance = tmp_path / "not" / "there" / "yet"
    monkeypatch.setenv(variable, str(instance))
    for setting in ("DATABASE_URL", "FLASK_DATABASE_URL"):
        monkeypatch.delenv(setting, raising=False)
    app = create_app({"TESTING": True, "LOCALES_DIR": str(locales_dir)})
    assert Path(app.instance_path) == instance
    assert instance.is_dir()
    assert app.config["DATABASE_URL"] == f"sqlite:///{instance / 'wa_onboarding.sqlite'}"


@pytest.mark.slow
def test_wheel_carries_flows_catalogs_templates_static_files_and_migrations(installed):
    package = installed.site_packages / "bot"
    shipped = {p.relative_to(package) for p in package.rglob("*") if p.is_file()}
    expected = {Path("flows") / p.name for p in (ROOT / "flows").iterdir() if p.suffix in (".yaml", ".json")}
    expected |= {Path("locales") / p.relative_to(ROOT / "locales") for p in (ROOT / "locales").glob("*/LC_MESSAGES/messages.po")}
    expected |= {p.with_suffix(".mo") for p in expected if p.suffix == ".po"}
    for folder in ("templates", "static", "store/migrations"):
        expected |= {p.relative_to(ROOT / "bot") for p in (ROOT / "bot" / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    expected.add(Path("web/openapi.yaml"))
    assert {Path("locales/de/LC_MESSAGES/messages.mo"), Path("flows/whatsapp_gdpr.yaml"), Path("store/migrations/env.py")} <= expected
    assert expected - shipped == set()


@pytest.mark.slow
def test_installed_package_resolves_its_data_inside_itself(installed):
    script = "import json, bot, bot.config, bot.i18n; print(json.dumps([bot.__file__, str(bot.config.FLOWS_DIR), str(bot.i18n.LOCALES_DIR)]))"
    paths = json.loads(installed.run(installed.command("python"), "-c", script).stdout)
    package = installed.site_packages / "bot"
    assert [Path(p) for p in paths] == [package / "__init__.py", package / "flows", package / "locales"]


@pytest.mark.slow
def test_installed_command_checks_the_flows(installed):
    result = installed.run(installed.command("wa-onboarding"), "flows", "check")
    assert "whatsapp_gdpr" in result.stdout


@pytest.mark.slow
def test_installed_app_serves_with_its_instance_folder_outside_site_packages(installed):
    before = installed.files()
    instance = installed.workdir / "instance-from-env"  # missing: the app creates it
    settings = {"INSTANCE_PATH": str(instance), "SECRET_KEY": "wheel-test"}
    installed.run(installed.command("wa-onboarding"), "init-db", **settings)
    assert (instance / "wa_onboarding.sqlite").is_file()

    port = free_port()
    log = installed.workdir / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [installed.command("gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}", "bot:create_app()"],
            cwd=installed.workdir, env=installed.env(**settings), stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        health = _get_when_up(server, port, "/healthz", log)
        assert health.status == 200, health.body
        assert json.loads(health.body)["database"] == "ok"
        # The start page in German: the packaged templates and the packaged, compiled catalog.
        start = _get_when_up(server, port, "/", log, headers={"Accept-Language": "de"})
        assert start.status == 200
        assert _german("Questionnaires") in start.body
        widget = _get_when_up(server, port, "/widget.js", log)
        assert widget.status == 200
        assert widget.body == (ROOT / "bot" / "static" / "widget" / "widget.js").read_text(encoding="utf-8")
    finally:
        stop_gunicorn(server)
    assert installed.files() == before, "the installed app wrote into site-packages"


@dataclass(frozen=True)
class Response:
    """Status and text of an HTTP response."""

    status: int
    body: str


def _get_when_up(server: subprocess.Popen, port: int, path: str, log: Path, headers: dict[str, str] | None = None) -> Response:
    """GET a path of the server, waiting (up to 60 s) until it accepts connections."""
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            return Response(response.status, response.read().decode("utf-8"))
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the installed app did not answer:\n" + log.read_text())
            time.sleep(0.1)


def _german(message: str) -> str:
    """The German translation of a UI string, read from the checkout's catalog source."""
    with (ROOT / "locales" / "de" / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        translated = read_po(fp)[message].string
    assert translated and translated != message
    return translated
