"""'Sessions': where a manager is logged in (browser, address, last use), and ending any of those logins at once."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user, login_required

from ...i18n import N_
from ...store import sessions
from ...store.db import session
from . import bp, kept_language, me, page_locale
from .auth import session_limits

ENDED = N_("The session has been ended: that browser has to log in again.")
ENDED_OTHERS = N_("Every other session has been ended.")


@bp.get("/sessions")
@login_required
def sessions_page() -> ResponseReturnValue:
    """The manager's sessions that still count, this one marked."""
    rows = sessions.active(session(), me(), *session_limits())
    this = current_user.record.id if current_user.record is not None else None
    idle, longest = session_limits()
    return render_template(
        "manage/sessions.html",
        rows=rows,
        this=this,
        idle_hours=round(idle.total_seconds() / 3600, 1),
        max_days=longest.days,
        locale=page_locale(),
        is_operator=me().is_operator,
    )


@bp.post("/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int) -> ResponseReturnValue:
    """End one of the manager's sessions (their own current one logs them out)."""
    if not sessions.end(session(), me(), session_id):
        abort(404)
    flash(gettext(ENDED))
    return redirect(url_for("manage.sessions_page", **kept_language()), code=303)


@bp.post("/sessions/end-others")
@login_required
def end_other_sessions() -> ResponseReturnValue:
    """End every session of the manager but this one."""
    keep = current_user.record.id if current_user.record is not None else None
    sessions.end_all(session(), me().id, keep=keep)
    session().commit()
    flash(gettext(ENDED_OTHERS))
    return redirect(url_for("manage.sessions_page", **kept_language()), code=303)
