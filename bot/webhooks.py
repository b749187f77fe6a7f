"""Signed webhooks: secrets (Standard Webhooks `whsec_` form, stored encrypted), the SSRF guard on targets, one signed POST per attempt.

A target is checked when a webhook is created and again before every attempt: the host is
resolved, every address it resolves to must be public (or, with WEBHOOK_ALLOW_PRIVATE,
loopback or private, never link-local or a cloud metadata address), and the request goes to
an address that was checked, so a second DNS answer (DNS rebinding) cannot redirect it.
Redirects are not followed: a 3xx is a failed attempt.
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import json
import secrets
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from standardwebhooks import Webhook

from .store.models import WebhookEndpoint

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# The problems `check_target` names (the API's error codes).
PROBLEMS = ("invalid_url", "https_required", "unresolvable", "private_address", "metadata_address")
URL_MAX_LENGTH = 2000
SECRET_PREFIX = "whsec_"
USER_AGENT = "WA-Onboarding-Webhooks/1 (+Standard Webhooks)"
RESPONSE_READ_LIMIT = 4096  # only the status matters; a few KB of the body are read so the connection ends cleanly
HKDF_INFO = b"wa-onboarding webhook secrets"

# Cloud metadata services (AWS, AWS ECS, GCP, Azure, Alibaba, Oracle): refused even where private addresses are allowed.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "169.254.169.123", "fd00:ec2::254", "fd00:ec2::23", "100.100.100.200", "168.63.129.16", "192.0.0.192")
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: not public, not in ipaddress's private list
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # an IPv6 address that a NAT64 gateway turns into the IPv4 address in its last 32 bits


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of one attempt: ok for a 2xx; the status code when there was a response; what went wrong otherwise."""

    ok: bool
    status_code: int | None
    error: str | None


@dataclass(frozen=True)
class Target:
    """A checked target: where to connect (the checked addresses), and what to send as host, port and path."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


# -- secrets ------------------------------------------------------------------------------------------


def new_secret() -> str:
    """A new signing secret: "whsec_" and the base64 of 32 random bytes (the Standard Webhooks form)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def fernet_for(config: Mapping[str, Any], info: bytes, what: str) -> Fernet:
    """A cipher for stored secrets, its key derived from SECRET_KEY with HKDF for one purpose (`info`); a new SECRET_KEY makes them unreadable."""
    secret_key = config.get("SECRET_KEY")
    if not secret_key:
        raise RuntimeError(f"SECRET_KEY is not set: {what} cannot be encrypted")
    raw = secret_key.encode("utf-8") if isinstance(secret_key, str) else bytes(secret_key)
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(raw)
    return Fernet(base64.urlsafe_b64encode(key))


def _fernet(config: Mapping[str, Any]) -> Fernet:
    """The cipher of webhook (and TOTP) secrets."""
    return fernet_for(config, HKDF_INFO, "webhook secrets")


def encrypt_secret(config: Mapping[str, Any], secret: str) -> str:
    """The secret encrypted for storage (Fernet: AES with an HMAC, so a changed row is detected)."""
    return _fernet(config).encrypt(secret.encode("utf-8")).decode("ascii")


def decrypt_secret(config: Mapping[str, Any], stored: str) -> str:
    """The stored secret in plain text; `cryptography.fernet.InvalidToken` when SECRET_KEY changed or the row was altered."""
    return _fernet(config).decrypt(stored.encode("ascii")).decode("utf-8")


# -- the SSRF guard -------------------------------------------------------------------------------------


def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to (an IP literal resolves to itself); OSError when it does not resolve."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(address: IPAddress) -> IPAddress | None:
    """The IPv4 address an IPv6 address carries (IPv4-mapped, 6to4, NAT64), which is where it really leads."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_problem(address: IPAddress, allow_private: bool) -> str | None:
    """Why a request may not go to this address (`private_address`, `metadata_address`), or None."""
    embedded = _embedded_ipv4(address)
    if address in METADATA_ADDRESSES or embedded in METADATA_ADDRESSES:
        return "metadata_address"
    ip = embedded if embedded is not None else address  # an IPv4-mapped or NAT64 address is judged by where it leads
    # Link-local (169.254/16, fe80::/10) is where metadata services live: never, even in development.
    if ip.is_link_local or ip.is_multicast or ip.is_unspecified:
        return "private_address"
    if ip.is_loopback:
        return None if allow_private else "private_address"
    if ip.is_global and ip not in CGNAT:
        return None
    if allow_private and (ip.is_private or ip in CGNAT) and not ip.is_reserved:
        return None
    return "private_address"


def _has_control_characters(text: str) -> bool:
    """Whether the text has control characters or spaces (neither belongs in a URL; NUL would break PostgreSQL)."""
    return any(ord(c) <= 0x20 or 0x7F <= ord(c) <= 0x9F for c in text)


def parse_target(url: object, allow_private: bool) -> Target | str:
    """The URL's parts with its resolved addresses, all checked; or the problem (one of PROBLEMS)."""
    if not isinstance(url, str) or not url or len(url) > URL_MAX_LENGTH or _has_control_characters(url):
        return "invalid_url"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port that is no number or out of range, a broken IPv6 literal
        return "invalid_url"
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in ("http", "https") or not host or parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "invalid_url"
    if scheme == "http" and not allow_private:
        return "https_required"
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return "invalid_url"
    port = port or (443 if scheme == "https" else 80)
    try:
        addresses = resolve(ascii_host, port)
    except (OSError, UnicodeError, ValueError):
        return "unresolvable"
    if not addresses:
        return "unresolvable"
    for text in addresses:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])  # a scope id (fe80::1%eth0) is not part of the address
        except ValueError:
            return "unresolvable"
        problem = address_problem(address, allow_private)
        if problem is not None:
            return problem  # any bad address refuses the host: the resolver may answer with that one next time
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, ascii_host, port, path, tuple(addresses))


def check_target(url: object, allow_private: bool) -> str | None:
    """The problem with a webhook URL (`invalid_url`, `https_required`, `unresolvable`, `private_address`, `metadata_address`), or None."""
    target = parse_target(url, allow_private)
    return target if isinstance(target, str) else None


# -- delivery ---------------------------------------------------------------------------------------------


class _PinnedConnection(http.client.HTTPConnection):
    """HTTP to an address that was checked, with the URL's host in the Host header (no second DNS lookup)."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        """Connect to the checked address, not to whatever the host resolves to now."""
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedTLSConnection(_PinnedConnection):
    """HTTPS to a checked address: the certificate is verified for the URL's host name (SNI too)."""

    def __init__(self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(host, port, address, timeout)
        self.context = context

    def connect(self) -> None:
        """Connect to the checked address, then TLS for the host name."""
        super().connect()
        self.sock = self.context.wrap_socket(self.sock, server_hostname=self.host)


def signed_headers(secret: str, message_id: str, data: str, now: datetime | None = None) -> dict[str, str]:
    """The Standard Webhooks headers for a body (`data`: exactly the text sent), signed with the package receivers verify with."""
    at = datetime.fromtimestamp(int(time.time()) if now is None else int(now.timestamp()), UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, data),
    }


def body_text(body: Mapping[str, Any]) -> str:
    """The JSON body as sent and signed: compact, UTF-8."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def deliver(config: Mapping[str, Any], endpoint: WebhookEndpoint, message_id: str, body: Mapping[str, Any]) -> DeliveryResult:
    """POST one signed delivery to the endpoint (its target checked again now); ok for a 2xx, never follows a redirect."""
    target = parse_target(endpoint.url, bool(config.get("WEBHOOK_ALLOW_PRIVATE")))
    if isinstance(target, str):
        return DeliveryResult(False, None, f"target refused: {target}")
    try:
        secret = decrypt_secret(config, endpoint.secret_encrypted)
    except (InvalidToken, ValueError):
        return DeliveryResult(False, None, "the secret cannot be decrypted (SECRET_KEY changed?): delete the webhook and create it again")
    data = body_text(body)
    payload = data.encode("utf-8")
    headers = {
        **signed_headers(secret, message_id, data),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Content-Length": str(len(payload)),
        "Connection": "close",
    }
    timeout = float(config.get("WEBHOOK_TIMEOUT") or 10)
    last_error = "no address"
    for address in target.addresses:
        connection: _PinnedConnection
        if target.scheme == "https":
            connection = _PinnedTLSConnection(target.host, target.port, address, timeout, ssl.create_default_context())
        else:
            connection = _PinnedConnection(target.host, target.port, address, timeout)
        try:
            try:
                connection.connect()
            except OSError as exc:  # includes refused connections and timeouts; TLS errors end the attempt below
                if isinstance(exc, ssl.SSLError):
                    return DeliveryResult(False, None, f"TLS: {exc}")
                last_error = f"connect {address}: {type(exc).__name__}: {exc}"
                continue  # another checked address of the host may answer
            return _post(connection, target.path, payload, headers)
        finally:
            connection.close()
    return DeliveryResult(False, None, last_error)


def _post(connection: http.client.HTTPConnection, path: str, payload: bytes, headers: dict[str, str]) -> DeliveryResult:
    """Send the request on a connected connection and read its status (and at most a few KB of its body)."""
    try:
        connection.request("POST", path, body=payload, headers=headers)
        response = connection.getresponse()
        response.read(RESPONSE_READ_LIMIT)
    except (OSError, http.client.HTTPException) as exc:
        return DeliveryResult(False, None, f"{type(exc).__name__}: {exc}")
    status = response.status
    if 200 <= status < 300:
        return DeliveryResult(True, status, None)
    if 300 <= status < 400:
        return DeliveryResult(False, status, f"HTTP {status}: redirects are not followed")
    return DeliveryResult(False, status, f"HTTP {status}")
