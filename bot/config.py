"""Configuration defaults; overridden by the environment (DATABASE_URL, SECRET_KEY, PUBLIC_URL, TRUSTED_HOSTS, MAIL_*, TASK_QUEUE_URL, FLASK_*)."""

from __future__ import annotations

import os
from pathlib import Path

from . import resources
from .edges import DEFAULT_PUBLIC_URL
from .i18n import LOCALES_DIR

# The checkout's root (pybabel's extraction runs there); flows and catalogs come from bot/resources.py.
PROJECT_ROOT = resources.CHECKOUT_ROOT
FLOWS_DIR = resources.flows_dir()


def instance_path() -> str | None:
    """The instance folder from INSTANCE_PATH (or FLASK_INSTANCE_PATH), absolute; None: Flask's default."""
    value = os.environ.get("INSTANCE_PATH") or os.environ.get("FLASK_INSTANCE_PATH")
    return os.path.abspath(value) if value else None


def defaults(instance_path: str) -> dict[str, object]:
    """The default settings: SQLite in the instance folder, flows and catalogs from bot/resources.py."""
    return {
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'wa_onboarding.sqlite'}",
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "FLOWS_DIR": str(FLOWS_DIR),
        "LOCALES_DIR": str(LOCALES_DIR),
        "DEFAULT_FLOW": "whatsapp_gdpr",
        # Where users reach the app: every absolute link (embed snippet, wizard links, Location, mails) starts
        # with it, never with the request's Host header. `wa-onboarding run` defaults it to its own address.
        "PUBLIC_URL": os.environ.get("PUBLIC_URL") or DEFAULT_PUBLIC_URL,
        # Hosts the app answers to (any port; `.example.de` includes subdomains); others get 400.
        # None: loopback (127.0.0.1, localhost, ::1) and PUBLIC_URL's host.
        "TRUSTED_HOSTS": os.environ.get("TRUSTED_HOSTS") or None,
        "BABEL_DEFAULT_LOCALE": "de",
        "MAX_CONTENT_LENGTH": 64 * 1024,
        # Unfinished assessments older than this are deleted by `wa-onboarding purge` (run it daily).
        "RETENTION_ABANDONED_DAYS": 90,
        # Unadopted public self-assessments are deleted this many days after completion (also by `purge`).
        "RETENTION_SELF_ASSESSMENT_DAYS": 90,
        # How long the audit log keeps its entries (2 years by default; accountability, Art. 5(2) GDPR).
        "AUDIT_RETENTION_DAYS": int(os.environ.get("AUDIT_RETENTION_DAYS") or 730),
        # An unfinished assessment's token stops working after this many days without a turn.
        "ASSESSMENT_IDLE_DAYS": 30,
        # The checklist of record is due for review this many days after it was last confirmed
        # (completed, adopted, re-assessed or amended).
        "REVIEW_INTERVAL_DAYS": int(os.environ.get("REVIEW_INTERVAL_DAYS") or 365),
        # An evidence upload may be this large (this route only; every other body stays within MAX_CONTENT_LENGTH).
        "MAX_EVIDENCE_BYTES": 10 * 1024 * 1024,
        # Rate limits (Flask-Limiter syntax); memory storage unless a shared store is configured.
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_CREATE": "20 per minute",
        "RATELIMIT_TURN": "120 per minute",
        # Logins: failures free per account and per client address, then waits doubling from 1 s up to this many seconds.
        "LOGIN_FREE_FAILURES": 5,
        "LOGIN_FREE_FAILURES_PER_ADDRESS": 20,
        "LOGIN_MAX_WAIT": 900,
        # A respondent's result by mail: per assessment and per address (HMAC of it).
        "RATELIMIT_RESULT_MAIL": "3 per hour",
        # How many reverse proxies in front set X-Forwarded-For/-Proto/-Host (0: none, trust no such header).
        "TRUSTED_PROXIES": 0,
        # Strict-Transport-Security on HTTPS responses, in seconds (0: leave HSTS to the TLS proxy).
        "HSTS_MAX_AGE": 31536000,
        # Forms: a CSRF token lives as long as the browser session (a wizard may be left open for hours).
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure (HTTPS only) when set, and by default when PUBLIC_URL is https (ASVS 3.4.1).
        "SESSION_COOKIE_SECURE": (os.environ.get("SESSION_COOKIE_SECURE") or str((os.environ.get("PUBLIC_URL") or "").startswith("https://"))).lower()
        in ("1", "true", "yes"),
        # A manager's session ends after this long without a request, and this long after login whatever happens.
        "SESSION_IDLE_MINUTES": int(os.environ.get("SESSION_IDLE_MINUTES") or 480),
        "SESSION_MAX_DAYS": int(os.environ.get("SESSION_MAX_DAYS") or 7),
        # Every manager must log in with a second factor (TOTP); without it only organisations that ask for it require one.
        "MFA_REQUIRED": _flag(os.environ.get("MFA_REQUIRED")),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # The task queue (Huey): a SQLite file in the instance folder, or Redis for several hosts
        # (redis://127.0.0.1:6379/1). `wa-onboarding worker` consumes it; `make run` starts one.
        "TASK_QUEUE_URL": os.environ.get("TASK_QUEUE_URL") or f"sqlite:///{Path(instance_path) / 'tasks.sqlite'}",
        # When the daily jobs run (local time of JOBS_TIMEZONE): reminders and digests in the morning, retention at night.
        "JOBS_TIMEZONE": os.environ.get("JOBS_TIMEZONE") or "Europe/Berlin",
        "REMINDERS_HOUR": int(os.environ.get("REMINDERS_HOUR") or 7),
        "RETENTION_HOUR": int(os.environ.get("RETENTION_HOUR") or 3),
        # A mail or webhook being sent is claimed this long; a worker killed mid-send leaves a claim that runs out.
        "OUTBOX_CLAIM_SECONDS": int(os.environ.get("OUTBOX_CLAIM_SECONDS") or 300),
        # E-mail over SMTP (also as FLASK_MAIL_...). Without MAIL_SERVER the product works and sends no mail.
        **mail_settings(),
        # Webhook deliveries: the delays between attempts in seconds (6 attempts over about 7 hours), the timeout.
        "WEBHOOK_RETRY_DELAYS": _seconds_list(os.environ.get("WEBHOOK_RETRY_DELAYS")) or [60, 300, 1800, 7200, 14400],
        "WEBHOOK_TIMEOUT": float(os.environ.get("WEBHOOK_TIMEOUT") or 10),
        # Development and tests only: webhooks may go to http, loopback and private addresses (never link-local or metadata).
        "WEBHOOK_ALLOW_PRIVATE": _flag(os.environ.get("WEBHOOK_ALLOW_PRIVATE")),
    }


def _flag(value: str | None) -> bool:
    """An on/off setting from the environment (1, true, yes, on)."""
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _seconds_list(value: str | None) -> list[float]:
    """A comma-separated list of seconds (e.g. "1,2,4"); empty for none."""
    return [float(part) for part in (value or "").split(",") if part.strip()]


def mail_settings() -> dict[str, object]:
    """The SMTP settings from MAIL_* (FLASK_MAIL_* override them through Flask's prefixed environment)."""
    env = os.environ.get
    return {
        "MAIL_SERVER": env("MAIL_SERVER") or None,
        "MAIL_PORT": int(env("MAIL_PORT") or 0) or None,  # None: 465 with SSL, else 587 with TLS, else 25
        "MAIL_USE_TLS": _flag(env("MAIL_USE_TLS")),
        "MAIL_USE_SSL": _flag(env("MAIL_USE_SSL")),
        "MAIL_USERNAME": env("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": env("MAIL_DEFAULT_SENDER") or "WA Onboarding <no-reply@localhost>",
        "MAIL_TIMEOUT": float(env("MAIL_TIMEOUT") or 30),
    }


def secret_key_file(instance_path: str) -> Path:
    """Where `make run` keeps a generated secret key for local use."""
    return Path(instance_path) / "secret_key"
