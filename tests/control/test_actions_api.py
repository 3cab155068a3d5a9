"""Operator actions through the JSON API against a real worker and the private redis-server."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from controlplane.fleet.inspection import refresh_worker
from controlplane.models import Action, Revocation, Task
from controlplane.services import Services
from tests.conftest import WorkerProcess, wait_for

ADD = "worker_tasks.tasks.add"


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def post(client: FlaskClient, path: str, token: str, body: Any = None, **headers: str) -> Any:
    return client.post(path, json=body, headers=bearer(token, **headers))


def depth(services: Services, queue: str) -> int:
    return services.broker.depths([queue])[queue].ready


def actions_of(services: Services, **where: Any) -> list[Action]:
    with services.transaction() as session:
        query = select(Action).order_by(Action.id)
        for key, value in where.items():
            query = query.where(getattr(Action, key) == value)
        return list(session.scalars(query))


@pytest.fixture
def operator(token_for: Callable[[str], str]) -> str:
    return token_for("operator")


@pytest.fixture
def idle_queue(unique: str) -> str:
    """A queue no worker consumes: what is sent there stays countable."""
    return f"idle-{unique}"


def test_trigger_add_runs_and_the_action_log_names_the_actor(
    client: FlaskClient,
    services: Services,
    operator: str,
    shared_worker: WorkerProcess,
    shared_queues: tuple[str, ...],
) -> None:
    response = post(
        client,
        "/api/v1/tasks",
        operator,
        {"name": ADD, "args": [20, 22], "queue": shared_queues[0]},
    )
    assert response.status_code == 202, response.get_json()
    task_id = response.get_json()["task_id"]
    assert services.celery.AsyncResult(task_id).get(timeout=20) == 42

    # in history at once, and in the action log with who did it
    detail = client.get(f"/api/v1/tasks/{task_id}", headers=bearer(operator)).get_json()
    assert detail["task_id"] == task_id and detail["name"] == ADD
    [logged] = actions_of(services, action="trigger", target=task_id)  # the new task
    assert logged.outcome == "ok" and logged.actor.startswith("api-operator-")
    listed = client.get("/api/v1/actions?action=trigger", headers=bearer(operator)).get_json()
    assert listed["actions"][0]["actor"] == logged.actor


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"name": ADD, "args": {"x": 1}}, 400, "args: expected a JSON list"),
        ({"name": ADD, "kwargs": [1, 2]}, 400, "kwargs: expected a JSON object"),
        ({"name": "no.such.task", "args": []}, 400, "unknown task 'no.such.task'"),
        ({"name": ADD, "args": ["x" * 300_000]}, 413, "the limit is"),
        ({"name": ADD, "eta": "2001-01-01T00:00:00Z"}, 400, "in the past"),
        ({"name": ADD, "countdown": 7200}, 400, "visibility_timeout"),
        ({"name": ADD, "countdown": 5, "eta": "2030-01-01T00:00:00Z"}, 400, "not both"),
        ({"name": ADD, "priority": 12}, 400, "priority"),
        ({"name": ADD, "surprise": 1}, 400, "unknown field"),
        (["not", "an", "object"], 400, "JSON object"),
    ],
)
def test_bad_trigger_input_is_refused_logged_and_sends_nothing(
    client: FlaskClient,
    services: Services,
    operator: str,
    shared_worker: WorkerProcess,
    idle_queue: str,
    body: Any,
    status: int,
    words: str,
) -> None:
    if isinstance(body, dict):
        body = {**body, "queue": idle_queue}
    response = post(client, "/api/v1/tasks", operator, body)
    assert response.status_code == status
    assert words in response.get_json()["error"]
    assert depth(services, idle_queue) == 0
    assert actions_of(services, outcome="refused")[-1].error == response.get_json()["error"]


def test_malformed_json_and_pickle_are_refused(
    client: FlaskClient, services: Services, operator: str
) -> None:
    bad = client.post(
        "/api/v1/tasks",
        data=b'{"name": "worker_tasks.tasks.add", "args": [1,',
        headers=bearer(operator, **{"Content-Type": "application/json"}),
    )
    assert bad.status_code == 400 and "not valid JSON" in bad.get_json()["error"]
    pickle = client.post(
        "/api/v1/tasks",
        data=b"\x80\x04\x95",
        headers=bearer(operator, **{"Content-Type": "application/x-python-serialize"}),
    )
    assert pickle.status_code == 415 and "only application/json" in pickle.get_json()["error"]
    assert [a.outcome for a in actions_of(services, action="trigger")] == ["refused", "refused"]


def test_unknown_task_ids_get_404(client: FlaskClient, operator: str) -> None:
    assert client.get("/api/v1/tasks/nope", headers=bearer(operator)).status_code == 404
    assert post(client, "/api/v1/tasks/nope/retry", operator).status_code == 404
    assert post(client, "/api/v1/tasks/nope/revoke", operator, {}).status_code == 404


def test_idempotency_key_publishes_once_and_replays_the_first_answer(
    client: FlaskClient,
    services: Services,
    operator: str,
    shared_worker: WorkerProcess,
    idle_queue: str,
) -> None:
    body = {"name": ADD, "args": [1, 1], "queue": idle_queue}
    first = post(client, "/api/v1/tasks", operator, body, **{"Idempotency-Key": "k-123"})
    second = post(client, "/api/v1/tasks", operator, body, **{"Idempotency-Key": "k-123"})
    assert first.status_code == second.status_code == 202
    assert first.get_json()["task_id"] == second.get_json()["task_id"]
    assert second.get_json()["idempotent_replay"] is True
    assert depth(services, idle_queue) == 1


def test_viewer_token_gets_403_on_every_state_changing_endpoint(
    client: FlaskClient, token_for: Callable[[str], str], services: Services, idle_queue: str
) -> None:
    viewer = token_for("viewer")
    operator_only = [
        ("/api/v1/tasks", {"name": ADD, "queue": idle_queue}),
        ("/api/v1/tasks/some-id/retry", {}),
        ("/api/v1/tasks/some-id/revoke", {}),
        ("/api/v1/tasks/bulk", {"action": "retry", "dry_run": True}),
    ]
    admin_only = [
        (f"/api/v1/queues/{idle_queue}/purge", {"confirm": idle_queue}),
        ("/api/v1/workers/w@h/pool", {"delta": 1}),
        ("/api/v1/workers/w@h/consumers", {"queue": idle_queue}),
        (f"/api/v1/workers/w@h/consumers/{idle_queue}/cancel", {}),
        ("/api/v1/workers/w@h/shutdown", {}),
    ]
    for path, body in operator_only + admin_only:
        response = post(client, path, viewer, body)
        assert response.status_code == 403, path
    operator = token_for("operator")
    for path, body in admin_only:
        assert post(client, path, operator, body).status_code == 403, path
    assert depth(services, idle_queue) == 0


def test_revoke_a_queued_task_before_a_worker_takes_it_and_it_never_runs(
    client: FlaskClient,
    services: Services,
    operator: str,
    worker_factory: Callable[..., WorkerProcess],
    idle_queue: str,
) -> None:
    # One busy process and no prefetch beyond it: `add` waits in the queue behind `slow`.
    worker = worker_factory((idle_queue,), concurrency=1)
    busy = post(
        client,
        "/api/v1/tasks",
        operator,
        {"name": "worker_tasks.tasks.slow", "kwargs": {"seconds": 3}, "queue": idle_queue},
    )
    busy_result = services.celery.AsyncResult(busy.get_json()["task_id"])
    wait_for(lambda: busy_result.state == "STARTED", timeout=20, what="the worker to be busy")
    sent = post(
        client, "/api/v1/tasks", operator, {"name": ADD, "args": [1, 2], "queue": idle_queue}
    )
    task_id = sent.get_json()["task_id"]
    assert depth(services, idle_queue) == 1
    revoked = post(client, f"/api/v1/tasks/{task_id}/revoke", operator, {})
    assert revoked.status_code == 202, revoked.get_json()
    with services.transaction() as session:
        assert session.get(Revocation, task_id) is not None

    result = services.celery.AsyncResult(task_id)
    wait_for(lambda: result.state == "REVOKED", timeout=20, what="REVOKED")
    assert busy_result.get(timeout=10)["slept"] >= 3
    assert f"add[{task_id}] succeeded" not in worker.log()
    wait_for(lambda: depth(services, idle_queue) == 0, timeout=10, what="an empty queue")


def test_revoke_with_terminate_stops_a_running_slow_task(
    client: FlaskClient,
    services: Services,
    operator: str,
    shared_worker: WorkerProcess,
    shared_queues: tuple[str, ...],
) -> None:
    sent = post(
        client,
        "/api/v1/tasks",
        operator,
        {"name": "worker_tasks.tasks.slow", "kwargs": {"seconds": 30}, "queue": shared_queues[2]},
    )
    task_id = sent.get_json()["task_id"]
    result = services.celery.AsyncResult(task_id)
    wait_for(lambda: result.state == "STARTED", timeout=20, what="the slow task to start")
    response = post(
        client, f"/api/v1/tasks/{task_id}/revoke", operator, {"terminate": True, "signal": "KILL"}
    )
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["signal"] == "SIGKILL"
    wait_for(lambda: result.state == "REVOKED", timeout=20, what="REVOKED after terminate")


def test_purge_needs_the_typed_queue_name(
    client: FlaskClient,
    services: Services,
    token_for: Callable[[str], str],
    idle_queue: str,
    shared_worker: WorkerProcess,
) -> None:
    admin = token_for("admin")
    for _ in range(3):
        post(client, "/api/v1/tasks", admin, {"name": ADD, "args": [1, 1], "queue": idle_queue})
    assert depth(services, idle_queue) == 3
    refused = post(client, f"/api/v1/queues/{idle_queue}/purge", admin, {"confirm": "wrong"})
    assert refused.status_code == 400 and "type the queue name" in refused.get_json()["error"]
    assert depth(services, idle_queue) == 3
    done = post(client, f"/api/v1/queues/{idle_queue}/purge", admin, {"confirm": idle_queue})
    assert done.status_code == 200 and done.get_json()["purged"] == 3
    assert depth(services, idle_queue) == 0


def test_pool_and_consumer_control_on_a_real_worker(
    client: FlaskClient,
    token_for: Callable[[str], str],
    worker_factory: Callable[..., WorkerProcess],
    idle_queue: str,
    unique: str,
) -> None:
    admin = token_for("admin")
    worker = worker_factory((idle_queue,))
    services = client.application.extensions["controlplane"]
    assert refresh_worker(services, worker.hostname)  # the console knows it (an inspection)
    grow = post(client, f"/api/v1/workers/{worker.hostname}/pool", admin, {"delta": 1})
    assert grow.status_code == 200, grow.get_json()
    control = client.application.extensions["controlplane"].celery.control

    def processes() -> int:
        stats = control.inspect(destination=[worker.hostname], timeout=1).stats()
        return len(stats[worker.hostname]["pool"]["processes"])

    wait_for(lambda: processes() == 3, timeout=10, what="a third pool process")
    extra = f"extra-{unique}"
    added = post(client, f"/api/v1/workers/{worker.hostname}/consumers", admin, {"queue": extra})
    assert added.status_code == 200, added.get_json()
    cancel = post(client, f"/api/v1/workers/{worker.hostname}/consumers/{extra}/cancel", admin, {})
    assert cancel.status_code == 200
    missing = post(client, "/api/v1/workers/nobody@nowhere/pool", admin, {"delta": 1})
    assert missing.status_code == 404 and "known to the console" in missing.get_json()["error"]
    down = post(client, f"/api/v1/workers/{worker.hostname}/shutdown", admin, {})
    assert down.status_code == 202
    wait_for(lambda: worker.process.poll() is not None, timeout=20, what="the worker to exit")


def test_keyset_pagination_walks_every_task_once(
    client: FlaskClient, services: Services, operator: str
) -> None:
    now = datetime.now(UTC)
    with services.transaction() as session:
        for i in range(25):
            stamp = now - timedelta(seconds=i // 2)  # pairs share a timestamp
            session.add(
                Task(
                    task_id=f"t-{i:03d}",
                    name=ADD,
                    state="SUCCESS",
                    first_seen_at=stamp,
                    updated_at=stamp,
                    retries=0,
                    args_incomplete=False,
                )
            )
    seen: list[str] = []
    cursor = ""
    while True:
        page = client.get(f"/api/v1/tasks?limit=7&cursor={cursor}", headers=bearer(operator))
        body = page.get_json()
        seen.extend(task["task_id"] for task in body["tasks"])
        if not body["next_cursor"]:
            break
        cursor = body["next_cursor"]
    assert sorted(seen) == [f"t-{i:03d}" for i in range(25)]
    assert len(seen) == 25
    bad = client.get("/api/v1/tasks?cursor=garbage!!", headers=bearer(operator))
    assert bad.status_code == 400
    assert json.loads(bad.data)["error"].startswith("cursor")
