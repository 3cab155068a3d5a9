"""Recommended workers per queue, as the Queues page and /metrics show them.

`autoscale.recommend` is pure; this gathers its inputs from what the console already keeps,
without asking the broker: the backlog (ready + reserved) and the workers consuming a queue
from the latest sample, arrival and completion rates over the last 30 s and the mean runtime
of the tasks that succeeded in the last five minutes from task history (or, when none did,
over all the history the task counters hold). One `Recommender`
per process holds the `Autoscaler`, so its scale-down window spans scrapes and page views.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controlplane.autoscale.policy import (
    Autoscaler,
    QueueLoad,
    Recommendation,
    concurrency_for,
    targets_for,
)
from controlplane.config import Settings
from controlplane.db import session_scope
from controlplane.errors import AutoscaleError
from controlplane.events.stats import Histogram
from controlplane.fleet.health import consumers_by_queue
from controlplane.fleet.queue_rates import rates
from controlplane.fleet.view import FleetView
from controlplane.models import Task
from controlplane.services import Services

log = logging.getLogger(__name__)

RATE_WINDOW = 30.0  # seconds behind the arrival and completion rates (deploy/METRICS.md)
SERVICE_WINDOW = 300.0  # seconds of succeeded tasks behind the mean service time
HISTORY_TTL = 5.0  # seconds a process reuses the history queries
CACHE_KEY = "recommendations.recommender"


@dataclass(frozen=True)
class QueueHistory:
    arrival: dict[str, float]  # tasks/s
    completion: dict[str, float]  # tasks/s
    service_time: dict[str, float]  # mean seconds per succeeded task


@dataclass(frozen=True)
class QueueFigures:
    """What the latest sample says about one queue."""

    name: str
    backlog: int  # ready + reserved
    workers: int  # alive workers consuming it
    processes: int  # their pool processes


def read_history(session: Session, now: datetime) -> QueueHistory:
    """Arrival and completion rates over RATE_WINDOW, mean runtime over SERVICE_WINDOW."""
    arrival, completion = rates(session, now, RATE_WINDOW)
    since = now - timedelta(seconds=SERVICE_WINDOW)
    # Expressions, not columns, so that SQLite range-scans ix_tasks_finished rather than
    # walking an index on state or queue (see queue_history.rates).
    queue = func.coalesce(Task.queue, "")
    query = (
        select(queue, func.avg(Task.runtime))
        .where(
            Task.finished_at >= since,
            func.coalesce(Task.state, "") == "SUCCESS",
            Task.runtime.is_not(None),
        )
        .group_by(queue)
    )
    service = {q: float(mean) for q, mean in session.execute(query) if q and mean is not None}
    return QueueHistory(arrival, completion, service)


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
    """One per process: the Autoscaler (scale-down window) and a short cache of the history."""

    def __init__(self, settings: Settings, history_ttl: float = HISTORY_TTL) -> None:
        self.settings = settings
        self.history_ttl = history_ttl
        # A queue's targets only change with the settings: build each once, not per scrape.
        targets = functools.lru_cache(maxsize=4096)(partial(targets_for, settings))
        self.autoscaler = Autoscaler(targets, settings.autoscale_scale_down_window_seconds)
        self._lock = threading.Lock()
        self._history: tuple[float, QueueHistory] | None = None

    def history(self, session: Session, now: datetime) -> QueueHistory:
        cached = self._history
        if cached is not None and time.monotonic() - cached[0] < self.history_ttl:
            return cached[1]
        history = read_history(session, now)
        self._history = (time.monotonic(), history)
        return history

    def recommend(
        self,
        queues: Iterable[QueueFigures],
        history: QueueHistory,
        long_run_service: Mapping[str, float] | None = None,
    ) -> dict[str, Recommendation]:
        """A recommendation per queue, each held by the scale-down window.

        `long_run_service` (mean runtimes over the whole history, `mean_runtimes`) stands in
        for a queue whose tasks did not finish within SERVICE_WINDOW: long tasks may not.
        """
        fallback = long_run_service or {}
        now = time.monotonic()
        found: dict[str, Recommendation] = {}
        with self._lock:  # the window's deques are not thread-safe
            for queue in queues:
                measured = round(queue.processes / queue.workers) if queue.workers else None
                load = QueueLoad(
                    arrival_rate=history.arrival.get(queue.name, 0.0),
                    service_time=history.service_time.get(queue.name, fallback.get(queue.name)),
                    backlog=float(queue.backlog),
                    concurrency=concurrency_for(self.settings, queue.name, measured or None),
                    completion_rate=history.completion.get(queue.name, 0.0),
                )
                try:
                    found[queue.name] = self.autoscaler.recommend(queue.name, load, now)
                except AutoscaleError as exc:  # a queue's settings that make no sense
                    log.warning("no recommendation for queue %r: %s", queue.name, exc)
        return found


def recommender_of(services: Services) -> Recommender:
    recommender = services.cache.get(CACHE_KEY)
    if recommender is None:
        recommender = services.cache.setdefault(CACHE_KEY, Recommender(services.settings))
    assert isinstance(recommender, Recommender)
    return recommender


def view_recommendations(
    services: Services, view: FleetView, long_run_service: Mapping[str, float] | None = None
) -> dict[str, Recommendation]:
    """The recommendation for every queue of a fleet view (the Queues page)."""
    recommender = recommender_of(services)
    by_workers = consumers_by_queue(view.workers)
    figures = []
    for queue in view.queues:
        entry = by_workers.get(queue.name)
        figures.append(
            QueueFigures(
                queue.name,
                queue.ready + (queue.unacked or 0),
                entry.consumers if entry else 0,
                entry.concurrency if entry else 0,
            )
        )
    with session_scope(services.sessions) as session:
        history = recommender.history(session, view.now)
    return recommender.recommend(figures, history, long_run_service)
