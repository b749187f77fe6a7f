"""The periodic jobs: reminders, digest, retention and the outbox; each run once per period, caught up when missed.

Huey skips periodic runs missed while no worker ran, and two workers (two hosts on
Redis) would both run them, so the worker's one-minute tick decides here instead:
a daily job whose hour has come and whose run for today is not recorded is claimed
(one `job_run` row per job and day: only one worker gets it) and run. A run that
died is taken over after an hour. `wa-onboarding jobs run NAME` runs one at once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import delivery
from .engine.vocabulary import ItemStatus
from .review import review_due
from .store import assessments, audit, db, sessions, submissions
from .store import notifications as store
from .store import tracking as tracking_store
from .store.models import (
    AnswerRevision,
    Assessment,
    Evidence,
    JobRun,
    Manager,
    Membership,
    Notice,
    NotificationSetting,
    Organisation,
    OutboxMessage,
    utcnow,
)
from .turns import FlowUnavailableError, TurnService
from .worklist import RISK_STATUSES, review_date

log = logging.getLogger(__name__)

# Before an item's due date: one reminder in each window (the nearest one when a run was missed).
DUE_WINDOWS = (1, 7, 30)
EVIDENCE_WINDOW_DAYS = 30  # evidence that expires within this many days
RISK_WINDOW_DAYS = 14  # a risk acceptance that ends within this many days
REVIEW_WINDOW_DAYS = 30  # a checklist that falls due for review within this many days
STALE_RUN = timedelta(hours=1)  # a run still "running" after this long died with its worker: taken over


@dataclass(frozen=True)
class Job:
    """A periodic job: its name, when it runs (for `jobs list`), and what it does."""

    name: str
    schedule: str
    run: Callable[[Flask, datetime], dict[str, Any]]
    hour_setting: str | None  # the config key of its local hour (daily jobs); None: every tick


def local_now(app: Flask, now: datetime | None = None) -> datetime:
    """The time in JOBS_TIMEZONE (Europe/Berlin by default)."""
    return (now or utcnow()).astimezone(ZoneInfo(str(app.config["JOBS_TIMEZONE"])))


# -- the reminders ------------------------------------------------------------------------------------


@dataclass
class _Candidate:
    """A notice to add unless its key was used before (the sent-log)."""

    manager_id: int
    organisation: Organisation
    topic: str
    key: str
    data: dict[str, Any]


def _title(item: Any) -> list[str]:
    """An item's title as [msgctxt, msgid]: localised when the mail is rendered, in the recipient's language."""
    return [item.title.context, item.title.source]


def reminders(app: Flask, now: datetime) -> dict[str, Any]:
    """Remind owners (or the managers) of due and overdue items, expiring evidence, ending risk acceptances, reviews, new flow versions.

    Adds the notices (each key once: the sent-log) and the webhook deliveries (`item.due`,
    `evidence.expiring`, `review.due`), then mails the notices of managers who get reminders daily,
    or weekly on Mondays, grouped into one mail per manager. Loads everything in a fixed number of queries.
    """
    session = db.session()
    today = local_now(app, now).date()
    interval = int(app.config["REVIEW_INTERVAL_DAYS"])
    service = TurnService(session, app.extensions["engines"], review_interval_days=interval)
    organisations = list(session.scalars(select(Organisation).order_by(Organisation.id)))
    records = assessments.overview(session, organisations)
    ids = [o.id for o in organisations]
    tracking = tracking_store.tracking_by_organisation(session, ids)
    evidence = tracking_store.evidence_by_organisation(session, ids)
    members: dict[int, list[int]] = defaultdict(list)
    for manager_id, organisation_id in session.execute(select(Membership.manager_id, Membership.organisation_id).order_by(Membership.manager_id)):
        members[organisation_id].append(manager_id)
    endpoints = store.endpoints_of(session, ids)
    candidates: list[_Candidate] = []
    webhooks: list[tuple[Organisation, str, dict[str, Any], str]] = []

    def tell(organisation: Organisation, owner_ids: Iterable[int | None], topic: str, key: str, data: dict[str, Any]) -> None:
        """Notices for the owners (who still belong to the organisation), or for all its managers when none."""
        owners = [m for m in set(owner_ids) if m is not None and m in members[organisation.id]]
        for manager_id in sorted(owners) or members[organisation.id]:
            candidates.append(_Candidate(manager_id, organisation, topic, key, {"slug": organisation.slug, "organisation_name": organisation.name, **data}))

    for organisation in organisations:
        record = records[organisation.id][0]
        if record is None or record.completed_answers is None:
            continue
        try:
            checklist = service.engine_for(record).checklist(record.completed_answers)
        except FlowUnavailableError:
            continue
        items = {item.id: item for item in checklist.items}
        rows = tracking.get(organisation.id, {})
        for item_id, row in rows.items():
            item = items.get(item_id)
            if item is None or item.status not in RISK_STATUSES:
                continue  # done or not applicable: nothing to remind of
            base = {"item": item_id, "title": _title(item), "status": str(item.status)}
            if row.due is not None and row.workflow != "closed":
                days = (row.due - today).days
                if days < 0:  # overdue: again every week, not every day
                    week = (-days - 1) // 7
                    key = f"item_overdue:{organisation.id}:{item_id}:{row.due.isoformat()}:{week}"
                    tell(organisation, [row.owner_id], "item_overdue", key, {**base, "due": row.due.isoformat(), "days": -days})
                    webhooks.append((organisation, "item.due", {"item": item_id, "due": row.due.isoformat(), "overdue": True}, key))
                else:
                    window = next((w for w in DUE_WINDOWS if days <= w), None)
                    if window is not None:
                        key = f"item_due:{organisation.id}:{item_id}:{row.due.isoformat()}:{window}"
                        tell(organisation, [row.owner_id], "item_due", key, {**base, "due": row.due.isoformat(), "days": days})
                        webhooks.append((organisation, "item.due", {"item": item_id, "due": row.due.isoformat(), "overdue": False}, key))
            if row.risk_reason is not None and row.risk_until is not None:
                left = (row.risk_until - today).days
                if left < 0:
                    key = f"risk_ended:{organisation.id}:{item_id}:{row.risk_until.isoformat()}"
                    tell(organisation, [row.owner_id], "risk_ended", key, {**base, "until": row.risk_until.isoformat()})
                elif left <= RISK_WINDOW_DAYS:
                    key = f"risk_ending:{organisation.id}:{item_id}:{row.risk_until.isoformat()}"
                    tell(organisation, [row.owner_id], "risk_ending", key, {**base, "until": row.risk_until.isoformat()})
        for piece in evidence.get(organisation.id, []):
            if piece.expires is None:
                continue
            left = (piece.expires - today).days
            if left > EVIDENCE_WINDOW_DAYS:
                continue
            linked = sorted(link.item_id for link in piece.links)
            owners = [rows[i].owner_id for i in linked if i in rows]
            topic = "evidence_expired" if left < 0 else "evidence_expiring"
            key = f"{topic}:{piece.id}:{piece.expires.isoformat()}"
            tell(organisation, owners, topic, key, {"evidence": piece.id, "name": piece.name, "expires": piece.expires.isoformat(), "items": linked})
            webhooks.append((organisation, "evidence.expiring", {"evidence": piece.id, "expires": piece.expires.isoformat(), "expired": left < 0}, key))
        review_day = review_date(record.recorded_at, interval)
        if review_day is not None and (review_day - today).days <= REVIEW_WINDOW_DAYS:
            overdue = review_due(record.recorded_at, now, interval)
            key = f"review_due:{organisation.id}:{review_day.isoformat()}:{'overdue' if overdue else 'soon'}"
            tell(organisation, [], "review_due", key, {"review": review_day.isoformat(), "overdue": overdue})
            webhooks.append((organisation, "review.due", {"review": review_day.isoformat(), "overdue": overdue}, key))
        newest = _newest_version(app, record.flow_id)
        if organisation.flow_version is None and newest is not None and newest > record.flow_version:
            key = f"new_version:{organisation.id}:{record.flow_id}:{newest}"
            tell(organisation, [], "new_version", key, {"version": record.flow_version, "latest": newest})

    added = _add_notices(session, candidates)
    deliveries = [row for o, event, data, key in webhooks if o.id in endpoints for row in store.webhook_messages(o, endpoints[o.id], event, data, key)]
    fired = store.enqueue_many(session, deliveries)
    session.commit()
    mailed = deliver_notices(app, session, now, ("daily", "weekly"))
    return {"notices": added, "webhooks": fired, "mails": mailed}


def _newest_version(app: Flask, flow_id: str) -> int | None:
    """The newest loaded version of a flow."""
    try:
        return int(app.extensions["engines"].get(flow_id).flow.version)
    except KeyError:
        return None


def _add_notices(session: Session, candidates: list[_Candidate]) -> int:
    """Add the candidates whose (manager, key) was never used, for managers who get reminders; in bulk."""
    if not candidates:
        return 0
    settings = store.cadences_of(session, {c.manager_id for c in candidates})
    wanted = {(c.manager_id, c.key): c for c in candidates if settings[c.manager_id]["reminders"] != "off"}
    keys = sorted({key for _manager, key in wanted})
    seen: set[tuple[int, str]] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        seen.update((manager_id, key) for manager_id, key in session.execute(select(Notice.manager_id, Notice.key).where(Notice.key.in_(chunk))))
    new = [c for pair, c in wanted.items() if pair not in seen]
    if new:  # one statement (the ORM would insert row by row on SQLite to read back each id)
        now = utcnow()
        rows = [
            {"manager_id": c.manager_id, "organisation_id": c.organisation.id, "kind": "reminders", "topic": c.topic, "key": c.key}
            | {"data": c.data, "created_at": now}
            for c in new
        ]
        session.execute(insert(Notice), rows)
    return len(new)


def deliver_notices(app: Flask, session: Session, now: datetime, cadences: Iterable[str]) -> int:
    """Put each manager's unmailed notices of one kind that comes at one of these cadences into one mail; how many mails.

    One mail per manager and kind, so every mail's unsubscribe link turns off exactly what it carries.
    Weekly notices go out on Mondays (JOBS_TIMEZONE), or when the oldest has waited a week.
    Without a manager (deleted) a notice is dropped with them (foreign key cascade).
    """
    wanted = set(cadences)
    local = local_now(app, now)
    pending = list(session.scalars(select(Notice).where(Notice.mailed_at.is_(None)).order_by(Notice.manager_id, Notice.id)))
    if not pending:
        return 0
    settings = store.cadences_of(session, {n.manager_id for n in pending})
    by_manager: dict[tuple[int, str], list[Notice]] = defaultdict(list)
    for notice in pending:
        cadence = settings[notice.manager_id][notice.kind]
        if cadence == "off":
            notice.mailed_at = now  # turned off since: never mailed
            continue
        if cadence not in wanted:
            continue
        if cadence == "weekly" and local.weekday() != 0 and now - notice.created_at < timedelta(days=7):
            continue
        by_manager[notice.manager_id, notice.kind].append(notice)
    managers = {m.id: m for m in session.scalars(select(Manager).where(Manager.id.in_([m for m, _kind in by_manager])))}
    mails = []
    for (manager_id, kind), notices in by_manager.items():
        manager = managers[manager_id]
        context = {"email": manager.email, "notices": [_notice_view(n) for n in notices]}
        payload = {"template": "notices", "context": context, "unsubscribe": [manager_id, kind]}
        organisations = {n.organisation_id for n in notices}
        only = organisations.pop() if len(organisations) == 1 else None  # deleted with its organisation before it is sent
        mail = {"channel": "mail", "key": f"notices:{manager_id}:{notices[0].id}", "event": "notices", "payload": payload}
        mails.append(mail | {"recipient": manager.email, "locale": manager.locale, "organisation_id": only})
    with session.no_autoflush:
        store.enqueue_many(session, mails)
    mailed = [n.id for notices in by_manager.values() for n in notices]
    for start in range(0, len(mailed), 500):
        chunk = mailed[start : start + 500]
        session.execute(update(Notice).where(Notice.id.in_(chunk)).values(mailed_at=now), execution_options={"synchronize_session": False})
    session.commit()
    return len(mails)


def _notice_view(notice: Notice) -> dict[str, Any]:
    """What the mail shows of a notice (JSON-ready)."""
    return {"id": notice.id, "kind": notice.kind, "topic": notice.topic, "organisation": notice.organisation_id, **notice.data}


# -- the digest -----------------------------------------------------------------------------------------


def digest(app: Flask, now: datetime) -> dict[str, Any]:
    """One mail per manager who chose the digest: per organisation, the open, critical and overdue items, expiring evidence, review.

    Daily digests every day; weekly ones on Mondays (or when the last is a week old). One mail per manager and period.
    """
    session = db.session()
    local = local_now(app, now)
    today = local.date()
    chosen = [
        (manager_id, cadence)
        for manager_id, cadence in session.execute(
            select(NotificationSetting.manager_id, NotificationSetting.cadence).where(
                NotificationSetting.kind == "digest", NotificationSetting.cadence != "off"
            )
        )
    ]
    if not chosen:
        return {"mails": 0}
    interval = int(app.config["REVIEW_INTERVAL_DAYS"])
    service = TurnService(session, app.extensions["engines"], review_interval_days=interval)
    mails = 0
    for manager_id, cadence in chosen:
        manager = session.get(Manager, manager_id)
        if manager is None:
            continue
        year, week, _ = today.isocalendar()
        period = today.isoformat() if cadence == "daily" else f"{year}-W{week:02d}"
        if cadence == "weekly" and local.weekday() != 0 and _last_digest_recent(session, manager_id, now):
            continue
        key = f"digest:{manager_id}:{period}"
        if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
            continue
        rows = _digest_rows(session, service, manager, today, now, interval)
        context = {"email": manager.email, "cadence": cadence, "organisations": rows, "day": today.isoformat()}
        payload = {"template": "digest", "context": context, "unsubscribe": [manager_id, "digest"]}
        store.enqueue(session, "mail", key, "digest", payload, recipient=manager.email, locale=manager.locale)
        session.commit()
        mails += 1
    return {"mails": mails}


def _last_digest_recent(session: Session, manager_id: int, now: datetime) -> bool:
    """Whether the manager got a digest in the last 7 days (a missed Monday is caught up after a week)."""
    last = session.scalar(
        select(OutboxMessage.created_at).where(OutboxMessage.key.like(f"digest:{manager_id}:%")).order_by(OutboxMessage.created_at.desc()).limit(1)
    )
    return last is not None and now - last < timedelta(days=7)


def _digest_rows(session: Session, service: TurnService, manager: Manager, today: date, now: datetime, interval: int) -> list[dict[str, Any]]:
    """Per organisation of the manager's: its name, slug and counts (items open, critical, overdue; evidence expiring; review due)."""
    if manager.is_operator:
        organisations = list(session.scalars(select(Organisation).order_by(Organisation.name)))
    else:
        query = select(Organisation).join(Membership).where(Membership.manager_id == manager.id).order_by(Organisation.name)
        organisations = list(session.scalars(query))
    ids = [o.id for o in organisations]
    records = assessments.overview(session, organisations)
    tracking = tracking_store.tracking_by_organisation(session, ids)
    expiring: defaultdict[int, int] = defaultdict(int)
    limit = today + timedelta(days=EVIDENCE_WINDOW_DAYS)
    for organisation_id in session.scalars(select(Evidence.organisation_id).where(Evidence.organisation_id.in_(ids), Evidence.expires <= limit)):
        expiring[organisation_id] += 1
    rows = []
    for organisation in organisations:
        record = records[organisation.id][0]
        row: dict[str, Any] = {"name": organisation.name, "slug": organisation.slug, "record": record is not None and record.completed_answers is not None}
        if row["record"]:
            assert record is not None and record.completed_answers is not None
            try:
                checklist = service.engine_for(record).checklist(record.completed_answers)
            except FlowUnavailableError:
                continue
            open_items = [i for i in checklist.items if i.status in RISK_STATUSES]
            overlay = tracking.get(organisation.id, {})
            row |= {
                "open": sum(1 for i in open_items if i.status is ItemStatus.OPEN),
                "critical": sum(1 for i in open_items if i.status is ItemStatus.CRITICAL),
                "overdue": sum(
                    1 for i in open_items if (t := overlay.get(i.id)) is not None and t.due is not None and t.due < today and t.workflow != "closed"
                ),
                "review_due": review_due(record.recorded_at, now, interval),
            }
        row["evidence_expiring"] = expiring[organisation.id]
        rows.append(row)
    return rows


# -- retention ---------------------------------------------------------------------------------------------


def purge(session: Session, config: Any, now: datetime | None = None, older_than: timedelta | None = None) -> dict[str, Any]:
    """Delete abandoned assessments, unadopted self-assessments, sent outbox rows (30 days) and audit entries (AUDIT_RETENTION_DAYS) past retention."""
    moment = now or utcnow()
    cutoff = moment - (older_than or timedelta(days=int(config["RETENTION_ABANDONED_DAYS"])))
    stale = select(Assessment.id).where(Assessment.completed_at.is_(None), Assessment.updated_at < cutoff)
    abandoned = len(session.scalars(stale).all())
    session.execute(delete(AnswerRevision).where(AnswerRevision.assessment_id.in_(stale)))
    session.execute(delete(Assessment).where(Assessment.id.in_(stale)))
    session.commit()
    days = int(config["RETENTION_SELF_ASSESSMENT_DAYS"])
    self_assessments = submissions.purge_self_assessments(session, days)
    # Sent mails and deliveries are kept a month (the deliveries list); their content is not needed longer.
    old = session.execute(delete(OutboxMessage).where(OutboxMessage.status != "pending", OutboxMessage.created_at < moment - timedelta(days=30)))
    ended = sessions.purge(session, timedelta(days=int(config["SESSION_MAX_DAYS"])), moment)
    audit_entries = audit.purge(session, moment - timedelta(days=int(config["AUDIT_RETENTION_DAYS"])))
    session.commit()
    outbox = int(old.rowcount or 0)  # type: ignore[attr-defined]
    return {
        "abandoned": abandoned,
        "self_assessments": self_assessments,
        "outbox": outbox,
        "sessions": ended,
        "audit_entries": audit_entries,
        "cutoff": cutoff.isoformat(),
    }


def retention(app: Flask, now: datetime) -> dict[str, Any]:
    """The daily purge with the configured retention (RETENTION_ABANDONED_DAYS, RETENTION_SELF_ASSESSMENT_DAYS)."""
    return purge(db.session(), app.config, now)


# -- the outbox ------------------------------------------------------------------------------------------------


def outbox(app: Flask, now: datetime) -> dict[str, Any]:
    """Mail notices due immediately, then send every due mail and webhook delivery."""
    deliver_notices(app, db.session(), now, ("immediately",))
    report = delivery.flush_outbox(app)
    return {"sent": report.sent, "failed": report.failed, "gave_up": report.gave_up, "mail_off": report.skipped_mail_off}


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job("reminders", "daily at REMINDERS_HOUR (07:00 Europe/Berlin); missed days caught up", reminders, "REMINDERS_HOUR"),
        Job("digest", "daily at REMINDERS_HOUR: daily digests, weekly ones on Mondays", digest, "REMINDERS_HOUR"),
        Job("retention", "daily at RETENTION_HOUR (03:00 Europe/Berlin)", retention, "RETENTION_HOUR"),
        Job("outbox", "every minute: mails due immediately, retries of mails and webhooks", outbox, None),
    )
}


# -- running them ------------------------------------------------------------------------------------------------


def _claim(session: Session, name: str, period: str, now: datetime) -> JobRun | None:
    """Claim the job's run for the period; None when another worker has it (or it is done)."""
    existing = session.scalar(select(JobRun).where(JobRun.name == name, JobRun.period == period))
    if existing is not None:
        if existing.status == "running" and now - existing.started_at > STALE_RUN:
            taken = session.execute(
                update(JobRun).where(JobRun.id == existing.id, JobRun.started_at == existing.started_at).values(started_at=now),
                execution_options={"synchronize_session": False},
            )
            session.commit()
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                session.refresh(existing)
                return existing
        if existing.status == "failed":  # tried again on the next tick
            session.delete(existing)
            session.commit()
            return _claim(session, name, period, now)
        return None
    run = JobRun(name=name, period=period, started_at=now, status="running", summary={})
    session.add(run)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return None
    return run


def run_job(app: Flask, name: str, now: datetime | None = None, period: str | None = None) -> dict[str, Any] | None:
    """Run one job now, recorded as a run for `period` (default: a manual run); its summary, None when another worker has it.

    Call inside an app context. A failing job is recorded as failed and raised.
    """
    job = JOBS[name]
    moment = now or utcnow()
    db.session().info["in_worker"] = True  # what it queues is sent by this run (or the next tick): no nudges
    if job.hour_setting is None:
        return job.run(app, moment)
    session = db.session()
    run = _claim(session, name, period or "manual-" + moment.strftime("%Y%m%dT%H%M%S.%f"), moment)
    if run is None:
        return None
    try:
        summary = job.run(app, moment)
    except Exception:
        session.rollback()
        run.status, run.finished_at = "failed", utcnow()
        session.commit()
        raise
    run.status, run.finished_at, run.summary = "done", utcnow(), summary
    session.commit()
    return summary


def tick(app: Flask, now: datetime | None = None) -> dict[str, Any]:
    """What the worker runs every minute: each daily job once its hour has come today (or a missed day), then the outbox."""
    moment = now or utcnow()
    local = local_now(app, moment)
    db.session().info["in_worker"] = True
    done: dict[str, Any] = {}
    for job in JOBS.values():
        if job.hour_setting is None:
            continue
        if local.hour < int(app.config[job.hour_setting]):
            continue
        try:
            summary = run_job(app, job.name, moment, period=local.date().isoformat())
        except Exception:  # one failing job must not stop the others or the outbox
            log.exception("job %s failed", job.name)
            continue
        if summary is not None:
            done[job.name] = summary
    done["outbox"] = outbox(app, moment)
    return done


def last_runs(session: Session) -> dict[str, JobRun]:
    """The latest run of each job."""
    latest: dict[str, JobRun] = {}
    for run in session.scalars(select(JobRun).order_by(JobRun.started_at)):
        latest[run.name] = run
    return latest
