"""Schedules as the Schedules page, GET /api/v1/schedules, /metrics and the alert read them:
the rows the leader's watch keeps, and each schedule's run strip laid out at read time."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from controlplane.clock import as_utc, utcnow
from controlplane.models import Schedule
from controlplane.periodic.runs import Run, Slot, recent_runs, timeline
from controlplane.periodic.spec import Spec, in_words
from controlplane.services import Services

STRIP = 20  # slots shown per schedule


@dataclass(frozen=True)
class ScheduleView:
    id: int
    name: str
    task: str
    source: str
    words: str
    state: str
    next_due_at: datetime | None
    last_run: Run | None
    last_success_at: datetime | None
    missed_runs: int
    missed_since: datetime | None
    strip: tuple[Slot, ...]
    args: Any
    kwargs: Any
    options: dict[str, Any]
    args_complete: bool
    reason: str | None
    grace: float

    @property
    def can_run_now(self) -> bool:
        return self.args_complete and self.args is not None

    def as_dict(self) -> dict[str, Any]:
        run = self.last_run
        return {
            "id": self.id, "name": self.name, "task": self.task, "source": self.source,
            "schedule": self.words, "state": self.state, "next_run": _iso(self.next_due_at),
            "last_run": None if run is None else {
                "task_id": run.task_id, "at": _iso(run.seen_at), "state": run.state,
                "runtime": run.runtime, "link": f"/tasks/{run.task_id}",
            },
            "last_success": _iso(self.last_success_at), "missed_runs": self.missed_runs,
            "missed_since": _iso(self.missed_since), "grace_seconds": self.grace,
            "runs": [{"due": _iso(s.due_at), "outcome": s.outcome,
                      "task_id": s.run.task_id if s.run else None} for s in self.strip],
            "inferred_because": self.reason, "run_now": self.can_run_now,
        }  # fmt: skip


def _iso(moment: datetime | None) -> str | None:
    value = as_utc(moment)
    return value.isoformat() if value else None


def _view(session: Session, services: Services, row: Schedule, now: datetime) -> ScheduleView:
    spec = Spec.from_json(row.spec)
    runs = recent_runs(session, row.task)
    found = timeline(spec, runs, now, services.settings, as_utc(row.first_seen_at) or now)
    return ScheduleView(
        id=row.id, name=row.name, task=row.task, source=row.source, words=in_words(spec),
        state=row.state, next_due_at=found.next_due_at, last_run=runs[-1] if runs else None,
        last_success_at=as_utc(row.last_success_at), missed_runs=int(row.missed_runs or 0),
        missed_since=as_utc(row.missed_since), strip=found.slots[-STRIP:],
        args=None if row.args is None else json.loads(row.args),
        kwargs=None if row.kwargs is None else json.loads(row.kwargs),
        options=json.loads(row.options or "{}"), args_complete=bool(row.args_complete),
        reason=row.reason, grace=found.grace,
    )  # fmt: skip


def list_schedules(services: Services) -> list[ScheduleView]:
    now = utcnow()
    with services.transaction() as session:
        rows = session.scalars(select(Schedule).order_by(Schedule.source, Schedule.name))
        return [_view(session, services, row, now) for row in rows]


def get_schedule(services: Services, schedule_id: int) -> ScheduleView | None:
    with services.transaction() as session:
        row = session.get(Schedule, schedule_id)
        return None if row is None else _view(session, services, row, utcnow())


@dataclass(frozen=True)
class ScheduleFacts:
    """What the "missed periodic run" condition reads: the schedules that missed their
    latest run, and the newest run of any schedule (nothing sent since the first miss: beat
    itself is down)."""

    missed: tuple[tuple[int, str, datetime], ...] = ()  # (id, name, missed since)
    latest_run_at: datetime | None = None

    @property
    def beat_down(self) -> bool:
        if len(self.missed) < 2:
            return False
        first_miss = min(since for _, _, since in self.missed)
        return self.latest_run_at is None or self.latest_run_at <= first_miss


# Built once: a statement built per call costs SQLAlchemy its cache key each time (a scrape
# reads both).
_FACTS = select(
    Schedule.id, Schedule.name, Schedule.state, Schedule.missed_since, Schedule.last_run_at
)
_METRICS = select(Schedule.name, Schedule.last_success_at, Schedule.missed_runs).order_by(
    Schedule.name
)


def schedule_facts(session: Session) -> ScheduleFacts:
    rows = session.connection().execute(_FACTS).all()
    missed = tuple(
        (r.id, r.name, as_utc(r.missed_since) or utcnow()) for r in rows if r.state == "missed"
    )
    runs = [at for r in rows if (at := as_utc(r.last_run_at)) is not None]
    return ScheduleFacts(missed, max(runs, default=None))


def schedule_metrics(
    services: Services, session: Session | None = None
) -> list[tuple[str, float | None, int]]:
    """(name, last success as epoch seconds, missed runs) for each schedule (read in
    `session` when given: a scrape reads everything in one transaction)."""
    if session is not None:
        rows = session.connection().execute(_METRICS).all()
    else:
        with services.transaction() as own:
            rows = own.connection().execute(_METRICS).all()
    found = []
    for name, success, missed in rows:
        at = as_utc(success)
        found.append((name, at.timestamp() if at else None, int(missed or 0)))
    return found
