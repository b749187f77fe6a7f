"""Commands of the background work: the worker, the periodic jobs, and a test mail."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import jobs as periodic
from .. import mail
from ..store import db
from .common import safe_url


@click.command("worker")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 32), help="Worker threads.")
@with_appcontext
def worker(workers: int) -> None:
    """Run the task queue's consumer: the daily jobs (reminders, digest, retention) and sending mails and webhooks."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    from ..queue import consumer

    click.echo(f"Worker on {safe_url(str(app.config['TASK_QUEUE_URL']))} with {workers} thread(s); mail {'on' if mail.mail_enabled(app.config) else 'off'}.")
    consumer(app, workers).run()


@click.group("jobs")
def jobs() -> None:
    """The periodic jobs: list them, or run one now."""


@jobs.command("list")
@with_appcontext
def list_jobs() -> None:
    """Each job with its schedule and its last run."""
    runs = periodic.last_runs(db.session())
    for job in periodic.JOBS.values():
        run = runs.get(job.name)
        last = f"last run {run.started_at:%Y-%m-%d %H:%M} UTC ({run.status})" if run is not None else "not run yet"
        click.echo(f"{job.name:<10} {job.schedule}; {last}")


@jobs.command("run")
@click.argument("name", type=click.Choice(list(periodic.JOBS)))
@with_appcontext
def run_job(name: str) -> None:
    """Run one job now, without a worker (idempotent: nothing is mailed twice), then send what it queued."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    summary = periodic.run_job(app, name)
    if summary is None:
        click.echo(f"{name}: another worker is running it now; nothing done.")
        return
    if name != "outbox":
        summary["outbox"] = periodic.outbox(app, periodic.utcnow())
    click.echo(f"{name}: {json.dumps(summary, sort_keys=True)}")


@click.command("mail-test")
@click.argument("address")
@with_appcontext
def mail_test(address: str) -> None:
    """Send a test message to ADDRESS now (checks the MAIL_* settings)."""
    config = current_app.config
    if not mail.mail_enabled(config):
        raise click.ClickException("Mail is off: set MAIL_SERVER (and MAIL_PORT, MAIL_USE_TLS, MAIL_USERNAME, MAIL_PASSWORD, MAIL_DEFAULT_SENDER).")
    if "@" not in address or any(ord(c) < 33 for c in address):
        raise click.BadParameter(f"{address!r} is not an e-mail address", param_hint="ADDRESS")
    message = mail.render("test", "de", address, {"server": str(config["MAIL_SERVER"])})
    try:
        mail.send(config, message)
    except (OSError, mail.smtplib.SMTPException) as exc:
        raise click.ClickException(f"Could not send to {address} via {config['MAIL_SERVER']}: {exc}") from exc
    click.echo(f"Sent a test message to {address} via {config['MAIL_SERVER']}.")


COMMANDS = [worker, jobs, mail_test]
