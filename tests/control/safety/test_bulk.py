"""Issue 15 items 1 and 3: bulk actions act on exactly what the operator chose, and once.

Checked by what reaches the module's own broker (MONITOR), not by the message alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient
from sqlalchemy import func, select

from controlplane.models import Task
from controlplane.services import Services
from tests.conftest import WorkerProcess
from tests.control.safety.broker_watch import BrokerWatch
from tests.control.safety.seeds import seed_failures

ADD = "worker_tasks.tasks.add"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def default_queue(redis_server: Any) -> Iterator[redis.Redis]:
    """The fleet's default queue (no worker here consumes it), emptied before and after."""
    raw = redis.Redis.from_url(redis_server.url)
    raw.delete("default")
    yield raw
    raw.delete("default")
    raw.close()


def test_a_bulk_request_without_a_scope_or_with_nothing_ticked_is_refused(
    client: FlaskClient, client_as: Callable[[str], FlaskClient], services: Services,
    token_for: Callable[[str], str], redis_server: Any, unique: str,
) -> None:  # fmt: skip
    seed_failures(services, unique, 5)
    operator = token_for("operator")
    console = client_as("operator")
    token = console.csrf_token  # type: ignore[attr-defined]
    with BrokerWatch(redis_server.url) as watch:
        for body in (
            {"action": "retry", "filter": {}, "dry_run": False},  # no scope: nothing assumed
            {"action": "retry", "scope": "selected", "dry_run": False},
            {"action": "retry", "scope": "selected", "ids": [], "dry_run": False},
            {"action": "revoke", "scope": "selected", "ids": [], "dry_run": True},
            {"action": "retry", "scope": "filter", "ids": [f"{unique}-00"], "dry_run": False},
        ):
            response = client.post("/api/v1/tasks/bulk", json=body, headers=bearer(operator))
            assert response.status_code == 400, (body, response.get_json())
        nothing_ticked = {"bulk": "selected retry", "confirm": "yes", "state": "FAILURE"}
        form = console.post("/tasks/bulk", data={**nothing_ticked, "csrf_token": token})
        assert form.status_code == 400
        assert "select at least one task" in form.get_data(as_text=True)
        no_scope = console.post("/tasks/bulk", data={"action": "retry", "confirm": "yes",
                                                     "csrf_token": token})  # fmt: skip
        assert no_scope.status_code == 400
    assert watch.pushes() == [] and watch.broadcasts() == []


def test_selected_scope_acts_on_exactly_the_ticked_rows(
    client_as: Callable[[str], FlaskClient], services: Services, fleet_worker: WorkerProcess,
    redis_server: Any, default_queue: redis.Redis, unique: str,
) -> None:  # fmt: skip
    ids = seed_failures(services, unique, 6)
    ticked = [ids[1], ids[4]]
    console = client_as("operator")
    token = console.csrf_token  # type: ignore[attr-defined]
    form = {"bulk": "selected retry", "ids": ticked, "state": "FAILURE", "csrf_token": token}
    dry = console.post("/tasks/bulk", data=form)
    assert dry.status_code == 200
    html = dry.get_data(as_text=True)
    assert "Ticked rows</strong> (2 selected)" in html
    assert '<strong data-field="would-act-on">2</strong>' in html
    assert all(task_id in html for task_id in ticked)
    assert not any(task_id in html for task_id in ids if task_id not in ticked)
    with BrokerWatch(redis_server.url) as watch:
        done = console.post("/tasks/bulk", data={**form, "confirm": "yes"})
    assert done.status_code == 200 and "acted on 2 task(s)" in done.get_data(as_text=True)
    assert watch.pushes() == ["default", "default"]
    with services.transaction() as session:
        linked = session.scalars(select(Task.retry_of).where(Task.retry_of.is_not(None))).all()
    assert sorted(linked) == sorted(ticked)


def test_the_filter_scope_says_so_and_lists_the_first_tasks(
    client: FlaskClient, services: Services, token_for: Callable[[str], str], unique: str,
) -> None:  # fmt: skip
    ids = seed_failures(services, unique, 14)
    body = {"action": "retry", "scope": "filter", "filter": {"state": "FAILURE"}}
    dry = client.post("/api/v1/tasks/bulk", json=body, headers=bearer(token_for("operator")))
    assert dry.status_code == 200, dry.get_json()
    answer = dry.get_json()
    assert answer["scope"] == "filter" and answer["matched"] == 14
    assert [row["task_id"] for row in answer["preview"]] == ids[:10]
    assert answer["preview"][0]["name"] == ADD


def test_bulk_retry_leaves_out_failures_already_retried_and_the_list_marks_them(
    client: FlaskClient, client_as: Callable[[str], FlaskClient], services: Services,
    token_for: Callable[[str], str], fleet_worker: WorkerProcess, redis_server: Any,
    default_queue: redis.Redis, unique: str,
) -> None:  # fmt: skip
    ids = seed_failures(services, unique, 8)
    operator = token_for("operator")
    body = {"action": "retry", "scope": "filter", "filter": {"state": "FAILURE"}}
    with BrokerWatch(redis_server.url) as watch:
        first = client.post("/api/v1/tasks/bulk", json={**body, "dry_run": False},
                            headers=bearer(operator))  # fmt: skip
        assert first.status_code == 202 and first.get_json()["acted_on"] == 8
        again = client.post("/api/v1/tasks/bulk", json=body, headers=bearer(operator)).get_json()
        assert again["matched"] == 0 and again["already_retried"] == 8
        pressed = client.post("/api/v1/tasks/bulk", json={**body, "dry_run": False},
                              headers=bearer(operator))  # fmt: skip
        assert pressed.get_json()["acted_on"] == 0
    assert watch.pushes() == ["default"] * 8  # the second press sent nothing
    everything = client.post("/api/v1/tasks/bulk", json={**body, "not_retried": False},
                             headers=bearer(operator)).get_json()  # fmt: skip
    assert everything["matched"] == 8  # on purpose, they can still be included

    console = client_as("viewer")
    page = console.get("/tasks?state=FAILURE").get_data(as_text=True)
    assert page.count('data-field="retried"') == 8 and 'id="not-retried"' in page
    unretried = console.get("/tasks?state=FAILURE&not_retried=1").get_data(as_text=True)
    assert not any(f'data-task="{task_id}"' in unretried for task_id in ids)
    with services.transaction() as session:
        assert session.scalar(select(func.count()).where(Task.retry_of.is_not(None))) == 8


def test_a_bulk_retry_of_unregistered_names_asks_the_workers_once_not_per_task(
    client: FlaskClient, services: Services, token_for: Callable[[str], str],
    fleet_worker: WorkerProcess, redis_server: Any, unique: str,
) -> None:  # fmt: skip
    seed_failures(services, unique, 20, name="proj.never.registered")
    body = {"action": "retry", "scope": "filter", "filter": {"name": "proj.never.registered"},
            "dry_run": False}  # fmt: skip
    with BrokerWatch(redis_server.url) as watch:
        done = client.post("/api/v1/tasks/bulk", json=body,
                           headers=bearer(token_for("operator")))  # fmt: skip
    assert done.status_code == 202, done.get_json()
    assert done.get_json()["acted_on"] == 0 and len(done.get_json()["skipped"]) == 20
    assert watch.pushes() == [] and watch.questions().count("registered") <= 2
