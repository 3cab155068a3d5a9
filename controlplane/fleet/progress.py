"""Progress of a running task, from the result backend's PROGRESS meta (current/total)."""

from __future__ import annotations

import logging
from typing import Any

from controlplane.services import Services

log = logging.getLogger(__name__)
LIVE_STATES = ("PENDING", "RECEIVED", "STARTED", "PROGRESS", "RETRY")


def task_progress(services: Services, task_id: str, state: str | None) -> dict[str, Any] | None:
    """{"current", "total", "percent"} while a task reports PROGRESS meta, else None."""
    if state not in LIVE_STATES or not services.settings.effective_result_backend:
        return None
    try:
        result = services.celery.AsyncResult(task_id)
        if result.state != "PROGRESS":
            return None
        info = result.info
    except Exception as exc:
        log.debug("no progress for %s: %s", task_id, exc)
        return None
    if not isinstance(info, dict):
        return None
    current, total = info.get("current"), info.get("total")
    if not isinstance(current, int | float) or not isinstance(total, int | float) or total <= 0:
        return None
    percent = max(0.0, min(100.0, 100.0 * current / total))
    return {"current": current, "total": total, "percent": round(percent, 1)}
