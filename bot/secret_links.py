"""Links that carry a secret (an invitation, a password reset) in an outbox mail: sealed with SECRET_KEY, opened when the mail is rendered.

Only the hash of such a token is stored, so the outbox row must not hold the link in
plain text either (it stays 30 days): the link is encrypted (Fernet, a key derived from
SECRET_KEY) and opened by the worker when it renders the mail. Someone who can read the
database but not the configuration cannot use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from .webhooks import fernet_for

HKDF_INFO = b"wa-onboarding mail links"


def _fernet(config: Mapping[str, Any]) -> Fernet:
    """The cipher of links in outbox rows (its own HKDF purpose, so it never opens a webhook secret)."""
    return fernet_for(config, HKDF_INFO, "links in mails")


def seal(config: Mapping[str, Any], url: str) -> str:
    """The link encrypted for the outbox row."""
    return _fernet(config).encrypt(url.encode("utf-8")).decode("ascii")


def unseal(config: Mapping[str, Any], sealed: str) -> str | None:
    """The link in plain text; None when SECRET_KEY changed since (the mail then names the page to ask again)."""
    try:
        return _fernet(config).decrypt(sealed.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError, UnicodeError):
        return None
