"""Failure groups end to end: a real worker fails, the ingester groups, pages and API show it,
and Retry group sends the group's failures again (dry-run count first)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from controlplane.failures.groups import list_groups
from controlplane.models import Action, Task
from controlplane.services import Services
from tests.conftest import WorkerProcess, csrf_token_of, wait_for

FAILS = "worker_tasks.tasks.always_fails"
FLAKY = "worker_tasks.tasks.flaky"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_failures_with_one_cause_form_one_group_and_retry_group_sends_them_again(
    client_as: Callable[[str], FlaskClient], services: Services, ingesting: Any,
    token_for: Callable[[str], str], shared_worker: WorkerProcess,
    shared_queues: tuple[str, ...],
) -> None:  # fmt: skip
    queue = shared_queues[0]
    sent = [
        services.celery.send_task(FAILS, args=[f"user {n} not found"], queue=queue).id
        for n in (4821, 77, 5)
    ]
    other = services.celery.send_task(FAILS, args=["disk full on /data"], queue=queue).id
    # autoretried 5 times, then a final failure: one failure, its attempts are not failures
    flaky = services.celery.send_task(FLAKY, kwargs={"fail_times": 9}, queue=queue).id

    def grouped() -> dict[str, Any]:
        return {g.message: g for g in list_groups(services, limit=200)}  # this test's database

    wait_for(
        lambda: sum(g.failures for g in grouped().values()) == 5,
        timeout=45, what="five final failures grouped",
    )  # fmt: skip
    groups = grouped()
    users = groups["user <n> not found"]
    assert (users.failures, users.tasks_affected, users.state) == (3, 3, "new")
    assert users.exception_type == "ValueError"
    assert users.frame == "worker_tasks/tasks.py in always_fails"
    assert users.workers == ((shared_worker.hostname, 3),)
    assert users.sample_task_id in sent and sum(users.hourly) == 3
    assert groups["disk full on /data"].sample_task_id == other
    flaky_group = next(g for g in groups.values() if g.task_name == FLAKY)
    assert flaky_group.failures == 1 and flaky_group.sample_task_id == flaky

    viewer = token_for("viewer")
    client = client_as("operator")
    listed = client.get("/api/v1/failure-groups?limit=200", headers=bearer(viewer)).get_json()
    assert any(g["id"] == users.id and g["count"] == 3 for g in listed["groups"])
    one = client.get(f"/api/v1/failure-groups/{users.id}", headers=bearer(viewer)).get_json()
    assert one["not_retried"] == 3 and "ValueError" in one["sample_traceback"]
    assert {r["task_id"] for r in one["recent"]} == set(sent)
    page = client.get("/failures").get_data(as_text=True)
    assert "user &lt;n&gt; not found" in page

    # Retry group: the dry run shows the count, the confirmation sends them
    detail = client.get(f"/failures/{users.id}").get_data(as_text=True)
    token = csrf_token_of(detail)
    dry = client.post(f"/failures/{users.id}/retry", data={"csrf_token": token})
    assert dry.status_code == 200 and 'id="would-retry">3<' in dry.get_data(as_text=True)
    with services.transaction() as session:
        assert session.scalar(select(func.count()).where(Task.retry_of.in_(sent))) == 0
    done = client.post(f"/failures/{users.id}/retry", data={"csrf_token": token, "confirm": "yes"})
    assert done.status_code == 303
    with services.transaction() as session:
        children = list(session.scalars(select(Task.task_id).where(Task.retry_of.in_(sent))))
        logged = session.scalars(
            select(Action.action).where(Action.target == f"group:{users.id}")
        ).all()
    assert len(children) == 3 and "failure_group_retry" in logged
    # the retries fail the same way: more failures, the same three tasks; none left to retry
    wait_for(lambda: grouped()[users.message].failures == 6, timeout=30, what="retries grouped")
    assert grouped()[users.message].tasks_affected == 3
    again = client.get(f"/api/v1/failure-groups/{users.id}", headers=bearer(viewer)).get_json()
    assert again["not_retried"] == 3  # the three retries themselves, not the originals

    resolved = client.post(f"/failures/{users.id}/resolve", data={"csrf_token": token})
    assert resolved.status_code == 303
    assert grouped()[users.message].state == "resolved"
    assert grouped()[users.message].status_by
    viewer_client = client_as("viewer")
    viewer_token = csrf_token_of(viewer_client.get("/failures").get_data(as_text=True))
    refused = viewer_client.post(f"/failures/{users.id}/ignore", data={"csrf_token": viewer_token})
    assert refused.status_code == 403
    assert grouped()[users.message].state == "resolved"
    services.celery.send_task(FAILS, args=["user 1 not found"], queue=queue)
    wait_for(lambda: grouped()[users.message].state == "regression", timeout=30,
             what="a resolved group to reopen")  # fmt: skip
    # the metric and the alert condition see the regression
    scraped = client.get("/metrics").get_data(as_text=True)
    assert 'controlplane_failure_groups{state="regression"} 1' in scraped
    assert 'controlplane_alerts_firing{alert="new_failure_group"} 3' in scraped  # all three
    alerts = client.get("/api/v1/alerts", headers=bearer(viewer)).get_json()
    firing = [a for a in alerts["alerts"] if a["alert"] == "new_failure_group"]
    assert any(a["link"] == f"/failures/{users.id}" and "came back" in a["message"] for a in firing)
