"""Trigger, retry, revoke and bulk actions on tasks."""

from __future__ import annotations

import ast
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from controlplane.broker.queue_names import check_queue_name
from controlplane.clock import utcnow
from controlplane.control.action_log import ActionResult, run_action
from controlplane.control.deadline import publish_within
from controlplane.control.registry import (
    FleetRouting,
    Route,
    fleet_routing,
    known_task_names,
    resolve_route,
)
from controlplane.control.revocations import remember
from controlplane.control.validate import TriggerRequest, parse_trigger
from controlplane.db import dialect_insert
from controlplane.errors import ActionError, Conflict, NotFound
from controlplane.fleet.task_history import RETRYABLE_STATES, TERMINAL_STATES
from controlplane.models import Task
from controlplane.services import Services

SIGNALS = ("SIGTERM", "SIGKILL", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGHUP")


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


def check_task_name(services: Services, name: str, may_ask: bool = True) -> None:
    """The trigger's name policy, for retry too: registered by a worker or allow-listed, never
    one of Celery's own tasks (`celery.*`: backend_cleanup, chord_unlock...).

    The list may be stale (a worker deployed a new task): then, with `may_ask`, the workers
    are asked once more (a bulk retry asks once for all its tasks, not once per task).
    """
    if name.startswith("celery."):
        raise ActionError(f"{name!r} is one of Celery's own tasks; operators cannot send it")
    if name not in known_task_names(services) and (
        not may_ask or name not in known_task_names(services, refresh=True)
    ):
        raise ActionError(
            f"unknown task {name!r}: no worker has it registered and it is not in the allow-list"
        )


def route_for(services: Services, name: str, typed: str | None = None) -> Route:
    """Where a task goes: the queue the operator typed, else where the fleet's Celery routes it."""
    routing = FleetRouting() if typed else fleet_routing(services)  # typed: nothing to ask
    route = resolve_route(routing, name, typed)
    check_queue_name(route.queue, services.settings)
    return route


def trigger(
    services: Services, actor: str, payload: Any, idempotency_key: str | None = None
) -> ActionResult:
    """Send a registered task with the given args; 202 with its id (the action's target)."""
    params = payload if isinstance(payload, dict) else {"body": str(payload)[:200]}

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        request = parse_trigger(
            payload, services.settings, broker_is_redis=_broker_is_redis(services)
        )
        check_task_name(services, request.name)
        return 202, _send(services, session, request, actor=actor)

    target = payload.get("name") if isinstance(payload, dict) else None
    return run_action(
        services, actor, "trigger", str(target)[:255] if target else None, params, perform,
        idempotency_key, target_of=_new_task_id,
    )  # fmt: skip


def _new_task_id(body: dict[str, Any]) -> str | None:
    """An action that sent a task is logged against the new task's id (its page lists it)."""
    task_id = body.get("task_id")
    return str(task_id) if task_id else None


def _send(
    services: Services,
    session: Session,
    request: TriggerRequest,
    retry_of: str | None = None,
    actor: str = "console",
) -> dict[str, Any]:
    route = route_for(services, request.name, request.queue)
    task_id = str(uuid.uuid4())
    options: dict[str, Any] = {"queue": route.queue, "task_id": task_id}
    if request.countdown is not None:
        options["countdown"] = request.countdown
    if request.eta is not None:
        options["eta"] = request.eta
    if request.priority is not None:
        options["priority"] = request.priority
    probe = services.broker.ping if _broker_is_redis(services) else None
    publish_within(services, actor, task_id, lambda: services.celery.send_task(
        request.name, args=request.args, kwargs=request.kwargs, **options),
        probe)  # fmt: skip
    _record_sent(session, task_id, request.name, route.queue, retry_of, request.eta)
    return {
        "task_id": task_id,
        "name": request.name,
        "queue": route.queue,
        "route": route.as_dict(),
        "retry_of": retry_of,
    }


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
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError, SystemError):
            continue  # SystemError: CPython 3.11's AST check when threads parse at once
        if isinstance(value, types):
            return value
    raise ActionError(
        f"its stored {field} are not plain values ({text[:60]!r}); it cannot be sent again "
        "faithfully"
    )


def retry_one(
    services: Services,
    session: Session,
    task_id: str,
    queue: str | None = None,
    may_ask: bool = True,
    actor: str = "console",
) -> dict[str, Any]:
    """Send a finished task again: the trigger's name policy, the task's route (or the queue
    the operator typed), never an exchange or routing key an event claimed."""
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(f"no task with id {task_id!r} in history")
    if task.state not in RETRYABLE_STATES:
        raise Conflict(f"task is {task.state}; only finished tasks can be retried")
    if not task.name:
        raise ActionError("its task name was never seen; it cannot be sent again")
    try:
        check_task_name(services, task.name, may_ask)
        args, kwargs = stored_arguments(task)
    except ActionError as exc:
        raise ActionError(f"cannot retry {task_id}: {exc}") from None
    if queue is not None:
        queue = check_queue_name(queue, services.settings)
    request = TriggerRequest(task.name, args, kwargs, queue)
    return _send(services, session, request, retry_of=task_id, actor=actor)


def retry(
    services: Services,
    actor: str,
    task_id: str,
    idempotency_key: str | None = None,
    queue: str | None = None,
) -> ActionResult:
    """Send a finished task again with its stored args, as a new task linked by `retry_of`."""
    params = {"queue": queue} if queue else {}

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        return 202, retry_one(services, session, task_id, queue, actor=actor)

    return run_action(services, actor, "retry", task_id[:255], params, perform, idempotency_key)


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
