"""Everything one scrape shows, read once from what the sampler and the ingester keep.

`MetricsSource.read()` never talks to the broker or the workers: the queues come from the
latest sample (this process's memory when its scheduler leads, else the database), workers
from their rows, task counters from the ingester running in this process (`controlplane up`)
or, in a `serve` replica, from the database (`task_totals.DatabaseCounters`, refreshed at most
every few seconds), and each audited project's latest coverage from `controlplane.audit_runs`
(or from the reader given to `MetricsSource`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from controlplane.audit_runs import latest_summaries
from controlplane.autoscale.policy import Recommendation
from controlplane.autoscale.recommender import (
    QueueFigures,
    QueueHistory,
    Recommender,
    mean_runtimes,
    recommender_of,
)
from controlplane.clock import age_seconds, as_utc, utcnow
from controlplane.db import session_scope
from controlplane.events.counters import DatabaseCounters
from controlplane.events.stats import IngestSnapshot
from controlplane.fleet.health import (
    LATE_AFTER,
    WorkerHealth,
    consumers_by_queue,
    json_names,
    worker_health,
)
from controlplane.fleet.sample import FleetSample, read_latest
from controlplane.metrics.labels import LabelPolicy
from controlplane.models import Ingester, Worker
from controlplane.services import Services

log = logging.getLogger(__name__)
CHECKPOINT_SECONDS = 1.0  # an ingester records the newest event it wrote this often


@dataclass(frozen=True)
class QueueState:
    name: str
    ready: int
    reserved: int | None  # None: the broker cannot tell (AMQP)
    scheduled: int
    consumers: int
    workers: int
    processes: int
    oldest_waiting_seconds: float
    arrival_rate: float
    completion_rate: float
    desired: Recommendation | None


@dataclass(frozen=True)
class IngestFigures:
    events_ingested: int | None  # None: no ingester (here or in the database) counted them
    events_lost: int
    gaps: int
    lag_seconds: float


@dataclass(frozen=True)
class AuditFigure:
    project: str
    coverage_ratio: float | None
    inline_endpoints: int | None


@dataclass(frozen=True)
class Reading:
    broker_up: bool
    queues: list[QueueState]
    workers: list[WorkerHealth]
    counters: IngestSnapshot
    ingest: IngestFigures
    audits: list[AuditFigure]
    labels: LabelPolicy


AuditReader = Callable[[Session], list[AuditFigure]]


class MetricsSource:
    """Reads a `Reading`; holds the per-process state (database counters) between scrapes."""

    def __init__(
        self,
        services: Services,
        *,
        counters: DatabaseCounters | None = None,
        audits: AuditReader | None = None,
    ) -> None:
        self.services = services
        self.database_counters = counters or DatabaseCounters(services.engine)
        self.audits = audits or latest_audits

    def task_counters(self) -> IngestSnapshot:
        """The task counters: this process's ingester's, else rebuilt from the database."""
        stats = self.services.ingest_stats
        return stats.snapshot() if stats is not None else self.database_counters.snapshot()

    def read(self) -> Reading:
        services = self.services
        settings = services.settings
        now = utcnow()
        stats = services.ingest_stats
        recommender = recommender_of(services)
        with session_scope(services.sessions) as session:
            sample = services.latest.get() or read_latest(session)
            workers = scrape_workers(session, now, settings.inspect_interval)
            registered = registered_names(session)
            if stats is not None:
                counters = stats.snapshot()
                ingest = ingest_in_process(counters, now)
            else:
                counters = self.database_counters.snapshot()
                ingest = ingest_from_database(session, counters, workers, now)
            history = recommender.history(session, now)
            audits = self._audits(session)
        queues = queue_states(
            sample, workers, services.broker.counts_consumers, now, history, counters, recommender
        )
        seen = {labels[0] for labels in counters.task_events}
        return Reading(
            broker_up=sample.sampled_at is not None and sample.broker.reachable,
            queues=queues,
            workers=workers,
            counters=counters,
            ingest=ingest,
            audits=audits,
            labels=LabelPolicy.build(settings, workers, sample.queues, seen, registered),
        )

    def _audits(self, session: Session) -> list[AuditFigure]:
        try:
            return self.audits(session)
        except Exception as exc:
            log.warning("audit figures unavailable: %s", exc)
            return []


def queue_states(
    sample: FleetSample,
    workers: list[WorkerHealth],
    broker_counts_consumers: bool,
    now: datetime,
    history: QueueHistory,
    counters: IngestSnapshot,
    recommender: Recommender,
) -> list[QueueState]:
    """Per sampled queue: depth, consumers, rates, the oldest wait and the recommendation."""
    by_workers = consumers_by_queue(workers)
    names = sorted(sample.queues)
    figures = []
    for name in names:
        depth = sample.queues[name].depth
        entry = by_workers.get(name)
        figures.append(
            QueueFigures(
                name,
                depth.ready + (depth.unacked or 0),
                entry.consumers if entry else 0,
                entry.concurrency if entry else 0,
            )
        )
    desired = recommender.recommend(figures, history, mean_runtimes(counters.runtime))
    states = []
    for figure in figures:
        name = figure.name
        reading = sample.queues[name]
        depth = reading.depth
        busy = depth.ready or depth.unacked
        age = age_seconds(reading.oldest_waiting_at, now) if busy else None
        states.append(
            QueueState(
                name=name,
                ready=depth.ready,
                reserved=depth.unacked,
                scheduled=depth.scheduled,
                consumers=(depth.consumers or 0) if broker_counts_consumers else figure.workers,
                workers=figure.workers,
                processes=figure.processes,
                oldest_waiting_seconds=max(0.0, age or 0.0),
                arrival_rate=history.arrival.get(name, 0.0),
                completion_rate=history.completion.get(name, 0.0),
                desired=desired.get(name),
            )
        )
    return states


# Every column `worker_health` reads except `registered`: each worker's list of task names is
# long and the same across a deployment; `registered_names` reads each distinct list once.
_WORKER_COLUMNS = (
    Worker.hostname, Worker.status, Worker.last_heartbeat, Worker.freq, Worker.online_at,
    Worker.offline_at, Worker.inspected_at, Worker.concurrency, Worker.active, Worker.processed,
    Worker.queues, literal(None).label("registered"), Worker.software, Worker.pid,
    Worker.loadavg,
)  # fmt: skip


def scrape_workers(session: Session, now: datetime, inspect_interval: float) -> list[WorkerHealth]:
    """Every worker's health as `health.load_workers` has it, without its registered tasks."""
    rows = session.execute(select(*_WORKER_COLUMNS))
    return [worker_health(row, now, inspect_interval) for row in rows]


def registered_names(session: Session) -> frozenset[str]:
    """Every task name a worker registered (the distinct lists, read once each)."""
    texts = session.scalars(
        select(Worker.registered).where(Worker.registered.is_not(None)).distinct()
    )
    return frozenset().union(*(json_names(text) for text in texts))


def ingest_in_process(counters: IngestSnapshot, now: datetime) -> IngestFigures:
    """The ingester's own figures; lag counts only while received events wait to be written."""
    lag = 0.0
    if counters.buffered_bytes and counters.last_event_at is not None:
        lag = max(0.0, now.timestamp() - counters.last_event_at)
    return IngestFigures(
        events_ingested=counters.events_ingested,
        events_lost=counters.gap_missed_estimate,
        gaps=counters.gaps,
        lag_seconds=lag,
    )


def ingest_from_database(
    session: Session, counters: IngestSnapshot, workers: list[WorkerHealth], now: datetime
) -> IngestFigures:
    """A replica without an ingester: lag from the newest event any ingester wrote, and the
    events every ingester run wrote as of its last checkpoint (none counted: no series).

    Alive workers send a heartbeat event every `freq` seconds, so while one is alive the
    newest event written should be a few seconds old at most; older, the database is behind
    (or nobody ingests). With no alive worker there is nothing to be behind on.
    """
    newest_event, written = session.execute(
        select(func.max(Ingester.last_event_at), func.sum(Ingester.events_ingested))
    ).one()
    newest = as_utc(newest_event)
    alive = [w for w in workers if w.alive]
    lag = 0.0
    if newest is not None and alive:
        behind = max(0.0, (now - newest).total_seconds())
        slack = LATE_AFTER * max(w.interval for w in alive) + CHECKPOINT_SECONDS
        lag = behind if behind > slack else 0.0
    return IngestFigures(
        events_ingested=None if written is None else int(written),
        events_lost=counters.gap_missed_estimate,
        gaps=counters.gaps,
        lag_seconds=lag,
    )


def latest_audits(session: Session) -> list[AuditFigure]:
    """Each audited project's latest finished run (a project never audited has no figures)."""
    return [
        AuditFigure(
            project=summary.project,
            coverage_ratio=None if summary.coverage is None else summary.coverage / 100.0,
            inline_endpoints=summary.inline_heavy,
        )
        for summary in latest_summaries(session)
    ]
