"""`wa-onboarding run`: Flask's development server, without its version in responses, with a PUBLIC_URL by default."""

from __future__ import annotations

import os
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
) -> None:
    """Serve the app with Werkzeug's development server (the options of `flask run`)."""
    # Links (embed snippet, wizard links) should point at this server unless PUBLIC_URL says otherwise;
    # set before the app is created, and inherited by the reloader's child process.
    os.environ.setdefault("PUBLIC_URL", local_url(host, port, secure=cert is not None))
    app = info.load_app()
    debug = get_debug_flag()
    show_server_banner(debug, info.app_import_path)
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
    params=list(run_command.params),
    help=(
        "Run the development server (Flask's `run`, without a Server header; PUBLIC_URL defaults to its address)."
        " Not for production: use gunicorn with bot.gunicorn_conf."
    ),
    short_help="Run the development server.",
)

COMMANDS = [run]
