"""Rows 1, 2 and 5 of FAULTS.md: a worker SIGKILLed mid-task; a countdown past Redis'
visibility_timeout."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from celery import Celery

from controlplane.control.tasks import retry, trigger
from controlplane.services import Services
from tests.conftest import WorkerProcess, wait_for
from tests.faults.conftest import FaultRedis, Ledger, task_row, wait_states

HEARTBEAT = ("--heartbeat-interval", "1")
VISIBILITY = 3  # seconds: Redis' visibility_timeout for the fleet in row 1


def test_row2_a_task_killed_with_its_worker_is_lost_and_its_rerun_is_a_new_linked_id(
    fault_redis: FaultRedis,
    probe_workers: Callable[..., WorkerProcess],
    console_factory: Callable[..., Services],
    ingesters: Callable[[Services], object],
    ledger: Ledger,
    tmp_path: Path,
) -> None:
    services = console_factory(fault_redis.url)
    queue = services.settings.queues[0]
    ingesters(services)
    worker = probe_workers(fault_redis.url, (queue,), extra_args=HEARTBEAT)
    hold = tmp_path / "hold"
    hold.touch()

    sent = trigger(
        services, "tester", {"name": "faults.record", "kwargs": {"hold": str(hold)}, "queue": queue}
    )
    assert sent.status == 202, sent.body
    task_id = sent.body["task_id"]
    ledger.triggered.add(task_id)
    wait_for(lambda: ledger.runs_of(task_id) == ["start"], what="the task to start")
    wait_for(lambda: (row := task_row(services, task_id)) and row.state == "STARTED")

    worker.kill()
    lost = wait_for(
        lambda: (row := task_row(services, task_id)) and row.state == "LOST" and row,
        timeout=30,
        what="the killed worker's task to be marked LOST",
    )
    assert "heartbeats" in (lost.lost_reason or "")

    hold.unlink()
    probe_workers(fault_redis.url, (queue,), extra_args=HEARTBEAT)
    # the probe task has no route of its own: the retry names the queue, as an operator would
    rerun = retry(services, "tester", task_id, queue=queue)
    assert rerun.status == 202, rerun.body
    new_id = rerun.body["task_id"]
    ledger.triggered.add(new_id)
    assert new_id != task_id
    ledger.wait_ended({new_id})
    wait_for(lambda: (row := task_row(services, new_id)) and row.state == "SUCCESS")
    assert task_row(services, new_id).retry_of == task_id  # type: ignore[union-attr]
    assert ledger.runs_of(task_id) == ["start"]  # killed, never re-run under the old id

    ledger.tally(services.engine).assert_clean()


def test_row1_a_late_acked_task_killed_with_its_worker_runs_again_and_shows_two_deliveries(
    fault_redis: FaultRedis,
    probe_workers: Callable[..., WorkerProcess],
    console_factory: Callable[..., Services],
    ingesters: Callable[[Services], object],
    ledger: Ledger,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Redis hands an unacknowledged message out again after the visibility timeout (1 h by
    # default): shortened for the fleet's workers, as a test shortens every long wait.
    options = f'{{"visibility_timeout": {VISIBILITY}}}'
    monkeypatch.setenv("CONTROLPLANE_BROKER_TRANSPORT_OPTIONS", options)
    services = console_factory(fault_redis.url)
    queue = services.settings.queues[0]
    ingesters(services)
    first = probe_workers(fault_redis.url, (queue,), extra_args=HEARTBEAT)
    hold = tmp_path / "hold"
    hold.touch()
    sent = trigger(services, "tester", {"name": "faults.record_late", "queue": queue,
                                        "kwargs": {"hold": str(hold)}})  # fmt: skip
    assert sent.status == 202, sent.body
    task_id = sent.body["task_id"]
    ledger.triggered.add(task_id)
    wait_for(lambda: ledger.runs_of(task_id) == ["start"], what="the task to start")

    first.kill()
    hold.unlink()
    time.sleep(VISIBILITY + 1)  # a starting worker restores what is older than the timeout
    probe_workers(fault_redis.url, (queue,), extra_args=HEARTBEAT)
    ledger.wait_ended({task_id}, timeout=60)
    assert ledger.runs_of(task_id) == ["start", "start", "end"]
    wait_states(services, {task_id}, "SUCCESS")

    def two_deliveries() -> bool:
        row = task_row(services, task_id)
        return row is not None and row.attempt_summary.deliveries == 2

    wait_for(two_deliveries, timeout=30, what="the console to show 2 deliveries")
    ledger.tally(services.engine).assert_clean()


def test_row5_a_countdown_past_the_visibility_timeout_runs_twice_and_is_flagged(
    fault_redis: FaultRedis,
    probe_workers: Callable[..., WorkerProcess],
    console_factory: Callable[..., Services],
    ingesters: Callable[[Services], object],
    ledger: Ledger,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    options = f'{{"visibility_timeout": {VISIBILITY}}}'
    monkeypatch.setenv("CONTROLPLANE_BROKER_TRANSPORT_OPTIONS", options)
    services = console_factory(fault_redis.url)
    queue = services.settings.queues[0]
    ingesters(services)
    probe_workers(fault_redis.url, (queue,), extra_args=HEARTBEAT)
    fleet = Celery(broker=fault_redis.url, set_as_current=False)
    fleet.conf.broker_transport_options = {"visibility_timeout": VISIBILITY}
    task_id = str(uuid.uuid4())
    try:  # published outside the console (which refuses such a countdown at trigger)
        fleet.send_task("faults.record", queue=queue, task_id=task_id, countdown=3 * VISIBILITY)
    finally:
        fleet.close()
    ledger.triggered.add(task_id)
    time.sleep(VISIBILITY + 1)
    probe_workers(fault_redis.url, (queue,), extra_args=HEARTBEAT)  # restores the message

    wait_for(lambda: ledger.runs_of(task_id).count("end") == 2, timeout=60,
             what="both copies to run")  # fmt: skip

    def flagged() -> bool:
        row = task_row(services, task_id)
        return row is not None and row.attempt_summary.duplicate

    wait_for(flagged, timeout=30, what="the console to flag the duplicate delivery")
    ledger.tally(services.engine).assert_clean()
