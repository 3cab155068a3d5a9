"""Redelivery with real workers, counted by the attempts record (issue 16 item 7, FAULTS row 5).

What Celery does when a task's process dies (celery 5.7, Redis transport, acks_late):

- pool process SIGKILLed, `task_reject_on_worker_lost=False` (Celery's default, and the demo
  fleet's): WorkerLostError, the message is acknowledged and the task ends FAILURE. No
  redelivery: one delivery.
- pool process SIGKILLed, `task_reject_on_worker_lost=True`: the message is rejected with
  requeue and the same worker (same host, same pid) receives it again, `retries` still 0.
- the whole worker SIGKILLed: its message stays in Redis' unacked set until another worker's
  sweep finds it older than `visibility_timeout` and puts it back; that worker runs it again.

The console must say "delivered 2 times" in the last two cases and nothing in the first.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Any

import pytest
from celery import Celery

from controlplane.broker.embedded import EmbeddedRedis
from controlplane.fleet.task_history import TaskRecord, get_task
from controlplane.services import Services
from tests.conftest import WorkerProcess, wait_for

SLOW = "worker_tasks.tasks.slow"


def client_app(redis_server: EmbeddedRedis) -> Celery:
    app = Celery(broker=redis_server.url, backend=redis_server.url, set_as_current=False)
    app.conf.update(task_serializer="json", accept_content=["json"], task_send_sent_event=True)
    return app


def pool_pid(app: Celery, worker: WorkerProcess, task_id: str) -> int:
    """The pool process running `task_id`, as the worker itself reports it."""
    found: list[int] = []

    def running() -> bool:
        active = app.control.inspect([worker.hostname], timeout=1).active() or {}
        found[:] = [t["worker_pid"] for t in active.get(worker.hostname, []) if t["id"] == task_id]
        return bool(found) and bool(found[0])

    wait_for(running, timeout=30, what="the task to run in a pool process")
    return found[0]


def stored(services: Services, task_id: str, ok: Callable[[TaskRecord], bool]) -> TaskRecord:
    seen: list[Any] = [None]

    def landed() -> bool:
        seen[0] = get_task(services, task_id)
        return seen[0] is not None and ok(seen[0])

    wait_for(landed, timeout=45, what=f"the ingested row of {task_id} ({seen[0]!r})")
    return seen[0]


def test_a_pool_process_killed_with_reject_on_worker_lost_is_delivered_twice(
    services: Services,
    ingesting: Any,
    redis_server: EmbeddedRedis,
    worker_factory: Callable[..., WorkerProcess],
    monkeypatch: pytest.MonkeyPatch,
    unique: str,
) -> None:
    monkeypatch.setenv("WORKER_TASKS_REJECT_ON_WORKER_LOST", "1")
    queue = f"redeliver-{unique}"
    worker = worker_factory((queue,), concurrency=1)
    app = client_app(redis_server)
    try:
        task_id = app.send_task(SLOW, kwargs={"seconds": 2}, queue=queue).id
        os.kill(pool_pid(app, worker, task_id), signal.SIGKILL)
        row = stored(
            services, task_id, lambda t: t.state == "SUCCESS" and t.attempt_summary.deliveries > 1
        )
    finally:
        app.close()
    record = row.attempt_summary
    assert (record.deliveries, record.duplicate, row.retries) == (2, True, 0)
    received = [a for a in record.attempts if a.kind == "received"]
    assert {(a.host, a.pid) for a in received} == {(worker.hostname, worker.process.pid)}
    assert "rejected" in [a.kind for a in record.attempts]


def test_a_pool_process_killed_under_celery_s_defaults_is_one_failed_delivery(
    services: Services,
    ingesting: Any,
    redis_server: EmbeddedRedis,
    worker_factory: Callable[..., WorkerProcess],
    unique: str,
) -> None:
    """acks_late without reject_on_worker_lost: Celery acknowledges and fails the task."""
    queue = f"lost-{unique}"
    worker = worker_factory((queue,), concurrency=1)
    app = client_app(redis_server)
    try:
        task_id = app.send_task(SLOW, kwargs={"seconds": 2}, queue=queue).id
        os.kill(pool_pid(app, worker, task_id), signal.SIGKILL)
        row = stored(services, task_id, lambda t: t.state == "FAILURE")
    finally:
        app.close()
    record = row.attempt_summary
    assert (record.deliveries, record.duplicate) == (1, False)
    # the event's exception is billiard's wrapper ("ExceptionWithTraceback()"); the
    # traceback names the real one
    assert "WorkerLostError" in (row.traceback or "")
    assert [a.kind for a in record.attempts] == ["received", "started", "failed"]


def test_a_killed_worker_s_task_comes_back_after_the_visibility_timeout_on_another_worker(
    services: Services,
    ingesting: Any,
    redis_server: EmbeddedRedis,
    worker_factory: Callable[..., WorkerProcess],
    monkeypatch: pytest.MonkeyPatch,
    unique: str,
) -> None:
    queue = f"visibility-{unique}"
    first = worker_factory((queue,), concurrency=1)
    app = client_app(redis_server)
    try:
        task_id = app.send_task(SLOW, kwargs={"seconds": 2}, queue=queue).id
        pool_pid(app, first, task_id)
        first.kill()  # the whole worker: its message stays unacknowledged in Redis
        monkeypatch.setenv(
            "CONTROLPLANE_BROKER_TRANSPORT_OPTIONS",
            '{"visibility_timeout": 4, "unacked_restore_interval": 1, '
            '"unacked_restore_throttle": 1}',
        )
        second = worker_factory((queue,), concurrency=1)
        row = stored(services, task_id, lambda t: t.state == "SUCCESS")
    finally:
        app.close()
    record = row.attempt_summary
    assert record.deliveries >= 2 and record.duplicate and row.retries == 0
    hosts = [a.host for a in record.attempts if a.kind == "received"]
    assert hosts[0] == first.hostname and second.hostname in hosts
