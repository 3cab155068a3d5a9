"""Row 4 of FAULTS.md: revoke, then restart every worker (no statedb). The workers forget their
revocations; the console re-sends them (worker_hook at start, worker-online afterwards), so
neither the ETA tasks a worker held nor the tasks queued where nobody consumed ever run.

Two ways to stop them: a warm shutdown (the held ETA messages go back to the queue at once)
and SIGKILL (Redis hands the unacknowledged messages out again after its visibility timeout,
shortened here, as every long wait in the suite is)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from celery import Celery

from controlplane import users
from controlplane.processes.ingest import start_worker_mailbox
from controlplane.services import Services
from controlplane.web import create_app
from tests.conftest import WorkerProcess, add_user, wait_for
from tests.faults.conftest import FaultRedis, Ledger, wait_states

COUNTDOWN = 10.0  # seconds: long enough to revoke and (warm) restart every worker before it
WORKERS = 2
VISIBILITY = 12  # seconds, SIGKILL only: past the countdown, so nothing is handed out twice
# restore sweeps every second; a worker killed while it holds the sweep's mutex would
# otherwise block every sweep for the mutex's 5 minutes
KILLED_OPTIONS = {"visibility_timeout": VISIBILITY, "unacked_restore_interval": 1,
                  "unacked_restore_throttle": 1, "unacked_mutex_expire": 2}  # fmt: skip


@pytest.mark.parametrize("stop", ["warm", "kill"])
def test_row4_revoked_tasks_stay_revoked_when_every_worker_restarts(
    stop: str,
    fault_redis: FaultRedis,
    probe_workers: Callable[..., WorkerProcess],
    console_factory: Callable[..., Services],
    ingesters: Callable[[Services], object],
    ledger: Ledger,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if stop == "kill":
        monkeypatch.setenv("CONTROLPLANE_BROKER_TRANSPORT_OPTIONS", json.dumps(KILLED_OPTIONS))
    services = console_factory(fault_redis.url)
    consumed = services.settings.queues[0]
    idle = f"{consumed}-idle"  # no worker consumes it until the restart
    ingesters(services)
    mailbox = start_worker_mailbox(services)  # what a starting worker asks (worker_hook)
    monkeypatch.setenv("CONTROLPLANE_WORKER_HOOK", "1")
    client = create_app(services, {"TESTING": True}).test_client()
    add_user(services, "op", "operator")
    auth = {"Authorization": f"Bearer {users.create_token(services, 'op')}"}
    try:
        first = [probe_workers(fault_redis.url, (consumed,)) for _ in range(WORKERS)]

        def send(queue: str, **options: object) -> str:
            body = {"name": "faults.record", "queue": queue, **options}
            response = client.post("/api/v1/tasks", json=body, headers=auth)
            assert response.status_code == 202, response.get_json()
            task_id = str(response.get_json()["task_id"])
            ledger.triggered.add(task_id)
            return task_id

        held = [send(consumed, countdown=COUNTDOWN) for _ in range(4)]
        queued = [send(idle) for _ in range(2)]
        wait_states(services, set(held), "RECEIVED", timeout=30)  # in the workers' memory
        doomed = {*held[:3], queued[0]}
        kept = {held[3], queued[1]}
        for task_id in sorted(doomed):
            response = client.post(f"/api/v1/tasks/{task_id}/revoke", json={}, headers=auth)
            assert response.status_code == 202, response.get_json()
            ledger.revoked.add(task_id)

        for worker in first:
            if stop == "warm":
                worker.stop()  # the held ETA messages go back to the queue at once
            else:
                worker.kill()  # they come back after the visibility timeout
            assert worker.process.returncode is not None
        second = [probe_workers(fault_redis.url, (consumed, idle)) for _ in range(WORKERS)]

        ledger.wait_ended(kept, timeout=VISIBILITY + 30)  # the controls ran, after their ETA
        wait_states(services, kept, "SUCCESS")
        wait_states(services, doomed, "REVOKED", timeout=VISIBILITY + 30)
        app = Celery(broker=fault_redis.url, set_as_current=False)
        try:

            def every_worker_knows() -> bool:
                hosts = [worker.hostname for worker in second]
                replies = app.control.inspect(hosts, timeout=1).revoked() or {}
                return all(doomed <= set(replies.get(host, [])) for host in hosts)

            wait_for(every_worker_knows, timeout=30, what="the revocations re-sent to every worker")
        finally:
            app.close()
    finally:
        mailbox.stop()
    for task_id in doomed:
        assert ledger.runs_of(task_id) == [], task_id
    ledger.tally(services.engine).assert_clean()
