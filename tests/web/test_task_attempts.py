"""The attempts record on the pages and in the API: "delivered N times" on the task page with
each attempt (host, pid, time, a retry's exception), a mark in the Tasks list, and the
`attempts` / `deliveries` / `duplicate` fields of GET /api/v1/tasks and /tasks/{id}."""

from __future__ import annotations

import re
from collections.abc import Callable

import jsonschema
from flask.testing import FlaskClient

from controlplane.clock import utcnow
from controlplane.events import attempts
from controlplane.models import Task
from controlplane.services import Services
from tests.web.test_openapi_answers import schema_of

HOSTILE = "<img src=x onerror=alert(1)>@h"


def seed(services: Services, unique: str) -> dict[str, str]:
    now = utcnow()
    at = now.timestamp() - 60
    ids = {"redelivered": f"redelivered-{unique}", "autoretried": f"autoretried-{unique}"}
    redelivered = (
        attempts.entry(at, "received", "w1@h", 101, 0, None),
        attempts.entry(at + 1, "started", "w1@h", 101, 0, None),
        attempts.entry(at + 20, "received", HOSTILE, 202, 0, None),
        attempts.entry(at + 21, "started", HOSTILE, 202, 0, None),
        attempts.entry(at + 22, "succeeded", HOSTILE, 202, 0, None),
    )
    autoretried = (
        attempts.entry(at, "received", "w1@h", 101, 0, None),
        attempts.entry(at + 1, "started", "w1@h", 101, 0, None),
        attempts.entry(at + 2, "retried", "w1@h", 101, 0, "ConnectionError('db <down>')"),
        attempts.entry(at + 5, "received", "w1@h", 101, 1, None),
        attempts.entry(at + 6, "started", "w1@h", 101, 0, None),
        attempts.entry(at + 7, "succeeded", "w1@h", 101, 0, None),
    )
    with services.transaction() as session:
        session.add_all([
            Task(task_id=ids["redelivered"], name="worker_tasks.tasks.slow", state="SUCCESS",
                 queue="q", worker=HOSTILE, first_seen_at=now, updated_at=now,
                 attempts=attempts.encode(redelivered)),
            Task(task_id=ids["autoretried"], name="worker_tasks.tasks.flaky", state="SUCCESS",
                 queue="q", retries=1, first_seen_at=now, updated_at=now,
                 attempts=attempts.encode(autoretried)),
        ])  # fmt: skip
    return ids


def test_task_page_lists_each_attempt_and_says_delivered_twice(
    services: Services, client_as: Callable[[str], FlaskClient], unique: str
) -> None:
    ids = seed(services, unique)
    page = client_as("viewer").get(f"/tasks/{ids['redelivered']}").get_data(as_text=True)
    assert 'id="deliveries">delivered 2 times<' in page
    assert 'id="duplicate-note"' in page and "1 more time " in page
    assert page.count('class="attempt attempt-received"') == 2
    assert "&lt;img src=x" in page and "<img src=x" not in page
    assert ">202<" in page and ">101<" in page
    table = page[page.index('<table class="grid attempts"') :]
    assert table.startswith('<table class="grid attempts" hx-disable>')

    page = client_as("viewer").get(f"/tasks/{ids['autoretried']}").get_data(as_text=True)
    assert 'id="autoretries">1 autoretry<' in page
    assert 'id="duplicate-note"' not in page and 'badge-muted" id="deliveries"' in page
    assert "ConnectionError(&#39;db &lt;down&gt;&#39;)" in page


def test_tasks_list_marks_only_the_duplicate(
    services: Services, client_as: Callable[[str], FlaskClient], unique: str
) -> None:
    ids = seed(services, unique)
    page = client_as("viewer").get("/tasks").get_data(as_text=True)
    rows = {
        task_id: page[page.index(f'data-task="{task_id}"') :].split("</tr>", 1)[0]
        for task_id in ids.values()
    }
    assert re.search(r'data-field="deliveries"[^>]*>delivered 2×<', rows[ids["redelivered"]])
    assert 'data-field="deliveries"' not in rows[ids["autoretried"]]


def test_api_carries_attempts_deliveries_and_the_duplicate_flag(
    services: Services, client: FlaskClient, token_for: Callable[[str], str], unique: str
) -> None:
    ids = seed(services, unique)
    viewer = {"Authorization": f"Bearer {token_for('viewer')}"}
    one = client.get(f"/api/v1/tasks/{ids['redelivered']}", headers=viewer)
    body = one.get_json()
    jsonschema.validate(body, schema_of("/tasks/{task_id}", "get", "200"))
    assert (body["deliveries"], body["duplicate"]) == (2, True)
    assert [a["kind"] for a in body["attempts"]][:3] == ["received", "started", "received"]
    assert body["attempts"][2]["host"] == HOSTILE and body["attempts"][2]["pid"] == 202
    listed = client.get("/api/v1/tasks?name=worker_tasks.tasks.flaky", headers=viewer)
    jsonschema.validate(listed.get_json(), schema_of("/tasks", "get", "200"))
    mine = [t for t in listed.get_json()["tasks"] if t["task_id"] == ids["autoretried"]]
    assert mine and (mine[0]["deliveries"], mine[0]["duplicate"]) == (2, False)
    retried = [a for a in mine[0]["attempts"] if a["kind"] == "retried"]
    assert retried[0]["exception"] == "ConnectionError('db <down>')"
