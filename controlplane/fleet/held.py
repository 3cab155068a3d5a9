"""What workers hold and have not started: prefetched tasks, read from task history.

A worker reserves messages beyond the ones it runs (its prefetch). The Redis broker counts
them (kombu's unacked hash); RabbitMQ's passive declare cannot, so there the task events
stand in: a task RECEIVED by a worker and not started is held by it. ETA tasks not yet due
are `scheduled`, not held.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from controlplane.models import Task

MAX_HOLDERS = 50  # workers listed per queue


def _held(now: datetime | None) -> list[object]:
    conditions: list[object] = [Task.state == "RECEIVED", Task.worker.is_not(None)]
    if now is not None:
        conditions.append(or_(Task.eta.is_(None), Task.eta <= now))
    return conditions


def held_by_workers(
    session: Session, queues: Iterable[str], now: datetime | None = None
) -> dict[str, list[tuple[str, int]]]:
    """Per queue, (worker, tasks received and not started), most first."""
    names = list(queues)
    query = (
        select(Task.queue, Task.worker, func.count())
        .where(Task.queue.in_(names), *_held(now))  # type: ignore[arg-type]
        .group_by(Task.queue, Task.worker)
    )
    found: dict[str, list[tuple[str, int]]] = {}
    for queue, worker, count in session.execute(query):
        found.setdefault(str(queue), []).append((str(worker), int(count)))
    return {
        q: sorted(v, key=lambda item: (-item[1], item[0]))[:MAX_HOLDERS] for q, v in found.items()
    }


def prefetched_by_queue(session: Session, now: datetime) -> dict[str, int]:
    """Tasks workers received and have not started, per queue (due or without an ETA)."""
    query = (
        select(Task.queue, func.count())
        .where(Task.queue.is_not(None), *_held(now))  # type: ignore[arg-type]
        .group_by(Task.queue)
    )
    return {str(queue): int(count) for queue, count in session.execute(query)}


def prefetched_by_worker_and_name(session: Session, now: datetime) -> dict[tuple[str, str], int]:
    """Tasks received and not started, per (worker, task name)."""
    query = (
        select(Task.worker, Task.name, func.count())
        .where(*_held(now))  # type: ignore[arg-type]
        .group_by(Task.worker, Task.name)
    )
    return {(str(w), name or ""): int(n) for w, name, n in session.execute(query)}


def prefetch_times(session: Session) -> dict[tuple[str, str], float]:
    """Per (worker, task name) running now: how long the latest started one waited at the
    worker (received to started), ETA tasks left out as their wait was on purpose."""
    query = (
        select(Task.worker, Task.name, Task.received_at, Task.started_at)
        .where(Task.state == "STARTED", Task.worker.is_not(None), Task.eta.is_(None))
        .where(Task.received_at.is_not(None), Task.started_at.is_not(None))
    )
    latest: dict[tuple[str, str], tuple[datetime, float]] = {}
    for worker, name, received, started in session.execute(query):
        if received is None or started is None:
            continue
        key = (str(worker), name or "")
        wait = max(0.0, (started - received).total_seconds())
        if key not in latest or started > latest[key][0]:
            latest[key] = (started, wait)
    return {key: wait for key, (_, wait) in latest.items()}


def prefetched_by_worker(session: Session, now: datetime) -> dict[str, int]:
    """Tasks each worker received and has not started (due or without an ETA)."""
    query = select(Task.worker, func.count()).where(*_held(now)).group_by(Task.worker)  # type: ignore[arg-type]
    return {str(worker): int(count) for worker, count in session.execute(query)}
