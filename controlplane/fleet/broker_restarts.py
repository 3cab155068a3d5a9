"""A broker that restarted: noticed by its run id, counted, and the queued tasks it took along.

A redis-server restarted without persistence comes back empty: every message that was waiting
is gone, and nothing else tells. The sampler reads the server's run id at every sample; a new
one is a restart. It is counted (`controlplane_broker_restarts_total`), the backlog of the last
sample before it is kept as "possibly lost" (the `broker_restarted` alert), and the tasks the
console knows were queued (sent or received, never started) on a queue that came back empty
are marked UNKNOWN with that reason: a later event for one of them still wins (merge by
event time).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from controlplane.broker import QueueState
from controlplane.fleet.sample import STATUS_ROW, BrokerState, read_latest
from controlplane.models import FleetStatus, Task

log = logging.getLogger(__name__)
UNKNOWN = "UNKNOWN"


def note_run_id(
    session: Session, run_id: str | None, depths: dict[str, QueueState], now: datetime
) -> BrokerState:
    """Compare `run_id` with the stored one (call before writing the new sample); the broker's
    restart record as it stands afterwards."""
    status = session.get(FleetStatus, STATUS_ROW)
    if run_id is None:
        return _state(status)
    if status is None:  # the first sample ever: remember whom we talk to
        session.add(FleetStatus(id=STATUS_ROW, broker_run_id=run_id[:64], updated_at=now))
        session.flush()
        return BrokerState()
    previous = status.broker_run_id
    status.broker_run_id = run_id[:64]
    if previous is None or previous == run_id:
        return _state(status)
    before = read_latest(session)
    waiting = sum(queue.backlog for queue in before.queues.values())
    emptied = [name for name, queue in depths.items() if not queue.backlog]
    marked = _mark_queued_unknown(session, emptied, now, waiting)
    status.broker_restarts = (status.broker_restarts or 0) + 1
    status.broker_restarted_at = now
    status.broker_restart_waiting = waiting
    log.warning(
        "broker restarted (run id %s -> %s): %d message(s) were waiting, possibly lost; "
        "%d queued task(s) marked UNKNOWN", previous, run_id, waiting, marked,
    )  # fmt: skip
    return _state(status)


def _mark_queued_unknown(session: Session, queues: list[str], now: datetime, waiting: int) -> int:
    """Tasks sent to `queues` before `now` and never started: UNKNOWN, with the reason."""
    if not queues:
        return 0
    when = now.strftime("%H:%M:%S")
    reason = (
        f"the broker restarted at {when} UTC while this task was queued; {waiting} message(s) "
        "were waiting and may be lost (it was never seen again)"
    )
    # RECEIVED too: a worker's prefetched copy lived in the broker's unacked set, gone with it,
    # and Celery drops its prefetched requests when its connection is lost.
    ids = select(Task.task_id).where(
        Task.state.in_(("PENDING", "RECEIVED")), Task.queue.in_(queues),
        Task.started_at.is_(None), Task.first_seen_at < now,
    )  # fmt: skip
    result = session.execute(
        update(Task)
        .where(Task.task_id.in_(ids))
        .values(state=UNKNOWN, lost_reason=reason, state_changed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _state(status: FleetStatus | None) -> BrokerState:
    if status is None:
        return BrokerState()
    return replace(
        BrokerState(),
        restarts=status.broker_restarts or 0,
        restarted_at=status.broker_restarted_at,
        restart_waiting=status.broker_restart_waiting,
    )
