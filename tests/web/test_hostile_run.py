"""A hostile run against a real worker (issue 15 item 7): secrets in a trigger's arguments reach
the worker, fail the task, and come back in events (args, exception, traceback). Nothing
secret is stored in the task row or the action log, nor shown by the API or the pages, and
the worker lives."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from controlplane.clock import utcnow
from controlplane.models import Action, Task
from controlplane.services import Services
from tests.conftest import WorkerProcess, wait_for

MESSAGE = (
    "cannot reach postgres://app:s3cr/et@db/x with Authorization: Bearer abcdef123456, "
    "host=db password=hunter2 and key AKIAIOSFODNN7EXAMPLE"
)
SECRETS = ("s3cr/et", "abcdef123456", "hunter2", "AKIAIOSFODNN7EXAMPLE")


def everything_stored(services: Services, task_id: str) -> str:
    with services.transaction() as session:
        task = session.get(Task, task_id)
        actions = session.scalars(select(Action)).all()
        columns = [getattr(task, c.key) for c in Task.__table__.columns] if task else []
        logged = [[a.params, a.error, a.result, a.target] for a in actions]
        return json.dumps([columns, logged], default=str)


def test_secrets_sent_through_a_real_worker_are_never_stored_or_shown(
    app: Flask,
    services: Services,
    shared_worker: WorkerProcess,
    shared_queues: tuple[str, ...],
    ingesting: Any,
    token_for: Callable[[str], str],
    client_as: Callable[[str], FlaskClient],
) -> None:
    operator = {"Authorization": f"Bearer {token_for('operator')}"}
    answer = app.test_client().post(
        "/api/v1/tasks",
        json={
            "name": "worker_tasks.tasks.always_fails",
            "kwargs": {"message": MESSAGE},
            "queue": shared_queues[0],
        },  # fmt: skip
        headers=operator,
    )
    assert answer.status_code == 202, answer.get_data(as_text=True)
    task_id = answer.get_json()["task_id"]

    def failed() -> bool:
        with services.transaction() as session:
            task = session.get(Task, task_id)
            return task is not None and task.state == "FAILURE" and bool(task.traceback)

    wait_for(failed, timeout=30, what="the task's failure to be ingested")
    stored = everything_stored(services, task_id)
    assert "cannot reach" in stored and "ValueError" in stored  # the rows are there
    viewer_api = {"Authorization": f"Bearer {token_for('viewer')}"}
    client = app.test_client()
    shown = [
        client.get(f"/api/v1/tasks/{task_id}", headers=viewer_api).get_data(as_text=True),
        client.get("/api/v1/actions", headers=viewer_api).get_data(as_text=True),
    ]
    viewer = client_as("viewer")
    shown += [viewer.get(path).get_data(as_text=True)
              for path in (f"/tasks/{task_id}", "/tasks", "/actions")]  # fmt: skip
    for secret in SECRETS:
        assert secret not in stored, (secret, stored)
        for text in shown:
            assert secret not in text, secret
    assert shared_worker.process.poll() is None, "the worker died"


def test_a_hostile_run_publishes_only_what_was_meant_and_no_worker_dies(
    app: Flask,
    services: Services,
    shared_worker: WorkerProcess,
    shared_queues: tuple[str, ...],
    ingesting: Any,
    token_for: Callable[[str], str],
    client_as: Callable[[str], FlaskClient],
) -> None:
    """Every attack of issue 15 that a request can make, in one run: what reached the broker
    is counted by the console's own sent-task rows and the worker's results."""
    operator = {"Authorization": f"Bearer {token_for('operator')}"}
    client = app.test_client()
    queue = shared_queues[0]
    add = "worker_tasks.tasks.add"
    now = utcnow()
    with services.transaction() as session:
        session.add(Task(task_id=f"cleanup-{queue}", name="celery.backend_cleanup",
                         state="FAILURE", queue=queue, args="[]", kwargs="{}",
                         first_seen_at=now, updated_at=now))  # fmt: skip
    deep = json.loads("[" * 900 + "]" * 900)
    attacks = [
        {"name": add, "args": [1, 1], "queue": "unacked"},  # kombu's reservation hash
        {"name": add, "args": [1, 1], "queue": "_kombu.binding.reports"},
        {"name": add, "args": [deep, 1], "queue": queue},  # poison: RecursionError when pickled
        {"name": "celery.backend_cleanup", "queue": queue},
    ]
    for body in attacks:
        answer = client.post("/api/v1/tasks", json=body, headers=operator)
        assert answer.status_code == 400, (body.get("queue"), answer.get_data(as_text=True))
    retried = client.post(f"/api/v1/tasks/cleanup-{queue}/retry", headers=operator)
    assert retried.status_code in (400, 403, 404, 409), retried.get_data(as_text=True)
    browser = client_as("operator")
    browser.head(f"/trigger?name={add}&args=%5B666%2C1%5D&queue={queue}")
    browser.get(f"/trigger?name={add}&args=%5B666%2C1%5D&queue={queue}")
    # the one request meant to run
    meant = client.post(
        "/api/v1/tasks",
        json={"name": add, "args": [2, 3], "kwargs": {}, "queue": queue},
        headers=operator,
    )
    assert meant.status_code == 202
    task_id = meant.get_json()["task_id"]

    def succeeded() -> bool:
        with services.transaction() as session:
            task = session.get(Task, task_id)
            return task is not None and task.state == "SUCCESS"

    wait_for(succeeded, timeout=30, what="the one meant task to succeed")
    with services.transaction() as session:
        actions = session.scalars(select(Action)).all()
        sent_by_console = session.scalars(select(Task).where(Task.sent_at.is_not(None))).all()
    ok = [a for a in actions if a.outcome == "ok"]
    assert [(a.action, a.target) for a in ok] == [("trigger", task_id)], ok
    assert [t.task_id for t in sent_by_console if t.name == add] == [task_id]
    assert redis_type(services, "unacked") in ("none", "hash")
    assert shared_worker.process.poll() is None, "the worker died"


def redis_type(services: Services, key: str) -> str:
    import redis

    client = redis.Redis.from_url(services.settings.broker_url or "")
    kind = client.type(key)
    return kind.decode() if isinstance(kind, bytes) else str(kind)
