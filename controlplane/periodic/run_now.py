"""Run now: send a schedule's task at once with its own args, kwargs, queue and options.

Only when the arguments are known complete (always for the Celery app's entries; for an
observed schedule, when its latest run's arguments were stored unredacted and whole).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy.orm import Session

from controlplane.control.action_log import ActionResult, run_action
from controlplane.errors import ActionError, NotFound
from controlplane.models import Schedule
from controlplane.services import Services


def run_now(services: Services, actor: str, schedule_id: int) -> ActionResult:
    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        row = session.get(Schedule, schedule_id)
        if row is None:
            raise NotFound(f"no schedule {schedule_id}")
        if not row.args_complete or row.args is None:
            raise ActionError(
                "its arguments are not known complete (redacted or cut when stored): "
                "running it now could run it with different arguments"
            )
        args, kwargs = json.loads(row.args), json.loads(row.kwargs or "{}")
        options = json.loads(row.options or "{}")
        task_id = str(uuid.uuid4())
        services.celery.send_task(row.task, args=args, kwargs=kwargs, task_id=task_id, **options)
        return 202, {"schedule": row.name, "task": row.task, "task_id": task_id,
                     "args": args, "kwargs": kwargs, "options": options}  # fmt: skip

    return run_action(services, actor, "schedule_run_now", f"schedule:{schedule_id}", {},
                      perform)  # fmt: skip
