"""Issue 15 items 2, 4 and 5: a trigger or a retry goes where the fleet's Celery routes it.

worker_tasks routes csv_batch to `reports` and slow to `slow`; everything else goes to its
task_default_queue, `default`. The module's worker consumes another queue, so what the console
publishes stays in the broker to be looked at (and is watched through MONITOR as it happens).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient
from sqlalchemy import select

from controlplane.clock import utcnow
from controlplane.fleet.inspection import refresh_worker
from controlplane.models import Action, Task
from controlplane.services import Services
from tests.conftest import WorkerProcess
from tests.control.safety.broker_watch import BrokerWatch
from tests.control.safety.conftest import worker_still_works

TASKS = "worker_tasks.tasks."
ROUTED = ("reports", "slow", "default")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def routed_queues_emptied(redis_server: Any) -> Iterator[redis.Redis]:
    """The fleet's routed queues on this module's broker, emptied before and after."""
    raw = redis.Redis.from_url(redis_server.url)
    raw.delete(*ROUTED)
    yield raw
    raw.delete(*ROUTED)
    raw.close()


def stored_failure(services: Services, task_id: str, name: str, **columns: Any) -> None:
    now = utcnow()
    with services.transaction() as session:
        session.add(Task(task_id=task_id, name=name, state="FAILURE", args="[1, 2]", kwargs="{}",
                         first_seen_at=now, updated_at=now, retries=0, args_incomplete=False,
                         **columns))  # fmt: skip


def test_trigger_without_a_queue_goes_to_the_tasks_celery_route(
    client: FlaskClient, services: Services, token_for: Callable[[str], str],
    fleet_worker: WorkerProcess, redis_server: Any, routed_queues_emptied: redis.Redis,
) -> None:  # fmt: skip
    operator = token_for("operator")
    with BrokerWatch(redis_server.url) as watch:
        answers = {
            name: client.post("/api/v1/tasks", json={"name": TASKS + name, "kwargs": kwargs},
                              headers=bearer(operator))
            for name, kwargs in (("csv_batch", {"rows": 1}), ("slow", {"seconds": 0}),
                                 ("add", {"x": 1, "y": 2}))
        }  # fmt: skip
    for response in answers.values():
        assert response.status_code == 202, response.get_json()
    assert watch.pushes() == ["reports", "slow", "default"]
    assert {name: r.get_json()["route"]["reason"] for name, r in answers.items()} == {
        "csv_batch": "task_routes", "slow": "task_routes", "add": "default"}  # fmt: skip
    assert "task_default_queue" in answers["add"].get_json()["route"]["explanation"]
    assert [routed_queues_emptied.llen(q) for q in ROUTED] == [1, 1, 1]


def test_only_a_typed_queue_overrides_the_route(
    client: FlaskClient, services: Services, token_for: Callable[[str], str],
    fleet_worker: WorkerProcess, work_queue: str, redis_server: Any,
    routed_queues_emptied: redis.Redis,
) -> None:  # fmt: skip
    operator = token_for("operator")
    with BrokerWatch(redis_server.url) as watch:
        body = {"name": TASKS + "csv_batch", "queue": work_queue, "kwargs": {"rows": 1, "delay": 0}}
        typed = client.post("/api/v1/tasks", json=body, headers=bearer(operator))
    assert typed.status_code == 202, typed.get_json()
    assert typed.get_json()["route"]["reason"] == "typed" and watch.pushes() == [work_queue]
    result = services.celery.AsyncResult(typed.get_json()["task_id"])
    assert result.get(timeout=30) == {"rows": 1}


def test_the_trigger_form_shows_each_route_and_sends_to_it(
    client_as: Callable[[str], FlaskClient], services: Services, fleet_worker: WorkerProcess,
    redis_server: Any, routed_queues_emptied: redis.Redis,
) -> None:  # fmt: skip
    operator = client_as("operator")
    # The form publishes nothing: it shows what the scheduler's inspection heard last (here,
    # before any inspection, nothing: tests/web/test_task_names_get.py watches the broker).
    assert "No worker has reported its tasks yet" in operator.get("/trigger").get_data(as_text=True)
    refresh_worker(services, fleet_worker.hostname)
    with BrokerWatch(redis_server.url) as looking:
        page = operator.get("/trigger").get_data(as_text=True)
    # a GET never asks the workers (their own events, heartbeats included, may go by meanwhile)
    asked = [c for c in looking.commands if c[0].upper() == "PUBLISH" and "celeryev" not in c[1]]
    assert not asked
    table = page[page.index('id="trigger-routes"') :]
    row = table[table.index(f'data-task="{TASKS}csv_batch"') :].split("</tr>")[0]
    assert "reports: routed by the fleet&#39;s task_routes" in row
    row = table[table.index(f'data-task="{TASKS}add"') :].split("</tr>")[0]
    assert "default: no task_routes entry matches, so the fleet app&#39;s task_default_queue" in row
    assert 'id="trigger-queue" value=""' in page  # nothing preselected: the route applies
    with BrokerWatch(redis_server.url) as watch:
        sent = operator.post("/trigger", data={
            "csrf_token": operator.csrf_token,  # type: ignore[attr-defined]
            "name": TASKS + "slow", "kwargs": '{"seconds": 0}', "queue": ""})  # fmt: skip
    assert sent.status_code == 303
    assert watch.pushes() == ["slow"]


# ---- item 4: the new task id is the action's target -----------------------------------------


def test_a_trigger_is_logged_against_the_new_task_and_shown_on_its_page(
    client_as: Callable[[str], FlaskClient], services: Services, fleet_worker: WorkerProcess,
    work_queue: str,
) -> None:  # fmt: skip
    operator = client_as("operator")
    response = operator.post("/trigger", data={
        "csrf_token": operator.csrf_token,  # type: ignore[attr-defined]
        "name": TASKS + "add", "args": "[1, 2]", "queue": work_queue})  # fmt: skip
    task_id = response.headers["Location"].rsplit("/", 1)[1]
    with services.transaction() as session:
        [logged] = session.scalars(select(Action).where(Action.action == "trigger")).all()
    assert logged.target == task_id and logged.outcome == "ok"
    page = operator.get(f"/tasks/{task_id}").get_data(as_text=True)
    actions = page[page.index("Actions on this task") :]
    assert "trigger" in actions and operator.username in actions  # type: ignore[attr-defined]
    assert services.celery.AsyncResult(task_id).get(timeout=30) == 3


# ---- item 5: retry follows the trigger's policy and the task's route --------------------------


def test_retry_refuses_celerys_own_tasks_and_publishes_nothing(
    client: FlaskClient, services: Services, token_for: Callable[[str], str],
    fleet_worker: WorkerProcess, work_queue: str, redis_server: Any, unique: str,
) -> None:  # fmt: skip
    stored_failure(services, f"cleanup-{unique}", "celery.backend_cleanup", queue=work_queue)
    stored_failure(services, f"ghost-{unique}", "proj.never.registered", queue=work_queue)
    operator = token_for("operator")
    with BrokerWatch(redis_server.url) as watch:
        own = client.post(f"/api/v1/tasks/cleanup-{unique}/retry", headers=bearer(operator))
        ghost = client.post(f"/api/v1/tasks/ghost-{unique}/retry", headers=bearer(operator))
        bulk = client.post("/api/v1/tasks/bulk", json={
            "action": "retry", "scope": "selected", "dry_run": False,
            "ids": [f"cleanup-{unique}", f"ghost-{unique}"]}, headers=bearer(operator))  # fmt: skip
    assert own.status_code == 400 and "Celery's own tasks" in own.get_json()["error"]
    assert ghost.status_code == 400 and "unknown task" in ghost.get_json()["error"]
    assert bulk.get_json().get("acted_on", 0) == 0
    assert watch.pushes() == []
    worker_still_works(services, fleet_worker, work_queue)


def test_retry_publishes_to_the_tasks_route_not_to_what_an_event_claimed(
    client: FlaskClient, client_as: Callable[[str], FlaskClient], services: Services,
    token_for: Callable[[str], str],
    fleet_worker: WorkerProcess, work_queue: str, redis_server: Any, unique: str,
    routed_queues_emptied: redis.Redis,
) -> None:  # fmt: skip
    stored_failure(services, f"claimed-{unique}", TASKS + "add", queue="unacked",
                   exchange="evil", routing_key="unacked")  # fmt: skip
    operator = token_for("operator")
    with BrokerWatch(redis_server.url) as watch:
        routed = client.post(f"/api/v1/tasks/claimed-{unique}/retry", headers=bearer(operator))
        typed = client.post(f"/api/v1/tasks/claimed-{unique}/retry", json={"queue": work_queue},
                            headers=bearer(operator))  # fmt: skip
        reserved = client.post(f"/api/v1/tasks/claimed-{unique}/retry", json={"queue": "unacked"},
                               headers=bearer(operator))  # fmt: skip
    assert routed.status_code == 202 and routed.get_json()["queue"] == "default"
    assert typed.status_code == 202 and typed.get_json()["queue"] == work_queue
    assert reserved.status_code == 400
    assert watch.pushes() == ["default", work_queue]
    assert services.celery.AsyncResult(typed.get_json()["task_id"]).get(timeout=30) == 3
    assert routed_queues_emptied.type("unacked") in (b"none", b"hash")
    # the task page says where a retry goes: the route, not the queue its events claimed
    page = client_as("operator").get(f"/tasks/claimed-{unique}").get_data(as_text=True)
    assert 'id="retry-route">goes to default:' in page and ", to default?" in page
    worker_still_works(services, fleet_worker, work_queue)
