"""Row 13 of FAULTS.md: SQLite with the ingester writing while eight threads trigger through
the API and read pages. No request answers 500 ("database is locked" would be 503 at worst),
and every task triggered runs once and ends in the console."""

from __future__ import annotations

import threading
from collections.abc import Callable

from controlplane import users
from controlplane.services import Services
from controlplane.web import create_app
from tests.conftest import WorkerProcess, add_user
from tests.faults.conftest import FaultRedis, Ledger, wait_states

THREADS = 8
EACH = 8


def test_row13_sqlite_under_concurrent_ingest_and_ui_writes_never_answers_500(
    fault_redis: FaultRedis,
    probe_workers: Callable[..., WorkerProcess],
    console_factory: Callable[..., Services],
    ingesters: Callable[[Services], object],
    ledger: Ledger,
) -> None:
    services = console_factory(fault_redis.url)
    queue = services.settings.queues[0]
    ingesters(services)
    probe_workers(fault_redis.url, (queue,), concurrency=4)
    app = create_app(services, {"TESTING": True})
    add_user(services, "op", "operator")
    auth = {"Authorization": f"Bearer {users.create_token(services, 'op')}"}
    statuses: list[tuple[str, int]] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def hammer() -> None:
        client = app.test_client()
        start.wait()
        for _ in range(EACH):
            sent = client.post("/api/v1/tasks", json={"name": "faults.record", "queue": queue},
                               headers=auth)  # fmt: skip
            listed = client.get("/api/v1/tasks?limit=20", headers=auth)
            with lock:
                statuses.extend([("POST", sent.status_code), ("GET", listed.status_code)])
                if sent.status_code == 202:
                    ledger.triggered.add(sent.get_json()["task_id"])

    threads = [threading.Thread(target=hammer) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    errors = [entry for entry in statuses if entry[1] >= 500]
    assert not errors, errors
    assert len(ledger.triggered) == THREADS * EACH
    ledger.wait_ended(ledger.triggered, timeout=90)
    wait_states(services, ledger.triggered, "SUCCESS", timeout=60)
    ledger.tally(services.engine).assert_clean()
