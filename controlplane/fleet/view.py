"""The fleet at a glance, read from what the scheduler and the event ingester wrote.

Pages, the JSON API and metrics call `fleet_view`: it reads the latest sample (this process's
memory when its scheduler leads, else the database), the worker rows and the stuck tasks. It
never talks to the broker or broadcasts to workers, so a page view costs a few indexed queries
however large the fleet, and still renders when the broker is down.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from controlplane.broker import Pause, QueueState
from controlplane.clock import age_seconds, as_utc, utcnow
from controlplane.fleet.alerts import Facts, Firing, clear_acks, evaluate, load_acks, read_facts
from controlplane.fleet.health import StuckTask, WorkerHealth, consumer_counts, load_workers
from controlplane.fleet.held import prefetched_by_queue
from controlplane.fleet.pauses import paused_queues
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
    alerts: list[Firing] = field(default_factory=list)  # fleet.alerts: what holds now
    # backlog per minute over the last hour, oldest first (None: no sample that minute)
    sparklines: dict[str, tuple[int | None, ...]] = field(default_factory=dict)
    # ETA tasks in RabbitMQ's native delayed delivery queues, for no known queue
    delayed: int | None = None
    # what the conditions looked at: alert rules (alerting/) evaluate them with their thresholds
    facts: Facts | None = field(default=None, repr=False)

    @property
    def sample_age(self) -> float | None:
        return age_seconds(self.sampled_at, self.now)

    @property
    def all_clear(self) -> bool:
        """No alert condition holds (acknowledged ones still hold)."""
        return not self.alerts

    @property
    def unacknowledged(self) -> list[Firing]:
        return [a for a in self.alerts if not a.acknowledged]

    @property
    def broker_down_for(self) -> float | None:
        return age_seconds(self.broker.down_since, self.now)


def fleet_view(services: Services, *, sparklines: bool = False) -> FleetView:
    """Queues, workers, stuck tasks and alerts as the console shows them (no broker call)."""
    settings = services.settings
    now = utcnow()
    rates = recent_rates(services)
    with services.transaction() as session:
        sample = services.state.latest.get() or read_latest(session)
        workers = load_workers(session, now, settings.inspect_interval)
        queues = queue_states(
            services, sample, workers, rates, queue_extras(services, session, now)
        )
        facts = read_facts(services, session, now, sample, queues, workers)
        acks = load_acks(session)
        series = _sparklines(services, session, queues, now) if sparklines and queues else {}
    return FleetView(
        now=now,
        sampled_at=sample.sampled_at,
        stale=facts.stale,
        broker=sample.broker,
        sampler=sample.sampler,
        counts_unacked=services.broker.counts_unacked,
        queues=queues,
        workers=workers,
        stuck=list(facts.stuck),
        alerts=evaluate(facts, settings, acks),
        sparklines=series,
        delayed=sample.delayed,
        facts=facts,
    )


def settle_alerts(services: Services) -> FleetView:
    """The scheduler's turn at the alerts: evaluate them, and forget the acknowledgements of
    instances that stopped firing, so that the next occurrence alerts again. The view is
    returned for the alert rules (alerting/), which read its facts."""
    view = fleet_view(services)
    with services.transaction() as session:
        clear_acks(session, view.alerts, view.now)
    return view


@dataclass(frozen=True)
class QueueExtras:
    """What the database adds to a sample: paused queues, and on brokers that cannot count
    unacknowledged messages (RabbitMQ), the tasks workers hold per queue, from task events."""

    pauses: dict[str, Pause] = field(default_factory=dict)
    held: dict[str, int] | None = None


def queue_extras(services: Services, session: Session, now: datetime) -> QueueExtras:
    held = None if services.broker.counts_unacked else prefetched_by_queue(session, now)
    return QueueExtras(paused_queues(session), held)


def queue_states(
    services: Services,
    sample: FleetSample,
    workers: list[WorkerHealth],
    rates: QueueRates,
    extras: QueueExtras | None = None,
) -> list[QueueState]:
    """Every sampled queue with who consumes it now, its rates and its pause, sorted by name.

    `reserved` is the broker's unacked count; where the broker has none (RabbitMQ), the tasks
    workers received and have not started (`extras.held`), else None: unknown.
    """
    extras = extras or QueueExtras()
    # Redis has no consumers of its own: count the alive workers now, so a worker that just
    # went offline stops counting at once. RabbitMQ knows its consumers: trust the sample.
    by_workers = consumer_counts(workers)
    from_broker = services.broker.counts_consumers
    counts_unacked = services.broker.counts_unacked
    states = []
    for name in sorted(sample.queues):
        queue = sample.queues[name]
        alive, processes = by_workers.get(name) or (0, 0)
        # Every field given, in the order QueueState declares them: positional arguments, as
        # keywords cost twice as much (and dataclasses.replace more), for each queue a scrape
        states.append(
            QueueState(
                queue.name,  # name
                queue.ready,  # ready
                queue.reserved if counts_unacked else _held(extras, name),  # reserved
                queue.scheduled,  # scheduled
                (queue.consumers or 0) if from_broker else alive,  # consumers
                queue.oldest_waiting_at,  # oldest_waiting_at
                alive,  # workers
                processes,  # processes
                rates.arrival.get(name, 0.0),  # arrival_rate
                rates.completion.get(name, 0.0),  # completion_rate
                extras.pauses.get(name),  # pause
            )
        )
    return states


def _held(extras: QueueExtras, queue: str) -> int | None:
    return None if extras.held is None else extras.held.get(queue, 0)


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
