"""Everything one scrape shows, read once from what the sampler and the ingester keep.

`MetricsSource.read()` never talks to the broker or the workers: the queues come from the
latest sample (this process's memory when its scheduler leads, else the database), workers
from their rows, task counters from the ingester running in this process (`controlplane up`)
or, in a `serve` replica, from the database (`events.counters.DatabaseCounters`, recounted
every few seconds by a thread beside the scrapes), and each audited project's latest
coverage from `controlplane.audit_runs` (or from the reader given to `MetricsSource`).
"""

from __future__ import annotations

import logging
from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from controlplane.audit_runs import latest_summaries
from controlplane.autoscale.recommender import mean_runtimes, recommender_of
from controlplane.broker import QueueState
from controlplane.clock import as_utc, utcnow
from controlplane.events.counters import task_counters
from controlplane.events.stats import IngestSnapshot
from controlplane.failures.groups import state_counts
from controlplane.fleet.alerts import counts, evaluate, read_facts, wait_targets
from controlplane.fleet.health import LATE_AFTER, WorkerHealth, json_names, worker_health
from controlplane.fleet.held import prefetch_times, prefetched_by_worker_and_name
from controlplane.fleet.queue_rates import recent_rates
from controlplane.fleet.sample import read_latest
from controlplane.fleet.view import queue_extras, queue_states
from controlplane.metrics.flower import FlowerFigures
from controlplane.metrics.labels import LabelPolicy
from controlplane.models import Ingester, Worker
from controlplane.periodic.views import schedule_metrics
from controlplane.services import Services

log = logging.getLogger(__name__)
CHECKPOINT_SECONDS = 1.0  # an ingester records the newest event it wrote this often


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
    now: datetime
    broker_up: bool
    delayed: int | None  # RabbitMQ native delayed delivery, for no known queue
    broker_restarts: int  # broker restarts the sampler saw (new run id), issue 16
    queues: list[QueueState]
    desired_workers: dict[str, int]  # recommended workers per queue (held by the window)
    workers: list[WorkerHealth]
    counters: IngestSnapshot
    ingest: IngestFigures
    audits: list[AuditFigure]
    labels: LabelPolicy
    alerts: dict[str, int]  # firing instances per alert condition (fleet/alerts.py), all named
    wait_targets: dict[str, float]  # each queue's wait target (the wait alert's threshold)
    flower: FlowerFigures | None = None  # only with METRICS_FLOWER_NAMES
    failure_groups: dict[str, int] = field(default_factory=dict)  # groups per state
    # (schedule, last success as Unix time, missed runs) per watched schedule
    schedules: list[tuple[str, float | None, int]] = field(default_factory=list)


AuditReader = Callable[[Services], list[AuditFigure]]


class MetricsSource:
    """Reads a `Reading` for this process's scrapes."""

    def __init__(self, services: Services, *, audits: AuditReader | None = None) -> None:
        self.services = services
        self.audits = audits or latest_audits

    def read(self) -> Reading:
        services = self.services
        settings = services.settings
        now = utcnow()
        in_process = services.state.ingest_stats is not None
        counters = task_counters(services)
        recommender = recommender_of(services)
        # One transaction for every read of the scrape (each costs a session and a connection)
        with services.transaction() as session:
            rates = recent_rates(services, session)
            sample = services.state.latest.get() or read_latest(session)
            workers = scrape_workers(session, now, settings.inspect_interval)
            registered = registered_names(session)
            if in_process:
                ingest = ingest_in_process(counters, now)
            else:
                ingest = ingest_from_database(session, counters, workers, now)
            service = recommender.service_times(session, now)
            extras = queue_extras(services, session, now)
            flower = None
            if settings.metrics_flower_names:
                flower = FlowerFigures(
                    prefetched_by_worker_and_name(session, now), prefetch_times(session)
                )
            queues = queue_states(services, sample, workers, rates, extras)
            facts = read_facts(services, session, now, sample, queues, workers)
            failure_groups = state_counts(services, now, session)
            schedules = schedule_metrics(services, session)
        audits = self._audits()
        desired = recommender.desired_workers(queues, service, mean_runtimes(counters.runtime))
        seen = {labels[0] for labels in counters.task_events}
        return Reading(
            now=now,
            broker_up=sample.sampled_at is not None and sample.broker.reachable,
            delayed=sample.delayed,
            broker_restarts=sample.broker.restarts,
            queues=queues,
            desired_workers=desired,
            workers=workers,
            counters=counters,
            ingest=ingest,
            audits=audits,
            labels=LabelPolicy.build(settings, workers, sample.queues, seen, registered),
            alerts=counts(evaluate(facts, settings)),
            wait_targets=wait_targets(settings, [q.name for q in queues]),
            flower=flower,
            failure_groups=failure_groups,
            schedules=schedules,
        )

    def _audits(self) -> list[AuditFigure]:
        try:
            return self.audits(self.services)
        except Exception as exc:
            log.warning("audit figures unavailable: %s", exc)
            return []


# Every column `worker_health` reads except `registered`: each worker's list of task names is
# long and the same across a deployment; `registered_names` reads each distinct list once.
_WORKER_COLUMNS = (
    Worker.hostname, Worker.status, Worker.last_heartbeat, Worker.freq, Worker.online_at,
    Worker.offline_at, Worker.inspected_at, Worker.concurrency, Worker.active, Worker.processed,
    Worker.queues, literal(None).label("registered"), Worker.software, Worker.pid,
    Worker.loadavg, literal(None).label("reserved"), literal(None).label("scheduled"),
    literal(None).label("booted_at"), literal(None).label("held_tasks"),
    # named, so worker_health's getattr finds them instead of raising and catching per row
    literal(None).label("limits"), literal(None).label("prefetch_count"),
)  # fmt: skip


# A row's attributes by name cost a SQLAlchemy Row about half a microsecond each, a
# namedtuple's a few dozen nanoseconds: worker_health reads twenty per worker.
_WorkerRow = namedtuple("_WorkerRow", [column.key for column in _WORKER_COLUMNS])  # type: ignore[misc]
# Statements built once: one built per call costs SQLAlchemy its cache key each time
_WORKERS = select(*_WORKER_COLUMNS)
_DIGESTS = select(Worker.registered_digest).where(Worker.registered_digest.is_not(None)).distinct()
_UNDIGESTED = (
    select(Worker.registered)
    .where(Worker.registered_digest.is_(None), Worker.registered.is_not(None))
    .distinct()
)
_INGESTERS = select(func.max(Ingester.last_event_at), func.sum(Ingester.events_ingested))


# SQLite: every column but `inspected_at`, which it stores after the long `registered` list
# (reaching it walks the list's overflow pages), then each worker's inspection time from
# ix_workers_inspected alone. PostgreSQL keeps long values out of line: one read.
_AT = [column.key for column in _WORKER_COLUMNS].index("inspected_at")
_WORKERS_NOT_INSPECTED = select(
    *_WORKER_COLUMNS[:_AT], literal(None).label("inspected_at"), *_WORKER_COLUMNS[_AT + 1 :]
)
_INSPECTED = select(Worker.hostname, Worker.inspected_at)


def scrape_workers(session: Session, now: datetime, inspect_interval: float) -> list[WorkerHealth]:
    """Every worker's health as `health.load_workers` has it, without its registered tasks."""
    # Core (no ORM per row), and one fetchall: iterating a result fetches row by row
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        rows = connection.execute(_WORKERS).all()
        return [worker_health(_WorkerRow._make(row), now, inspect_interval) for row in rows]
    # A worker written between the two reads has the newer time, or none until the next
    # scrape: an inspection time only moves forward.
    inspected: dict[str, datetime | None] = dict(connection.execute(_INSPECTED).tuples().all())
    return [
        worker_health(
            _WorkerRow._make((*row[:_AT], inspected.get(row.hostname), *row[_AT + 1 :])),
            now,
            inspect_interval,
        )
        for row in connection.execute(_WORKERS_NOT_INSPECTED).all()
    ]


# digest -> the names of that registered list; a list's text never changes under its digest
_NAMES_BY_DIGEST: dict[str, tuple[str, ...]] = {}
MAX_DIGESTS = 1024  # distinct lists remembered (deployments x versions); then start afresh


def registered_names(session: Session) -> frozenset[str]:
    """Every task name a worker registered: the distinct digests, and only the lists not
    read before (a row without a digest is read whole, as every row was before 0020)."""
    connection = session.connection()
    digest, text = Worker.registered_digest, Worker.registered
    # Two reads of ix_workers_registered_digest: the digests (the index alone: SQLite would
    # walk each list's overflow pages to reach a column stored after it), and the lists of
    # rows without one (none, when every writer sets it).
    rows: list[tuple[str | None, str | None]] = [
        (key, None) for key in connection.scalars(_DIGESTS)
    ]
    rows += [(None, listed) for listed in connection.scalars(_UNDIGESTED)]
    known = _NAMES_BY_DIGEST
    digests = {key for key, _ in rows if key is not None}
    unread = digests - known.keys()
    if unread:
        if len(known) + len(unread) > MAX_DIGESTS:
            known.clear()
            unread = digests
        query = select(digest, text).where(digest.in_(sorted(unread)))
        for key, listed in connection.execute(query).all():
            if key is not None:
                known[key] = json_names(listed)
    return frozenset().union(
        *(json_names(listed) if key is None else known.get(key, ()) for key, listed in rows)
    )


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
    newest_event, written = session.connection().execute(_INGESTERS).one()
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


def latest_audits(services: Services) -> list[AuditFigure]:
    """Each audited project's latest finished run (a project never audited has no figures)."""
    return [
        AuditFigure(
            project=summary.project,
            coverage_ratio=None if summary.coverage is None else summary.coverage / 100.0,
            inline_endpoints=summary.inline_heavy,
        )
        for summary in latest_summaries(services)
    ]
