"""Login throttling per account and per address: waits that grow with repeated failures, never with successful logins.

After a few free failures each further failure doubles the wait (1 s, 2 s, 4 s, … at most
LOGIN_MAX_WAIT, 15 minutes); a refused attempt is 429 with Retry-After and is answered at
once (nothing sleeps in a worker). The account's count is the e-mail address's, so guessing
one password is slow from anywhere; the address's catches one machine trying many accounts.
A successful login clears its account's failures (not its address's: a working login of one's
own must not reset a spray over other accounts). The counters live in the rate limiter's
store (memory, or Redis shared by every host) and are off with RATELIMIT_ENABLED=false.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from flask import current_app, request

from ..limits import limiter

log = logging.getLogger(__name__)

FAILURE_WINDOW = 24 * 3600  # failures are counted over a day from the first one


def _keys(email: str) -> list[tuple[str, int]]:
    """The counters an attempt touches, each with its free failures: the account (hashed address) and the client address."""
    account = hashlib.sha256(email.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()
    config = current_app.config
    return [
        (f"login-account:{account}", int(config["LOGIN_FREE_FAILURES"])),
        (f"login-address:{request.remote_addr or '-'}", int(config["LOGIN_FREE_FAILURES_PER_ADDRESS"])),
    ]


def _active() -> bool:
    return bool(limiter.enabled and current_app.config.get("RATELIMIT_ENABLED", True))


def wait_seconds(email: str) -> int:
    """How long this attempt must wait (0: it may go ahead)."""
    if not _active():
        return 0
    now = time.time()
    try:
        ends = [limiter.storage.get_expiry(f"block:{key}") for key, _free in _keys(email) if limiter.storage.get(f"block:{key}")]
    except Exception:  # the store is down: let the password check decide rather than lock everyone out
        log.warning("login throttle store unavailable", exc_info=True)
        return 0
    return max((math.ceil(end - now) for end in ends if end > now), default=0)


def record_failure(email: str) -> None:
    """Count a failed attempt; past the free ones, block the account or address for a doubling time."""
    if not _active():
        return
    cap = int(current_app.config["LOGIN_MAX_WAIT"])
    try:
        for key, free in _keys(email):
            failures = limiter.storage.incr(f"fail:{key}", FAILURE_WINDOW)
            if failures > free:
                wait = min(2 ** (failures - free - 1), cap)
                limiter.storage.clear(f"block:{key}")
                limiter.storage.incr(f"block:{key}", wait)
    except Exception:
        log.warning("login throttle store unavailable", exc_info=True)


def record_success(email: str) -> None:
    """Clear the account's failures after a successful login."""
    if not _active():
        return
    key, _free = _keys(email)[0]
    try:
        limiter.storage.clear(f"fail:{key}")
        limiter.storage.clear(f"block:{key}")
    except Exception:
        log.warning("login throttle store unavailable", exc_info=True)
