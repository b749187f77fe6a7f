"""A manager's notification settings: how often each kind of mail comes, the mail language, and the retention policy."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import login_required
from sqlalchemy import select

from ...i18n import N_, SUPPORTED_LOCALES
from ...mail import mail_enabled
from ...store import notifications as store
from ...store.db import session
from ...store.models import NOTIFICATION_KINDS, JobRun
from . import bp, me, page_locale

# What each kind covers, as the legend of its choices.
KIND_LABELS = {
    "reminders": N_("Reminders about my items (due dates, evidence, risk acceptances, reviews)"),
    "completions": N_("Completed assessments and new submissions"),
    "digest": N_("Digest of all my organisations"),
}
CADENCE_LABELS = {
    "off": N_("Off"),
    "immediately": N_("Immediately"),
    "daily": N_("Once a day"),
    "weekly": N_("Once a week"),
}
# Each language in its own name, as on the language switch.
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}
BAD_CADENCE = N_("Please choose one of the offered options.")
BAD_LANGUAGE = N_("Please choose Deutsch or English.")
UNKNOWN_FIELD = N_("This form contains a field that does not belong to it; nothing was saved. Please reload the page.")
# The form's own fields besides one per kind.
FORM_FIELDS = {"csrf_token", "locale"}
RETENTION_JOB = "retention"


def _read_form() -> tuple[dict[str, str], str, dict[str, str]]:
    """The chosen cadence per kind and the language, and a message per refused field (nothing is stored yet)."""
    errors: dict[str, str] = {}
    chosen: dict[str, str] = {}
    for kind in NOTIFICATION_KINDS:
        value = request.form.get(kind, "")
        chosen[kind] = value
        if value not in store.ALLOWED_CADENCES[kind]:
            errors[kind] = gettext(BAD_CADENCE)
    locale = request.form.get("locale", "")
    if locale not in SUPPORTED_LOCALES:
        errors["locale"] = gettext(BAD_LANGUAGE)
    return chosen, locale, errors


def _last_retention_run() -> JobRun | None:
    """The latest run of the retention job (None: it has not run yet)."""
    query = select(JobRun).where(JobRun.name == RETENTION_JOB).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(1)
    return session().scalar(query)


@bp.route("/notifications", methods=["GET", "POST"], endpoint="notifications")
@login_required
def notifications_settings() -> ResponseReturnValue:
    """Show and save which mails the manager gets and in which language; a refused choice stores nothing (422)."""
    manager = me()
    errors: dict[str, str] = {}
    if request.method == "POST":
        if any(name not in FORM_FIELDS and name not in NOTIFICATION_KINDS for name in request.form):
            # No form of ours sends it (an unknown kind, a tampered request): refuse all of it.
            return render_template("error.html", status=400, message=gettext(UNKNOWN_FIELD), locale=page_locale()), 400
        chosen, locale, errors = _read_form()
        if not errors:
            manager.locale = locale
            store.set_cadences(session(), manager, dict(chosen))  # commits the language with the cadences
            return redirect(url_for("manage.notifications", saved=1), code=303)
        values, mail_locale = chosen, locale
    else:
        values, mail_locale = store.cadences(session(), manager.id), manager.locale
    config = current_app.config
    page = render_template(
        "manage/notifications.html",
        is_operator=manager.is_operator,
        kinds=[(kind, gettext(KIND_LABELS[kind]), store.ALLOWED_CADENCES[kind]) for kind in NOTIFICATION_KINDS],
        cadence_labels={cadence: gettext(label) for cadence, label in CADENCE_LABELS.items()},
        languages=LANGUAGE_NAMES,
        values=values,
        mail_locale=mail_locale,
        errors=errors,
        saved=request.method == "GET" and request.args.get("saved") == "1",
        mail_on=mail_enabled(config),
        retention={
            "abandoned_days": int(config["RETENTION_ABANDONED_DAYS"]),
            "self_assessment_days": int(config["RETENTION_SELF_ASSESSMENT_DAYS"]),
            "idle_days": int(config["ASSESSMENT_IDLE_DAYS"]),
        },
        last_run=_last_retention_run(),
        locale=page_locale(),
    )
    return page, 422 if errors else 200
