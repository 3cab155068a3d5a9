"""Failure groups under retention: a member row goes with its task's history (the group keeps
its counts, first/last seen and sample), hourly counts beyond the retention go too.

Small batches, each its own transaction, like fleet/retention.py, so the ingester's writes
never wait long; the leader runs it right after the task history's own retention.
"""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import delete, select

from controlplane.models import FailureGroupHour, FailureMember
from controlplane.services import Services

BATCH = 500
PAUSE = 0.01


def purge_failures_before(services: Services, cutoff: datetime, batch: int = BATCH) -> int:
    """Delete members that failed, and hourly counts older than, `cutoff`; returns members."""
    purged = 0
    while True:
        with services.transaction() as session:
            ids = list(session.scalars(
                select(FailureMember.task_id).where(FailureMember.failed_at < cutoff).limit(batch)
            ))  # fmt: skip
            if ids:
                session.execute(delete(FailureMember).where(FailureMember.task_id.in_(ids)))
        purged += len(ids)
        if len(ids) < batch:
            break
        time.sleep(PAUSE)
    with services.transaction() as session:
        session.execute(delete(FailureGroupHour).where(FailureGroupHour.hour < cutoff))
    return purged
