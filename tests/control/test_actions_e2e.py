"""Operator actions end to end with the event ingester running: history feeds retry and bulk."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from controlplane.models import Task
from controlplane.services import Services
from tests.conftest import WorkerProcess, wait_for

FAILS = "worker_tasks.tasks.always_fails"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def task_row(services: Services, task_id: str) -> Task | None:
    with services.transaction() as session:
        return session.get(Task, task_id)


def state_of(services: Services, task_id: str) -> str | None:
    row = task_row(services, task_id)
    return row.state if row else None


def trigger(client: FlaskClient, token: str, body: dict[str, Any]) -> str:
    response = client.post("/api/v1/tasks", json=body, headers=bearer(token))
    assert response.status_code == 202, response.get_json()
    return str(response.get_json()["task_id"])


def test_retry_of_a_failed_task_runs_it_again_with_identical_args_and_links_them(
    client: FlaskClient, services: Services, ingesting: Any, token_for: Callable[[str], str],
    shared_worker: WorkerProcess, shared_queues: tuple[str, ...],
) -> None:  # fmt: skip
    operator = token_for("operator")
    original = trigger(client, operator, {"name": FAILS, "args": ["disk full on /data"],
                                          "queue": shared_queues[0]})  # fmt: skip
    wait_for(lambda: state_of(services, original) == "FAILURE", what="the first failure")
    first = task_row(services, original)
    assert first is not None and "disk full on /data" in (first.exception or "")

    response = client.post(f"/api/v1/tasks/{original}/retry", headers=bearer(operator))
    assert response.status_code == 202, response.get_json()
    retried = response.get_json()["task_id"]
    assert response.get_json()["retry_of"] == original
    wait_for(lambda: state_of(services, retried) == "FAILURE", what="the retry to run")
    second = task_row(services, retried)
    assert second is not None
    assert second.retry_of == original and second.args == first.args
    assert second.exception == first.exception  # same args, same failure

    detail = client.get(f"/api/v1/tasks/{original}", headers=bearer(operator)).get_json()
    assert detail["retried_as"] == [retried]


def test_bulk_retry_of_100_failed_tasks_sends_exactly_100(
    client: FlaskClient, services: Services, ingesting: Any, token_for: Callable[[str], str],
    worker_factory: Callable[..., WorkerProcess], unique: str,
) -> None:  # fmt: skip
    queue = f"bulk-{unique}"
    worker = worker_factory((queue,), concurrency=2)
    operator = token_for("operator")
    originals = [trigger(client, operator, {"name": FAILS, "args": [f"row {i}"], "queue": queue})
                 for i in range(100)]  # fmt: skip

    def failed() -> int:
        with services.transaction() as session:
            query = select(func.count()).select_from(Task)
            return int(session.scalar(query.where(Task.queue == queue, Task.state == "FAILURE")))

    wait_for(lambda: failed() == 100, timeout=60, what="100 failures")
    worker.stop()  # nothing consumes the queue now: the retries stay countable
    body = {"action": "retry", "scope": "filter", "queue": queue,
            "filter": {"state": "FAILURE", "queue": queue}}  # fmt: skip
    dry = client.post(
        "/api/v1/tasks/bulk", json={**body, "dry_run": True}, headers=bearer(operator)
    )
    assert dry.status_code == 200 and dry.get_json()["matched"] == 100
    assert services.broker.depths([queue])[queue].ready == 0

    done = client.post("/api/v1/tasks/bulk", json={**body, "dry_run": False},
                       headers=bearer(operator))  # fmt: skip
    assert done.status_code == 202, done.get_json()
    assert done.get_json()["acted_on"] == 100 and not done.get_json()["skipped"]
    assert services.broker.depths([queue])[queue].ready == 100
    with services.transaction() as session:
        linked = session.scalars(select(Task.retry_of).where(Task.retry_of.is_not(None))).all()
    assert sorted(linked) == sorted(originals)


def test_a_revoked_eta_task_stays_revoked_when_its_worker_restarts(
    client: FlaskClient, services: Services, ingesting: Any, token_for: Callable[[str], str],
    worker_factory: Callable[..., WorkerProcess], unique: str,
) -> None:  # fmt: skip
    """No manual step: the ingester sees the new worker come online and re-sends the revoke."""
    queue = f"eta-{unique}"
    first = worker_factory((queue,))
    operator = token_for("operator")
    eta = datetime.now(UTC) + timedelta(seconds=10)
    task_id = trigger(client, operator, {"name": "worker_tasks.tasks.add", "args": [1, 1],
                                         "queue": queue, "eta": eta.isoformat()})  # fmt: skip
    wait_for(lambda: state_of(services, task_id) == "RECEIVED", what="the worker to hold it")
    revoke = client.post(f"/api/v1/tasks/{task_id}/revoke", json={}, headers=bearer(operator))
    assert revoke.status_code == 202
    first.stop()  # warm shutdown: the ETA message goes back to the broker

    second = worker_factory((queue,))
    wait_for(lambda: datetime.now(UTC) > eta + timedelta(seconds=2), timeout=30, what="the ETA")
    wait_for(lambda: task_id in second.log(), timeout=15, what="the new worker to get the task")
    result = services.celery.AsyncResult(task_id)
    wait_for(lambda: result.state == "REVOKED", timeout=15, what="REVOKED on the new worker")
    assert f"add[{task_id}] succeeded" not in second.log()
