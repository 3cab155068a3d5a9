"""Operator actions from the console (Flask test client; the browser tests drive the same pages)."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from controlplane.fleet.inspection import refresh_worker
from controlplane.services import Services
from controlplane.web.api.openapi import document
from tests.conftest import WorkerProcess


def test_trigger_form_sends_the_task_and_lands_on_its_page(
    client_as: Callable[[str], FlaskClient],
    services: Services,
    shared_worker: WorkerProcess,
    shared_queues: tuple[str, ...],
) -> None:
    refresh_worker(services, shared_worker.hostname)  # as the scheduler's inspection stores it
    operator = client_as("operator")
    form = operator.get("/trigger").get_data(as_text=True)
    assert "worker_tasks.tasks.add" in form
    response = operator.post(
        "/trigger",
        data={
            "csrf_token": operator.csrf_token,  # type: ignore[attr-defined]
            "name": "worker_tasks.tasks.add",
            "args": "[4, 5]",
            "kwargs": "",
            "queue": shared_queues[0],
        },
    )
    assert response.status_code == 303
    task_id = re.search(r"/tasks/([0-9a-f-]{36})$", response.headers["Location"]).group(1)  # type: ignore[union-attr]
    assert services.celery.AsyncResult(task_id).get(timeout=20) == 9
    page = operator.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "worker_tasks.tasks.add" in page
    log = operator.get("/actions").get_data(as_text=True)
    assert operator.username in log and "trigger" in log  # type: ignore[attr-defined]


def test_trigger_form_names_bad_json(
    client_as: Callable[[str], FlaskClient], shared_worker: WorkerProcess
) -> None:
    operator = client_as("operator")
    response = operator.post(
        "/trigger",
        data={
            "csrf_token": operator.csrf_token,  # type: ignore[attr-defined]
            "name": "worker_tasks.tasks.add",
            "args": "[4, ",
        },
    )
    assert response.status_code == 400
    assert "args: not valid JSON" in response.get_data(as_text=True)


def test_viewer_sees_no_action_buttons_and_is_refused_anyway(
    client_as: Callable[[str], FlaskClient],
) -> None:
    viewer = client_as("viewer")
    assert "Trigger</a>" not in viewer.get("/tasks").get_data(as_text=True)
    assert viewer.get("/trigger").status_code == 403
    token = viewer.csrf_token  # type: ignore[attr-defined]
    for path in (
        "/tasks/x/retry",
        "/tasks/x/revoke",
        "/tasks/bulk",
        "/queues/q/purge",
        "/workers/w@h/pool",
        "/workers/w@h/shutdown",
    ):
        assert viewer.post(path, data={"csrf_token": token}).status_code == 403, path


def test_console_posts_need_csrf(client_as: Callable[[str], FlaskClient]) -> None:
    operator = client_as("operator")
    assert operator.post("/tasks/x/retry").status_code == 400
    assert operator.post("/trigger", data={"name": "x"}).status_code == 400


def test_openapi_document_is_valid_and_lists_every_api_route(app: Flask) -> None:
    spec = document()
    validate(spec)
    documented = set(spec["paths"])
    routes = set()
    for rule in app.url_map.iter_rules():
        path = rule.rule
        if not path.startswith("/api/v1/") or path == "/api/v1/openapi.json":
            continue
        routes.add(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path[len("/api/v1") :]))
    assert routes == documented
    served = app.test_client().get("/api/v1/openapi.json")
    assert served.status_code == 200 and served.get_json()["openapi"] == "3.1.0"
