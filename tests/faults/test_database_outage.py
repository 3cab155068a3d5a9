"""Row 11 of FAULTS.md and issue 16 item 2: PostgreSQL killed while events flow and operators
act. The ingester waits and writes everything afterwards; the API answers 503 JSON, the console
a page saying so, /readyz 503 naming the database; nothing is published meanwhile."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from celery import Celery

from controlplane import users
from controlplane.services import Services
from controlplane.web import create_app
from tests.conftest import WorkerProcess, add_user, log_in
from tests.faults.conftest import FaultRedis, Ledger, PrivatePostgres, wait_states


def test_row11_postgres_killed_during_ingest_refuses_actions_and_loses_nothing(
    private_postgres: PrivatePostgres,
    fault_redis: FaultRedis,
    probe_workers: Callable[..., WorkerProcess],
    console_factory: Callable[..., Services],
    ingesters: Callable[[Services], object],
    ledger: Ledger,
) -> None:
    services = console_factory(fault_redis.url, private_postgres.new_database())
    queue = services.settings.queues[0]
    ingesters(services)
    probe_workers(fault_redis.url, (queue,), concurrency=4)
    app = create_app(services, {"TESTING": True})
    add_user(services, "op", "operator")
    auth = {"Authorization": f"Bearer {users.create_token(services, 'op')}"}
    api = app.test_client()
    console = app.test_client()
    log_in(console, "op")
    payload = {"name": "faults.record", "kwargs": {"seconds": 0.2}, "queue": queue}

    for _ in range(10):
        sent = api.post("/api/v1/tasks", json=payload, headers=auth)
        assert sent.status_code == 202, sent.get_json()
        ledger.triggered.add(sent.get_json()["task_id"])

    private_postgres.stop("immediate")
    # The fleet goes on without the console: tasks published by someone else while it is down.
    fleet = Celery(broker=fault_redis.url, set_as_current=False)
    try:
        for _ in range(10):
            task_id = str(uuid.uuid4())
            fleet.send_task("faults.record", kwargs={"seconds": 0.1}, queue=queue, task_id=task_id)
            ledger.triggered.add(task_id)
    finally:
        fleet.close()

    refused = api.post("/api/v1/tasks", json=payload, headers=auth)
    assert refused.status_code == 503, refused.get_data(as_text=True)[:500]
    assert refused.get_json()["unavailable"] == "database"
    listed = api.get("/api/v1/queues", headers=auth)
    assert listed.status_code == 503 and listed.get_json()["unavailable"] == "database"
    page = console.get("/tasks")
    assert page.status_code == 503
    assert "database is not answering" in page.get_data(as_text=True)
    ready = api.get("/readyz")
    assert ready.status_code == 503 and "database" in ready.get_json()["problems"]

    ledger.wait_ended(ledger.triggered, timeout=60)  # the workers never needed the console
    private_postgres.start()
    wait_states(services, ledger.triggered, "SUCCESS")
    assert api.get("/readyz").status_code == 200
    assert api.get("/api/v1/queues", headers=auth).status_code == 200
    ledger.tally(services.engine).assert_clean()
