"""Issue 16 item 1: a trigger while Redis hangs (SIGSTOP) answers 503 naming the broker within
its deadline, the action log says "not published", and when the broker wakes the message that
may still land never runs (its id was revoked first)."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import select

from controlplane import users
from controlplane.control import list_actions
from controlplane.models import Revocation
from controlplane.services import Services
from controlplane.web import create_app
from tests.conftest import WorkerProcess, add_user
from tests.faults.conftest import FaultRedis, Ledger, wait_states

DEADLINE = 2.0


def test_a_trigger_while_the_broker_hangs_is_503_in_time_and_never_runs_later(
    fault_redis: FaultRedis,
    probe_workers: Callable[..., WorkerProcess],
    console_factory: Callable[..., Services],
    ingesters: Callable[[Services], object],
    ledger: Ledger,
) -> None:
    services = console_factory(fault_redis.url, broker_deadline=DEADLINE)
    queue = services.settings.queues[0]
    ingesters(services)
    probe_workers(fault_redis.url, (queue,))
    app = create_app(services, {"TESTING": True})
    add_user(services, "op", "operator")
    auth = {"Authorization": f"Bearer {users.create_token(services, 'op')}"}
    client = app.test_client()
    payload = {"name": "faults.record", "queue": queue}
    warm = client.post("/api/v1/tasks", json=payload, headers=auth)  # the connection is open
    assert warm.status_code == 202, warm.get_json()
    ledger.triggered.add(warm.get_json()["task_id"])
    wait_states(services, set(ledger.triggered), "SUCCESS")

    fault_redis.pause()
    try:
        started = time.monotonic()
        refused = client.post("/api/v1/tasks", json=payload, headers=auth)
        took = time.monotonic() - started
    finally:
        fault_redis.resume()
    assert refused.status_code == 503, refused.get_json()
    assert (
        "broker" in refused.get_json()["error"] and "not published" in refused.get_json()["error"]
    )
    assert took < DEADLINE + 3, f"the request took {took:.1f} s"
    logged = list_actions(services, {"action": "trigger", "outcome": "error"}).rows
    assert len(logged) == 1 and "not published" in (logged[0].error or "")
    with services.transaction() as session:
        revoked = set(session.scalars(select(Revocation.task_id)))
    assert len(revoked) == 1, revoked
    ledger.revoked |= revoked  # published late or not at all: it must never run
    ledger.triggered |= revoked

    after = client.post("/api/v1/tasks", json=payload, headers=auth)  # the broker is back
    assert after.status_code == 202, after.get_json()
    ledger.triggered.add(after.get_json()["task_id"])
    ledger.wait_ended({after.get_json()["task_id"]})
    time.sleep(2)  # a late publish, had it run, would have run by now (it is ahead in the queue)
    ledger.tally(services.engine).assert_clean()
    print(f"item 1: 503 after {took:.1f} s with a {DEADLINE:g} s deadline")
