"""`wa-onboarding run`: Flask's development server, without its version in responses, with a PUBLIC_URL by default."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

import click
from flask.cli import ScriptInfo, pass_script_info, run_command, show_server_banner
from flask.helpers import get_debug_flag
from werkzeug.serving import WSGIRequestHandler, run_simple


class QuietRequestHandler(WSGIRequestHandler):
    """The development server's request handler, minus the `Server: Werkzeug/x Python/y` header."""

    def send_response(self, code: int, message: str | None = None) -> None:
        """Like http.server's, without the `Server` header (it names the versions an attacker would look up)."""
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())


def local_url(host: str, port: int, secure: bool = False) -> str:
    """The URL a browser on this machine uses for the server's address (a wildcard address: loopback)."""
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"{'https' if secure else 'http'}://{host}:{port}"


@pass_script_info
def _serve(
    info: ScriptInfo,
    host: str,
    port: int,
    reload: bool | None,
    debugger: bool | None,
    with_threads: bool,
    cert: Any,
    extra_files: list[str] | None,
    exclude_patterns: list[str] | None,
    with_worker: bool,
) -> None:
    """Serve the app with Werkzeug's development server (the options of `flask run`), with a worker beside it if asked."""
    # Links (embed snippet, wizard links) should point at this server unless PUBLIC_URL says otherwise;
    # set before the app is created, and inherited by the reloader's child process.
    os.environ.setdefault("PUBLIC_URL", local_url(host, port, secure=cert is not None))
    app = info.load_app()
    debug = get_debug_flag()
    show_server_banner(debug, info.app_import_path)
    # With --with-worker, one worker runs beside the server (the reloader's child does not start another).
    worker = start_worker() if with_worker and not os.environ.get("WERKZEUG_RUN_MAIN") else None
    if worker is not None:
        # Ctrl-C and a service manager's SIGTERM end the server, and then its worker, even where the shell
        # started us with SIGINT ignored (a background job without job control).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        _run_simple(host, port, app, debug, reload, debugger, with_threads, cert, extra_files, exclude_patterns)
    finally:
        if worker is not None:
            stop_worker(worker)


def _interrupt(_signum: int, _frame: Any) -> None:
    """SIGTERM: stop like Ctrl-C (the `finally` stops the worker)."""
    raise KeyboardInterrupt


def start_worker() -> subprocess.Popen[bytes]:
    """Start `wa-onboarding worker` as a child process with the same environment (the same database and queue)."""
    command = [sys.executable, "-c", "from bot.cli import cli; cli(prog_name='wa-onboarding')", "worker"]
    click.echo(" * Starting the worker (reminders, digests, retention, mails and webhooks)")
    return subprocess.Popen(command)


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    """Stop the worker: SIGINT lets it finish the task in hand (Huey's graceful stop), SIGKILL after 15 s."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGINT)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _run_simple(
    host: str,
    port: int,
    app: Any,
    debug: bool,
    reload: bool | None,
    debugger: bool | None,
    with_threads: bool,
    cert: Any,
    extra_files: list[str] | None,
    exclude_patterns: list[str] | None,
) -> None:
    """Werkzeug's development server with the options of `flask run`."""
    run_simple(
        host,
        port,
        app,
        use_reloader=debug if reload is None else reload,
        use_debugger=debug if debugger is None else debugger,
        threaded=with_threads,
        ssl_context=cert,
        extra_files=extra_files,
        exclude_patterns=exclude_patterns,
        request_handler=QuietRequestHandler,
    )


run = click.Command(
    "run",
    callback=_serve,
    params=[*run_command.params, click.Option(["--with-worker"], is_flag=True, help="Also start one worker (what `make run` does).")],
    help=(
        "Run the development server (Flask's `run`, without a Server header; PUBLIC_URL defaults to its address)."
        " Not for production: use gunicorn with bot.gunicorn_conf."
    ),
    short_help="Run the development server.",
)

COMMANDS = [run]
