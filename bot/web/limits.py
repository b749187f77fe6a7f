"""Rate limits (Flask-Limiter): assessment creation and turns per client address (logins: bot/web/manage/throttle.py).

Memory storage by default (one process); with several workers or hosts set
RATELIMIT_STORAGE_URI to a shared store (e.g. redis://127.0.0.1:6379). The limits are
configurable (RATELIMIT_CREATE, RATELIMIT_TURN), and
FLASK_RATELIMIT_ENABLED=false switches them off (the benchmarks do). A refused request
gets 429 with a localised message and Retry-After, and changes nothing.
"""

from __future__ import annotations

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(get_remote_address, headers_enabled=True)


def create_limit() -> str:
    """How many assessments one client address may start."""
    return current_app.config["RATELIMIT_CREATE"]


def turn_limit() -> str:
    """How many turns one client address may take."""
    return current_app.config["RATELIMIT_TURN"]


def init_app(app: Flask) -> None:
    """Attach the limiter to the app."""
    limiter.init_app(app)
