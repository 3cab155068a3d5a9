"""Progress of running tasks, from the result backend's PROGRESS meta (current/total).

Celery's `update_state(state="PROGRESS", meta=...)` sends no event: the result backend is the
only place that knows. Without one (RabbitMQ alone) there is no progress, and `why_no_progress`
says so.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from controlplane.services import Services

log = logging.getLogger(__name__)
LIVE_STATES = ("PENDING", "RECEIVED", "STARTED", "PROGRESS", "RETRY")
RUNNING_STATES = ("STARTED", "PROGRESS")
NO_BACKEND = "no result backend configured: progress and results are not available"


def why_no_progress(services: Services) -> str | None:
    """The sentence a task page shows when progress cannot be known, else None."""
    return None if services.settings.effective_result_backend else NO_BACKEND


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
    return progress_of(info)


def progress_many(services: Services, task_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The progress of each task that reports PROGRESS, in one round trip to the backend.

    For the task list: the visible page's running tasks, never one request per row.
    """
    ids = list(dict.fromkeys(task_ids))
    if not ids or not services.settings.effective_result_backend:
        return {}
    try:
        backend = services.celery.backend
        if not hasattr(backend, "mget"):
            return {}
        values = backend.mget([backend.get_key_for_task(task_id) for task_id in ids])
    except Exception as exc:  # a page still renders, without bars, when the backend is down
        log.debug("no progress for the task list: %s", exc)
        return {}
    found = {}
    for task_id, raw in zip(ids, values or [], strict=False):
        if not raw:
            continue
        try:
            meta = backend.decode_result(raw)
        except Exception:  # noqa: S112 - someone else's payload; skip what we cannot read
            continue
        if isinstance(meta, dict) and meta.get("status") == "PROGRESS":
            progress = progress_of(meta.get("result"))
            if progress is not None:
                found[task_id] = progress
    return found


def progress_of(info: Any) -> dict[str, Any] | None:
    if not isinstance(info, dict):
        return None
    current, total = info.get("current"), info.get("total")
    if not isinstance(current, int | float) or not isinstance(total, int | float) or total <= 0:
        return None
    if isinstance(current, bool) or isinstance(total, bool):
        return None
    percent = max(0.0, min(100.0, 100.0 * current / total))
    return {"current": current, "total": total, "percent": round(percent, 1)}
