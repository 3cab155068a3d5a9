"""Paused queues as the fleet view reads them: who paused, since when, what workers still hold.

The pause itself (cancelling consumers, persisting, re-applying) is control.queue_pause; this
reads its rows and adds, from task history, the prefetched tasks each worker still holds for
the queue (RECEIVED, not started): Celery keeps what a worker reserved before the pause and
runs it when a slot frees.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from controlplane.broker import Pause
from controlplane.clock import as_utc
from controlplane.fleet.held import held_by_workers
from controlplane.models import QueuePause

# Built once, read through Core: a scrape reads it (a statement built per call costs
# SQLAlchemy its cache key, the ORM's execute its own overhead, each time).
_PAUSES = select(QueuePause.queue, QueuePause.paused_by, QueuePause.paused_at)


def paused_queues(session: Session) -> dict[str, Pause]:
    """Every paused queue with the tasks its workers hold; empty (one cheap query) when none."""
    rows = session.connection().execute(_PAUSES).all()
    pauses = {queue: (by, as_utc(at)) for queue, by, at in rows}
    if not pauses:
        return {}
    held = held_by_workers(session, pauses)
    return {
        queue: Pause(by, since, tuple(held.get(queue, ())))
        for queue, (by, since) in pauses.items()
        if since is not None
    }


def paused_names(session: Session) -> list[str]:
    return list(session.scalars(select(QueuePause.queue).order_by(QueuePause.queue)))
