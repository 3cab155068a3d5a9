"""The fleet at a glance, read from what the scheduler and the event ingester wrote.

Pages, the JSON API and metrics call `fleet_view`: it reads the latest sample (this process's
memory when its scheduler leads, else the database), the worker rows and the stuck tasks. It
never talks to the broker or broadcasts to workers, so a page view costs a few indexed queries
however large the fleet, and still renders when the broker is down.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from controlplane.broker import QueueState
from controlplane.clock import age_seconds, as_utc, utcnow
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
from controlplane.fleet.queue_rates import QueueRates, recent_rates
from controlplane.fleet.sample import BrokerState, FleetSample, read_latest
from controlplane.models import QueueSample
from controlplane.services import Services

SPARKLINE_MINUTES = 60


@dataclass(frozen=True)
class FleetView:
    now: datetime
    sampled_at: datetime | None
    stale: bool  # no sample for a while: no scheduler running, or the broker is down
    broker: BrokerState
    sampler: str | None
    counts_unacked: bool
    queues: list[QueueState] = field(default_factory=list)
    workers: list[WorkerHealth] = field(default_factory=list)
    stuck: list[StuckTask] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    # backlog per minute over the last hour, oldest first (None: no sample that minute)
    sparklines: dict[str, tuple[int | None, ...]] = field(default_factory=dict)

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
    rates = recent_rates(services)
    with services.transaction() as session:
        sample = services.state.latest.get() or read_latest(session)
        workers = load_workers(session, now, settings.inspect_interval)
        stuck = stuck_tasks(session, now, settings.stuck_task_seconds)
        gaps = recent_gaps(session, now, settings.gap_alert_hours)
        queues = queue_states(services, sample, workers, rates)
        series = _sparklines(services, session, queues, now) if sparklines and queues else {}
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
        alerts=alerts_for(now=now, queues=queues, workers=workers, stuck=stuck, gaps=gaps),
        sparklines=series,
    )


def queue_states(
    services: Services, sample: FleetSample, workers: list[WorkerHealth], rates: QueueRates
) -> list[QueueState]:
    """Every sampled queue with who consumes it now and its rates, sorted by name."""
    # Redis has no consumers of its own: count the alive workers now, so a worker that just
    # went offline stops counting at once. RabbitMQ knows its consumers: trust the sample.
    by_workers = consumers_by_queue(workers)
    from_broker = services.broker.counts_consumers
    counts_unacked = services.broker.counts_unacked
    states = []
    for name in sorted(sample.queues):
        queue = sample.queues[name]
        entry = by_workers.get(name)
        alive = entry.consumers if entry else 0
        states.append(
            replace(
                queue,
                reserved=queue.reserved if counts_unacked else None,
                consumers=(queue.consumers or 0) if from_broker else alive,
                workers=alive,
                processes=entry.concurrency if entry else 0,
                arrival_rate=rates.arrival.get(name, 0.0),
                completion_rate=rates.completion.get(name, 0.0),
            )
        )
    return states


def _sparklines(
    services: Services, session: Session, queues: list[QueueState], now: datetime
) -> dict[str, tuple[int | None, ...]]:
    """`backlog_series`, computed at most every few seconds per process: the Queues page polls
    every few seconds, and a sparkline of one-minute buckets barely moves."""
    names = tuple(q.name for q in queues)
    return services.state.sparklines.get(lambda: backlog_series(session, names, now), key=names)


def backlog_series(
    session: Session, queues: Iterable[str], now: datetime, minutes: int = SPARKLINE_MINUTES
) -> dict[str, tuple[int | None, ...]]:
    """Largest backlog (ready + reserved) per minute over the last `minutes`, per queue.

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
    backlog = func.max(QueueSample.ready + QueueSample.unacked)
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
