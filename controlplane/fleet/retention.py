"""Delete history older than `retention_days`, a small batch per transaction.

Each batch selects primary keys through the time index and deletes them in its own short
transaction, so the event ingester (SQLite has one writer) and the console never wait long.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from controlplane.db import session_scope
from controlplane.models import QueueSample, Task, Worker

log = logging.getLogger(__name__)

BATCH = 500
PAUSE = 0.01  # seconds between batches at least: room for other writers
# ...and at least as long as the batch took: retention, which can wait, takes at most half the
# database's time and the ingester keeps its pace (bench/pages.py --retention-seconds).


@dataclass(frozen=True)
class Purged:
    tasks: int
    queue_samples: int
    workers: int


def purge_older_than(
    sessions: sessionmaker[Session],
    cutoff: datetime,
    batch: int = BATCH,
    pause: float = PAUSE,
    max_batches: int | None = None,
) -> Purged:
    """Tasks first seen, samples taken and workers last updated before `cutoff` are deleted."""
    return Purged(
        tasks=_purge(sessions, Task.task_id, Task.first_seen_at, cutoff, batch, pause, max_batches),
        queue_samples=_purge(
            sessions, QueueSample.id, QueueSample.sampled_at, cutoff, batch, pause, max_batches
        ),
        workers=_purge(
            sessions, Worker.hostname, Worker.updated_at, cutoff, batch, pause, max_batches
        ),
    )


def retention_cutoff(now: datetime, retention_days: float) -> datetime:
    return now - timedelta(days=retention_days)


def _purge(
    sessions: sessionmaker[Session],
    key: Any,
    when: Any,
    cutoff: datetime,
    batch: int,
    pause: float,
    max_batches: int | None,
) -> int:
    deleted = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        started = time.monotonic()
        with session_scope(sessions) as session:
            keys = session.scalars(select(key).where(when < cutoff).limit(batch)).all()
            if keys:
                session.execute(delete(key.class_).where(key.in_(keys)))
        deleted += len(keys)
        batches += 1
        if len(keys) < batch:
            break
        time.sleep(max(pause, time.monotonic() - started) if pause else 0.0)
    if deleted:
        log.info("retention: deleted %d row(s) from %s", deleted, key.class_.__tablename__)
    return deleted
