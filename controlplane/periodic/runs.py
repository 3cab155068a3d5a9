"""A schedule's recent runs laid on its due times: each slot on time, late, missed, failed,
slow (over its expected duration) or running.

A run is a task of the schedule's name with no parent (what beat sends), placed by when the
console first saw it (task-sent, else task-received), and belongs to the last due time before
it. A due time with no run within the grace (`schedule_grace_ratio` of the period, at least
`schedule_grace_min_seconds`) is missed; a run that comes after the grace but before the next
due time turns it into "late" in the strip (the miss was counted and alerted when it held).
After each run the next due time is Celery's answer for "last ran then", as beat computes it.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from controlplane.clock import as_utc
from controlplane.config import Settings
from controlplane.models import Task
from controlplane.periodic.spec import MAX_SLOTS, Spec, interval_around, next_due

RUNS_READ = 30  # the latest runs a schedule's strip and its checks look at


@dataclass(frozen=True)
class Run:
    task_id: str
    seen_at: datetime
    state: str
    started_at: datetime | None
    runtime: float | None


@dataclass(frozen=True)
class Slot:
    due_at: datetime | None  # None: the oldest run read, whose due time is not known
    outcome: str  # on_time | late | missed | failed | slow | running
    run: Run | None = None


@dataclass(frozen=True)
class Timeline:
    slots: tuple[Slot, ...]
    next_due_at: datetime
    missed_since: datetime | None  # the first of the missed slots up to now, if the latest is
    grace: float
    expected_duration: float | None


def grace_seconds(spec: Spec, settings: Settings, at: datetime) -> float:
    period = interval_around(spec, at)
    return max(settings.schedule_grace_min_seconds, settings.schedule_grace_ratio * period)


def recent_runs(session: Session, task: str, limit: int = RUNS_READ) -> list[Run]:
    """The schedule's latest runs, oldest first (index ix_tasks_name_time)."""
    query = (
        select(Task.task_id, Task.first_seen_at, Task.state, Task.started_at, Task.runtime)
        .where(Task.name == task, Task.parent_id.is_(None), Task.retry_of.is_(None))
        .order_by(Task.first_seen_at.desc())
        .limit(limit)
    )
    runs = [
        Run(task_id, as_utc(seen) or seen, state, as_utc(started), runtime)
        for task_id, seen, state, started, runtime in session.execute(query)
    ]
    return runs[::-1]


def _expected_duration(runs: list[Run]) -> float | None:
    """Three times the median runtime of the successful runs (at least 1 s), once there
    are three of them."""
    done = [r.runtime for r in runs if r.state == "SUCCESS" and r.runtime is not None]
    if len(done) < 3:
        return None
    return max(1.0, 3 * statistics.median(done))


def _outcome(run: Run, due: datetime | None, grace: float, expected: float | None,
             now: datetime) -> str:  # fmt: skip
    if run.state == "FAILURE":
        return "failed"
    if expected is not None:
        took = run.runtime if run.state == "SUCCESS" else None
        if run.state == "STARTED" and run.started_at is not None:
            took = (now - run.started_at).total_seconds()  # still running: so far
        if took is not None and took > expected:
            return "slow"
    if due is not None and run.seen_at > due + timedelta(seconds=grace):
        return "late"
    if run.state in ("PENDING", "RECEIVED", "STARTED", "RETRY"):
        return "running"
    return "on_time"


def timeline(
    spec: Spec, runs: list[Run], now: datetime, settings: Settings, watched_since: datetime
) -> Timeline:
    """Slots from the oldest run read (or from when the console began watching) to now."""
    grace = grace_seconds(spec, settings, now)
    window = timedelta(seconds=grace)
    expected = _expected_duration(runs)
    slots: list[Slot] = []
    due = next_due(spec, watched_since) if not runs else None
    walked = 0
    for run in runs:
        if due is not None:  # a run belongs to the last due time before it: late, not missed
            while (after := next_due(spec, due)) <= run.seen_at and walked < MAX_SLOTS:
                slots.append(Slot(due, "missed"))
                due, walked = after, walked + 1
        slots.append(Slot(due, _outcome(run, due, grace, expected, now), run))
        due = next_due(spec, run.seen_at)
    assert due is not None
    missed_since = None
    while due + window < now and walked < MAX_SLOTS:
        missed_since = missed_since or due
        slots.append(Slot(due, "missed"))
        due, walked = next_due(spec, due), walked + 1
    return Timeline(tuple(slots), due, missed_since, grace, expected)
