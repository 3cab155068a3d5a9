"""The API's real answers match the response schemas of its OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsonschema
from flask.testing import FlaskClient

from controlplane.services import Services
from controlplane.web.api.openapi import document
from tests.web.test_alerts_web import seed_trouble
from tests.web.test_task_list import seed


def schema_of(path: str, method: str, status: str) -> dict[str, Any]:
    spec = document()
    answer = spec["paths"][path][method]["responses"][status]
    schema = answer["content"]["application/json"]["schema"]
    return {**schema, "components": spec["components"]}  # so "#/components/..." resolves


def test_tasks_task_bulk_dry_run_and_fleet_answers_match_their_schemas(
    services: Services, client: FlaskClient, token_for: Callable[[str], str], unique: str
) -> None:
    ids = seed(services, unique)
    seed_trouble(services)
    viewer = {"Authorization": f"Bearer {token_for('viewer')}"}
    operator = {"Authorization": f"Bearer {token_for('operator')}"}
    checks = [
        ("/tasks", "get", "200", client.get("/api/v1/tasks?sort=slowest", headers=viewer)),
        ("/tasks/{task_id}", "get", "200",
         client.get(f"/api/v1/tasks/{ids['failed']}", headers=viewer)),
        ("/tasks/bulk", "post", "200",
         client.post("/api/v1/tasks/bulk", headers=operator,
                     json={"action": "retry", "scope": "filter",
                           "filter": {"state": "FAILURE"}})),
        ("/alerts", "get", "200", client.get("/api/v1/alerts", headers=viewer)),
        ("/queues", "get", "200", client.get("/api/v1/queues", headers=viewer)),
        ("/workers", "get", "200", client.get("/api/v1/workers", headers=viewer)),
    ]  # fmt: skip
    for path, method, status, response in checks:
        assert str(response.status_code) == status, (path, response.get_json())
        jsonschema.validate(response.get_json(), schema_of(path, method, status))
    dry = checks[2][3].get_json()
    assert dry["dry_run"] is True and dry["matched"] == 1 + 16  # seed + seed_trouble
    task = checks[1][3].get_json()
    assert task["args"] == ["abc"] and isinstance(task["children"], list)
