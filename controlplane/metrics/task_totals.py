"""Task counters rebuilt from the database, so a restart does not reset the series to zero.

Rows count as `controlplane.events.stats_from_database` counts them (a test keeps the two
equal): each row once per transition it shows (sent_at, received_at, started_at set, and its
final state), retries add `retries`, the histograms get the stored runtime of a succeeded
task and the queue wait of a started one. That function reads every row into Python; here
SQL does the counting (GROUP BY name, worker, queue), and only once per row:

- A row that finished (finished_at set: SUCCESS, FAILURE, REVOKED never change again) more
  than `SETTLE_SECONDS` before the newest event the ingesters wrote is *settled*: it is added
  to a running total once, found by an index range on finished_at.
- The rest (not finished, or finished recently) is counted again at each refresh: in-flight
  work and the last couple of minutes, whatever the size of the history.

So a refresh costs two small grouped queries, and the counters stay monotonic even while
retention deletes old rows.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, case, func, or_, select

from controlplane.clock import as_utc, utcnow
from controlplane.events.stats import BUCKETS, Histogram, IngestSnapshot, IngestStats
from controlplane.events.stats import exception_type as exception_type_of
from controlplane.models import EventGap, Ingester, Task

SETTLE_SECONDS = 120.0  # a finished row this much older than the newest event is final
REFRESH_TTL = 5.0  # seconds a replica reuses its counters between scrapes

Labels = tuple[str, str, str]
KINDS = ("sent", "received", "started", "retried", "succeeded", "failed", "revoked", "rejected")


@dataclass
class TaskTotals:
    """Counts per (name, worker, queue): kinds, failures by exception type, two histograms."""

    kinds: dict[Labels, Counter[str]] = field(default_factory=dict)
    failures: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    runtime: dict[Labels, Histogram] = field(default_factory=dict)
    queue_wait: dict[Labels, Histogram] = field(default_factory=dict)

    def add(self, other: TaskTotals) -> None:
        for labels, counts in other.kinds.items():
            self.kinds.setdefault(labels, Counter()).update(counts)
        self.failures.update(other.failures)
        for mine, theirs in ((self.runtime, other.runtime), (self.queue_wait, other.queue_wait)):
            for labels, histogram in theirs.items():
                _merge_histogram(mine, labels, histogram)

    def plus(self, other: TaskTotals) -> TaskTotals:
        total = TaskTotals()
        total.add(self)
        total.add(other)
        return total


@dataclass(frozen=True)
class GapTotals:
    gaps: int = 0
    missed: int = 0


def _merge_histogram(table: dict[Labels, Histogram], labels: Labels, other: Histogram) -> None:
    mine = table.get(labels)
    if mine is None:
        table[labels] = other.copy()
        return
    mine.counts = [a + b for a, b in zip(mine.counts, other.counts, strict=True)]
    mine.sum += other.sum
    mine.count += other.count


# ---- the queries ---------------------------------------------------------------------------

_FINITE = BUCKETS[:-1]


def _histogram_columns(value: Any, observed: ColumnElement[bool]) -> list[ColumnElement[Any]]:
    """Cumulative counts at each finite bound, then the count and the sum of `value`."""
    return [
        *(func.sum(case((and_(observed, value <= bound), 1), else_=0)) for bound in _FINITE),
        func.sum(case((observed, 1), else_=0)),
        func.coalesce(func.sum(case((observed, value), else_=0.0)), 0.0),
    ]


def _count_columns() -> list[ColumnElement[Any]]:
    state = Task.state
    succeeded = state == "SUCCESS"
    return [
        func.count(Task.sent_at),
        func.count(Task.received_at),
        func.count(Task.started_at),
        func.coalesce(func.sum(Task.retries), 0),
        func.sum(case((succeeded, 1), else_=0)),
        func.sum(case((state == "FAILURE", 1), else_=0)),
        func.sum(case((state == "REVOKED", 1), else_=0)),
        func.sum(case((state == "REJECTED", 1), else_=0)),
        *_histogram_columns(Task.runtime, and_(succeeded, Task.runtime.is_not(None))),
        *_histogram_columns(
            Task.queue_wait, and_(Task.started_at.is_not(None), Task.queue_wait.is_not(None))
        ),
    ]


def _exception_head(connection: Connection) -> ColumnElement[Any]:
    """The text before the first '(' of an exception repr: its type, cheaply grouped by."""
    text = Task.exception
    if connection.dialect.name == "postgresql":
        cut = func.strpos(func.concat(text, "("), "(")
    else:
        cut = func.instr(text + "(", "(")
    return func.substr(func.substr(text, 1, cut - 1), 1, 140)


def count_rows(connection: Connection, where: ColumnElement[bool] | None = None) -> TaskTotals:
    """The totals of the rows matching `where` (all rows when None), in two grouped queries."""
    totals = TaskTotals()
    keys = (Task.name, Task.worker, Task.queue)
    query = select(*keys, *_count_columns()).group_by(*keys)
    if where is not None:
        query = query.where(where)
    width = len(_FINITE)
    for row in connection.execute(query):
        labels: Labels = (row[0] or "", row[1] or "", row[2] or "")
        counts = Counter({kind: int(n) for kind, n in zip(KINDS, row[3:11], strict=True) if n})
        if counts:
            totals.kinds[labels] = counts
        runtime = row[11 : 11 + width + 2]
        wait = row[13 + width : 13 + 2 * width + 2]
        for table, values in ((totals.runtime, runtime), (totals.queue_wait, wait)):
            histogram = _histogram(values)
            if histogram is not None:
                table[labels] = histogram
    head = _exception_head(connection)
    failed = Task.state == "FAILURE"
    failures = (
        select(*keys, head, func.count())
        .where(failed if where is None else and_(failed, where))
        .group_by(*keys, head)
    )
    for name, worker, queue, exception, count in connection.execute(failures):
        totals.failures[(name or "", worker or "", queue or "", exception_type_of(exception))] += (
            count
        )
    return totals


def _histogram(values: Sequence[Any]) -> Histogram | None:
    *cumulative, count, total = values
    count = int(count or 0)
    if not count:
        return None
    cumulative = [int(n or 0) for n in cumulative] + [count]
    counts = [cumulative[0]] + [b - a for a, b in zip(cumulative, cumulative[1:], strict=False)]
    return Histogram(BUCKETS, counts, float(total or 0.0), count)


def count_gaps(connection: Connection) -> GapTotals:
    gaps, missed = connection.execute(
        select(func.count(), func.coalesce(func.sum(EventGap.estimated_missed), 0))
    ).one()
    return GapTotals(int(gaps or 0), int(missed or 0))


# ---- a replica's counters ------------------------------------------------------------------


class DatabaseCounters:
    """The task counters of a process without an ingester, refreshed at most every `ttl` s."""

    def __init__(
        self,
        engine: Engine,
        ttl: float = REFRESH_TTL,
        settle_seconds: float = SETTLE_SECONDS,
    ) -> None:
        self.engine = engine
        self.ttl = ttl
        self.settle_seconds = settle_seconds
        self._lock = threading.Lock()
        self._settled = TaskTotals()
        self._settled_until: datetime | None = None  # rows finished before this are in _settled
        self._snapshot: IngestSnapshot | None = None
        self._taken = 0.0

    def snapshot(self) -> IngestSnapshot:
        with self._lock:
            if self._snapshot is None or time.monotonic() - self._taken >= self.ttl:
                self._snapshot = self._refresh(utcnow())
                self._taken = time.monotonic()
            return self._snapshot

    def _refresh(self, now: datetime) -> IngestSnapshot:
        with self.engine.connect() as connection:
            horizon = self._horizon(connection, now)
            if self._settled_until is None or horizon > self._settled_until:
                newly = Task.finished_at < horizon
                if self._settled_until is not None:
                    newly = and_(Task.finished_at >= self._settled_until, newly)
                self._settled.add(count_rows(connection, newly))
                self._settled_until = horizon
            live = or_(Task.finished_at >= self._settled_until, Task.finished_at.is_(None))
            totals = self._settled.plus(count_rows(connection, live))
            gaps = count_gaps(connection)
        return snapshot_of(totals, gaps)

    def _horizon(self, connection: Connection, now: datetime) -> datetime:
        """Settle up to SETTLE_SECONDS before the newest event written (or now, if sooner)."""
        newest = as_utc(connection.execute(select(func.max(Ingester.last_event_at))).scalar())
        reference = min(now, newest) if newest is not None else now
        return reference - timedelta(seconds=self.settle_seconds)


def snapshot_of(totals: TaskTotals, gaps: GapTotals) -> IngestSnapshot:
    """The totals in the shape the ingester's own counters have (no ingest figures)."""
    return IngestSnapshot(
        events_by_type={},
        task_events={labels: dict(counts) for labels, counts in totals.kinds.items()},
        failures=dict(totals.failures),
        runtime={labels: h.copy() for labels, h in totals.runtime.items()},
        queue_wait={labels: h.copy() for labels, h in totals.queue_wait.items()},
        events_ingested=0,
        malformed={},
        dropped=0,
        gaps=gaps.gaps,
        gap_missed_estimate=gaps.missed,
        lag_s=None,
        buffered_bytes=0,
        last_event_at=None,
    )


def seeded_stats(engine: Engine) -> IngestStats:
    """An ingester's counters starting from what the database holds (for `controlplane up`)."""
    with engine.connect() as connection:
        totals = count_rows(connection)
        gaps = count_gaps(connection)
    stats = IngestStats()
    stats.task_events = {labels: Counter(counts) for labels, counts in totals.kinds.items()}
    stats.failures = Counter(totals.failures)
    stats.runtime = totals.runtime
    stats.queue_wait = totals.queue_wait
    stats.gaps = gaps.gaps
    stats.gap_missed_estimate = gaps.missed
    return stats
