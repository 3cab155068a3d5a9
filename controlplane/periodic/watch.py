"""The leader's schedule watch: refresh the sources, lay each schedule's runs on its due times,
count the runs that were missed (each due time once), remember the last success.

It runs in the scheduler (leader only, every `sample_interval`), so a page view or a scrape
only reads the `schedules` rows it keeps.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from controlplane.clock import as_utc, utcnow
from controlplane.models import Schedule, Task
from controlplane.periodic.django_beat import from_django_beat
from controlplane.periodic.redbeat import from_redbeat
from controlplane.periodic.runs import recent_runs, timeline
from controlplane.periodic.sources import Entry, from_celery_app, infer
from controlplane.periodic.spec import Spec
from controlplane.services import Services

log = logging.getLogger(__name__)
INFERRED_KEPT = timedelta(hours=24)  # an observed schedule no longer recognised is dropped


def _app_entries(services: Services) -> list[Entry] | None:
    """The Celery app's entries; None when none is configured or it cannot be loaded."""
    path = services.settings.celery_app
    if not path:
        return None
    try:
        return from_celery_app(path)
    except Exception as exc:  # the fleet's code: anything can go wrong importing it
        log.warning("could not read beat_schedule from %s: %r", path, exc)
        return None


def _redbeat_entries(services: Services) -> list[Entry] | None:
    url = services.settings.redbeat_url
    if not url:
        return None
    try:
        return from_redbeat(url, services.settings.redbeat_key_prefix)
    except Exception as exc:
        log.warning("could not read RedBeat's entries: %r", exc)
        return None


def _django_beat_entries(services: Services) -> list[Entry] | None:
    url = services.settings.django_beat_url
    if not url:
        return None
    try:
        return from_django_beat(url)
    except Exception as exc:
        log.warning("could not read django-celery-beat's tables: %r", exc)
        return None


def _store(session: Session, entries: list[Entry], now: datetime) -> None:
    existing = {row.key: row for row in session.scalars(select(Schedule))}
    for entry in entries:
        row = existing.get(entry.key)
        if row is None:
            row = Schedule(key=entry.key, source=entry.source, name=entry.name,
                           first_seen_at=now, state="waiting", missed_runs=0)  # fmt: skip
            session.add(row)
        row.task, row.spec = entry.task, entry.spec.to_json()
        row.args = None if entry.args is None else json.dumps(entry.args, default=str)
        row.kwargs = None if entry.kwargs is None else json.dumps(entry.kwargs, default=str)
        row.options = json.dumps(entry.options, default=str)
        row.args_complete, row.reason, row.seen_at = entry.args_complete, entry.reason, now


def _evaluate(session: Session, services: Services, row: Schedule, now: datetime) -> None:
    spec = Spec.from_json(row.spec)
    runs = recent_runs(session, row.task)
    watched = as_utc(row.first_seen_at) or now
    found = timeline(spec, runs, now, services.settings, watched)
    counted = as_utc(row.missed_due_at)
    new_misses = [
        s.due_at for s in found.slots
        if s.outcome == "missed" and s.due_at is not None and s.due_at >= watched
        and (counted is None or s.due_at > counted)
    ]  # fmt: skip
    if new_misses:
        row.missed_runs = (row.missed_runs or 0) + len(new_misses)
        row.missed_due_at = max(new_misses)
        log.warning("schedule %s missed %d run(s), the last due at %s", row.key,
                    len(new_misses), row.missed_due_at.isoformat())  # fmt: skip
    latest = found.slots[-1] if found.slots else None
    row.state = "waiting" if latest is None else latest.outcome
    row.missed_since = found.missed_since
    row.next_due_at = found.next_due_at
    last = runs[-1] if runs else None
    row.last_run_task_id = last.task_id if last else None
    row.last_run_at = last.seen_at if last else None
    success = session.scalar(
        select(func.max(Task.finished_at)).where(
            Task.name == row.task, Task.state == "SUCCESS", Task.parent_id.is_(None),
            Task.first_seen_at >= (last.seen_at if last else now) - timedelta(days=7),
        )
    )  # fmt: skip
    row.last_success_at = as_utc(success) or as_utc(row.last_success_at)
    row.checked_at = now


def watch_schedules(services: Services, now: datetime | None = None) -> int:
    """One pass of the watch; returns how many schedules it looked at."""
    now = now or utcnow()
    read = {
        "celery_app": _app_entries(services),
        "redbeat": _redbeat_entries(services),
        "django_celery_beat": _django_beat_entries(services),
    }
    with services.transaction() as session:
        configured = [e for found in read.values() for e in found or ()]
        known = {e.task for e in configured}
        entries = [*configured, *infer(session, services.settings, known, now)]
        _store(session, entries, now)
        for source, found in read.items():
            if found is not None:  # the source was read: entries no longer in it are gone
                keys = [e.key for e in found] or [""]
                session.execute(delete(Schedule).where(Schedule.source == source,
                                                       Schedule.key.not_in(keys)))  # fmt: skip
        session.execute(delete(Schedule).where(
            Schedule.source == "inferred", Schedule.seen_at < now - INFERRED_KEPT,
        ))  # fmt: skip
        session.flush()
        rows = list(session.scalars(select(Schedule).order_by(Schedule.name)))
        for row in rows:
            _evaluate(session, services, row, now)
        return len(rows)
