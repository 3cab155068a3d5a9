"""The collectors: each `collect()` builds fresh families from one `Reading`.

Names, types and labels are the contract in deploy/METRICS.md: `celery_*` as
danihodovic/celery-exporter exports them (so its dashboards and alerts keep working), and
`controlplane_*` for what only we know. No family is a module-level global: a collector is
given a function returning the scrape's `Reading` and is registered in the registry it is
handed (`register_collectors`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from itertools import accumulate
from operator import add, attrgetter, is_
from typing import Any

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import CollectorRegistry

from controlplane.broker import QueueState
from controlplane.events.stats import BUCKETS, Histogram
from controlplane.metrics.families import CounterFamily, Family, GaugeFamily, HistogramFamily
from controlplane.metrics.flower import flower_families
from controlplane.metrics.labels import (
    OTHER,
    LabelPolicy,
    TaskLabels,
    bounded,
    top_exceptions,
)
from controlplane.metrics.reading import Reading

ReadFn = Callable[[], Reading]
TASK_LABELS = ("name", "hostname", "queue_name")
# The histograms are fleet-wide, per (name, queue): per-host histograms are the cardinality
# trap of a Kubernetes fleet (every pod runs every task: names x pods x buckets series), and
# nobody reads a latency quantile per pod. Per-host throughput stays on the counters.
HISTOGRAM_LABELS = ("name", "queue_name")
# celery_task_queue_wait_time's buckets as celery-exporter exports them (its
# DEFAULT_QUEUE_WAIT_BUCKETS, PR #386): a saturation signal, so no resolution under 50 ms and
# the buckets spent on 10 s - 30 min. Every bound is one of ours (events.stats.BUCKETS), so the
# counts project exactly.
QUEUE_WAIT_BUCKETS: tuple[float, ...] = (
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
    float("inf"),
)  # fmt: skip
QUEUE_LABEL = ("queue_name",)
MAX_SCHEDULES = 500  # schedule series at most

# kind (as the ingester counts it) -> (family name, help)
TASK_COUNTERS = (
    ("sent", "celery_task_sent", "Tasks published (task-sent events)."),
    ("received", "celery_task_received", "Tasks a worker received."),
    ("started", "celery_task_started", "Tasks a worker started."),
    ("succeeded", "celery_task_succeeded", "Tasks that succeeded."),
    ("rejected", "celery_task_rejected", "Tasks a worker rejected."),
    ("revoked", "celery_task_revoked", "Tasks revoked."),
    ("retried", "celery_task_retried", "Task retries."),
)


class _Collector:
    def __init__(self, read: ReadFn) -> None:
        self.read = read

    def describe(self) -> list[Metric]:
        return []  # nothing to check at registration: names are fixed and never clash

    def collect(self) -> Iterator[Family]:
        raise NotImplementedError


class _Relabel(dict[tuple[str, str, str], TaskLabels | None]):
    """The policy's label for each raw label tuple, worked out once per policy (a scrape
    whose policy equals the last one's reuses it)."""

    def __init__(self, policy: LabelPolicy) -> None:
        super().__init__()
        self.policy = policy

    def __missing__(self, labels: tuple[str, str, str]) -> TaskLabels | None:
        key = self[labels] = self.policy.task(labels)
        return key


_KIND_INDEX = {kind: index for index, (kind, _, _) in enumerate(TASK_COUNTERS)}


def _vector(counts: dict[str, int]) -> tuple[int, ...]:
    """One label set's counts in TASK_COUNTERS' order (kinds it does not export left out)."""
    vector = [0] * len(TASK_COUNTERS)
    for kind, count in counts.items():
        index = _KIND_INDEX.get(kind)
        if index is not None:
            vector[index] += count
    return tuple(vector)


class TaskCollector(_Collector):
    """celery_task_* counters and histograms, with bounded labels."""

    def __init__(self, read: ReadFn) -> None:
        super().__init__(read)
        self._histograms = _HistogramRows()
        self._relabel: _Relabel | None = None
        # raw labels -> (their counts dict as the last snapshot had it, its counts per kind):
        # the counters hand out the same dict while a series does not change
        self._vectors: dict[tuple[str, str, str], tuple[object, tuple[int, ...]]] = {}
        # the failures table and policy the last failure rows were counted from, and the rows
        self._failed: tuple[object, object, list[tuple[tuple[str, ...], int]]] | None = None

    def collect(self) -> Iterator[Family]:
        reading = self.read()
        relabel = self._relabel
        if relabel is None or relabel.policy != reading.labels:  # kept while the policy holds
            relabel = self._relabel = _Relabel(reading.labels)
        counters = reading.counters
        kinds: dict[TaskLabels, tuple[int, ...]] = {}
        previous = self._vectors
        vectors: dict[tuple[str, str, str], tuple[object, tuple[int, ...]]] = {}
        for labels, counts in counters.task_events.items():
            key = relabel[labels]
            if key is None:
                continue
            hit = previous.get(labels)
            vector = hit[1] if hit is not None and hit[0] is counts else _vector(counts)
            vectors[labels] = (counts, vector)
            summed = kinds.get(key)  # several raw label sets may share a key (other, generic)
            kinds[key] = vector if summed is None else tuple(map(add, summed, vector))
        self._vectors = vectors
        keys = sorted(kinds)
        # one column of counts per kind (zip, not a comprehension per family: 7 x 600 rows)
        columns = list(zip(*map(kinds.__getitem__, keys), strict=True)) or [()] * len(TASK_COUNTERS)
        for (_, name, doc), column in zip(TASK_COUNTERS, columns, strict=True):
            family = CounterFamily(name, doc, TASK_LABELS)
            # zeros too: a ratio between two kinds needs both series present
            family.rows = list(zip(keys, column, strict=True))
            yield family
        yield self._failures(reading, relabel)
        yield self._histograms.family(
            "celery_task_runtime",
            "Seconds from the start of a task to its success.",
            relabel,
            counters.runtime,
        )
        yield self._histograms.family(
            "celery_task_queue_wait_time",
            "Seconds from publish (or receipt) to start.",
            relabel,
            counters.queue_wait,
            QUEUE_WAIT_BUCKETS,
        )

    def _failures(self, reading: Reading, relabel: _Relabel) -> Family:
        """celery_task_failed: its rows counted again only when the failures table or the
        policy differ from last time's (failures are rare: the table seldom changes)."""
        table = reading.counters.failures
        kept = self._failed
        if kept is not None and kept[1] is relabel and kept[0] == table:
            rows = kept[2]
        else:
            rows = _failure_rows(table, relabel)
            self._failed = (dict(table), relabel, rows)
        family = CounterFamily(
            "celery_task_failed",
            "Tasks that failed, by exception type.",
            ("name", "hostname", "exception", "queue_name"),
        )
        family.rows = list(rows)
        return family


def _failure_rows(
    table: dict[tuple[str, str, str, str], int], relabel: _Relabel
) -> list[tuple[tuple[str, ...], int]]:
    by_type: Counter[str] = Counter()
    for (*_, exception), count in table.items():
        by_type[exception] += count
    shown = top_exceptions(by_type)
    failed: Counter[tuple[str, str, str, str]] = Counter()
    for (name, host, queue, exception), count in table.items():
        labels = relabel[(name, host, queue)]
        if labels is not None:
            exception = bounded(exception) if exception in shown or not exception else OTHER
            failed[(labels[0], labels[1], exception, labels[2])] += count
    return [(key, failed[key]) for key in sorted(failed)]


HistogramLabels = tuple[str, str]  # name, queue_name
HistogramRow = tuple[HistogramLabels, list[int], float]


class _Built:
    """What one histogram family was built from, and its rows (see `_HistogramRows`)."""

    __slots__ = ("keys", "members", "order", "relabel", "rows", "table")

    def __init__(
        self,
        relabel: _Relabel,
        table: dict[tuple[str, str, str], Histogram],
        order: list[tuple[str, str, str]],
        keys: dict[tuple[str, str, str], HistogramLabels],
        rows: dict[HistogramLabels, tuple[list[Histogram], HistogramRow]],
        members: dict[HistogramLabels, list[tuple[str, str, str]]] | None = None,
    ) -> None:
        self.relabel = relabel
        self.table = table  # the counters' table (never changed once handed out)
        self.order = order  # its label sets, in its order
        self.keys = keys  # each label set's (name, queue)
        self.rows = rows  # per (name, queue) in sorted order: (its counted parts, its row)
        # every label set under each key, in the table's order (the same while the order is)
        self.members: dict[HistogramLabels, list[tuple[str, str, str]]] = {}
        if members is not None:
            self.members = members
            return
        for labels in order:
            self.members.setdefault(keys[labels], []).append(labels)


class _HistogramRows:
    """Histogram families from the counters' histograms, merged per bounded (name, queue).

    Every host counts, also one whose counter series were dropped (offline too long): its
    runs stay in the fleet-wide sums, which therefore never go down (no counter reset).

    The counters hand out the same Histogram objects while a series does not change
    (`IngestStats.snapshot`), so a row whose sources are the very objects of the previous
    scrape is reused as it was (and its text too, by the renderer). When the table holds the
    same label sets in the same order as last time, only the rows of the label sets whose
    histogram is another object are merged again (no walk of the whole table per key).
    """

    def __init__(self) -> None:
        self._built: dict[str, _Built] = {}
        # raw (name, host, queue) -> (name, queue) under the policy stored at key None
        self._keys: dict[Any, Any] = {}

    def family(
        self,
        name: str,
        doc: str,
        relabel: _Relabel,
        table: dict[tuple[str, str, str], Histogram],
        bounds: tuple[float, ...] = BUCKETS,
    ) -> HistogramFamily:
        """The family with `bounds`, a subset of the counters' BUCKETS (cumulative counts at
        a shared bound are equal, so projecting loses nothing at those bounds)."""
        at = None if bounds == BUCKETS else [BUCKETS.index(bound) for bound in bounds]
        order = list(table)
        built = self._built.get(name)
        rows = None
        if built is not None and built.relabel is relabel and built.order == order:
            rows = _changed_rows(built, table, at)
            if rows is not None:  # the same label sets in the same order: the same members
                self._built[name] = _Built(
                    relabel, table, built.order, built.keys, rows, built.members
                )
        if rows is None:
            rows = self._all_rows(relabel, table, order, at, built)
            self._built[name] = _Built(relabel, table, order, self._keys, rows)
        family = HistogramFamily(name, doc, HISTOGRAM_LABELS, bounds)
        family.rows = [row for _, row in rows.values()]
        return family

    def _all_rows(
        self,
        relabel: _Relabel,
        table: dict[tuple[str, str, str], Histogram],
        order: list[tuple[str, str, str]],
        at: list[int] | None,
        built: _Built | None,
    ) -> dict[HistogramLabels, tuple[list[Histogram], HistogramRow]]:
        """Every row, each from the histograms of its label sets."""
        sources: dict[HistogramLabels, list[Histogram]] = {}
        keys = self._keys
        if keys.get(None) is not relabel:  # the policy changed: map every label set afresh
            keys.clear()
            keys[None] = relabel
        for labels in order:
            key = keys.get(labels)
            if key is None:
                # no hostname: never None (a dropped host's runs still count)
                name_, _, queue = relabel[(labels[0], "", labels[2])] or ("", "", "")
                key = keys[labels] = (name_, queue)
            histogram = table[labels]
            if not histogram.count:
                continue
            parts = sources.get(key)
            if parts is None:
                sources[key] = [histogram]
            else:
                parts.append(histogram)
        previous = built.rows if built is not None else {}
        current: dict[HistogramLabels, tuple[list[Histogram], HistogramRow]] = {}
        for key in sorted(sources):
            parts = sources[key]
            hit = previous.get(key)
            if hit is not None and _same_objects(hit[0], parts):
                row = hit[1]  # merged and projected already
            else:
                row = _projected(_merged_row(key, parts), at)
            current[key] = (parts, row)
        return current


def _changed_rows(
    built: _Built, table: dict[tuple[str, str, str], Histogram], at: list[int] | None
) -> dict[HistogramLabels, tuple[list[Histogram], HistogramRow]] | None:
    """The rows of `built` with those of changed label sets merged again, or None when a row
    would appear or go (a new order of rows: built afresh)."""
    old = built.table
    changed = {built.keys[labels] for labels, now in table.items() if old[labels] is not now}
    if not changed:
        return built.rows
    rows = dict(built.rows)
    for key in changed:
        parts = [h for h in map(table.__getitem__, built.members[key]) if h.count]
        if not parts or key not in rows:
            return None
        rows[key] = (parts, _projected(_merged_row(key, parts), at))
    return rows


def _projected(row: HistogramRow, at: list[int] | None) -> HistogramRow:
    return row if at is None else (row[0], [row[1][i] for i in at], row[2])


def _same_objects(before: list[Histogram], now: list[Histogram]) -> bool:
    # map(is_): the comparison in C, no generator frame per row (600 rows a family a scrape)
    return len(before) == len(now) and all(map(is_, before, now))


def _merged_row(key: HistogramLabels, parts: list[Histogram]) -> HistogramRow:
    counts, total = parts[0].counts, parts[0].sum
    for histogram in parts[1:]:
        counts = [a + b for a, b in zip(counts, histogram.counts, strict=True)]
        total += histogram.sum
    return key, list(accumulate(counts)), total


class WorkerCollector(_Collector):
    """celery_worker_up and celery_worker_tasks_active (summed when hostnames are collapsed)."""

    def collect(self) -> Iterator[Family]:
        reading = self.read()
        hostname = reading.labels.hostname
        # plain dicts (a Counter's += costs twice as much), 200 workers a scrape
        up: dict[str, int] = {}
        active: dict[str, int] = {}
        for worker in reading.workers:
            host = hostname(worker.hostname)
            if host is None:
                continue
            alive = worker.alive
            up[host] = up.get(host, 0) + (1 if alive else 0)
            active[host] = active.get(host, 0) + (worker.active if alive else 0)
        up_family = GaugeFamily(
            "celery_worker_up", "1 while the worker sends heartbeats, 0 once missed.", ("hostname",)
        )
        active_family = GaugeFamily(
            "celery_worker_tasks_active", "Tasks the worker is running.", ("hostname",)
        )
        hosts = sorted(up)
        up_family.rows = [((host,), up[host]) for host in hosts]
        active_family.rows = [((host,), active[host]) for host in hosts]
        yield up_family
        yield active_family


class QueueCollector(_Collector):
    """Depth, consumers, rates and the recommended workers per queue; broker reachability."""

    # The value of each queue's series: the record's attribute of that name (read in bulk by
    # attrgetter, 6,500 rows a scrape on a fleet of 500 queues), or the name of a column
    # `_columns` computes for every queue at once (no function call per queue).
    GAUGES: tuple[tuple[str, str, str], ...] = (
        ("celery_queue_length", "Messages waiting in the broker, all priorities summed.",
         "ready"),
        ("celery_active_consumer_count", "Consumers attached to the queue.",
         "consumers"),
        ("celery_active_worker_count", "Online workers consuming from the queue.",
         "workers"),
        ("celery_active_process_count", "Pool processes of the workers consuming the queue.",
         "processes"),
        ("controlplane_queue_ready", "Messages ready for a worker (all priorities).",
         "ready"),
        ("controlplane_queue_reserved",
         "Messages delivered to workers and not acknowledged (prefetched, due ETA tasks).",
         "reserved"),
        ("controlplane_queue_scheduled", "ETA/countdown tasks held by workers, not yet due.",
         "scheduled"),
        ("controlplane_queue_oldest_waiting_seconds",
         "Age of the oldest task sent and not started (0 when none).",
         "=waiting"),
        ("controlplane_queue_arrival_rate", "Tasks/s sent to the queue over the last 30 s.",
         "arrival_rate"),
        ("controlplane_queue_completion_rate", "Tasks/s finished over the last 30 s.",
         "completion_rate"),
        ("controlplane_queue_target_wait_seconds",
         "The queue's wait target (autoscale_target_wait_seconds or its override).",
         "=target_wait"),
        ("controlplane_queue_paused",
         "1 while the queue is paused on every worker (control.queue_pause), else 0.",
         "=paused"),
        ("controlplane_queue_desired_workers",
         "Recommended workers, held for the scale-down window.",
         "=desired"),
    )  # fmt: skip

    def __init__(self, read: ReadFn) -> None:
        super().__init__(read)
        # the shown queues' names and their label tuples as the last scrape had them
        self._labels: tuple[list[str], list[tuple[str]]] = ([], [])

    def collect(self) -> Iterator[Family]:
        reading = self.read()
        # A queue only events named has no series of its own; a paused one keeps its series.
        shown = reading.labels.queues
        queues = [q for q in reading.queues if q.name in shown or q.pause]
        names = [q.name for q in queues]
        if names != self._labels[0]:  # the same queues as last time: the same label tuples
            self._labels = (names, [(bounded(name),) for name in names])
        labels = self._labels[1]
        columns = self._columns(reading, queues, names)
        for name, doc, value_of in self.GAUGES:
            family = GaugeFamily(name, doc, QUEUE_LABEL)
            values = (
                columns[value_of] if value_of[0] == "=" else list(map(attrgetter(value_of), queues))
            )
            if (
                None in values
            ):  # unknown (reserved on AMQP): no series rather than a 0 that would be a lie
                family.rows = [
                    (label, value)
                    for label, value in zip(labels, values, strict=True)
                    if value is not None
                ]
            else:
                family.rows = list(zip(labels, values, strict=True))
            yield family
        broker = GaugeFamily("controlplane_broker_up", "1 when the last broker sample succeeded.")
        broker.add((), 1 if reading.broker_up else 0)
        yield broker
        restarts = CounterFamily(
            "controlplane_broker_restarts",
            "Broker restarts the sampler saw (a new run id); the queued messages may be lost.",
        )
        restarts.add((), reading.broker_restarts)
        yield restarts
        delayed = GaugeFamily(
            "controlplane_delayed_delivery_messages",
            "ETA tasks waiting in RabbitMQ's native delayed delivery queues (all queues).",
        )
        if reading.delayed is not None:  # no sample where there are no such queues
            delayed.add((), reading.delayed)
        yield delayed

    @staticmethod
    def _columns(
        reading: Reading, queues: list[QueueState], names: list[str]
    ) -> dict[str, list[Any]]:
        """The computed values of every queue, one list per column."""
        now = reading.now
        desired = reading.desired_workers
        return {
            "=waiting": [q.waiting_seconds(now) or 0.0 for q in queues],
            "=target_wait": list(map(reading.wait_targets.get, names)),
            "=paused": [0 if q.pause is None else 1 for q in queues],
            "=desired": list(map(desired.get, names)),
        }


class IngestCollector(_Collector):
    """How the event ingestion goes: written, lost, gaps, lag."""

    def collect(self) -> Iterator[Family]:
        ingest = self.read().ingest
        if ingest.events_ingested is not None:
            written = CounterFamily(
                "controlplane_events_ingested", "Events written to the database."
            )
            written.add((), ingest.events_ingested)
            yield written
        lost = CounterFamily(
            "controlplane_events_lost", "Events known to be missed (estimated from gaps)."
        )
        lost.add((), ingest.events_lost)
        gaps = CounterFamily(
            "controlplane_ingest_gaps", "Times the event stream was cut and events may be lost."
        )
        gaps.add((), ingest.gaps)
        lag = GaugeFamily(
            "controlplane_ingest_lag_seconds",
            "How far the database is behind the event stream (0 when caught up).",
        )
        lag.add((), round(ingest.lag_seconds, 3))
        yield from (lost, gaps, lag)


class AuditCollector(_Collector):
    """Each audited project's offload coverage and endpoints still running work inline."""

    def collect(self) -> Iterator[Family]:
        audits = self.read().audits
        coverage = GaugeFamily(
            "controlplane_audit_coverage_ratio",
            "Share of the project's endpoints with work worth offloading that hand it to Celery.",
            ("project",),
        )
        inline = GaugeFamily(
            "controlplane_audit_inline_endpoints",
            "Endpoints that still run heavy work inside the request.",
            ("project",),
        )
        for audit in sorted(audits, key=lambda a: a.project):
            project = (bounded(audit.project),)
            if audit.coverage_ratio is not None:
                coverage.add(project, audit.coverage_ratio)
            if audit.inline_endpoints is not None:
                inline.add(project, audit.inline_endpoints)
        yield coverage
        yield inline


class AlertCollector(_Collector):
    """How many instances of each alert condition hold (fleet/alerts.py), every one named."""

    def collect(self) -> Iterator[Family]:
        family = GaugeFamily(
            "controlplane_alerts_firing",
            "Instances of the alert condition that hold now (the console's banner).",
            ("alert",),
        )
        for alert, firing in self.read().alerts.items():
            family.add((alert,), firing)
        yield family


class FailureGroupCollector(_Collector):
    """Failure groups per state (failures/groups.py), every state named."""

    def collect(self) -> Iterator[Family]:
        family = GaugeFamily(
            "controlplane_failure_groups",
            "Failure groups by state: new, regression, ongoing, resolved, ignored.",
            ("state",),
        )
        for state, groups in self.read().failure_groups.items():
            family.add((state,), groups)
        yield family


class ScheduleCollector(_Collector):
    """Each watched schedule's last success and missed runs (periodic/), labelled by name
    (schedules are configuration or recognised names: bounded by what the fleet schedules)."""

    def collect(self) -> Iterator[Family]:
        success = GaugeFamily(
            "controlplane_schedule_last_success_timestamp_seconds",
            "When the schedule's task last succeeded (Unix time).",
            ("schedule",),
        )
        missed = CounterFamily(
            "controlplane_schedule_missed_runs_total",
            "Runs the schedule missed: not started within the grace after their due time.",
            ("schedule",),
        )
        for name, last_success, missed_runs in self.read().schedules[:MAX_SCHEDULES]:
            label = bounded(name)
            if last_success is not None:
                success.add((label,), last_success)
            missed.add((label,), missed_runs)
        yield success
        yield missed


class FlowerCollector(_Collector):
    """Flower's names over the same reading (METRICS_FLOWER_NAMES; metrics/flower.py)."""

    def collect(self) -> Iterator[Family]:
        reading = self.read()
        if reading.flower is None:
            return
        workers = [(w.hostname, w.alive, w.active) for w in reading.workers]
        counters = reading.counters
        yield from flower_families(
            reading.labels, counters.task_events, counters.runtime, workers, reading.flower
        )


COLLECTORS = (
    TaskCollector, WorkerCollector, QueueCollector, IngestCollector, AuditCollector,
    AlertCollector, FailureGroupCollector, ScheduleCollector,
)  # fmt: skip


def register_collectors(
    registry: CollectorRegistry, read: ReadFn, flower_names: bool = False
) -> list[_Collector]:
    """Register every collector, all reading through `read`, in `registry`."""
    classes = (*COLLECTORS, FlowerCollector) if flower_names else COLLECTORS
    collectors: list[_Collector] = [cls(read) for cls in classes]
    for collector in collectors:
        registry.register(collector)
    return collectors
