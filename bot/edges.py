"""The app's edges: the public URL its links use, the hosts it answers to, and tokens kept out of logs."""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"
# The machine itself, on any port: `make run`, the tests' client ("localhost") and a health check on the box.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
REDACTED = "[redacted]"


@dataclass(frozen=True)
class PublicUrl:
    """A parsed PUBLIC_URL: where users reach the app (scheme, host[:port] and an optional path prefix)."""

    scheme: str
    netloc: str
    host: str
    path: str

    @property
    def base(self) -> str:
        """The URL without a trailing slash: absolute links are this plus the app-relative path."""
        return f"{self.scheme}://{self.netloc}{self.path}"


@lru_cache(maxsize=8)
def parse_public_url(value: str) -> PublicUrl:
    """Parse PUBLIC_URL (`http[s]://host[:port][/prefix]`); ValueError naming the problem otherwise."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"PUBLIC_URL must be an http:// or https:// URL with a host, e.g. https://check.example.de (got {value!r})")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"PUBLIC_URL must not have a query, fragment or credentials (got {value!r})")
    try:
        parts.port  # noqa: B018 (reading it validates it)
    except ValueError as exc:
        raise ValueError(f"PUBLIC_URL has an invalid port (got {value!r})") from exc
    return PublicUrl(parts.scheme, parts.netloc.lower(), parts.hostname.lower(), parts.path.rstrip("/"))


def public_url(config: Mapping[str, Any]) -> PublicUrl:
    """The app's configured public URL."""
    return parse_public_url(str(config.get("PUBLIC_URL") or DEFAULT_PUBLIC_URL))


def trusted_hosts(config: Mapping[str, Any]) -> list[str]:
    """TRUSTED_HOSTS as a list (a comma- or space-separated string works too); by default loopback and PUBLIC_URL's host."""
    configured = config.get("TRUSTED_HOSTS")
    if configured is None or configured == "":
        return [*LOOPBACK_HOSTS, public_url(config).host]
    if isinstance(configured, str):
        return configured.replace(",", " ").split()
    return [str(host) for host in configured]


def hostname(host: str) -> str:
    """The name or address of a `Host` value without its port, lower-cased; an IPv6 address without brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    if host.count(":") > 1:  # a bare IPv6 address (as written in TRUSTED_HOSTS)
        return host
    return host.partition(":")[0]


def _same_address(name: str, reference: str) -> bool:
    """Whether two names are the same IP address written differently (::1 and 0:0:0:0:0:0:0:1)."""
    try:
        return ipaddress.ip_address(name) == ipaddress.ip_address(reference)
    except ValueError:
        return False


def host_is_trusted(host: str, trusted: Iterable[str]) -> bool:
    """Whether a `Host` value names one of the trusted hosts, on any port; `.example.de` also trusts its subdomains.

    Werkzeug's own check (Flask's TRUSTED_HOSTS) cannot match an IPv6 address such as
    `[::1]`, so the app uses this one instead.
    """
    name = hostname(host)
    if not name:
        return False
    for reference in trusted:
        if reference.startswith("."):
            suffix = reference[1:].lower()
            if name == suffix or name.endswith("." + suffix):
                return True
        elif name == hostname(reference) or _same_address(name, hostname(reference)):
            return True
    return False


# Paths whose segment after the prefix is a capability: an assessment, respondent link, invitation or password reset token.
_TOKEN_IN_PATH = re.compile(r"(/api/v1/assessments/|/w/a/|/r/|/manage/invitations/|/manage/reset/)[^/?#\s\"'&]+")
# Any query parameter named token (also respondent_link, which carries a link token).
_TOKEN_IN_QUERY = re.compile(r"([?&;](?:token|respondent_link)=)[^&#\s\"']*", re.IGNORECASE)


def redact(text: str) -> str:
    """The text with assessment and respondent link tokens replaced by `[redacted]` (paths and `token=` queries)."""
    if "/" not in text and "=" not in text:
        return text
    return _TOKEN_IN_QUERY.sub(r"\1" + REDACTED, _TOKEN_IN_PATH.sub(r"\1" + REDACTED, text))


class RedactTokens(logging.Filter):
    """A log filter that removes tokens from each record's message (request lines, paths, referrers) and escapes its line breaks."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Format the record's message once, redacted; the record is always kept."""
        try:
            message = record.getMessage()
        except Exception:  # a broken record: leave it to the handler to report
            return True
        # Line breaks from a request (an encoded %0A in a path) would forge log lines: they are written as \n (ASVS 7.3.1).
        cleaned = redact(message).replace("\r", "\\r").replace("\n", "\\n")
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def redact_logs(*names: str) -> None:
    """Add the token filter to the named loggers (once each)."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())


# Views that take an upload (evidence files) carry this attribute; the app raises the body limit for them
# before any before-request hook reads the form (the NUL check, CSRF), and only for them.
LARGE_BODY = "accepts_large_body"


def large_body(view: Any) -> Any:
    """Mark a view as an upload route: its body may be MAX_EVIDENCE_BYTES (plus form fields) instead of MAX_CONTENT_LENGTH."""
    setattr(view, LARGE_BODY, True)
    return view


def accepts_large_body(app: Any, endpoint: str | None) -> bool:
    """Whether the endpoint is an upload route."""
    return bool(getattr(app.view_functions.get(endpoint or ""), LARGE_BODY, False))
