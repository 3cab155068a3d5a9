"""From event dicts to one-event rows: every field checked, cleaned and bounded.

An event is untrusted input: a field of the wrong type makes it malformed (counted and
skipped, see `MalformedEvent`); text is cleaned for the database and cut to the column's
size; args, kwargs, results and tracebacks go through the Redactor.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import Any

from celery import states

from controlplane import worker_hook
from controlplane.events import attempts
from controlplane.events.decode import MalformedEvent
from controlplane.events.merge import TaskRow, WorkerRow, micro
from controlplane.events.redact import Redactor, clean_text

TASK_EVENT_STATES = {
    "task-sent": states.PENDING,
    "task-received": states.RECEIVED,
    "task-started": states.STARTED,
    "task-succeeded": states.SUCCESS,
    "task-failed": states.FAILURE,
    "task-retried": states.RETRY,
    "task-revoked": states.REVOKED,
    "task-rejected": states.REJECTED,
}
WORKER_EVENT_STATUS = {
    "worker-online": "online",
    "worker-heartbeat": "online",
    "worker-offline": "offline",
}
KNOWN_OTHER_TYPES = frozenset({"task-cancelled"})  # counted, no row change
GROUP_EVENT = worker_hook.GROUP_EVENT  # a task's group id, from the worker hook

_ATTEMPT_KINDS = attempts.KINDS
_WITH_EXCEPTION = frozenset(("retried", "failed"))

MAX_ID = 155
MAX_NAME = 255
_EARLIEST = 946684800.0  # 2000-01-01: older timestamps are bogus


def event_time(event: dict[str, Any]) -> float:
    stamp: Any = event.get("timestamp")
    kind = stamp.__class__
    if (kind is not float and kind is not int) or not _EARLIEST <= stamp <= _latest():
        raise MalformedEvent("bad_field", "timestamp")  # NaN fails the range check too
    return micro(stamp)


_LATEST = [0.0, 0.0]  # [valid until (monotonic), latest acceptable timestamp]


def _latest() -> float:
    """A year from now, recomputed once a minute (time.time() per event adds up)."""
    now = time.monotonic()
    if now > _LATEST[0]:
        _LATEST[0], _LATEST[1] = now + 60, time.time() + 86400 * 366
    return _LATEST[1]


def _text(event: dict[str, Any], name: str, limit: int = MAX_NAME) -> str | None:
    value = event.get(name)
    if value is None or value == "":
        return None
    if value.__class__ is not str:
        raise MalformedEvent("bad_field", name)
    if len(value) > limit:
        value = value[:limit]
    if not value.isascii() or "\x00" in value:
        value = clean_text(value)
    return value


def _count(event: dict[str, Any], name: str) -> int | None:
    value = event.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**31:
        raise MalformedEvent("bad_field", name)
    return value


def _number(event: dict[str, Any], name: str) -> float | None:
    value = event.get(name)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise MalformedEvent("bad_field", name)
    return float(value)


def iso_to_epoch(value: Any) -> float | None:
    """eta/expires: an ISO string (or a number) as epoch seconds; naive means UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return micro(value) if math.isfinite(value) and value >= 0 else None
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        stamp = parsed.timestamp()
        return micro(stamp) if stamp >= 0 else None
    except (OverflowError, OSError, ValueError):
        return None


def task_row_from_event(event: dict[str, Any], redactor: Redactor) -> TaskRow:
    """The one-event row for a task event; raises MalformedEvent on a bad field."""
    kind = event["type"]
    state = TASK_EVENT_STATES[kind]
    task_id = event.get("uuid")
    if task_id.__class__ is not str or not 0 < len(task_id) <= MAX_ID:
        raise MalformedEvent("bad_field", "uuid")
    if not task_id.isascii() or "\x00" in task_id:
        task_id = clean_text(task_id)
    at = event_time(event)
    hostname = event.get("hostname")
    if hostname is not None and (
        hostname.__class__ is not str
        or not 0 < len(hostname) <= MAX_NAME
        or not hostname.isascii()
        or "\x00" in hostname
    ):
        hostname = _text(event, "hostname")
    row = TaskRow(task_id, state, at)
    if kind in ("task-sent", "task-received"):
        row.name = _text(event, "name")
        args = event.get("argsrepr", event.get("args"))
        kwargs = event.get("kwargsrepr", event.get("kwargs"))
        row.args, args_cut = redactor.call_args(args)
        row.kwargs, kwargs_cut = redactor.call_args(kwargs)
        row.args_incomplete = args_cut or kwargs_cut
        retries = event.get("retries")
        if retries:
            row.retries = _count(event, "retries") or 0
        if event.get("eta") is not None:
            row.eta = iso_to_epoch(event["eta"])
        if event.get("expires") is not None:
            row.expires = iso_to_epoch(event["expires"])
        parent_id = _text(event, "parent_id", MAX_ID)
        # Celery's autoretry sends the same id again from inside itself: a task sent from
        # outside any task then names itself as its parent. It is not its own relative.
        row.parent_id = parent_id if parent_id != task_id else None
        row.root_id = _text(event, "root_id", MAX_ID)
        if kind == "task-sent":
            row.sent_at = at
            row.queue = _text(event, "queue")
            row.routing_key = _text(event, "routing_key")
            row.exchange = _text(event, "exchange")
        else:
            row.received_at = at
            row.worker = hostname
    else:
        row.worker = hostname
        if kind == "task-started":
            row.started_at = at
        elif kind == "task-succeeded":
            row.finished_at = at
            row.result = redactor.result(event.get("result"))
            runtime = _number(event, "runtime")
            row.reported_runtime = micro(max(0.0, runtime)) if runtime is not None else None
        elif kind == "task-failed":
            row.finished_at = at
            row.exception = redactor.free_text(event.get("exception"))
            row.traceback = redactor.free_text(event.get("traceback"), traceback=True)
        elif kind == "task-retried":
            row.retried_at = at
            row.exception = redactor.free_text(event.get("exception"))
            row.traceback = redactor.free_text(event.get("traceback"), traceback=True)
        elif kind == "task-revoked":
            row.finished_at = at
            row.exception = _revoke_reason(event)
        elif kind == "task-rejected":
            row.exception = "rejected (requeued)" if event.get("requeue") else "rejected"
    kind_name = _ATTEMPT_KINDS.get(kind)
    if kind_name is not None:  # attempts.entry, inline: this runs for every event
        pid = event.get("pid")
        if pid.__class__ is not int or not 0 <= pid < 2**31:
            pid = -1
        exc = row.exception if kind_name in _WITH_EXCEPTION and row.exception else ""
        host = hostname or ""
        row.attempts = ((at, kind_name, host, pid, row.retries, exc[: attempts.EXCEPTION_CHARS]),)
    return row


def group_row_from_event(event: dict[str, Any]) -> TaskRow:
    """The worker hook's GROUP_EVENT: a task's group id, and nothing about its state.

    The row is PENDING with no state time, the lowest of all keys: it only adds `group_id`
    (and a first-seen time) to whatever the task's own events say.
    """
    task_id = event.get("uuid")
    if task_id.__class__ is not str or not 0 < len(task_id) <= MAX_ID:
        raise MalformedEvent("bad_field", "uuid")
    row = TaskRow(clean_text(task_id), states.PENDING, event_time(event))
    row.state_changed_at = None
    row.group_id = _text(event, "group", MAX_ID)
    return row


def _revoke_reason(event: dict[str, Any]) -> str:
    if event.get("expired"):
        return "revoked (expired)"
    if event.get("terminated"):
        signum = event.get("signum")
        signal_text = f", signal {signum}" if isinstance(signum, int | str) else ""
        return clean_text(f"revoked (terminated{signal_text})"[:MAX_NAME])
    return "revoked"


def worker_row_from_event(event: dict[str, Any]) -> WorkerRow:
    hostname = _text(event, "hostname")
    if not hostname:
        raise MalformedEvent("bad_field", "hostname")
    at = event_time(event)
    row = WorkerRow(hostname, WORKER_EVENT_STATUS[event["type"]], at)
    if event["type"] == "worker-offline":
        row.offline_at = at
    else:
        row.last_heartbeat = at
        if event["type"] == "worker-online":
            row.online_at = at
    row.active = _count(event, "active") or 0
    row.processed = _count(event, "processed") or 0
    row.freq = _number(event, "freq")
    row.pid = _count(event, "pid")
    loadavg = event.get("loadavg")
    if isinstance(loadavg, list) and all(
        isinstance(x, int | float) and not isinstance(x, bool) for x in loadavg[:3]
    ):
        row.loadavg = " ".join(f"{float(x):.2f}" for x in loadavg[:3])
    parts = [_text(event, name, 64) for name in ("sw_ident", "sw_ver", "sw_sys")]
    row.software = " ".join(part for part in parts if part) or None
    return row
