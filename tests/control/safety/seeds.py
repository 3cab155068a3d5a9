"""Task history for the operator-safety tests: failed tasks, as the ingester would store them."""

from __future__ import annotations

from datetime import timedelta

from controlplane.clock import utcnow
from controlplane.models import Task
from controlplane.services import Services

ADD = "worker_tasks.tasks.add"


def seed_failures(services: Services, prefix: str, count: int, name: str = ADD) -> list[str]:
    """`count` failed tasks in history (stored args 1, 2), newest first."""
    now = utcnow()
    ids = [f"{prefix}-{i:02d}" for i in range(count)]
    with services.transaction() as session:
        for i, task_id in enumerate(ids):
            stamp = now - timedelta(seconds=i)
            session.add(Task(task_id=task_id, name=name, state="FAILURE", args="[1, 2]",
                             kwargs="{}", queue="default", first_seen_at=stamp, updated_at=stamp,
                             retries=0, args_incomplete=False))  # fmt: skip
    return ids
