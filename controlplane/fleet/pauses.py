"""Paused queues as the fleet view reads them: who paused, since when, what workers still hold.

The pause itself (cancelling consumers, persisting, re-applying) is control.queue_pause; this
reads its rows and adds, from task history, the prefetched tasks each worker still holds for
the queue (RECEIVED, not started): Celery keeps what a worker reserved before the pause and
runs it when a slot frees.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controlplane.broker import Pause
from controlplane.clock import as_utc
from controlplane.models import QueuePause, Task

MAX_HOLDERS = 50  # workers listed per paused queue


def paused_queues(session: Session) -> dict[str, Pause]:
    """Every paused queue with the tasks its workers hold; empty (one cheap query) when none."""
    rows = session.execute(select(QueuePause.queue, QueuePause.paused_by, QueuePause.paused_at))
    pauses = {queue: (by, as_utc(at)) for queue, by, at in rows}
    if not pauses:
        return {}
    held = held_by_workers(session, pauses)
    return {
        queue: Pause(by, since, tuple(held.get(queue, ())))
        for queue, (by, since) in pauses.items()
        if since is not None
    }


def held_by_workers(session: Session, queues: Iterable[str]) -> dict[str, list[tuple[str, int]]]:
    """Per queue, (worker, tasks received and not started) from task history, most first."""
    names = list(queues)
    query = (
        select(Task.queue, Task.worker, func.count())
        .where(Task.queue.in_(names), Task.state == "RECEIVED", Task.worker.is_not(None))
        .group_by(Task.queue, Task.worker)
    )
    found: dict[str, list[tuple[str, int]]] = {}
    for queue, worker, count in session.execute(query):
        found.setdefault(str(queue), []).append((str(worker), int(count)))
    return {
        q: sorted(v, key=lambda item: (-item[1], item[0]))[:MAX_HOLDERS] for q, v in found.items()
    }


def paused_names(session: Session) -> list[str]:
    return list(session.scalars(select(QueuePause.queue).order_by(QueuePause.queue)))
