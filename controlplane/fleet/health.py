"""Worker liveness, consumers per queue, stuck tasks and queues nobody consumes.

These are the console's alerts and the metrics' inputs, as plain typed data. They are computed
from the database (the `workers` rows that the event ingester keeps from heartbeats and the
scheduler's inspection keeps from pings; the `tasks` rows) at read time, so a status turns
"late" and "offline" on time even when nothing writes. Nothing here talks to the fleet.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from controlplane.broker import QueueState
from controlplane.clock import age_seconds, as_utc
from controlplane.models import EventGap, Task, Worker

WorkerStatus = Literal["online", "late", "offline"]
Severity = Literal["critical", "warning"]

DEFAULT_HEARTBEAT = 2.0  # seconds: Celery's worker heartbeat interval when a row has no freq
LATE_AFTER = 2.0  # heartbeat intervals without a sign of life before a worker is "late"
OFFLINE_AFTER = 3.0  # ... and before it is "offline"
LOST_WORKER_ALERT_HOURS = 6.0  # a worker that vanished without saying goodbye alerts this long
MAX_LISTED = 2000  # queues or task names kept from one worker (untrusted input is bounded)


@dataclass(frozen=True)
class WorkerHealth:
    hostname: str
    status: WorkerStatus
    last_seen: datetime | None  # last heartbeat, or last answer to the scheduler's ping
    heartbeat_age: float | None  # seconds since last_seen
    interval: float  # the interval last_seen is expected at (heartbeat or inspection)
    shutdown: bool  # went offline cleanly (worker-offline event), not lost
    concurrency: int | None
    active: int
    processed: int
    queues: tuple[str, ...]
    registered: tuple[str, ...]
    software: str | None
    pid: int | None
    loadavg: str | None

    @property
    def alive(self) -> bool:
        """Counted as a consumer: online, or late but not yet given up on."""
        return self.status != "offline"


@dataclass(frozen=True)
class QueueConsumers:
    queue: str
    consumers: int  # alive workers consuming the queue
    concurrency: int  # their pool processes in total


@dataclass(frozen=True)
class StuckTask:
    task_id: str
    name: str | None
    queue: str | None
    worker: str | None
    started_at: datetime
    running_for: float  # seconds


@dataclass(frozen=True)
class Alert:
    kind: Literal[
        "queue_without_consumer", "worker_offline", "worker_late", "task_stuck", "ingest_gap"
    ]
    subject: str  # the queue, worker hostname or task id
    message: str
    severity: Severity


def worker_status(
    *,
    now: datetime,
    inspect_interval: float,
    recorded_status: str | None = None,
    last_heartbeat: datetime | None = None,
    freq: float | None = None,
    online_at: datetime | None = None,
    offline_at: datetime | None = None,
    inspected_at: datetime | None = None,
) -> tuple[WorkerStatus, datetime | None, float, bool]:
    """(status, last seen, expected interval, clean shutdown) for one worker's recorded signs.

    Heartbeats decide when there are any; the scheduler's pings stand in for them when the
    worker runs without events, or when it answered well after its heartbeats stopped (events
    turned off, or no ingester running).
    """
    interval = freq if freq and freq > 0 else DEFAULT_HEARTBEAT
    beat = max((t for t in (as_utc(last_heartbeat), as_utc(online_at)) if t), default=None)
    pinged = as_utc(inspected_at)
    last_seen = beat
    if pinged is not None and (beat is None or pinged > beat + _seconds(OFFLINE_AFTER * interval)):
        last_seen, interval = pinged, inspect_interval
    gone = as_utc(offline_at)
    # "offline": the worker said goodbye (worker-offline). "lost": the event ingester gave up
    # on its heartbeats; either holds until a later sign of life.
    ended = gone is not None and (last_seen is None or gone >= last_seen)
    if recorded_status in ("offline", "lost") and ended:
        return "offline", last_seen, interval, recorded_status == "offline"
    age = age_seconds(last_seen, now)
    if age is None or age > OFFLINE_AFTER * interval:
        return "offline", last_seen, interval, False
    if age > LATE_AFTER * interval:
        return "late", last_seen, interval, False
    return "online", last_seen, interval, False


def worker_health(row: Any, now: datetime, inspect_interval: float) -> WorkerHealth:
    """The health of a `Worker` (or of a row selecting its columns by the same names)."""
    status, last_seen, interval, shutdown = worker_status(
        now=now,
        inspect_interval=inspect_interval,
        recorded_status=row.status,
        last_heartbeat=row.last_heartbeat,
        freq=row.freq,
        online_at=row.online_at,
        offline_at=row.offline_at,
        inspected_at=row.inspected_at,
    )
    return WorkerHealth(
        hostname=row.hostname,
        status=status,
        last_seen=last_seen,
        heartbeat_age=age_seconds(last_seen, now),
        interval=interval,
        shutdown=shutdown,
        concurrency=row.concurrency,
        active=row.active or 0,
        processed=row.processed or 0,
        queues=json_names(row.queues),
        registered=json_names(row.registered),
        software=row.software,
        pid=row.pid,
        loadavg=row.loadavg,
    )


_ORDER = {"online": 0, "late": 1, "offline": 2}


def load_workers(session: Session, now: datetime, inspect_interval: float) -> list[WorkerHealth]:
    """Every known worker with its status; alive ones first, then by hostname."""
    rows = session.scalars(select(Worker)).all()
    workers = [worker_health(row, now, inspect_interval) for row in rows]
    return sorted(workers, key=lambda w: (_ORDER[w.status], w.hostname))


def consumers_by_queue(workers: Iterable[WorkerHealth]) -> dict[str, QueueConsumers]:
    """Per queue: how many alive workers consume it and their total pool size."""
    counts: dict[str, list[int]] = {}
    for worker in workers:
        if not worker.alive:
            continue
        for queue in set(worker.queues):
            entry = counts.setdefault(queue, [0, 0])
            entry[0] += 1
            entry[1] += worker.concurrency or 0
    return {q: QueueConsumers(q, consumers, conc) for q, (consumers, conc) in counts.items()}


def stuck_tasks(
    session: Session, now: datetime, threshold: float, limit: int = 50
) -> list[StuckTask]:
    """Tasks STARTED more than `threshold` seconds ago and not finished, oldest first."""
    cutoff = now - _seconds(threshold)
    query = (
        select(Task.task_id, Task.name, Task.queue, Task.worker, Task.started_at)
        .where(Task.state == "STARTED", Task.started_at < cutoff)
        .order_by(Task.started_at)
        .limit(limit)
    )
    stuck = []
    for task_id, name, queue, worker, started_at in session.execute(query):
        started = as_utc(started_at)
        assert started is not None  # the WHERE clause excludes NULL
        stuck.append(
            StuckTask(task_id, name, queue, worker, started, (now - started).total_seconds())
        )
    return stuck


def alerts_for(
    *,
    now: datetime,
    queues: Iterable[QueueState],
    workers: Iterable[WorkerHealth],
    stuck: Iterable[StuckTask],
    gaps: Iterable[IngestGap] = (),
) -> list[Alert]:
    """The alert strip: most severe first."""
    alerts: list[Alert] = []
    for queue in queues:
        if queue.no_consumer:  # ready messages no alive worker consumes: work that never runs
            message = f"{queue.ready} ready message(s) and no worker consumes this queue"
            alerts.append(Alert("queue_without_consumer", queue.name, message, "critical"))
    for worker in workers:
        if worker.status == "offline" and not worker.shutdown:
            age = worker.heartbeat_age
            if age is not None and age <= LOST_WORKER_ALERT_HOURS * 3600:
                message = f"no sign of life for {format_age(age)} (did not shut down cleanly)"
                alerts.append(Alert("worker_offline", worker.hostname, message, "critical"))
        elif worker.status == "late":
            message = f"last heartbeat {format_age(worker.heartbeat_age)} ago"
            alerts.append(Alert("worker_late", worker.hostname, message, "warning"))
    for task in stuck:
        where = f" on {task.worker}" if task.worker else ""
        message = f"{task.name or 'task'} STARTED {format_age(task.running_for)} ago{where}"
        alerts.append(Alert("task_stuck", task.task_id, message, "warning"))
    for gap in gaps:
        span = "still open" if gap.ended_at is None else f"for {format_age(gap.duration)}"
        missed = f", about {gap.estimated_missed:,} event(s) missed" if gap.estimated_missed else ""
        message = (
            f"events were lost {format_age((now - gap.started_at).total_seconds())} ago, "
            f"{span}{missed} ({gap.reason[:200]}): task history in that span may be incomplete"
        )
        alerts.append(Alert("ingest_gap", gap.source or "ingester", message, "warning"))
    return sorted(alerts, key=lambda a: a.severity != "critical")


@dataclass(frozen=True)
class IngestGap:
    """A span in which the event ingester saw nothing (an event_gaps row)."""

    started_at: datetime
    ended_at: datetime | None
    reason: str
    estimated_missed: int | None
    source: str | None

    @property
    def duration(self) -> float:
        return 0.0 if self.ended_at is None else (self.ended_at - self.started_at).total_seconds()


def recent_gaps(session: Session, now: datetime, hours: float, limit: int = 5) -> list[IngestGap]:
    """Gaps that started within `hours` (newest first): what the alert strip owns up to."""
    since = now - _seconds(hours * 3600)
    query = (
        select(EventGap)
        .where(EventGap.started_at >= since)
        .order_by(EventGap.started_at.desc())
        .limit(limit)
    )
    gaps = []
    for row in session.scalars(query):
        started = as_utc(row.started_at)
        assert started is not None
        gaps.append(
            IngestGap(started, as_utc(row.ended_at), row.reason, row.estimated_missed, row.source)
        )
    return gaps


@functools.lru_cache(maxsize=512)  # rows repeat the same lists (a deployment's workers)
def json_names(text: str | None) -> tuple[str, ...]:
    """A JSON list of names from a worker row, bounded; anything malformed reads as empty."""
    if not text:
        return ()
    try:
        value: Any = json.loads(text)
    except ValueError:
        return ()
    if not isinstance(value, list):
        return ()
    return tuple(str(item)[:255] for item in value[:MAX_LISTED] if isinstance(item, str))


def format_age(seconds: float | None) -> str:
    """12 s, 4 min, 3 h 5 min, 2 d 4 h: how people read an age."""
    if seconds is None:
        return "never"
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = int(seconds // 60)
    if minutes < 90:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)
