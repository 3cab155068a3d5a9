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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import eq
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ColumnElement, Connection, Engine, and_, case, func, select

from controlplane.clock import as_utc, utcnow
from controlplane.events.live_tally import LIVE, SETTLING, LiveTally, Part, read_rows, tally
from controlplane.events.refresher import Refresher
from controlplane.events.stats import BUCKETS, Histogram, IngestSnapshot, IngestStats
from controlplane.events.stats import exception_type as exception_type_of
from controlplane.models import EventGap, Ingester, Task

if TYPE_CHECKING:
    from controlplane.services import Services

SETTLE_SECONDS = 120.0  # a finished row this much older than the newest event is final
REFRESH_TTL = 5.0  # seconds between a replica's refreshes of its counters (refresher.py)
IDLE_AFTER = 300.0  # seconds without a reader after which the refresher thread stops

Labels = tuple[str, str, str]
KINDS = ("sent", "received", "started", "retried", "succeeded", "failed", "revoked", "rejected")


@dataclass
class TaskTotals:
    """Counts per (name, worker, queue): kinds, failures by exception type, two histograms.

    `add` replaces a label set's Counter and Histogram instead of changing them, so snapshots
    share them with the running total safely (and a refresh copies nothing it did not touch).
    """

    kinds: dict[Labels, Counter[str]] = field(default_factory=dict)
    failures: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    runtime: dict[Labels, Histogram] = field(default_factory=dict)
    queue_wait: dict[Labels, Histogram] = field(default_factory=dict)

    def add(self, other: TaskTotals) -> None:
        _add_kinds(self.kinds, other.kinds)
        self.failures.update(other.failures)
        for mine, theirs in ((self.runtime, other.runtime), (self.queue_wait, other.queue_wait)):
            _add_histograms(mine, theirs)


@dataclass(frozen=True)
class GapTotals:
    gaps: int = 0
    missed: int = 0


def _add_kinds(table: dict[Labels, Counter[str]], other: dict[Labels, Counter[str]]) -> None:
    for labels, counts in other.items():
        mine = table.get(labels)
        table[labels] = counts.copy() if mine is None else mine + counts


def _add_histograms(table: dict[Labels, Histogram], other: dict[Labels, Histogram]) -> None:
    for labels, theirs in other.items():
        mine = table.get(labels)
        if mine is None:
            table[labels] = theirs.copy()
        else:
            counts = [a + b for a, b in zip(mine.counts, theirs.counts, strict=True)]
            table[labels] = Histogram(mine.buckets, counts, mine.sum + theirs.sum,
                                      mine.count + theirs.count)  # fmt: skip


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
    # Grouped by expressions: grouping by the bare columns makes SQLite walk a whole index on
    # name for its order instead of range-scanning finished_at (see queue_history.rates).
    keys = (
        func.coalesce(Task.name, ""),
        func.coalesce(Task.worker, ""),
        func.coalesce(Task.queue, ""),
    )
    query = select(*keys, *_count_columns()).group_by(*keys)
    if where is not None:
        query = query.where(where)
    width = len(_FINITE)
    for row in connection.execute(query):
        labels: Labels = (row[0], row[1], row[2])
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
    failed = func.coalesce(Task.state, "") == "FAILURE"  # an expression, for the same reason
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


def tally_rows(connection: Connection, where: ColumnElement[bool]) -> TaskTotals:
    """`count_rows` for a few rows: read them and count in Python (live_tally.py).

    Forty-odd CASE columns cost SQLite more per row than Python does; for the thousand rows
    of a refresh this is several times faster, for a whole table `count_rows` is.
    """
    return totals_of(tally(read_rows(connection, where)))


def totals_of(parts: dict[Labels, Part]) -> TaskTotals:
    """Per-label-set tallies as one `TaskTotals`, sharing their Counters and Histograms."""
    totals = TaskTotals()
    kinds, failures = totals.kinds, totals.failures
    runtime, queue_wait = totals.runtime, totals.queue_wait
    for labels, part in parts.items():
        if part.kinds:
            kinds[labels] = cast(Counter[str], part.kinds)
        if part.failures:
            for exception, count in part.failures.items():
                failures[(*labels, exception)] += count
        if part.runtime is not None:
            runtime[labels] = part.runtime
        if part.queue_wait is not None:
            queue_wait[labels] = part.queue_wait
    return totals


def _histogram(values: Sequence[Any]) -> Histogram | None:
    *cumulative, count, total = values
    count = int(count or 0)
    if not count:
        return None
    cumulative = [int(n or 0) for n in cumulative] + [count]
    counts = [cumulative[0]] + [b - a for a, b in zip(cumulative, cumulative[1:], strict=False)]
    return Histogram(BUCKETS, counts, float(total or 0.0), count)


# Built once (a replica's refresh runs them every time): no cache key per call
_GAPS = select(func.count(), func.coalesce(func.sum(EventGap.estimated_missed), 0))
_NEWEST_EVENT = select(func.max(Ingester.last_event_at))


def count_gaps(connection: Connection) -> GapTotals:
    gaps, missed = connection.execute(_GAPS).one()
    return GapTotals(int(gaps or 0), int(missed or 0))


# ---- a replica's counters ------------------------------------------------------------------


class DatabaseCounters:
    """The task counters of a process without an ingester, at most about `ttl` s old.

    With `background` (and a `ttl`), a thread refreshes them every `ttl` seconds while they
    are asked for (refresher.py), so a scrape reads them instead of rebuilding them.
    """

    def __init__(
        self,
        engine: Engine,
        ttl: float = REFRESH_TTL,
        settle_seconds: float = SETTLE_SECONDS,
        background: bool = True,
        idle_after: float = IDLE_AFTER,
    ) -> None:
        self.engine = engine
        self.ttl = ttl
        self.settle_seconds = settle_seconds
        self._lock = threading.Lock()  # one refresh at a time
        self._settled = TaskTotals()
        self._settled_until: datetime | None = None  # rows finished before this are in _settled
        # the last snapshot, and when (time.monotonic) its refresh began
        self._current: tuple[IngestSnapshot, float] | None = None
        self._asked = 0.0
        self._merges: Merges = {}  # what the last snapshot summed, reused where unchanged
        self._live = LiveTally()  # the live rows' tally per label set, kept while equal
        self._refresher = (
            Refresher(self, ttl, idle_after, "controlplane-counters")
            if background and ttl > 0
            else None
        )

    def snapshot(self) -> IngestSnapshot:
        asked = self._asked = time.monotonic()
        refresher = self._refresher
        # the thread replaces the snapshot every ttl: give it one more ttl before doing it here
        limit = self.ttl * 2 if refresher is not None and refresher.running else self.ttl
        current = self._current
        if current is None or asked - current[1] >= limit:
            seen = current
            with self._lock:
                landed = self._current  # a refresh that landed while this waited: take it
                current = landed if landed is not None and landed is not seen else None
                if current is None:
                    current = self._refresh_locked()
            if refresher is not None:
                refresher.ensure_running()
        return current[0]

    def refresh(self) -> IngestSnapshot:
        """Read the counters afresh now (the refresher's work; benches call it too)."""
        with self._lock:
            return self._refresh_locked()[0]

    def last_asked(self) -> float:
        return self._asked

    @property
    def refreshed_at(self) -> float | None:
        """When (time.monotonic) the refresh behind the current snapshot began."""
        current = self._current
        return None if current is None else current[1]

    @property
    def refreshing_in_background(self) -> bool:
        return self._refresher is not None and self._refresher.running

    def close(self) -> None:
        if self._refresher is not None:
            self._refresher.stop()

    def _refresh_locked(self) -> tuple[IngestSnapshot, float]:
        started = time.monotonic()
        self._current = (self._refresh(utcnow()), started)
        return self._current

    def _refresh(self, now: datetime) -> IngestSnapshot:
        with self.engine.connect() as connection:
            horizon = self._horizon(connection, now)
            if self._settled_until is None:  # the whole history, once: SQL counts it
                self._settled.add(count_rows(connection, Task.finished_at < horizon))
                self._settled_until = horizon
            elif horizon > self._settled_until:
                newly = {"since": self._settled_until, "until": horizon}
                self._settled.add(totals_of(tally(read_rows(connection, SETTLING, newly))))
                self._settled_until = horizon
            live = read_rows(connection, LIVE, {"since": self._settled_until})
            recent = totals_of(self._live.count(live))
            gaps = count_gaps(connection)
        return snapshot_of(self._settled, gaps, recent, self._merges)

    def _horizon(self, connection: Connection, now: datetime) -> datetime:
        """Settle up to SETTLE_SECONDS before the newest event written (or now, if sooner)."""
        newest = as_utc(connection.execute(_NEWEST_EVENT).scalar())
        reference = min(now, newest) if newest is not None else now
        return reference - timedelta(seconds=self.settle_seconds)


# per table ("kinds", "runtime", "queue_wait"), per label set: (total's value, plus's value,
# their sum) as the last snapshot made them
Merges = dict[str, dict[Labels, tuple[Any, Any, Any]]]


def snapshot_of(
    totals: TaskTotals, gaps: GapTotals, plus: TaskTotals | None = None, kept: Merges | None = None
) -> IngestSnapshot:
    """`totals` (and `plus`) in the shape of the ingester's own counters (no ingest figures).

    With `kept` (the same dict at each refresh, updated here), a label set whose total is the
    same object and whose `plus` is equal to last time's gets last time's sum, the very
    object: the scrape reuses its rows and their text as it does for the ingester's own.
    """
    kinds = dict(totals.kinds)  # the values are never changed once in a total (see `add`)
    failures = dict(totals.failures)
    runtime = dict(totals.runtime)
    queue_wait = dict(totals.queue_wait)
    if plus is not None:
        kept = kept if kept is not None else {}
        _merge(kinds, plus.kinds, kept.setdefault("kinds", {}), _sum_kinds, _same_kinds)
        for key, count in plus.failures.items():
            failures[key] = failures.get(key, 0) + count
        _merge(runtime, plus.runtime, kept.setdefault("runtime", {}), _sum_histograms, eq)
        _merge(queue_wait, plus.queue_wait, kept.setdefault("queue_wait", {}), _sum_histograms, eq)
    return IngestSnapshot(
        events_by_type={},
        task_events=cast(dict[Labels, dict[str, int]], kinds),  # Counters are dicts
        failures=failures,
        runtime=runtime,
        queue_wait=queue_wait,
        events_ingested=0,
        malformed={},
        dropped=0,
        gaps=gaps.gaps,
        gap_missed_estimate=gaps.missed,
        lag_s=None,
        buffered_bytes=0,
        last_event_at=None,
    )


def _merge(
    table: dict[Labels, Any],
    plus: dict[Labels, Any],
    kept: dict[Labels, tuple[Any, Any, Any]],
    add: Callable[[Any, Any], Any],
    same: Callable[[Any, Any], bool],
) -> None:
    """`table` += `plus` per label set, reusing last time's sums where nothing changed."""
    merged: dict[Labels, tuple[Any, Any, Any]] = {}
    for labels, theirs in plus.items():
        mine = table.get(labels)
        hit = kept.get(labels)
        if hit is not None and hit[0] is mine and (hit[1] is theirs or same(hit[1], theirs)):
            value = hit[2]
        else:
            value = theirs if mine is None else add(mine, theirs)
        table[labels] = value
        merged[labels] = (mine, theirs, value)
    kept.clear()
    kept.update(merged)


def _same_kinds(before: Counter[str], now: Counter[str]) -> bool:
    """Equal tallies; as plain dicts (a Counter's == walks both in Python): a tally holds
    no zero counts, so the two agree."""
    return dict.__eq__(before, now)


def _sum_kinds(mine: Counter[str], theirs: Counter[str]) -> Counter[str]:
    return mine + theirs


def _sum_histograms(mine: Histogram, theirs: Histogram) -> Histogram:
    counts = [a + b for a, b in zip(mine.counts, theirs.counts, strict=True)]
    return Histogram(mine.buckets, counts, mine.sum + theirs.sum, mine.count + theirs.count)


def seeded_stats(engine: Engine) -> IngestStats:
    """An ingester's counters starting from what the database holds (for `controlplane up`)."""
    with engine.connect() as connection:
        totals = count_rows(connection)
        gaps = count_gaps(connection)
    stats = IngestStats()
    stats.seed(
        {labels: Counter(counts) for labels, counts in totals.kinds.items()},
        Counter(totals.failures),
        totals.runtime,
        totals.queue_wait,
    )
    stats.gaps = gaps.gaps
    stats.gap_missed_estimate = gaps.missed
    return stats


def task_counters(services: Services) -> IngestSnapshot:
    """The task counters: this process's ingester's, else rebuilt from the database."""
    state = services.state
    if state.ingest_stats is not None:
        return state.ingest_stats.snapshot()
    with state.lock:
        if state.database_counters is None:
            state.database_counters = DatabaseCounters(services.engine)
        counters = state.database_counters
    return counters.snapshot()
