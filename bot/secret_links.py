"""Links that carry a secret (an invitation, a password reset) in an outbox mail: sealed with SECRET_KEY, opened when the mail is rendered.

Only the hash of such a token is stored, so the outbox row must not hold the link in
plain text either (it stays 30 days): the link is encrypted (Fernet, a key derived from
SECRET_KEY) and opened by the worker when it renders the mail. Someone who can read the
database but not the configuration cannot use it.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

HKDF_INFO = b"wa-onboarding mail links"


def _fernet(config: Mapping[str, Any]) -> Fernet:
    secret_key = config.get("SECRET_KEY")
    if not secret_key:
        raise RuntimeError("SECRET_KEY is not set: links in mails cannot be sealed")
    raw = secret_key.encode("utf-8") if isinstance(secret_key, str) else bytes(secret_key)
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(raw)
    return Fernet(base64.urlsafe_b64encode(key))


def seal(config: Mapping[str, Any], url: str) -> str:
    """The link encrypted for the outbox row."""
    return _fernet(config).encrypt(url.encode("utf-8")).decode("ascii")


def unseal(config: Mapping[str, Any], sealed: str) -> str | None:
    """The link in plain text; None when SECRET_KEY changed since (the mail then names the page to ask again)."""
    try:
        return _fernet(config).decrypt(sealed.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError, UnicodeError):
        return None
