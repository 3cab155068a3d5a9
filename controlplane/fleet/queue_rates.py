"""What task history says about a queue: arrivals, completions, the oldest waiting task.

Each query is an index range scan (first_seen_at, finished_at, or queue+state+first_seen_at).
The oldest wait is read by the sampler once per sample; the rates by readers, at most every
few seconds per process (`recent_rates`), over one window for every reader: the Queues page,
the API, /metrics and the recommended workers show the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from controlplane.clock import as_utc, utcnow
from controlplane.models import Task

if TYPE_CHECKING:
    from controlplane.services import Services

# Celery's states for a task that was sent and has not started: queued, or prefetched.
WAITING_STATES = ("PENDING", "RECEIVED")
MAX_TASK_QUEUES = 1000  # queue names taken from task history (untrusted: bounded)
MAX_OLDEST_PROBES = 200  # queues whose oldest waiting task is looked up per sample
RATE_WINDOW = 30.0  # seconds behind every arrival and completion rate (deploy/METRICS.md)


@dataclass(frozen=True)
class QueueRates:
    """Tasks per second per queue over the last RATE_WINDOW seconds."""

    arrival: dict[str, float]
    completion: dict[str, float]


def recent_rates(services: Services, session: Session | None = None) -> QueueRates:
    """The rates as of now, computed at most every few seconds per process (in `session`,
    when given: a scrape reads everything in one transaction)."""

    def compute() -> QueueRates:
        if session is not None:
            return QueueRates(*rates(session, utcnow(), RATE_WINDOW))
        with services.transaction() as own:
            arrival, completion = rates(own, utcnow(), RATE_WINDOW)
        return QueueRates(arrival, completion)

    return services.state.rates.get(compute)


def task_queues_since(session: Session, since: datetime) -> dict[str, datetime]:
    """Queues named by tasks first seen since `since`, with the last time each was seen."""
    named = func.coalesce(Task.queue, "")  # an expression: see `rates`
    query = (
        select(named, func.max(Task.first_seen_at))
        .where(Task.first_seen_at >= since)
        .group_by(named)
        .limit(MAX_TASK_QUEUES + 1)  # one more: the "" of tasks without a queue
    )
    found: dict[str, datetime] = {}
    for queue, seen in session.execute(query):
        moment = as_utc(seen)
        if queue and moment is not None:
            found[queue] = moment
    return found


# Grouped by an expression: with `queue` itself (or `queue IS NOT NULL`) SQLite walks the
# whole of ix_tasks_queue_state for its order instead of range-scanning the time index.
# Built once, with the time as a parameter: a statement built per call costs SQLAlchemy its
# cache key (a walk of the whole statement) each time, more than SQLite's work here.
_QUEUE = func.coalesce(Task.queue, "")
ARRIVED = select(_QUEUE, func.count()).where(Task.first_seen_at >= bindparam("since"))
ARRIVED = ARRIVED.group_by(_QUEUE)
FINISHED = select(_QUEUE, func.count()).where(Task.finished_at >= bindparam("since"))
FINISHED = FINISHED.group_by(_QUEUE)


def rates(
    session: Session, now: datetime, window: float
) -> tuple[dict[str, float], dict[str, float]]:
    """(arrivals, completions) per queue, in tasks per second over the last `window` seconds."""
    since = {"since": now - timedelta(seconds=window)}
    connection = session.connection()  # Core: a scrape reads these (no ORM overhead)
    arrived = connection.execute(ARRIVED, since).all()
    finished = connection.execute(FINISHED, since).all()
    return (
        {queue: count / window for queue, count in arrived if queue},
        {queue: count / window for queue, count in finished if queue},
    )


def oldest_waiting(session: Session, queues: Iterable[str], now: datetime) -> dict[str, datetime]:
    """When the oldest task still waiting in each queue was first seen (ETA tasks not due excluded).

    History can hold tasks whose later events were lost; callers only ask for queues that
    the broker says hold work, so a stale row never shows on an empty queue.
    """
    oldest: dict[str, datetime] = {}
    for queue in list(queues)[:MAX_OLDEST_PROBES]:
        for state in WAITING_STATES:
            first = session.scalar(
                select(Task.first_seen_at)
                .where(
                    Task.queue == queue,
                    Task.state == state,
                    or_(Task.eta.is_(None), Task.eta <= now),
                )
                .order_by(Task.first_seen_at)
                .limit(1)
            )
            moment = as_utc(first)
            if moment is not None and (queue not in oldest or moment < oldest[queue]):
                oldest[queue] = moment
    return oldest
