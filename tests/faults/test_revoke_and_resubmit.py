"""Rows 3 and 21 of FAULTS.md: a revoke while every worker is down still holds when a worker
starts; a trigger POSTed twice at once with one Idempotency-Key runs once."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from celery import Celery

from controlplane import users
from controlplane.control.tasks import revoke, trigger
from controlplane.processes.ingest import start_worker_mailbox
from controlplane.services import Services
from controlplane.web import create_app
from tests.conftest import WorkerProcess, add_user, wait_for
from tests.faults.conftest import FaultRedis, Ledger, wait_states


def test_row3_a_task_revoked_while_all_workers_are_down_never_starts(
    fault_redis: FaultRedis,
    probe_workers: Callable[..., WorkerProcess],
    console_factory: Callable[..., Services],
    ingesters: Callable[[Services], object],
    ledger: Ledger,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = console_factory(fault_redis.url)
    queue = services.settings.queues[0]
    ingesters(services)
    mailbox = start_worker_mailbox(services)  # what a starting worker asks (worker_hook)
    monkeypatch.setenv("CONTROLPLANE_WORKER_HOOK", "1")
    payload = {"name": "faults.record", "queue": queue}
    doomed = trigger(services, "tester", payload).body["task_id"]
    kept = trigger(services, "tester", payload).body["task_id"]
    ledger.triggered |= {doomed, kept}
    ledger.revoked.add(doomed)
    revoked = revoke(services, "tester", doomed)
    assert revoked.status == 202, revoked.body

    worker = probe_workers(fault_redis.url, (queue,))  # the first worker comes online now
    ledger.wait_ended({kept})
    wait_states(services, {kept}, "SUCCESS")
    app = Celery(broker=fault_redis.url, set_as_current=False)
    try:

        def worker_knows() -> bool:
            replies = app.control.inspect([worker.hostname], timeout=1).revoked() or {}
            return doomed in replies.get(worker.hostname, [])

        wait_for(worker_knows, timeout=30, what="the revocation re-sent to the new worker")
    finally:
        app.close()
    mailbox.stop()
    assert ledger.runs_of(doomed) == []
    assert "revoked task id(s) will not run" in worker.log()
    ledger.tally(services.engine).assert_clean()


def test_row21_a_trigger_posted_twice_at_once_with_one_key_runs_once(
    fault_redis: FaultRedis,
    probe_workers: Callable[..., WorkerProcess],
    console_factory: Callable[..., Services],
    ingesters: Callable[[Services], object],
    ledger: Ledger,
) -> None:
    services = console_factory(fault_redis.url)
    queue = services.settings.queues[0]
    ingesters(services)
    probe_workers(fault_redis.url, (queue,))
    app = create_app(services, {"TESTING": True})
    add_user(services, "op", "operator")
    headers = {"Authorization": f"Bearer {users.create_token(services, 'op')}",
               "Idempotency-Key": "double-click-1"}  # fmt: skip
    answers: list[tuple[int, dict[str, object]]] = []
    start = threading.Barrier(2)

    def post() -> None:
        client = app.test_client()
        start.wait()
        response = client.post("/api/v1/tasks", json={"name": "faults.record", "queue": queue},
                               headers=headers)  # fmt: skip
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    published = {body["task_id"] for status, body in answers if status == 202}
    assert len(published) == 1, answers  # one 202 (maybe replayed), or one 202 and one 409
    assert all(status in (202, 409) for status, _ in answers), answers
    ledger.triggered |= {str(task_id) for task_id in published}
    ledger.wait_ended(ledger.triggered)
    ledger.tally(services.engine).assert_clean()  # the test's ground truth: one run, no other
