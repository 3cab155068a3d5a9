"""Recommended workers per queue, as the Queues page and /metrics show them.

`autoscale.recommend` is pure; this gathers its inputs from what the console already keeps,
without asking the broker: the backlog (ready + reserved) and the workers consuming a queue
from the latest sample, arrival and completion rates over the last 30 s and the mean runtime
of the tasks that succeeded in the last five minutes from task history. One `Recommender`
per process holds the `Autoscaler`, so its scale-down window spans scrapes and page views.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controlplane.autoscale import Autoscaler, QueueLoad, Recommendation, concurrency_for
from controlplane.config import Settings
from controlplane.errors import AutoscaleError
from controlplane.models import Task
from controlplane.queue_history import rates
from controlplane.services import Services

log = logging.getLogger(__name__)

RATE_WINDOW = 30.0  # seconds behind the arrival and completion rates (deploy/METRICS.md)
SERVICE_WINDOW = 300.0  # seconds of succeeded tasks behind the mean service time
RECENT_SUCCESSES = 50  # ... or, when none finished that recently, the last this many
MAX_SERVICE_PROBES = 200  # queues probed that way per refresh
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


def read_history(session: Session, now: datetime, busy: Iterable[str] = ()) -> QueueHistory:
    """Rates over RATE_WINDOW and service times; `busy` queues without a recent success are
    given the mean of their last successes (long tasks may not finish within five minutes)."""
    arrival, completion = rates(session, now, RATE_WINDOW)
    since = now - timedelta(seconds=SERVICE_WINDOW)
    service = {
        queue: float(mean)
        for queue, mean in session.execute(
            select(Task.queue, func.avg(Task.runtime))
            .where(
                Task.finished_at >= since,
                Task.state == "SUCCESS",
                Task.runtime.is_not(None),
                Task.queue.is_not(None),
            )
            .group_by(Task.queue)
        )
        if queue and mean is not None
    }
    wanting = [q for q in {*busy, *arrival} if q not in service][:MAX_SERVICE_PROBES]
    for queue in wanting:
        recent = (
            select(Task.runtime)
            .where(Task.queue == queue, Task.state == "SUCCESS", Task.runtime.is_not(None))
            .order_by(Task.first_seen_at.desc())
            .limit(RECENT_SUCCESSES)
            .subquery()
        )
        mean = session.scalar(select(func.avg(recent.c.runtime)))
        if mean is not None:
            service[queue] = float(mean)
    return QueueHistory(arrival, completion, service)


class Recommender:
    """One per process: the Autoscaler (scale-down window) and a short cache of the history."""

    def __init__(self, settings: Settings, history_ttl: float = HISTORY_TTL) -> None:
        self.settings = settings
        self.history_ttl = history_ttl
        self.autoscaler = Autoscaler.from_settings(settings)
        self._lock = threading.Lock()
        self._history: tuple[float, QueueHistory] | None = None

    def history(self, session: Session, now: datetime, busy: Iterable[str]) -> QueueHistory:
        cached = self._history
        if cached is not None and time.monotonic() - cached[0] < self.history_ttl:
            return cached[1]
        history = read_history(session, now, busy)
        self._history = (time.monotonic(), history)
        return history

    def recommend(
        self, queues: Iterable[QueueFigures], history: QueueHistory
    ) -> dict[str, Recommendation]:
        """A recommendation per queue, each held by the scale-down window."""
        now = time.monotonic()
        found: dict[str, Recommendation] = {}
        with self._lock:  # the window's deques are not thread-safe
            for queue in queues:
                measured = round(queue.processes / queue.workers) if queue.workers else None
                load = QueueLoad(
                    arrival_rate=history.arrival.get(queue.name, 0.0),
                    service_time=history.service_time.get(queue.name),
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
