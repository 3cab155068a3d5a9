"""One definition, three readers: the dashboard banner, GET /api/v1/alerts and the
controlplane_alerts_firing gauge say the same; acknowledging and forgetting by role."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta

from flask.testing import FlaskClient

from controlplane.broker import QueueState
from controlplane.clock import utcnow
from controlplane.fleet.alerts import CONDITIONS
from controlplane.fleet.sample import FleetSample, write_sample
from controlplane.models import Task, Worker
from controlplane.services import Services

HOSTILE = '<img src=x onerror=alert(1)><b hx-get="/logout" hx-trigger="load">q'


def seed_trouble(services: Services) -> None:
    """The issue's scene on `reports`, a queue nobody consumes, a lost worker."""
    now = utcnow()
    with services.transaction() as session:
        for n in range(6):
            queues = {
                "reports": QueueState("reports", ready=20 + 10 * n, reserved=0,
                                      oldest_waiting_at=now - timedelta(seconds=62)),
                HOSTILE: QueueState(HOSTILE, ready=5),
            }  # fmt: skip
            write_sample(session, FleetSample(now - timedelta(seconds=5 * (5 - n)), queues))
        for n in range(20):
            state = "FAILURE" if n < 16 else "SUCCESS"
            session.add(Task(task_id=f"done-{n}", state=state, queue="reports",
                             first_seen_at=now - timedelta(seconds=90),
                             finished_at=now - timedelta(seconds=60), updated_at=now))  # fmt: skip
        session.add(
            Worker(
                hostname="busy@h",
                status="online",
                freq=2.0,
                last_heartbeat=now,
                concurrency=2,
                queues=json.dumps(["reports"]),
                updated_at=now,
            )
        )
        session.add(
            Worker(
                hostname="gone@h",
                status="online",
                freq=2.0,
                last_heartbeat=now - timedelta(minutes=5),
                updated_at=now,
            )
        )


def banner(client: FlaskClient) -> str:
    page = client.get("/fragments/fleet").get_data(as_text=True)
    return page[page.index('id="alerts"') :].split("</section>")[0]


def test_banner_api_and_gauge_name_the_same_alerts(
    services: Services, client_as: Callable[[str], FlaskClient], client: FlaskClient,
    token_for: Callable[[str], str],
) -> None:  # fmt: skip
    seed_trouble(services)
    strip = banner(client_as("viewer"))
    shown = set(re.findall(r'data-kind="(\w+)" data-subject="([^"]*)"', strip))
    headers = {"Authorization": f"Bearer {token_for('viewer')}"}
    body = client.get("/api/v1/alerts", headers=headers).get_json()
    listed = {(a["alert"], a["subject"]) for a in body["alerts"]}
    assert body["all_clear"] is False
    expected = {
        ("queue_wait_over_target", "reports"), ("backlog_growing", "reports"),
        ("failure_ratio", "reports"), ("worker_offline", "gone@h"),
    }  # fmt: skip
    assert expected <= listed
    assert ("queue_without_consumer", HOSTILE) in listed
    assert {(kind, subject.replace("&lt;", "<").replace("&gt;", ">").replace("&#34;", '"'))
            for kind, subject in shown} == listed  # fmt: skip
    assert "All clear" not in strip and "<img" not in strip
    assert {c["name"] for c in body["conditions"]} == {c.name for c in CONDITIONS}
    [wait] = [a for a in body["alerts"] if a["alert"] == "queue_wait_over_target"]
    assert wait["unit"] == "s" and 60 < wait["value"] < 80 and wait["threshold"] == 30
    assert wait["link"] == "/queues#queue-reports"
    assert ">1 min <" in strip or ">62 s <" in strip or ">63 s <" in strip  # its number

    metrics = client.get("/metrics").get_data(as_text=True)
    firing = dict(re.findall(r'^controlplane_alerts_firing\{alert="(\w+)"\} (\S+)$', metrics, re.M))
    assert set(firing) == {c.name for c in CONDITIONS}
    for condition in CONDITIONS:
        count = sum(1 for alert, _ in listed if alert == condition.name)
        assert float(firing[condition.name]) == count, condition.name


def test_all_clear_only_when_nothing_holds(
    services: Services, client_as: Callable[[str], FlaskClient]
) -> None:
    now = utcnow()
    with services.transaction() as session:
        write_sample(session, FleetSample(now, {"calm": QueueState("calm", ready=0)}))
    strip = banner(client_as("viewer"))
    assert 'id="all-clear"' in strip and 'data-all-clear="yes"' in strip
    with services.transaction() as session:
        session.add(
            Worker(
                hostname="late@h",
                status="online",
                freq=10.0,
                last_heartbeat=now - timedelta(seconds=25),
                updated_at=now,
            )
        )
    strip = banner(client_as("viewer"))
    assert 'id="all-clear"' not in strip and 'data-all-clear="no"' in strip
    assert 'data-kind="worker_late"' in strip


def test_operators_acknowledge_viewers_cannot_and_admins_forget(
    services: Services, client_as: Callable[[str], FlaskClient], client: FlaskClient,
    token_for: Callable[[str], str],
) -> None:  # fmt: skip
    seed_trouble(services)
    viewer = client_as("viewer")
    assert "ack-button" not in banner(viewer)
    form = {"alert": "worker_offline", "subject": "gone@h", "csrf_token": viewer.csrf_token}  # type: ignore[attr-defined]
    assert viewer.post("/alerts/ack", data=form).status_code == 403

    operator = client_as("operator")
    strip = banner(operator)
    assert "ack-button" in strip and "forget-button" not in strip
    form["csrf_token"] = operator.csrf_token  # type: ignore[attr-defined]
    answer = operator.post("/alerts/ack", data=form)
    assert answer.status_code == 200
    acked = answer.get_data(as_text=True)
    assert "acknowledged by" in acked and operator.username in acked  # type: ignore[attr-defined]
    assert 'id="alert-summary"' in acked and "1 acknowledged" in acked

    api = {"Authorization": f"Bearer {token_for('operator')}"}
    missing = client.post("/api/v1/alerts/ack", json={"alert": "worker_offline"}, headers=api)
    assert missing.status_code == 400
    assert client.post("/api/v1/workers/gone@h/forget", headers=api).status_code == 403

    admin = client_as("admin")
    assert "forget-button" in banner(admin)
    token = admin.csrf_token  # type: ignore[attr-defined]
    online = admin.post("/workers/busy@h/forget", data={"csrf_token": token})
    assert online.status_code == 400 and "only an offline worker" in online.get_data(as_text=True)
    gone = client.post(
        "/api/v1/workers/gone@h/forget", headers={"Authorization": f"Bearer {token_for('admin')}"}
    )
    assert gone.status_code == 200 and gone.get_json()["forgotten"] is True
    assert 'data-subject="gone@h"' not in banner(admin)
