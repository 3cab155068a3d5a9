"""Row 8 of FAULTS.md and issue 16 item 3: redis-server (no persistence) dies with tasks
queued and comes back empty on the same port. The restart is detected (run id), alerted with
the number that was waiting, counted in /metrics, the queued tasks never seen again are
UNKNOWN with that reason, and a canary task published afterwards completes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from controlplane import users
from controlplane.control.tasks import trigger
from controlplane.processes.scheduler import FleetScheduler
from controlplane.services import Services
from controlplane.web import create_app
from tests.conftest import WorkerProcess, add_user, wait_for
from tests.faults.conftest import FaultRedis, Ledger, task_row, wait_states

QUEUED = 8


def test_row8_a_redis_restart_that_empties_the_queues_is_detected_and_reported(
    fault_redis: FaultRedis,
    probe_workers: Callable[..., WorkerProcess],
    console_factory: Callable[..., Services],
    ingesters: Callable[[Services], object],
    ledger: Ledger,
    tmp_path: Path,
) -> None:
    services = console_factory(fault_redis.url, sample_interval=0.5, leader_lock_ttl=2.0)
    queue = services.settings.queues[0]
    ingesters(services)
    scheduler = FleetScheduler(services).start()
    app = create_app(services, {"TESTING": True})
    add_user(services, "watcher", "viewer")
    auth = {"Authorization": f"Bearer {users.create_token(services, 'watcher')}"}
    client = app.test_client()
    probe_workers(fault_redis.url, (queue,), concurrency=1)
    hold = tmp_path / "hold"
    hold.touch()
    try:

        def send(**kwargs: object) -> str:
            sent = trigger(services, "tester", {"name": "faults.record", "kwargs": kwargs,
                                                "queue": queue})  # fmt: skip
            assert sent.status == 202, sent.body
            task_id: str = sent.body["task_id"]
            ledger.triggered.add(task_id)
            return task_id

        running = send(hold=str(hold))
        wait_for(lambda: ledger.runs_of(running) == ["start"], what="the first task to start")
        queued = [send() for _ in range(QUEUED)]

        def sampled_backlog() -> bool:
            sample = services.state.latest.get()
            return (
                sample is not None
                and sample.queues.get(queue) is not None
                and (sample.queues[queue].backlog >= QUEUED - 1)
            )

        wait_for(sampled_backlog, timeout=30, what="a sample with the queued backlog")

        fault_redis.crash()
        fault_redis.restart()
        hold.unlink()

        def restart_alert() -> dict[str, object] | None:
            body = client.get("/api/v1/alerts", headers=auth).get_json() or {}
            return next((a for a in body.get("alerts", []) if a["alert"] == "broker_restarted"),
                        None)  # fmt: skip

        alert = wait_for(restart_alert, timeout=30, what="the broker_restarted alert")
        assert alert["value"] >= QUEUED - 1, alert
        assert "possibly lost" in str(alert["message"])
        metrics = client.get("/metrics").get_data(as_text=True)
        assert "controlplane_broker_restarts_total 1" in metrics

        canary = send()
        ledger.wait_ended({canary, running}, timeout=60)
        wait_states(services, {canary}, "SUCCESS")
        ran = {task_id for task_id in queued if ledger.runs_of(task_id)}
        vanished = set(queued) - ran
        assert vanished, "the restart lost nothing: the test did not inject its fault"
        wait_states(services, vanished, "UNKNOWN")
        for task_id in vanished:
            reason = task_row(services, task_id).lost_reason  # type: ignore[union-attr]
            assert reason and "broker restarted" in reason, reason
        print(f"row 8: {len(vanished)} queued task(s) vanished with the restart, all UNKNOWN")
    finally:
        scheduler.stop()
    ledger.tally(services.engine).assert_clean()
