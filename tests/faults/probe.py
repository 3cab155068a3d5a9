"""The fault suite's Celery app: worker_tasks plus one task that writes the ground truth.

`faults.record` appends a line per start and per end to the file named by
FAULTS_GROUND_TRUTH (id, pid, host), which only the test reads: the tally compares it with
what was triggered, never with what the console wrote. With `hold`, the task waits while that
file exists, so a test can kill its worker mid-task.
"""

from __future__ import annotations

import json
import os
import socket
import time
from typing import Any

from celery import Task

from worker_tasks import tasks  # noqa: F401 - the demo tasks too
from worker_tasks.app import app

HOLD_LIMIT = 120.0  # seconds a held task waits at most for its flag file to go


def _append(record: dict[str, Any]) -> None:
    path = os.environ.get("FAULTS_GROUND_TRUTH")
    if not path:
        return
    line = (json.dumps(record) + "\n").encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, line)  # one small O_APPEND write: lines never interleave
    finally:
        os.close(descriptor)


def _run(self: Task, hold: str | None, seconds: float) -> dict[str, Any]:
    base = {"id": self.request.id, "pid": os.getpid(), "host": socket.gethostname()}
    _append({**base, "event": "start", "at": time.time()})
    deadline = time.monotonic() + HOLD_LIMIT
    while hold and os.path.exists(hold) and time.monotonic() < deadline:
        time.sleep(0.05)
    if seconds:
        time.sleep(seconds)
    _append({**base, "event": "end", "at": time.time()})
    return {"pid": base["pid"]}


@app.task(bind=True, name="faults.record", acks_late=False)
def record(self: Task, hold: str | None = None, seconds: float = 0.0) -> dict[str, Any]:
    """Write start, wait (for `hold` to vanish, or `seconds`), write end; acked on receipt."""
    return _run(self, hold, seconds)


@app.task(bind=True, name="faults.record_late", acks_late=True, reject_on_worker_lost=True)
def record_late(self: Task, hold: str | None = None, seconds: float = 0.0) -> dict[str, Any]:
    """As `record`, acked when it ends: a worker killed mid-task leaves it to redeliver."""
    return _run(self, hold, seconds)


__all__ = ["app", "record", "record_late"]
