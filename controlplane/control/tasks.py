"""Trigger, retry, revoke and bulk actions on tasks."""

from __future__ import annotations

import ast
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controlplane.clock import utcnow
from controlplane.control.action_log import ActionResult, run_action
from controlplane.control.registry import known_task_names, routed_queue
from controlplane.control.revocations import remember
from controlplane.control.validate import TriggerRequest, parse_trigger
from controlplane.db import dialect_insert
from controlplane.errors import ActionError, Conflict, NotFound
from controlplane.fleet.task_history import RETRYABLE_STATES, TERMINAL_STATES, BadFilter, TaskFilter
from controlplane.models import Task
from controlplane.services import Services

SIGNALS = ("SIGTERM", "SIGKILL", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGHUP")
BULK_ACTIONS = ("retry", "revoke")


def _broker_is_redis(services: Services) -> bool:
    return (services.settings.broker_url or "").startswith(("redis://", "rediss://"))


_SENT_UPSERT: dict[str, Any] = {}


def _sent_upsert(session: Session) -> Any:
    """INSERT ... ON CONFLICT (task_id) DO UPDATE SET retry_of, built once per backend.

    The ingester may have written the row from the task-sent event already; then only add
    what events never carry (retry_of). A Core statement on the table, not the ORM entity:
    this is the trigger's hot path and the ORM's bulk-insert bookkeeping cost more than the
    INSERT itself (0.2 ms of a 1.3 ms request, `bench/dispatch.py`).
    """
    name = session.get_bind().dialect.name
    if name not in _SENT_UPSERT:
        table = Task.__table__
        statement = dialect_insert(session, table)
        _SENT_UPSERT[name] = statement.on_conflict_do_update(
            index_elements=[table.c.task_id], set_={"retry_of": statement.excluded.retry_of}
        )
    return _SENT_UPSERT[name]


def _record_sent(
    session: Session,
    task_id: str,
    name: str,
    queue: str | None,
    retry_of: str | None = None,
    eta: datetime | None = None,
) -> None:
    """A row for a task we just sent, so it is in history at once (its events fill the rest)."""
    now = utcnow()
    row = {
        "task_id": task_id,
        "name": name,
        "state": "PENDING",
        "queue": queue,
        "routing_key": queue,
        "retry_of": retry_of,
        "eta": eta,
        "first_seen_at": now,
        "sent_at": now,
        "updated_at": now,
        "retries": 0,
        "args_incomplete": False,
    }
    session.connection().execute(_sent_upsert(session), row)


# ---- trigger -------------------------------------------------------------------------------


def trigger(
    services: Services, actor: str, payload: Any, idempotency_key: str | None = None
) -> ActionResult:
    """Send a registered task with the given args; 202 with its id."""
    params = payload if isinstance(payload, dict) else {"body": str(payload)[:200]}

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        request = parse_trigger(
            payload, services.settings, broker_is_redis=_broker_is_redis(services)
        )
        # The list may be stale (a worker deployed a new task): then ask the workers once more.
        if request.name not in known_task_names(services) and request.name not in (
            known_task_names(services, refresh=True)
        ):
            raise ActionError(
                f"unknown task {request.name!r}: no worker has it registered and it is "
                "not in the allow-list"
            )
        return 202, _send(services, session, request)

    target = payload.get("name") if isinstance(payload, dict) else None
    return run_action(
        services, actor, "trigger", str(target)[:255] if target else None, params, perform,
        idempotency_key,
    )  # fmt: skip


def _send(
    services: Services, session: Session, request: TriggerRequest, retry_of: str | None = None
) -> dict[str, Any]:
    queue = request.queue or routed_queue(session, request.name, services.settings.queues[0])
    task_id = str(uuid.uuid4())
    options: dict[str, Any] = {"queue": queue, "task_id": task_id}
    if request.countdown is not None:
        options["countdown"] = request.countdown
    if request.eta is not None:
        options["eta"] = request.eta
    if request.priority is not None:
        options["priority"] = request.priority
    services.celery.send_task(request.name, args=request.args, kwargs=request.kwargs, **options)
    _record_sent(session, task_id, request.name, queue, retry_of, request.eta)
    return {"task_id": task_id, "name": request.name, "queue": queue, "retry_of": retry_of}


# ---- retry ---------------------------------------------------------------------------------


def stored_arguments(task: Task) -> tuple[list[Any], dict[str, Any]]:
    """The exact args and kwargs a task ran with, or ActionError when we do not have them."""
    if task.args_incomplete:
        raise ActionError(
            "its arguments were redacted or truncated when stored; sending it again would run "
            "it with different arguments"
        )
    args = _literal(task.args, "args", (list, tuple), [])
    kwargs = _literal(task.kwargs, "kwargs", (dict,), {})
    return list(args), dict(kwargs)


def _literal(text: str | None, field: str, types: tuple[type, ...], empty: Any) -> Any:
    if text is None or text == "":
        return empty
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            continue
        if isinstance(value, types):
            return value
    raise ActionError(
        f"its stored {field} are not plain values ({text[:60]!r}); it cannot be sent again "
        "faithfully"
    )


def _retry_one(services: Services, session: Session, task_id: str) -> dict[str, Any]:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(f"no task with id {task_id!r} in history")
    if task.state not in RETRYABLE_STATES:
        raise Conflict(f"task is {task.state}; only finished tasks can be retried")
    if not task.name:
        raise ActionError("its task name was never seen; it cannot be sent again")
    try:
        args, kwargs = stored_arguments(task)
    except ActionError as exc:
        raise ActionError(f"cannot retry {task_id}: {exc}") from None
    new_id = str(uuid.uuid4())
    options: dict[str, Any] = {"task_id": new_id}
    if task.exchange and task.routing_key and task.exchange != task.queue:
        options.update(exchange=task.exchange, routing_key=task.routing_key)
    else:
        options["queue"] = task.queue or services.settings.queues[0]
    services.celery.send_task(task.name, args=args, kwargs=kwargs, **options)
    _record_sent(session, new_id, task.name, task.queue or options.get("queue"), task_id)
    return {"task_id": new_id, "retry_of": task_id, "name": task.name, "queue": task.queue}


def retry(
    services: Services, actor: str, task_id: str, idempotency_key: str | None = None
) -> ActionResult:
    """Send a finished task again with its stored args, as a new task linked by `retry_of`."""

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        return 202, _retry_one(services, session, task_id)

    return run_action(services, actor, "retry", task_id[:255], {}, perform, idempotency_key)


# ---- revoke --------------------------------------------------------------------------------


def _check_signal(signal: str | None) -> str:
    name = (signal or "SIGTERM").upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    if name not in SIGNALS:
        raise ActionError(f"signal: expected one of {', '.join(SIGNALS)}")
    return name


def revoke(
    services: Services,
    actor: str,
    task_id: str,
    terminate: bool = False,
    signal: str | None = None,
    idempotency_key: str | None = None,
) -> ActionResult:
    """Revoke a queued, scheduled or (with terminate) running task; remembered across restarts."""
    params = {"terminate": terminate, "signal": signal}

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        if not isinstance(terminate, bool):
            raise ActionError("terminate: expected true or false")
        signal_name = _check_signal(signal)
        task = session.get(Task, task_id)
        if task is None:
            raise NotFound(f"no task with id {task_id!r} in history")
        if task.state in TERMINAL_STATES:
            raise Conflict(f"task already finished ({task.state}); nothing to revoke")
        services.celery.control.revoke(task_id, terminate=terminate, signal=signal_name)
        remember(session, services, [task_id], actor, terminate, signal_name)
        return 202, {"task_id": task_id, "terminate": terminate, "signal": signal_name}

    return run_action(services, actor, "revoke", task_id[:255], params, perform, idempotency_key)


# ---- bulk ----------------------------------------------------------------------------------


def bulk(
    services: Services,
    actor: str,
    action: Any,
    filter_data: Any,
    dry_run: bool,
    idempotency_key: str | None = None,
) -> ActionResult:
    """Retry or revoke every task matching a filter, at most `bulk_max`; a dry run only counts."""
    params = {"action": action, "filter": filter_data, "dry_run": dry_run}
    cap = services.settings.bulk_max

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        if action not in BULK_ACTIONS:
            raise ActionError(f"action: expected one of {', '.join(BULK_ACTIONS)}")
        if not isinstance(dry_run, bool):
            raise ActionError("dry_run: expected true or false")
        try:
            task_filter = TaskFilter.from_mapping(filter_data or {})
        except BadFilter as exc:
            raise ActionError(str(exc)) from None
        eligible = RETRYABLE_STATES if action == "retry" else _REVOCABLE_STATES
        if task_filter.state and task_filter.state not in eligible:
            raise ActionError(f"cannot {action} tasks in state {task_filter.state}")
        states = (task_filter.state,) if task_filter.state else eligible
        matched = sum(_count_tasks(session, _with_state(task_filter, s)) for s in states)
        summary: dict[str, Any] = {
            "action": action,
            "matched": matched,
            "cap": cap,
            "would_act_on": min(matched, cap),
            "dry_run": dry_run,
        }
        if dry_run:
            return 200, summary
        ids = _ids_in_states(session, task_filter, states, cap)
        if action == "retry":
            summary.update(_bulk_retry(services, session, actor, ids))
        else:
            summary.update(_bulk_revoke(services, session, actor, ids))
        return 202, summary

    return run_action(services, actor, f"bulk_{action}"[:32], None, params, perform,
                      idempotency_key)  # fmt: skip


_REVOCABLE_STATES = ("PENDING", "RECEIVED", "STARTED", "PROGRESS", "RETRY")


def _with_state(task_filter: TaskFilter, state: str) -> TaskFilter:
    return TaskFilter(**{**task_filter.__dict__, "state": state})


def _ids_in_states(
    session: Session, task_filter: TaskFilter, states: tuple[str, ...], cap: int
) -> list[str]:
    ids: list[str] = []
    for state in states:
        if len(ids) >= cap:
            break
        ids.extend(_select_task_ids(session, _with_state(task_filter, state), cap - len(ids)))
    return ids


def _bulk_retry(services: Services, session: Session, actor: str, ids: list[str]) -> dict[str, Any]:
    from controlplane.models import Action

    sent: list[str] = []
    skipped: dict[str, str] = {}
    for task_id in ids:
        try:
            result = _retry_one(services, session, task_id)
        except ActionError as exc:
            skipped[task_id] = str(exc)
            continue
        sent.append(result["task_id"])
        session.add(
            Action(
                at=utcnow(), actor=actor, action="retry", target=task_id,
                params=json.dumps({"bulk": True}), outcome="ok",
                result=json.dumps({"status": 202, "body": result}),
            )
        )  # fmt: skip
    return {"acted_on": len(sent), "new_task_ids": sent[:1000], "skipped": _bounded(skipped)}


def _bulk_revoke(
    services: Services, session: Session, actor: str, ids: list[str]
) -> dict[str, Any]:
    from controlplane.models import Action

    for start in range(0, len(ids), 1000):
        services.celery.control.revoke(ids[start : start + 1000])
    remember(session, services, ids, actor, False, None)
    for task_id in ids:
        session.add(
            Action(at=utcnow(), actor=actor, action="revoke", target=task_id,
                   params=json.dumps({"bulk": True}), outcome="ok")
        )  # fmt: skip
    return {"acted_on": len(ids), "skipped": {}}


def _bounded(skipped: dict[str, str], limit: int = 50) -> dict[str, str]:
    return dict(list(skipped.items())[:limit])


def _count_tasks(session: Session, task_filter: TaskFilter) -> int:
    query = task_filter.apply(select(func.count()).select_from(Task))
    return int(session.scalar(query) or 0)


def _select_task_ids(session: Session, task_filter: TaskFilter, limit: int) -> list[str]:
    query = task_filter.apply(select(Task.task_id))
    query = query.order_by(Task.first_seen_at.desc(), Task.task_id.desc()).limit(limit)
    return list(session.scalars(query))


def retry_many(services: Services, session: Session, actor: str, ids: list[str]) -> dict[str, Any]:
    """Bulk retry of the given task ids inside the caller's action (failure groups' "Retry
    group"): each one logged as bulk retries are, at most `bulk_max`."""
    return _bulk_retry(services, session, actor, ids[: services.settings.bulk_max])
