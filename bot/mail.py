"""E-mail: messages rendered from templates in the recipient's language, sent over SMTP by the worker (never in a request).

Each message has a plain-text and an HTML part (`templates/mail/<name>.txt` and `.html`, the
subject in `<name>.subject.txt`), links built from PUBLIC_URL, and no images or tracking pixels.
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

from flask import Flask, current_app, render_template, url_for
from flask_babel import force_locale, format_date, format_datetime, pgettext
from itsdangerous import BadSignature, URLSafeSerializer

from .edges import public_url

UNSUBSCRIBE_SALT = "wa-onboarding.unsubscribe"


class MailOffError(RuntimeError):
    """Mail is not configured (no MAIL_SERVER)."""


def mail_enabled(config: Any) -> bool:
    """Whether mail can be sent (MAIL_SERVER is set)."""
    return bool(config.get("MAIL_SERVER"))


def sender_address(config: Any) -> str:
    """The bare address of MAIL_DEFAULT_SENDER (for the Message-ID's domain)."""
    return parseaddr(str(config["MAIL_DEFAULT_SENDER"]))[1] or "no-reply@localhost"


def unsubscribe_token(app: Flask, manager_id: int, kind: str) -> str:
    """A signed, single-purpose token that turns one kind of notification off for one manager (no login needed)."""
    return str(URLSafeSerializer(app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT).dumps([manager_id, kind]))


def read_unsubscribe_token(app: Flask, token: str) -> tuple[int, str] | None:
    """The manager id and kind of an unsubscribe token; None when it is forged or malformed."""
    try:
        manager_id, kind = URLSafeSerializer(app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(manager_id, int) or not isinstance(kind, str):
        return None
    return manager_id, kind


def render(name: str, locale: str, recipient: str, context: dict[str, Any], *, unsubscribe: str | None = None) -> EmailMessage:
    """The message `name` to `recipient` in `locale` (plain text and HTML); call in an app context.

    `unsubscribe`: the URL that turns this kind of mail off (shown in the mail and as
    List-Unsubscribe with one-click unsubscribe, RFC 8058).
    """
    config = current_app.config
    values = {**context, **_helpers(), "unsubscribe_url": unsubscribe, "public_url": public_url(config).base, "locale": locale}
    with force_locale(locale):
        subject = render_template(f"mail/{name}.subject.txt", **values).strip()
        text = render_template(f"mail/{name}.txt", **values)
        html = render_template(f"mail/{name}.html", **values)
    message = EmailMessage()
    message["Subject"] = " ".join(subject.split())  # one line
    message["From"] = str(config["MAIL_DEFAULT_SENDER"])
    message["To"] = recipient
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender_address(config).rpartition("@")[2] or "localhost")
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to a notification
    if unsubscribe:
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message["Content-Language"] = locale  # after the parts: set_content clears the Content-* headers
    return message


def _helpers() -> dict[str, Any]:
    """What the mail templates call: flow texts and dates in the mail's language, absolute links from PUBLIC_URL."""

    def flow_text(title: list[str] | None) -> str:
        return str(pgettext(title[0], title[1])) if title else ""

    def day(iso: str) -> str:
        return str(format_date(date.fromisoformat(iso), format="long"))

    def item_url(slug: str, item_id: str) -> str:
        return url_for("manage.item", slug=slug, item_id=item_id, _external=True)

    def org_url(slug: str) -> str:
        return url_for("manage.organisation", slug=slug, _external=True) if slug else url_for("manage.index", _external=True)

    def moment(iso: str) -> str:
        return str(format_datetime(datetime.fromisoformat(iso), format="medium"))

    settings = "manage.notifications" if "manage.notifications" in current_app.view_functions else "manage.index"
    return {
        "flow_text": flow_text,
        "day": day,
        "moment": moment,
        "item_url": item_url,
        "org_url": org_url,
        "settings_url": url_for(settings, _external=True),
        "reset_url": url_for("manage.reset_request", _external=True) if "manage.reset_request" in current_app.view_functions else "",
    }


def send(config: Any, message: EmailMessage) -> None:
    """Send one message over SMTP with the MAIL_* settings (raises MailOffError, OSError or smtplib.SMTPException)."""
    if not mail_enabled(config):
        raise MailOffError("mail is off: set MAIL_SERVER")
    server, timeout = str(config["MAIL_SERVER"]), float(config.get("MAIL_TIMEOUT") or 30)
    use_ssl, use_tls = bool(config.get("MAIL_USE_SSL")), bool(config.get("MAIL_USE_TLS"))
    port = int(config.get("MAIL_PORT") or (465 if use_ssl else 587 if use_tls else 25))
    context = ssl.create_default_context()
    smtp: smtplib.SMTP = smtplib.SMTP_SSL(server, port, timeout=timeout, context=context) if use_ssl else smtplib.SMTP(server, port, timeout=timeout)
    with smtp:
        if use_tls and not use_ssl:
            smtp.starttls(context=context)
        if config.get("MAIL_USERNAME"):
            smtp.login(str(config["MAIL_USERNAME"]), str(config.get("MAIL_PASSWORD") or ""))
        smtp.send_message(message)
