"""Fleet controls on the pages, read from the database (no worker here): a paused queue on the
Queues page, runtime limits on Insights and Workers, the forms' roles and CSRF, escaping."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from flask.testing import FlaskClient

from controlplane.broker import QueueState
from controlplane.clock import utcnow
from controlplane.fleet.sample import FleetSample, write_sample
from controlplane.models import QueuePause, Task, TaskLimit, Worker
from controlplane.services import Services

HOSTILE = '<script>alert("x")</script>'


def pause_with_backlog(services: Services, queue: str, by: str = HOSTILE) -> None:
    """A paused queue holding 7 ready tasks, one of them prefetched by a worker before."""
    now = utcnow()
    with services.transaction() as session:
        write_sample(session, FleetSample(now, {queue: QueueState(queue, 7, 1)}, sampler="t:1"))
        session.add(QueuePause(queue=queue, paused_by=by, paused_at=now - timedelta(minutes=5)))
        session.add(
            Task(task_id=f"held-{queue}", state="RECEIVED", queue=queue, worker="w1@host",
                 first_seen_at=now, updated_at=now)
        )  # fmt: skip


def test_the_queues_page_says_who_paused_since_when_and_what_it_holds(
    client_as: Callable[[str], FlaskClient], services: Services, unique: str
) -> None:
    queue = f"q-{unique}"
    pause_with_backlog(services, queue)
    viewer = client_as("viewer").get("/queues").get_data(as_text=True)
    row = viewer[viewer.index(f'data-queue="{queue}"') :]
    row = row[: row.index("</tr>")]
    assert "paused by &lt;script&gt;" in row and HOSTILE not in viewer
    assert "holds 8 tasks not started" in row
    assert "still held by w1@host (1)" in row
    assert "a paused queue wants no workers" in row  # the recommendation
    assert "no consumer" not in row  # paused on purpose: not the alert
    assert 'data-action="resume"' not in viewer  # viewers get no buttons

    admin = client_as("admin").get("/queues").get_data(as_text=True)
    assert 'data-action="resume"' in admin


def test_console_pause_form_needs_admin_and_csrf_and_refusals_come_back_as_a_flash(
    client_as: Callable[[str], FlaskClient], services: Services, unique: str
) -> None:
    queue = f"q-{unique}"
    pause_with_backlog(services, queue, by="someone")
    operator = client_as("operator")
    refused = operator.post(f"/queues/{queue}/resume", data={"csrf_token": operator.csrf_token})  # type: ignore[attr-defined]
    assert refused.status_code == 403
    admin = client_as("admin")
    assert admin.post(f"/queues/{queue}/resume", data={}).status_code == 400  # no CSRF token
    answer = admin.post(
        f"/queues/{queue}/pause",
        data={"csrf_token": admin.csrf_token, "next": "//evil.example/"},  # type: ignore[attr-defined]
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/queues"
    page = admin.get("/queues").get_data(as_text=True)
    assert "already paused (by someone since" in page


def test_insights_and_workers_show_runtime_limits(
    client_as: Callable[[str], FlaskClient], services: Services, unique: str
) -> None:
    name = f"proj.tasks.{unique}"
    now = utcnow()
    with services.transaction() as session:
        session.add(
            TaskLimit(task_name=name, rate_limit="5/m", rate_set=True, rate_set_by="ops",
                      rate_set_at=now, time_set=False, code_known=True, code_rate_limit=None)
        )  # fmt: skip
        session.add(
            Worker(hostname=f"w-{unique}@host", status="online", last_heartbeat=now, freq=2.0,
                   registered=json.dumps([name]), updated_at=now,
                   limits=json.dumps({name: {"rate_limit": "5/m"}, HOSTILE: {"time_limit": "1"}}))
        )  # fmt: skip
    operator = client_as("operator")
    insights = operator.get("/insights").get_data(as_text=True)
    row = insights[insights.index(f'data-task-name="{name}"') :]
    row = row[: row.index("</tr>")]
    assert "5/m" in row and "set by ops" in row and "code: none" in row
    assert 'data-action="reset-rate"' in row and 'data-action="set-time"' not in row  # admin only

    workers = operator.get("/workers").get_data(as_text=True)
    assert f"{name}</span> rate 5/m" in workers and "runtime" in workers
    assert HOSTILE not in workers


def test_native_delayed_delivery_is_counted_for_the_fleet_and_said_to_be_queue_unknown(
    client_as: Callable[[str], FlaskClient], client: FlaskClient, services: Services,
    token_for: Callable[[str], str], unique: str,
) -> None:  # fmt: skip
    queue = f"q-{unique}"
    with services.transaction() as session:
        sample = FleetSample(utcnow(), {queue: QueueState(queue, 2, 0)}, sampler="t", delayed=5)
        write_sample(session, sample)
    page = client_as("viewer").get("/queues").get_data(as_text=True)
    line = page[page.index('id="delayed-delivery"') :].split("</p>")[0]
    assert "5 ETA tasks" in line and "cannot be known without consuming them" in line
    body = client.get(
        "/api/v1/queues", headers={"Authorization": f"Bearer {token_for('viewer')}"}
    ).get_json()
    assert (
        body["delayed_delivery"]["messages"] == 5 and body["delayed_delivery"]["per_queue"] is None
    )
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "\ncontrolplane_delayed_delivery_messages 5\n" in metrics
