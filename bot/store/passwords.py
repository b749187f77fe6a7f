"""Password rules after NIST SP 800-63B (rev. 4): length, no composition rules, no common or context-specific passwords.

The list of common passwords ships with the app (bot/data/common-passwords.txt.gz: 19,640 leaked
passwords, lower-cased, from Royce Williams' list as Django ships it, BSD licence). A password is
compared lower-cased and also with its trailing digits and punctuation taken off, so
"Password123456!" counts as the common "password". Hashing is werkzeug's scrypt (memory-hard).
"""

from __future__ import annotations

import gzip
import re
from functools import cache
from importlib import resources

MIN_LENGTH = 12
# NIST asks to allow at least 64 characters, ASVS 2.1.2 to refuse more than 128 (and a bound keeps hashing cheap).
MAX_LENGTH = 128
# Words of this service that make a guessable password on their own.
SERVICE_WORDS = frozenset({"wa-onboarding", "waonboarding", "whatsapp", "onboarding", "datenschutz", "dsgvo", "gdpr"})


class PasswordRuleError(ValueError):
    """A password breaks one of the rules; the message says which in one line."""


class PasswordTooShortError(PasswordRuleError):
    """Fewer than MIN_LENGTH characters."""


class PasswordTooLongError(PasswordRuleError):
    """More than MAX_LENGTH characters."""


class CommonPasswordError(PasswordRuleError):
    """A common or easily guessed password (on the list, the e-mail address, a word of this service, one repeated character)."""


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased."""
    data = resources.files("bot").joinpath("data", "common-passwords.txt.gz").read_bytes()
    return frozenset(line.strip() for line in gzip.decompress(data).decode("utf-8").splitlines() if line.strip())


def _core(password: str) -> str:
    """The password lower-cased, without spaces and without the digits and punctuation at its end."""
    return password.lower().replace(" ", "").rstrip("0123456789!?.,;:-_#*+@$%&/()=") or password.lower()


def check_rules(password: str, email: str = "") -> None:
    """Raise a PasswordRuleError when the password may not be used (for the manager with this e-mail address)."""
    # Runs of spaces count as one (ASVS 2.1.1): "a" and ten spaces and "b" is no 12-character password.
    if len(re.sub(r"\s{2,}", " ", password)) < MIN_LENGTH:
        raise PasswordTooShortError(f"the password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordTooLongError(f"the password may have at most {MAX_LENGTH} characters")
    lowered = password.lower()
    email = email.strip().lower()
    local_part = email.split("@", 1)[0]
    context = SERVICE_WORDS | {w for w in (email, local_part) if len(w) >= 4}
    candidates = {lowered, lowered.replace(" ", ""), _core(password)}
    if len(set(lowered)) == 1 or candidates & (common_passwords() | context):
        raise CommonPasswordError("the password is too common or too easy to guess (choose a longer phrase of your own)")
