"""Sample tasks: the shapes real fleets run (seeds 001-003)."""

from __future__ import annotations

import time
from typing import Any

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded

from worker_tasks.app import app


class TransientError(Exception):
    """A failure worth retrying (a timeout talking to a flaky dependency)."""


@app.task
def add(x: float, y: float) -> float:
    return x + y


@app.task(bind=True)
def csv_batch(self: Task, rows: int = 100, delay: float = 0.01) -> dict[str, int]:
    """A CSV-style batch job that reports progress as PROGRESS meta {current, total}."""
    processed = 0
    for index in range(rows):
        time.sleep(delay)
        processed += 1
        if index % 10 == 0 or index == rows - 1:
            self.update_state(state="PROGRESS", meta={"current": index + 1, "total": rows})
    return {"rows": processed}


@app.task(
    bind=True,
    autoretry_for=(TransientError,),
    retry_backoff=0.2,
    retry_backoff_max=2,
    retry_jitter=True,
    max_retries=5,
)
def flaky(self: Task, fail_times: int = 2) -> dict[str, int]:
    """Fails `fail_times` times with a transient error, then succeeds (backoff with jitter)."""
    if self.request.retries < fail_times:
        raise TransientError(f"attempt {self.request.retries + 1} of {fail_times + 1} failed")
    return {"attempts": self.request.retries + 1}


@app.task
def always_fails(message: str = "this task always fails") -> None:
    raise ValueError(message)


@app.task(soft_time_limit=60, time_limit=65)
def slow(seconds: float = 5.0) -> dict[str, Any]:
    """Sleeps; stops cleanly at the soft time limit, is killed at the hard one."""
    started = time.monotonic()
    try:
        while time.monotonic() - started < seconds:
            time.sleep(0.05)
    except SoftTimeLimitExceeded:
        return {"slept": round(time.monotonic() - started, 2), "stopped": "soft time limit"}
    return {"slept": round(time.monotonic() - started, 2)}


@app.task
def total(values: list[float]) -> float:
    """A chord's callback: the sum of its header's results."""
    return sum(values)
