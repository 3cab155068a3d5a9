"""The fleet at a glance, read from what the scheduler and the event ingester wrote.

Pages, the JSON API and metrics call `fleet_view`: it reads the latest sample (this process's
memory when its scheduler leads, else the database), the worker rows and the stuck tasks. It
never talks to the broker or broadcasts to workers, so a page view costs a few indexed queries
however large the fleet, and still renders when the broker is down.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from controlplane.broker import QueueDepth
from controlplane.clock import age_seconds, as_utc, utcnow
from controlplane.db import session_scope
from controlplane.fleet.health import (
    Alert,
    StuckTask,
    WorkerHealth,
    alerts_for,
    consumers_by_queue,
    load_workers,
    recent_gaps,
    stuck_tasks,
)
from controlplane.fleet.sample import BrokerState, FleetSample, read_latest
from controlplane.models import QueueSample
from controlplane.services import Services

SPARKLINE_MINUTES = 60
SPARKLINE_TTL = 20.0  # seconds a process reuses its sparklines
SPARKLINE_CACHE = "fleet.sparklines"


@dataclass(frozen=True)
class QueueView:
    name: str
    ready: int
    unacked: int | None  # None: the broker cannot tell (AMQP without the management API)
    scheduled: int
    consumers: int
    concurrency: int  # pool processes of the alive workers consuming it
    rate_in: float | None  # tasks per minute
    rate_out: float | None
    oldest_waiting_age: float | None  # seconds
    sparkline: tuple[int | None, ...] = ()  # backlog per minute, oldest first; None: no sample

    @property
    def no_consumer(self) -> bool:
        return self.ready > 0 and self.consumers == 0

    @property
    def backlog(self) -> int:
        return self.ready + (self.unacked or 0) + self.scheduled


@dataclass(frozen=True)
class FleetView:
    now: datetime
    sampled_at: datetime | None
    stale: bool  # no sample for a while: no scheduler running, or the broker is down
    broker: BrokerState
    sampler: str | None
    counts_unacked: bool
    queues: list[QueueView] = field(default_factory=list)
    workers: list[WorkerHealth] = field(default_factory=list)
    stuck: list[StuckTask] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)

    @property
    def sample_age(self) -> float | None:
        return age_seconds(self.sampled_at, self.now)

    @property
    def broker_down_for(self) -> float | None:
        return age_seconds(self.broker.down_since, self.now)


def stale_after(sample_interval: float) -> float:
    """A sample older than this says nobody samples: three missed turns, at least 15 s."""
    return max(15.0, 3 * sample_interval)


def fleet_view(services: Services, *, sparklines: bool = False) -> FleetView:
    """Queues, workers, stuck tasks and alerts as the console shows them (no broker call)."""
    settings = services.settings
    now = utcnow()
    with session_scope(services.sessions) as session:
        sample = services.latest.get() or read_latest(session)
        workers = load_workers(session, now, settings.inspect_interval)
        stuck = stuck_tasks(session, now, settings.stuck_task_seconds)
        gaps = recent_gaps(session, now, settings.gap_alert_hours)
        queues = _queue_views(services, sample, workers, now)
        if sparklines and queues:
            series = cached_backlog_series(services, session, [q.name for q in queues], now)
            queues = [replace(q, sparkline=series.get(q.name, ())) for q in queues]
    depths = [QueueDepth(q.name, q.ready, q.unacked, q.scheduled, q.consumers) for q in queues]
    consumers = {q.name: q.consumers for q in queues}
    alerts = alerts_for(
        now=now, depths=depths, consumers=consumers, workers=workers, stuck=stuck, gaps=gaps
    )
    age = age_seconds(sample.sampled_at, now)
    return FleetView(
        now=now,
        sampled_at=sample.sampled_at,
        stale=age is None or age > stale_after(settings.sample_interval),
        broker=sample.broker,
        sampler=sample.sampler,
        counts_unacked=services.broker.counts_unacked,
        queues=queues,
        workers=workers,
        stuck=stuck,
        alerts=alerts,
    )


def _queue_views(
    services: Services, sample: FleetSample, workers: list[WorkerHealth], now: datetime
) -> list[QueueView]:
    # Redis has no consumers of its own: count the alive workers now, so a worker that just
    # went offline stops counting at once. RabbitMQ knows its consumers: trust the sample.
    by_workers = consumers_by_queue(workers)
    from_broker = services.broker.counts_consumers
    views = []
    for name, reading in sample.queues.items():
        depth = reading.depth
        entry = by_workers.get(name)
        by_worker_count = entry.consumers if entry else 0
        consumers = (depth.consumers or 0) if from_broker else by_worker_count
        busy = depth.ready or depth.unacked
        oldest = reading.oldest_waiting_at if busy else None
        views.append(
            QueueView(
                name=name,
                ready=depth.ready,
                unacked=depth.unacked if services.broker.counts_unacked else None,
                scheduled=depth.scheduled,
                consumers=consumers,
                concurrency=entry.concurrency if entry else 0,
                rate_in=None if reading.rate_in is None else reading.rate_in * 60,
                rate_out=None if reading.rate_out is None else reading.rate_out * 60,
                oldest_waiting_age=age_seconds(oldest, now),
            )
        )
    return sorted(views, key=lambda q: q.name)


def cached_backlog_series(
    services: Services, session: Session, queues: list[str], now: datetime
) -> dict[str, tuple[int | None, ...]]:
    """`backlog_series`, computed at most every SPARKLINE_TTL seconds per process.

    The Queues page polls every few seconds; a sparkline of one-minute buckets barely moves.
    """
    key = tuple(queues)
    cached = services.cache.get(SPARKLINE_CACHE)
    if cached and cached[1] == key and time.monotonic() - cached[0] < SPARKLINE_TTL:
        series: dict[str, tuple[int | None, ...]] = cached[2]
        return series
    series = backlog_series(session, queues, now)
    services.cache[SPARKLINE_CACHE] = (time.monotonic(), key, series)
    return series


def backlog_series(
    session: Session, queues: Iterable[str], now: datetime, minutes: int = SPARKLINE_MINUTES
) -> dict[str, tuple[int | None, ...]]:
    """Largest backlog (ready + unacked + scheduled) per minute over the last `minutes`, per queue.

    Grouped by minute in SQL so a page reads `minutes` rows per queue, not every sample.
    """
    names = list(queues)
    since = now - timedelta(minutes=minutes)
    column = QueueSample.sampled_at
    # SQLAlchemy stores SQLite datetimes as "YYYY-MM-DD HH:MM:SS.ffffff": the minute is a
    # prefix, far cheaper to group by than strftime() on every row.
    postgres = session.get_bind().dialect.name == "postgresql"
    minute: ColumnElement[Any] = (
        func.date_trunc("minute", column) if postgres else func.substr(column, 1, 16)
    )
    backlog = func.max(QueueSample.ready + QueueSample.unacked + QueueSample.scheduled)
    query = (
        select(QueueSample.queue, minute.label("minute"), backlog)
        .where(QueueSample.sampled_at >= since, QueueSample.queue.in_(names))
        .group_by(QueueSample.queue, minute)
    )
    last = int(now.timestamp() // 60)
    first = last - minutes + 1
    series: dict[str, list[int | None]] = {}
    indexes: dict[Any, int] = {}  # bucket -> position; only `minutes` distinct buckets
    for queue, bucket, value in session.execute(query):
        index = indexes.get(bucket)
        if index is None:
            moment = as_utc(bucket if postgres else datetime.fromisoformat(f"{bucket}:00"))
            assert moment is not None
            index = indexes[bucket] = int(moment.timestamp() // 60) - first
        if 0 <= index < minutes:
            series.setdefault(queue, [None] * minutes)[index] = int(value)
    return {queue: tuple(values) for queue, values in series.items()}
