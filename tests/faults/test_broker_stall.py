"""Row 9 of FAULTS.md and issue 16 item 6: redis-server SIGSTOPped (a hang, no reset) while a
task runs, then SIGCONT. No request hangs past its timeout, /metrics says broker_up 0 quickly,
and no healthy worker (or its task) is called lost because the broker went silent."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from controlplane.control.tasks import trigger
from controlplane.processes.scheduler import FleetScheduler
from controlplane.services import Services
from controlplane.web import create_app
from tests.conftest import WorkerProcess, add_user, log_in, wait_for
from tests.faults.conftest import FaultRedis, Ledger, task_row, wait_states

STALL = 10.0  # seconds: more than two missed heartbeats (1 s) plus the grace
REQUEST_LIMIT = 10.0  # seconds any page, API call or scrape may take meanwhile


def test_row9_a_stalled_broker_hangs_no_request_and_loses_no_worker(
    fault_redis: FaultRedis,
    probe_workers: Callable[..., WorkerProcess],
    console_factory: Callable[..., Services],
    ingesters: Callable[[Services], object],
    ledger: Ledger,
    tmp_path: Path,
) -> None:
    services = console_factory(fault_redis.url, sample_interval=0.5)
    queue = services.settings.queues[0]
    ingesters(services)
    scheduler = FleetScheduler(services).start()
    client = create_app(services, {"TESTING": True}).test_client()
    add_user(services, "watcher", "viewer")
    log_in(client, "watcher")
    worker = probe_workers(fault_redis.url, (queue,), extra_args=("--heartbeat-interval", "1"))
    hold = tmp_path / "hold"
    hold.touch()
    try:
        sent = trigger(services, "tester", {"name": "faults.record", "queue": queue,
                                            "kwargs": {"hold": str(hold)}})  # fmt: skip
        task_id = sent.body["task_id"]
        ledger.triggered.add(task_id)
        wait_states(services, {task_id}, "STARTED")

        fault_redis.pause()
        stalled_at = time.monotonic()
        slowest = 0.0
        saw_broker_down = False
        while time.monotonic() - stalled_at < STALL:
            for path in ("/metrics", "/readyz", "/api/v1/queues", "/", "/tasks"):
                started = time.monotonic()
                response = client.get(path)
                slowest = max(slowest, time.monotonic() - started)
                assert response.status_code < 500 or path == "/readyz", (path, response.status)
                if path == "/metrics":
                    saw_broker_down |= "controlplane_broker_up 0" in response.get_data(True)
            time.sleep(0.5)
        assert slowest < REQUEST_LIMIT, f"a request took {slowest:.1f} s during the stall"
        assert saw_broker_down, "/metrics never said broker_up 0 during the stall"
        row = task_row(services, task_id)
        assert row is not None and row.state == "STARTED", row  # not LOST: the worker is fine

        fault_redis.resume()
        time.sleep(3)  # heartbeats flow again; a false verdict would land about now
        row = task_row(services, task_id)
        assert row is not None and row.state == "STARTED", row
        hold.unlink()
        ledger.wait_ended({task_id})
        wait_states(services, {task_id}, "SUCCESS")
        wait_for(lambda: client.get("/readyz").status_code == 200, what="/readyz 200 again")
        assert worker.process.poll() is None
        print(f"row 9: slowest request during a {STALL:.0f} s stall: {slowest:.2f} s")
    finally:
        fault_redis.resume()
        scheduler.stop()
    ledger.tally(services.engine).assert_clean()
