"""What history says over time: throughput and failure rate per minute, runtime percentiles per
task name, and queue depth over time. The numbers behind the console's plots.

Every query is an index range scan over a bounded window; the results are cached for a few
seconds per process, so a page that polls does not re-run them on every request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from controlplane.clock import as_utc, utcnow
from controlplane.models import QueueSample, Task
from controlplane.services import Services

MAX_RUNTIME_ROWS = 50_000  # runtimes read for percentiles (newest first)
MAX_TASK_NAMES = 12  # busiest names shown in the runtime chart


@dataclass(frozen=True)
class Throughput:
    """Per-minute counts over the last `minutes`, oldest first."""

    minutes: int
    start: datetime
    succeeded: list[int]
    failed: list[int]

    @property
    def failure_rate(self) -> list[float | None]:
        return [
            (f / (s + f)) if (s + f) else None
            for s, f in zip(self.succeeded, self.failed, strict=True)
        ]

    def per_minute(self, last: int = 5) -> tuple[float, float]:
        """Mean succeeded and failed per minute over the last `last` full minutes."""
        window = max(1, min(last, self.minutes - 1))
        succeeded = self.succeeded[-window - 1 : -1]
        failed = self.failed[-window - 1 : -1]
        return sum(succeeded) / window, sum(failed) / window


@dataclass(frozen=True)
class RuntimePercentiles:
    name: str
    count: int
    p50: float
    p95: float
    p99: float


@dataclass(frozen=True)
class DepthSeries:
    queue: str
    points: list[tuple[datetime, int]] = field(default_factory=list)  # (time, ready + unacked)


def _minute_bucket(session: Session, column: Any) -> Any:
    """Whole minutes since the epoch, computed by the database (SQLite or PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.floor(func.extract("epoch", column) / 60)
    return cast(func.strftime("%s", column), Integer) / 60


def throughput(session: Session, now: datetime, minutes: int = 60) -> Throughput:
    end_minute = int(now.timestamp() // 60)
    start_minute = end_minute - minutes + 1
    since = datetime.fromtimestamp(start_minute * 60, tz=now.tzinfo)
    bucket = _minute_bucket(session, Task.finished_at).label("minute")
    query = (
        select(bucket, Task.state, func.count())
        .where(Task.finished_at >= since, Task.state.in_(("SUCCESS", "FAILURE")))
        .group_by(bucket, Task.state)
    )
    succeeded = [0] * minutes
    failed = [0] * minutes
    for minute, state, count in session.execute(query):
        index = int(minute) - start_minute
        if 0 <= index < minutes:
            (succeeded if state == "SUCCESS" else failed)[index] += int(count)
    return Throughput(minutes, since, succeeded, failed)


def _percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return 0.0
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def runtime_percentiles(
    session: Session, now: datetime, hours: float = 24.0
) -> list[RuntimePercentiles]:
    """p50/p95/p99 runtime of the busiest task names that finished in the last `hours`."""
    since = now - timedelta(hours=hours)
    query = (
        select(Task.name, Task.runtime)
        .where(Task.finished_at >= since, Task.runtime.is_not(None), Task.name.is_not(None))
        .order_by(Task.finished_at.desc())
        .limit(MAX_RUNTIME_ROWS)
    )
    by_name: dict[str, list[float]] = {}
    for name, runtime in session.execute(query):
        if name is not None and runtime is not None:
            by_name.setdefault(name, []).append(float(runtime))
    busiest = sorted(by_name.items(), key=lambda item: -len(item[1]))[:MAX_TASK_NAMES]
    result = []
    for name, values in busiest:
        values.sort()
        result.append(
            RuntimePercentiles(
                name,
                len(values),
                _percentile(values, 0.50),
                _percentile(values, 0.95),
                _percentile(values, 0.99),
            )
        )
    return result


def depth_series(session: Session, now: datetime, hours: float = 1.0) -> list[DepthSeries]:
    since = now - timedelta(hours=hours)
    query = (
        select(QueueSample.queue, QueueSample.sampled_at, QueueSample.ready, QueueSample.unacked)
        .where(QueueSample.sampled_at >= since)
        .order_by(QueueSample.queue, QueueSample.sampled_at)
    )
    series: dict[str, DepthSeries] = {}
    for queue, sampled_at, ready, unacked in session.execute(query):
        stamp = as_utc(sampled_at)
        if stamp is None:
            continue
        series.setdefault(queue, DepthSeries(queue)).points.append(
            (stamp, int(ready) + int(unacked or 0))
        )
    return list(series.values())


@dataclass(frozen=True)
class Insights:
    at: datetime
    throughput: Throughput
    runtimes: list[RuntimePercentiles]
    depths: list[DepthSeries]


def insights(services: Services) -> Insights:
    """All the plots' data, computed at most every few seconds per process."""

    def compute() -> Insights:
        now = utcnow()
        with services.transaction() as session:
            return Insights(
                now, throughput(session, now), runtime_percentiles(session, now),
                depth_series(session, now),
            )  # fmt: skip

    return services.state.insights.get(compute)
