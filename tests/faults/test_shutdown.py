"""Issue 16 item 6 (second half): a worker that shuts down cleanly (it says goodbye with
worker-offline) while a task runs. The task is shown interrupted by that shutdown, with the
worker's own goodbye as the reason, not LOST as if the worker had died."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from controlplane.control.tasks import trigger
from controlplane.services import Services
from tests.conftest import WorkerProcess, wait_for
from tests.faults.conftest import FaultRedis, Ledger, task_row, wait_states


def test_a_clean_shutdown_interrupts_its_running_task_and_does_not_call_it_lost(
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
    worker = probe_workers(fault_redis.url, (queue,), extra_args=("--heartbeat-interval", "1"))
    hold = tmp_path / "hold"
    hold.touch()
    sent = trigger(services, "tester", {"name": "faults.record", "queue": queue,
                                        "kwargs": {"hold": str(hold)}})  # fmt: skip
    task_id = sent.body["task_id"]
    ledger.triggered.add(task_id)
    wait_states(services, {task_id}, "STARTED")

    worker.process.send_signal(signal.SIGQUIT)  # cold shutdown: stop now, but say goodbye
    try:
        worker.process.wait(30)
    except subprocess.TimeoutExpired:
        worker.kill()

    def interrupted() -> bool:
        row = task_row(services, task_id)
        return row is not None and row.state == "UNKNOWN"

    wait_for(interrupted, timeout=30, what="the running task shown as interrupted")
    row = task_row(services, task_id)
    assert row is not None and "interrupted by shutdown" in (row.lost_reason or ""), row
    assert ledger.runs_of(task_id) == ["start"]
    hold.unlink()
    ledger.tally(services.engine).assert_clean()
