"""Recommended workers per queue, as the Queues page, the API and /metrics show them.

`policy.recommend` is pure; this gathers its inputs from what the console already keeps,
without asking the broker: each queue's `QueueState` (backlog, the workers consuming it and the
arrival and completion rates, as every reader has them) and the mean runtime of the tasks
that succeeded in the last five minutes from task history (or, when none did, over all the
history the task counters hold). One `Recommender` per process holds the `Autoscaler`, so its
scale-down window spans scrapes and page views.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from controlplane.autoscale.policy import (
    Autoscaler,
    Recommendation,
    concurrency_for,
    targets_for,
)
from controlplane.broker import QueueState
from controlplane.clock import utcnow
from controlplane.config import Settings
from controlplane.errors import AutoscaleError
from controlplane.events.counters import task_counters
from controlplane.events.stats import Histogram
from controlplane.models import Task
from controlplane.services import Services

log = logging.getLogger(__name__)

SERVICE_WINDOW = 300.0  # seconds of succeeded tasks behind the mean service time
HISTORY_TTL = 5.0  # seconds a process reuses the service-time query
T = TypeVar("T")


# Expressions, not columns, so that SQLite range-scans ix_tasks_finished rather than walking
# an index on state or queue (see queue_rates.rates). Built once, the time a parameter: a
# statement built per call costs SQLAlchemy its cache key each time (a scrape reads it).
_QUEUE = func.coalesce(Task.queue, "")
SERVICE_TIMES = (
    select(_QUEUE, func.avg(Task.runtime))
    .where(
        Task.finished_at >= bindparam("since"),
        func.coalesce(Task.state, "") == "SUCCESS",
        Task.runtime.is_not(None),
    )
    .group_by(_QUEUE)
)


def read_service_times(session: Session, now: datetime) -> dict[str, float]:
    """Mean runtime per queue of the tasks that succeeded within SERVICE_WINDOW."""
    since = now - timedelta(seconds=SERVICE_WINDOW)
    # Core: a scrape reads it (no ORM overhead)
    rows = session.connection().execute(SERVICE_TIMES, {"since": since})
    return {q: float(mean) for q, mean in rows if q and mean is not None}


def mean_runtimes(runtime: Mapping[tuple[str, str, str], Histogram]) -> dict[str, float]:
    """Mean runtime per queue over all the history the counters hold (name, host, queue)."""
    sums: dict[str, list[float]] = {}
    for (_, _, queue), histogram in runtime.items():
        if queue and histogram.count:
            entry = sums.setdefault(queue, [0.0, 0])
            entry[0] += histogram.sum
            entry[1] += histogram.count
    return {queue: total / count for queue, (total, count) in sums.items()}


class Recommender:
    """One per process: the Autoscaler (scale-down window) and a short cache of service times."""

    def __init__(self, settings: Settings, history_ttl: float = HISTORY_TTL) -> None:
        self.settings = settings
        self.history_ttl = history_ttl
        # A queue's targets only change with the settings: build each once, not per scrape.
        targets = functools.lru_cache(maxsize=4096)(partial(targets_for, settings))
        self.autoscaler = Autoscaler(targets, settings.autoscale_scale_down_window_seconds)
        self._lock = threading.Lock()
        self._service: tuple[float, dict[str, float]] | None = None
        # concurrency_for walks the per-queue overrides: once per (queue, measured)
        self._concurrency = functools.lru_cache(maxsize=4096)(partial(concurrency_for, settings))

    def service_times(self, session: Session, now: datetime) -> dict[str, float]:
        cached = self._service
        if cached is not None and time.monotonic() - cached[0] < self.history_ttl:
            return cached[1]
        service = read_service_times(session, now)
        self._service = (time.monotonic(), service)
        return service

    def recommend(
        self,
        queues: Iterable[QueueState],
        service_time: Mapping[str, float],
        long_run_service: Mapping[str, float] | None = None,
    ) -> dict[str, Recommendation]:
        """A recommendation per queue, each held by the scale-down window.

        `long_run_service` (mean runtimes over the whole history, `mean_runtimes`) stands in
        for a queue whose tasks did not finish within SERVICE_WINDOW: long tasks may not.
        """
        return self._each(
            queues, service_time, long_run_service, self.autoscaler.recommend_measured,
            paused_recommendation,
        )  # fmt: skip

    def desired_workers(
        self,
        queues: Iterable[QueueState],
        service_time: Mapping[str, float],
        long_run_service: Mapping[str, float] | None = None,
    ) -> dict[str, int]:
        """`recommend(...)`'s worker counts, held by the same window, without the sentences:
        what /metrics shows (0 for a paused queue)."""
        return self._each(
            queues, service_time, long_run_service, self.autoscaler.workers_measured,
            lambda queue: 0,
        )  # fmt: skip

    def _each(
        self,
        queues: Iterable[QueueState],
        service_time: Mapping[str, float],
        long_run_service: Mapping[str, float] | None,
        measured_answer: Callable[..., T],
        paused_answer: Callable[[QueueState], T],
    ) -> dict[str, T]:
        """Each queue's answer from its figures (`measured_answer`, an Autoscaler method that
        applies the window), or `paused_answer` for a paused queue."""
        fallback = long_run_service or {}
        now = time.monotonic()
        found: dict[str, T] = {}
        concurrency = self._concurrency
        with self._lock:  # the window's deques are not thread-safe
            for queue in queues:
                if queue.pause is not None:
                    found[queue.name] = paused_answer(queue)
                    self.autoscaler.window.forget(queue.name)  # resume starts afresh
                    continue
                name = queue.name
                measured = round(queue.processes / queue.workers) if queue.workers else None
                service = service_time.get(name)
                try:
                    found[name] = measured_answer(
                        name,
                        now,
                        queue.arrival_rate,
                        fallback.get(name) if service is None else service,
                        float(queue.backlog),
                        concurrency(name, measured or None),
                        queue.completion_rate,
                    )
                except AutoscaleError as exc:  # a queue's settings that make no sense
                    log.warning("no recommendation for queue %r: %s", queue.name, exc)
        return found


def paused_recommendation(queue: QueueState) -> Recommendation:
    """A paused queue starts nothing, so it wants no workers, whatever it holds."""
    assert queue.pause is not None
    since = queue.pause.since.strftime("%Y-%m-%d %H:%M UTC")
    reason = (
        f"paused by {queue.pause.by} since {since}: a paused queue wants no workers "
        f"(backlog {queue.backlog:,} held until it is resumed) -> 0 workers"
    )
    return Recommendation(workers=0, explain=lambda: reason, unclamped=0, slots=0.0)


def recommender_of(services: Services) -> Recommender:
    """This process's recommender, made on first use."""
    state = services.state
    with state.lock:
        if state.recommender is None:
            state.recommender = Recommender(services.settings)
        return state.recommender


def recommendations(services: Services, queues: list[QueueState]) -> dict[str, Recommendation]:
    """The recommendation for every queue of a fleet view (the Queues page, the API)."""
    recommender = recommender_of(services)
    with services.transaction() as session:
        service = recommender.service_times(session, utcnow())
    long_run = mean_runtimes(task_counters(services).runtime)
    return recommender.recommend(queues, service, long_run)
