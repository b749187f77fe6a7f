"""Two-factor login (TOTP, RFC 6238, with pyotp): enrolment, codes accepted once, single-use recovery codes, and who must use it.

The secret is stored encrypted (Fernet keyed from SECRET_KEY, as webhook secrets are); a secret
without `totp_enabled_at` is an enrolment not yet confirmed by a first code. A code is accepted
in the 30-second step before, at and after now (clock drift) and only for a step later than the
last accepted one (`Manager.totp_last_step`), so an observed code cannot be used again. Recovery
codes are 12 base32 characters (60 bits) shown as XXXX-XXXX-XXXX; only their SHA-256 is stored.
Every change records its account event (bot/store/audit.py) and commits with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from typing import Any

import pyotp
from cryptography.fernet import InvalidToken
from pyotp.utils import strings_equal
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from ..webhooks import decrypt_secret, encrypt_secret
from .audit import record_for_manager
from .events import Actor
from .models import Manager, Membership, Organisation, RecoveryCode, utcnow

ISSUER = "WA Onboarding"
STEP_SECONDS = 30
VALID_WINDOW = 1  # one step either side: a phone's clock a little off, or a code typed as it changes
RECOVERY_CODE_COUNT = 10
RECOVERY_GROUPS = 3
RECOVERY_GROUP_LENGTH = 4
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
CODE_MAX_LENGTH = 64  # longer input is no code at all (the caller refuses it before any check)


class TwoFactorError(ValueError):
    """A two-factor change cannot be made as asked (already on, not started, required)."""


def normalise_code(raw: str) -> str:
    """A typed code without spaces and hyphens, upper-cased (authenticator apps and people group digits and letters)."""
    return "".join(raw.split()).replace("-", "").upper()


def looks_like_totp(code: str) -> bool:
    """Whether a normalised code has the form of an authenticator code (6 digits)."""
    return len(code) == 6 and code.isascii() and code.isdigit()


def looks_like_recovery_code(code: str) -> bool:
    """Whether a normalised code has the form of a recovery code (12 base32 characters)."""
    return len(code) == RECOVERY_GROUPS * RECOVERY_GROUP_LENGTH and all(c in BASE32 for c in code)


def grouped(text: str, size: int = 4, sep: str = " ") -> str:
    """Text in groups of `size` characters (a secret to type by hand, a recovery code to read)."""
    return sep.join(text[i : i + size] for i in range(0, len(text), size))


def _secret(config: Mapping[str, Any], manager: Manager) -> str | None:
    if not manager.totp_secret:
        return None
    try:
        return decrypt_secret(config, manager.totp_secret)
    except InvalidToken:  # SECRET_KEY changed: the secret is lost; the manager needs a recovery code or an operator
        return None


def required_for(session: Session, config: Mapping[str, Any], manager: Manager) -> bool:
    """Whether the manager must log in with a second factor: MFA_REQUIRED for everyone, or an organisation of theirs asks for it."""
    if config.get("MFA_REQUIRED"):
        return True
    query = select(Organisation.id).join(Membership).where(Membership.manager_id == manager.id, Organisation.mfa_required.is_(True)).limit(1)
    return session.scalar(query) is not None


def pending_secret(session: Session, config: Mapping[str, Any], manager: Manager) -> str:
    """The secret of the manager's enrolment (a new one, stored encrypted and committed, unless one is waiting for its first code)."""
    if manager.has_two_factor:
        raise TwoFactorError("two-factor login is on already")
    secret = _secret(config, manager)
    if secret is None:
        secret = pyotp.random_base32()  # 160 bits, as RFC 4226 recommends
        manager.totp_secret = encrypt_secret(config, secret)
        manager.totp_enabled_at = None
        manager.totp_last_step = None
        session.commit()
    return secret


def provisioning_uri(secret: str, manager: Manager) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=manager.email, issuer_name=ISSUER)


def _matching_step(secret: str, code: str, last_step: int | None, now: float | None = None) -> int | None:
    """The time step whose code this is, within the valid window and after the last accepted step; None otherwise."""
    if not looks_like_totp(code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(time.time() if now is None else now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if strings_equal(code, totp.generate_otp(step)) and (last_step is None or step > last_step):
            return step
    return None


def check_code(session: Session, config: Mapping[str, Any], manager: Manager, raw: str) -> bool:
    """Whether `raw` is a current authenticator code of the manager's, not used before; an accepted one is noted (committed)."""
    secret = _secret(config, manager) if manager.has_two_factor else None
    step = _matching_step(secret, normalise_code(raw), manager.totp_last_step) if secret else None
    if step is None:
        return False
    # A conditional update: of two requests racing with the same code, only one moves the step on.
    moved = session.execute(
        update(Manager).where(Manager.id == manager.id, or_(Manager.totp_last_step.is_(None), Manager.totp_last_step < step)).values(totp_last_step=step),
        execution_options={"synchronize_session": False},
    )
    session.commit()
    session.refresh(manager)
    return bool(moved.rowcount)  # type: ignore[attr-defined]


def _hash(code: str, salt: str | None = None) -> str:
    """A recovery code's stored form, "salt$digest": SHA-256 over a random 64-bit salt and the code (ASVS 2.6.2: a code of
    60 bits is salted, so a copy of the database cannot be searched for all codes at once); 55 characters."""
    salt = salt or secrets.token_urlsafe(8)
    digest = hashlib.sha256(f"{salt}${normalise_code(code)}".encode("ascii")).digest()
    return f"{salt}${base64.urlsafe_b64encode(digest).rstrip(b'=').decode('ascii')}"


def _matches(code: str, stored: str) -> bool:
    """Whether `code` is the recovery code stored as `stored` (compared in constant time)."""
    salt, _, _digest = stored.partition("$")
    return hmac.compare_digest(_hash(code, salt), stored)


def _new_recovery_codes(session: Session, manager: Manager) -> list[str]:
    """Replace the manager's recovery codes by RECOVERY_CODE_COUNT new ones (not committed); the codes as shown."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.manager_id == manager.id))
    length = RECOVERY_GROUPS * RECOVERY_GROUP_LENGTH
    codes = [grouped("".join(secrets.choice(BASE32) for _ in range(length)), RECOVERY_GROUP_LENGTH, "-") for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(RecoveryCode(manager_id=manager.id, code_hash=_hash(code)) for code in codes)
    return codes


def confirm_enrolment(session: Session, config: Mapping[str, Any], manager: Manager, raw: str, actor: Actor) -> list[str] | None:
    """Switch two-factor login on when `raw` is a current code of the pending secret (committed); the new recovery codes, or None."""
    if manager.has_two_factor:
        raise TwoFactorError("two-factor login is on already")
    secret = _secret(config, manager)
    if secret is None:
        raise TwoFactorError("no enrolment has been started")
    step = _matching_step(secret, normalise_code(raw), None)
    if step is None:
        return None
    manager.totp_enabled_at = utcnow()
    manager.totp_last_step = step
    codes = _new_recovery_codes(session, manager)
    record_for_manager(session, manager, "two_factor.enabled", actor)
    session.commit()
    return codes


def use_recovery_code(session: Session, manager: Manager, raw: str, actor: Actor) -> bool:
    """Whether `raw` is one of the manager's unused recovery codes; it is used up (recorded and committed)."""
    code = normalise_code(raw)
    if not manager.has_two_factor or not looks_like_recovery_code(code):
        return False
    unused = session.execute(select(RecoveryCode.id, RecoveryCode.code_hash).where(RecoveryCode.manager_id == manager.id, RecoveryCode.used_at.is_(None)))
    match = next((row.id for row in unused if _matches(code, row.code_hash)), None)
    if match is None:
        return False
    # Conditional, so two requests racing with the same code cannot both use it.
    used = session.execute(
        update(RecoveryCode).where(RecoveryCode.id == match, RecoveryCode.used_at.is_(None)).values(used_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    if not used.rowcount:  # type: ignore[attr-defined]
        return False
    record_for_manager(session, manager, "recovery_code.used", actor, remaining=remaining_recovery_codes(session, manager))
    session.commit()
    return True


def remaining_recovery_codes(session: Session, manager: Manager) -> int:
    """How many of the manager's recovery codes are still unused."""
    query = select(func.count()).select_from(RecoveryCode).where(RecoveryCode.manager_id == manager.id, RecoveryCode.used_at.is_(None))
    return int(session.scalar(query) or 0)


def renew_recovery_codes(session: Session, manager: Manager, actor: Actor) -> list[str]:
    """New recovery codes for the manager (the old ones stop working; recorded and committed); the codes as shown, once."""
    if not manager.has_two_factor:
        raise TwoFactorError("two-factor login is off")
    codes = _new_recovery_codes(session, manager)
    record_for_manager(session, manager, "recovery_codes.renewed", actor)
    session.commit()
    return codes


def reset(session: Session, manager: Manager, actor: Actor) -> None:
    """The operator's way out for a lost phone without recovery codes: secret and codes deleted, every session ended (committed).

    Where two-factor login is required, the manager sets it up again at the next login.
    """
    from .sessions import end_all

    manager.totp_secret = None
    manager.totp_enabled_at = None
    manager.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.manager_id == manager.id))
    end_all(session, manager.id)
    record_for_manager(session, manager, "two_factor.disabled", actor, reset=True)
    session.commit()


def disable(session: Session, config: Mapping[str, Any], manager: Manager, actor: Actor) -> None:
    """Switch two-factor login off (secret and recovery codes deleted; recorded and committed); refused while it is required."""
    if not manager.has_two_factor:
        raise TwoFactorError("two-factor login is off")
    if required_for(session, config, manager):
        raise TwoFactorError("two-factor login is required for this manager")
    manager.totp_secret = None
    manager.totp_enabled_at = None
    manager.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.manager_id == manager.id))
    record_for_manager(session, manager, "two_factor.disabled", actor)
    session.commit()
