"""Row 10 of FAULTS.md: RabbitMQ closes every connection (of this test's own vhost, so the
machine's other users are untouched). The ingester and the worker reconnect, events land
again, and a revoke sent through the console afterwards still holds."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from controlplane.control.tasks import revoke, trigger
from controlplane.services import Services
from tests.conftest import WorkerProcess, require
from tests.faults.conftest import Ledger, wait_states

COUNTDOWN = 6.0


def rabbitmqctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def vhost() -> Iterator[str]:
    """A vhost of our own on the machine's RabbitMQ (guest may use it); deleted afterwards."""
    name = f"faults-{uuid.uuid4().hex[:8]}"
    try:
        added = rabbitmqctl("add_vhost", name)
    except (OSError, subprocess.TimeoutExpired) as exc:
        require(False, f"rabbitmqctl is not usable here: {exc}")
        raise
    require(added.returncode == 0, f"cannot add a RabbitMQ vhost: {added.stderr.strip()}")
    rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    yield name
    rabbitmqctl("delete_vhost", name)


def test_row10_rabbitmq_drops_every_connection_and_events_and_revokes_work_again(
    vhost: str,
    probe_workers: Callable[..., WorkerProcess],
    console_factory: Callable[..., Services],
    ingesters: Callable[[Services], object],
    ledger: Ledger,
) -> None:
    url = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    services = console_factory(url)
    queue = services.settings.queues[0]
    ingesters(services)
    probe_workers(url, (queue,), extra_args=("--heartbeat-interval", "1"), result_backend="rpc://")
    payload = {"name": "faults.record", "queue": queue}
    before = trigger(services, "tester", payload).body["task_id"]
    ledger.triggered.add(before)
    wait_states(services, {before}, "SUCCESS")

    dropped = rabbitmqctl("close_all_connections", "--vhost", vhost, "fault test row 10")
    assert dropped.returncode == 0, dropped.stderr
    time.sleep(2)  # the clients notice and reconnect

    after = trigger(services, "tester", payload)
    assert after.status == 202, after.body
    ledger.triggered.add(after.body["task_id"])
    wait_states(services, {after.body["task_id"]}, "SUCCESS")  # events flow again

    held = trigger(services, "tester", {**payload, "countdown": COUNTDOWN}).body["task_id"]
    ledger.triggered.add(held)
    wait_states(services, {held}, "RECEIVED")  # the worker holds it until its ETA
    revoked = revoke(services, "tester", held)
    assert revoked.status == 202, revoked.body
    ledger.revoked.add(held)
    time.sleep(COUNTDOWN + 2)  # past its ETA: it would have run by now
    assert ledger.runs_of(held) == []
    ledger.tally(services.engine).assert_clean()
