"""Worker liveness, consumers per queue, stuck tasks and ingest gaps.

These are inputs of the alert conditions (fleet/alerts.py) and of the metrics, as plain typed
data. They are computed from the database (the `workers` rows that the event ingester keeps
from heartbeats and the scheduler's inspection keeps from pings; the `tasks` rows) at read
time, so a status turns "late" and "offline" on time even when nothing writes. Nothing here
talks to the fleet.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import BindParameter, Select, bindparam, literal_column, select
from sqlalchemy.orm import Session

from controlplane.clock import as_utc, utcnow
from controlplane.models import EventGap, Task, Worker

if TYPE_CHECKING:
    from controlplane.services import Services

WorkerStatus = Literal["online", "late", "offline"]

DEFAULT_HEARTBEAT = 2.0  # seconds: Celery's worker heartbeat interval when a row has no freq
LATE_AFTER = 2.0  # heartbeat intervals without a sign of life before a worker is "late"
OFFLINE_AFTER = 3.0  # ... and before it is "offline"
MAX_LISTED = 2000  # queues or task names kept from one worker (untrusted input is bounded)


# Not frozen, for the reason QueueState is not (a scrape builds one per worker); read-only
@dataclass(slots=True)
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
    # from the scheduler's inspection: prefetched and ETA tasks, a few ids of each, boot time
    reserved: int | None = None
    scheduled: int | None = None
    booted_at: datetime | None = None
    held: dict[str, tuple[tuple[str, str], ...]] | None = None
    # {task name: {rate_limit, time_limit, soft_time_limit}} the worker reported running with
    limits: dict[str, dict[str, str]] = field(default_factory=dict)
    prefetch_count: int | None = None

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
    status, last_seen, interval, shutdown, _ = _status(
        now, inspect_interval, recorded_status, last_heartbeat, freq, online_at, offline_at,
        inspected_at,
    )  # fmt: skip
    return status, last_seen, interval, shutdown


def _status(
    now: datetime,
    inspect_interval: float,
    recorded_status: str | None,
    last_heartbeat: datetime | None,
    freq: float | None,
    online_at: datetime | None,
    offline_at: datetime | None,
    inspected_at: datetime | None,
) -> tuple[WorkerStatus, datetime | None, float, bool, float | None]:
    """`worker_status` with positional arguments, and the age of last seen in seconds: a
    scrape asks for every worker (keywords cost a call about twice as much)."""
    try:
        signs = _compared(freq, inspect_interval, last_heartbeat, online_at, offline_at,
                          inspected_at)  # fmt: skip
    except TypeError:  # naive and aware times mixed: compare them all as UTC
        signs = _compared(
            freq, inspect_interval, as_utc(last_heartbeat), as_utc(online_at),
            as_utc(offline_at), as_utc(inspected_at),
        )  # fmt: skip
    seen, interval, ended = signs
    last_seen = as_utc(seen)  # once, for the answer: the comparisons did not need it
    age = None if last_seen is None else (now - last_seen).total_seconds()
    # "offline": the worker said goodbye (worker-offline). "lost": the event ingester gave up
    # on its heartbeats; either holds until a later sign of life.
    if recorded_status in ("offline", "lost") and ended:
        return "offline", last_seen, interval, recorded_status == "offline", age
    if age is None or age > OFFLINE_AFTER * interval:
        return "offline", last_seen, interval, False, age
    if age > LATE_AFTER * interval:
        return "late", last_seen, interval, False, age
    return "online", last_seen, interval, False, age


def _compared(
    freq: float | None,
    inspect_interval: float,
    beat: datetime | None,
    online: datetime | None,
    gone: datetime | None,
    pinged: datetime | None,
) -> tuple[datetime | None, float, bool]:
    """(last seen as stored, its interval, whether the worker's end came after it).

    The times are compared as the database hands them back, all naive (SQLite: UTC) or all
    aware, which orders them as their UTC values do; converting each to UTC first cost a
    `replace` per time, four per worker. A naive time compared with an aware one raises
    TypeError (ordering comparisons only are used here), and the caller converts them all.
    """
    interval = freq if freq and freq > 0 else DEFAULT_HEARTBEAT
    # the later of the two (no generator and max(): a scrape asks this for every worker)
    if beat is None or (online is not None and online > beat):
        beat = online
    seen = beat
    if pinged is not None and (beat is None or pinged > beat + _seconds(OFFLINE_AFTER * interval)):
        seen, interval = pinged, inspect_interval
    ended = gone is not None and (seen is None or gone >= seen)
    return seen, interval, ended


def worker_health(row: Any, now: datetime, inspect_interval: float) -> WorkerHealth:
    """The health of a `Worker` (or of a row selecting its columns by the same names)."""
    status, last_seen, interval, shutdown, age = _status(
        now, inspect_interval, row.status, row.last_heartbeat, row.freq, row.online_at,
        row.offline_at, row.inspected_at,
    )  # fmt: skip
    # Every field in the order WorkerHealth declares them: positional arguments, as keywords
    # cost twice as much (a scrape builds one per worker)
    return WorkerHealth(
        row.hostname,  # hostname
        status,  # status
        last_seen,  # last_seen
        age,  # heartbeat_age
        interval,  # interval
        shutdown,  # shutdown
        row.concurrency,  # concurrency
        row.active or 0,  # active
        row.processed or 0,  # processed
        json_names(row.queues),  # queues
        json_names(row.registered),  # registered
        row.software,  # software
        row.pid,  # pid
        row.loadavg,  # loadavg
        row.reserved,  # reserved
        row.scheduled,  # scheduled
        as_utc(row.booted_at),  # booted_at
        held_tasks(row.held_tasks),  # held
        json_limits(getattr(row, "limits", None)),  # limits
        getattr(row, "prefetch_count", None),  # prefetch_count
    )


_ORDER = {"online": 0, "late": 1, "offline": 2}


def load_workers(session: Session, now: datetime, inspect_interval: float) -> list[WorkerHealth]:
    """Every known worker with its status; alive ones first, then by hostname."""
    rows = session.scalars(select(Worker)).all()
    workers = [worker_health(row, now, inspect_interval) for row in rows]
    return sorted(workers, key=lambda w: (_ORDER[w.status], w.hostname))


def find_worker(services: Services, hostname: str) -> WorkerHealth | None:
    """One worker's health as the Workers page shows it, or None when unknown."""
    settings = services.settings
    with services.transaction() as session:
        row = session.get(Worker, hostname)
        return None if row is None else worker_health(row, utcnow(), settings.inspect_interval)


def consumers_by_queue(workers: Iterable[WorkerHealth]) -> dict[str, QueueConsumers]:
    """Per queue: how many alive workers consume it and their total pool size."""
    counts = consumer_counts(workers)
    return {q: QueueConsumers(q, consumers, conc) for q, (consumers, conc) in counts.items()}


def consumer_counts(workers: Iterable[WorkerHealth]) -> dict[str, list[int]]:
    """`consumers_by_queue` as [consumers, processes] per queue: what a scrape's 500 queues
    read, without a record each."""
    counts: dict[str, list[int]] = {}
    for worker in workers:
        if worker.status == "offline":  # not `alive`
            continue
        processes = worker.concurrency or 0
        for queue in set(worker.queues):
            entry = counts.get(queue)
            if entry is None:
                counts[queue] = [1, processes]
            else:
                entry[0] += 1
                entry[1] += processes
    return counts


def stuck_tasks(
    session: Session, now: datetime, threshold: float, limit: int = 50
) -> list[StuckTask]:
    """Tasks STARTED more than `threshold` seconds ago and not finished, oldest first."""
    stuck = []
    query, cutoff = _stuck_query(limit), {"cutoff": now - _seconds(threshold)}
    for task_id, name, queue, worker, started_at in session.connection().execute(query, cutoff):
        started = as_utc(started_at)
        assert started is not None  # the WHERE clause excludes NULL
        stuck.append(
            StuckTask(task_id, name, queue, worker, started, (now - started).total_seconds())
        )
    return stuck


@functools.lru_cache(maxsize=8)
def _stuck_query(limit: int) -> Select[str, str | None, str | None, str | None, datetime | None]:
    """`stuck_query` built once per limit, the cutoff a parameter: a statement built per call
    costs SQLAlchemy its cache key each time (a scrape reads it)."""
    return stuck_query(bindparam("cutoff"), limit)


def stuck_query(
    cutoff: datetime | BindParameter[Any], limit: int
) -> Select[str, str | None, str | None, str | None, datetime | None]:
    """Read from the partial index `ix_tasks_stuck` (STARTED tasks only, by start time): the
    first `limit` entries, however many STARTED rows an old history holds.

    The state is spelled as a literal: a bound parameter hides from both planners (SQLite's,
    and PostgreSQL's generic plan of a prepared statement) that the index's condition holds.
    """
    return (
        select(Task.task_id, Task.name, Task.queue, Task.worker, Task.started_at)
        .where(Task.state == literal_column("'STARTED'"), Task.started_at < cutoff)
        .order_by(Task.started_at)
        .limit(limit)
    )


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


@functools.lru_cache(maxsize=8)
def _gaps_query(limit: int) -> Select[Any, Any, Any, Any, Any]:
    """Built once per limit, the time a parameter (a scrape reads it: no cache key per call).
    Columns through Core, not the entity: no ORM loading per call."""
    g = EventGap
    return (
        select(g.started_at, g.ended_at, g.reason, g.estimated_missed, g.source)
        .where(g.started_at >= bindparam("since"))
        .order_by(g.started_at.desc())
        .limit(limit)
    )


def recent_gaps(session: Session, now: datetime, hours: float, limit: int = 5) -> list[IngestGap]:
    """Gaps that started within `hours` (newest first): what the alert strip owns up to."""
    since = {"since": now - _seconds(hours * 3600)}
    gaps = []
    for row in session.connection().execute(_gaps_query(limit), since).all():
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


HELD_KINDS = ("active", "reserved", "scheduled")


def held_tasks(text: str | None) -> dict[str, tuple[tuple[str, str], ...]] | None:
    """The task ids a worker said it holds (workers.held_tasks), bounded; None when unknown."""
    if not text:
        return None
    try:
        value: Any = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    held = {}
    for kind in HELD_KINDS:
        entries = value.get(kind)
        held[kind] = tuple(
            (str(entry[0])[:155], str(entry[1])[:255])
            for entry in (entries if isinstance(entries, list) else [])[:50]
            if isinstance(entry, list) and len(entry) == 2
        )
    return held


def json_limits(text: str | None) -> dict[str, dict[str, str]]:
    """A worker row's reported task limits; anything malformed reads as none."""
    if not text:
        return {}
    try:
        value: Any = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {
        str(name)[:255]: {str(k)[:32]: str(v)[:32] for k, v in entry.items() if v is not None}
        for name, entry in list(value.items())[:MAX_LISTED]
        if isinstance(entry, dict)
    }


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
