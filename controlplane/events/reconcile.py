"""After a gap: ask the workers and the result backend what the events would have said.

Workers answer `inspect().active()/reserved()/scheduled()` (with `limit=` set to the number
of workers we expect, so the call returns as soon as they have all answered instead of
waiting out its timeout; each on a connection of its own, broker.replies); rows still
unfinished are looked up in the result backend. A row that a worker had before the gap, that
no worker reports now and that has no result is marked UNKNOWN with the reason: an honest "we
could not see", not "running" forever.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

from celery import Celery, states

from controlplane.broker.replies import ask
from controlplane.events.merge import UNKNOWN, TaskRow, micro
from controlplane.events.redact import Redactor
from controlplane.events.store import EventStore
from controlplane.events.validate import is_path, iso_to_epoch

log = logging.getLogger(__name__)
MAX_ROWS = 10_000


def reconcile(
    app: Celery,
    store: EventStore,
    redactor: Redactor,
    *,
    expected_workers: int,
    timeout: float,
    gap_started: float | None,
) -> list[TaskRow]:
    """Synthetic rows to merge: what workers run now, results of what finished unseen."""
    asked_at = time.time()
    rows: dict[str, TaskRow] = {}
    replies = _inspect(app, expected_workers, timeout)
    for hostname, kind, request in replies["requests"]:
        row = _row_from_request(hostname, kind, request, asked_at, redactor)
        if row is not None:
            current = rows.get(row.task_id)
            rows[row.task_id] = current.merge(row) if current else row
    all_answered = expected_workers > 0 and replies["answered"] >= expected_workers
    unfinished = store.unfinished_tasks(before=asked_at - 1.0, limit=MAX_ROWS)
    for task_id, state, worker in unfinished:
        if task_id in rows:
            continue
        meta = _backend_meta(app, task_id)
        status = meta.get("status") if meta else None
        if isinstance(status, str) and status in states.READY_STATES:
            row = _row_from_meta(task_id, status, meta or {}, worker, asked_at, redactor)
            rows[task_id] = row
        elif all_answered and state != states.PENDING and status in (None, states.PENDING):
            # a worker had it; none has it now; no result: we cannot know what happened
            row = TaskRow(task_id, UNKNOWN, micro(asked_at - 1.0))
            row.worker = worker
            since = time.strftime("%H:%M:%S", time.gmtime(gap_started)) if gap_started else "a gap"
            row.lost_reason = (
                f"events missed since {since} UTC; no worker reports the task and the result "
                "backend has no result for it"
            )
            rows[task_id] = row
    log.info(
        "reconciled after a gap: %d workers answered, %d rows updated",
        replies["answered"], len(rows),
    )  # fmt: skip
    return list(rows.values())


def _inspect(app: Celery, expected: int, timeout: float) -> dict[str, Any]:
    requests: list[tuple[str, str, dict[str, Any]]] = []
    answered: set[str] = set()
    if expected <= 0:
        return {"requests": requests, "answered": 0}
    for kind in ("active", "reserved", "scheduled"):
        try:
            reply = ask(app, None, timeout, kind, expected=expected)
        except Exception as exc:
            log.warning("inspect().%s() failed: %s", kind, exc)
            continue
        for hostname, items in reply.items():
            answered.add(hostname)
            for item in items or []:
                request = item.get("request", item) if kind == "scheduled" else item
                if isinstance(request, dict):
                    requests.append((hostname, kind, request))
    return {"requests": requests, "answered": len(answered)}


def _row_from_request(
    hostname: str, kind: str, request: dict[str, Any], asked_at: float, redactor: Redactor
) -> TaskRow | None:
    task_id = request.get("id")
    if not isinstance(task_id, str) or not task_id or len(task_id) > 155 or is_path(task_id):
        return None
    started = request.get("time_start")
    if kind == "active" and isinstance(started, int | float) and 0 <= started < 1e11:
        row = TaskRow(task_id, states.STARTED, micro(float(started)))
        row.started_at = row.state_changed_at
    else:
        # reserved: it was received no later than we asked
        row = TaskRow(task_id, states.RECEIVED, micro(asked_at))
    row.worker = hostname[:255]
    name = request.get("name") or request.get("type")
    row.name = name[:255] if isinstance(name, str) else None
    row.args, args_cut = redactor.call_args(request.get("args"))
    row.kwargs, kwargs_cut = redactor.call_args(request.get("kwargs"))
    row.args_incomplete = args_cut or kwargs_cut
    delivery = request.get("delivery_info")
    if isinstance(delivery, dict) and isinstance(delivery.get("routing_key"), str):
        row.routing_key = delivery["routing_key"][:255]
    return row


def _backend_meta(app: Celery, task_id: str) -> dict[str, Any] | None:
    backend = app.backend
    if backend is None or type(backend).__name__ == "DisabledBackend":
        return None
    try:
        meta = backend.get_task_meta(task_id)
    except Exception as exc:
        log.debug("no result for %s: %s", task_id, exc)
        return None
    return meta if isinstance(meta, dict) else None


def _row_from_meta(
    task_id: str,
    status: str,
    meta: dict[str, Any],
    worker: str | None,
    asked_at: float,
    redactor: Redactor,
) -> TaskRow:
    done = meta.get("date_done")
    if isinstance(done, datetime):
        done = done.isoformat()
    at = iso_to_epoch(done) or asked_at
    row = TaskRow(task_id, status, at)
    row.finished_at = at
    row.worker = worker
    result = meta.get("result")
    if status == states.SUCCESS:
        row.result = redactor.result(result)
    else:
        row.exception = redactor.free_text(_exception_text(result))
        row.traceback = redactor.free_text(meta.get("traceback"), traceback=True)
    return row


def _exception_text(result: Any) -> str:
    if isinstance(result, BaseException):
        return f"{type(result).__name__}({str(result)!r})"
    if isinstance(result, dict) and "exc_type" in result:
        message = result.get("exc_message")
        if isinstance(message, list | tuple) and len(message) == 1:
            message = message[0]
        return f"{result.get('exc_type')}({message!r})"
    return repr(result)
