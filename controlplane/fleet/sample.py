"""The latest fleet sample: its shape, the in-memory copy, and its rows in the database.

The scheduler that holds the leader lock writes every sample to `queue_samples` and the
broker's state to `fleet_status`, and keeps the latest in memory. Console replicas read the
database; the sampling process may read its memory. Neither ever asks the broker.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from controlplane.broker import QueueState
from controlplane.clock import as_utc
from controlplane.models import FleetStatus, QueueSample

STATUS_ROW = 1


def stale_after(sample_interval: float) -> float:
    """A sample older than this says nobody samples: three missed turns, at least 15 s."""
    return max(15.0, 3 * sample_interval)


@dataclass(frozen=True)
class BrokerState:
    error: str | None = None
    down_since: datetime | None = None
    # faults (issue 16): restarts the sampler saw, the last one's time and what was waiting
    restarts: int = 0
    restarted_at: datetime | None = None
    restart_waiting: int | None = None

    @property
    def reachable(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict[str, Any]:
        """As the API and the agent interface say it."""
        down = as_utc(self.down_since)
        return {
            "reachable": self.reachable,
            "error": self.error,
            "down_since": down.isoformat() if down else None,
        }


@dataclass(frozen=True)
class FleetSample:
    sampled_at: datetime | None
    queues: dict[str, QueueState] = field(default_factory=dict)
    broker: BrokerState = field(default_factory=BrokerState)
    sampler: str | None = None
    # ETA tasks in RabbitMQ's native delayed delivery queues, for no known queue (None: none)
    delayed: int | None = None


class LatestSample:
    """The sampling process's own copy of its last sample (and broker state), thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sample: FleetSample | None = None

    def publish(self, sample: FleetSample) -> None:
        with self._lock:
            self._sample = sample

    def broker_down(self, error: str, since: datetime) -> None:
        with self._lock:
            if self._sample is None:  # not the sampling process: readers use the database
                return
            down_since = self._sample.broker.down_since or since
            self._sample = replace(
                self._sample,
                broker=replace(self._sample.broker, error=error, down_since=down_since),
            )

    def clear(self) -> None:
        """Forget it (leadership lost): from now on readers go to the database."""
        with self._lock:
            self._sample = None

    def get(self) -> FleetSample | None:
        with self._lock:
            return self._sample


def write_sample(session: Session, sample: FleetSample) -> None:
    """One row per queue, and the status row saying the broker answered."""
    assert sample.sampled_at is not None
    session.add_all(
        QueueSample(
            queue=name[:255],
            sampled_at=sample.sampled_at,
            ready=queue.ready,
            unacked=queue.reserved or 0,
            scheduled=queue.scheduled,
            consumers=queue.consumers or 0,
            oldest_waiting_at=queue.oldest_waiting_at,
        )
        for name, queue in sample.queues.items()
    )
    _upsert_status(
        session,
        {
            "sampler": sample.sampler,
            "last_sample_at": sample.sampled_at,
            "broker_error": None,
            "broker_down_since": None,
            "delayed_messages": sample.delayed,
            "updated_at": sample.sampled_at,
        },
    )


def record_broker_down(session: Session, error: str, now: datetime, sampler: str | None) -> None:
    """Say the broker is unreachable, keeping the first time it was seen down."""
    _upsert_status(
        session,
        {
            "sampler": sampler,
            "broker_error": error[:2000],
            "broker_down_since": now,
            "updated_at": now,
        },
        keep_first=("broker_down_since",),
    )


# A replica's scrape reads these: columns through Core (no ORM object, no identity map),
# statements built once (one built per call costs SQLAlchemy its cache key each time).
_STATUS = select(
    FleetStatus.broker_error, FleetStatus.broker_down_since, FleetStatus.broker_restarts,
    FleetStatus.broker_restarted_at, FleetStatus.broker_restart_waiting, FleetStatus.sampler,
    FleetStatus.delayed_messages,
).where(FleetStatus.id == STATUS_ROW)  # fmt: skip
_LATEST = select(func.max(QueueSample.sampled_at))
# Plain rows, not ORM objects: a scrape reads every queue's row (a fifth of the cost).
_ROWS = select(
    QueueSample.queue, QueueSample.ready, QueueSample.unacked, QueueSample.scheduled,
    QueueSample.consumers, QueueSample.oldest_waiting_at,
).where(QueueSample.sampled_at == bindparam("latest"))  # fmt: skip


def read_latest(session: Session) -> FleetSample:
    """The last sample the scheduler wrote (each sample's rows share one `sampled_at`)."""
    connection = session.connection()
    status = connection.execute(_STATUS).first()
    broker = BrokerState()
    sampler = None
    delayed = None
    if status is not None:
        error, down_since, restarts, restarted_at, waiting, sampler, delayed = status
        broker = BrokerState(
            error, as_utc(down_since), restarts or 0, as_utc(restarted_at), waiting
        )
    latest = connection.scalar(_LATEST)
    if latest is None:
        return FleetSample(None, {}, broker, sampler, delayed)
    rows = connection.execute(_ROWS, {"latest": latest}).all()
    queues = {
        queue: QueueState(queue, ready, unacked, scheduled, consumers, as_utc(oldest))
        for queue, ready, unacked, scheduled, consumers, oldest in rows
    }
    return FleetSample(as_utc(latest), queues, broker, sampler, delayed)


def _upsert_status(
    session: Session, values: dict[str, Any], keep_first: tuple[str, ...] = ()
) -> None:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    statement = insert(FleetStatus).values(id=STATUS_ROW, **values)
    update: dict[str, Any] = {key: statement.excluded[key] for key in values}
    for key in keep_first:
        update[key] = func.coalesce(getattr(FleetStatus, key), statement.excluded[key])
    session.execute(statement.on_conflict_do_update(index_elements=["id"], set_=update))
