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
