"""Queues, Workers, the dashboard's alert strip and /api/v1/{queues,workers,alerts}, read from the
database only (no scheduler runs here): the figures, the sparkline, escaping, and staleness."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta

from flask.testing import FlaskClient

from controlplane import db
from controlplane.broker import QueueState
from controlplane.clock import utcnow
from controlplane.fleet.sample import FleetSample, write_sample
from controlplane.fleet.view import backlog_series
from controlplane.models import QueueSample, Task, Worker
from controlplane.services import Services

HOSTILE = '<script>alert("x")</script>'


def seed(services: Services, queue: str) -> None:
    """An hour of samples for `queue`, the latest one now; a worker on it; a hostile worker."""
    now = utcnow()
    with services.transaction() as session:
        for minute in range(59, 0, -1):
            session.add(
                QueueSample(queue=queue, sampled_at=now - timedelta(minutes=minute),
                            ready=minute % 7, unacked=1, scheduled=0, consumers=0)
            )  # fmt: skip
        session.add(
            Task(task_id="waiting", state="PENDING", queue=queue,
                 first_seen_at=now - timedelta(minutes=3), updated_at=now)
        )  # fmt: skip
        # 15 tasks arrived in the last 30 s (0.5/s, 30.0/min), 6 of them finished (12.0/min)
        for n in range(15):
            seen = now - timedelta(seconds=20)
            finished = seen + timedelta(seconds=1) if n < 6 else None
            state = "SUCCESS" if finished else "STARTED"
            session.add(
                Task(task_id=f"recent-{queue}-{n}", state=state, queue=queue,
                     first_seen_at=seen, finished_at=finished, updated_at=now)
            )  # fmt: skip
        state = QueueState(queue, 12, 3, 2, None, now - timedelta(minutes=3))
        hostile = QueueState(HOSTILE, 4, 0, 0, None)
        write_sample(session, FleetSample(now, {queue: state, HOSTILE: hostile}, sampler="t:1"))
        session.add(
            Worker(hostname="good@host", status="online", last_heartbeat=now, freq=2.0,
                   concurrency=4, active=1, processed=42, queues=json.dumps([queue]),
                   registered=json.dumps(["worker_tasks.tasks.add"]), updated_at=now)
        )  # fmt: skip
        session.add(
            Worker(
                hostname=f"{HOSTILE}@host",
                status="online",
                last_heartbeat=now - timedelta(seconds=25),
                freq=10.0,
                queues=json.dumps([]),
                registered=json.dumps([HOSTILE]),
                updated_at=now,
            )
        )


def cell(page: str, queue: str, field: str) -> str:
    match = re.search(
        rf'data-queue="{re.escape(queue)}".*?data-field="{field}">([^<]*)<', page, re.S
    )
    assert match, f"no {field} cell for {queue}"
    return match.group(1).strip()


def test_queues_page_shows_depth_consumers_rates_oldest_wait_and_a_sparkline(
    services: Services, client_as: Callable[[str], FlaskClient], unique: str
) -> None:
    queue = f"q-{unique}"
    seed(services, queue)
    client = client_as("viewer")
    page = client.get("/queues").get_data(as_text=True)
    assert 'hx-get="/queues"' in page and 'hx-trigger="every 5s"' in page  # live without reload
    assert (cell(page, queue, "ready"), cell(page, queue, "unacked")) == ("12", "3")
    assert cell(page, queue, "scheduled") == "2"
    assert cell(page, queue, "consumers").startswith("1")  # good@host consumes it
    assert "30.0" in page and "12.0" in page  # 0.5/s in, 0.2/s out, per minute
    assert "3 min" in page  # the oldest waiting task
    row = page[page.index(f'data-queue="{queue}"') :].split("</tr>")[0]
    polyline = re.search(r'<polyline points="([^"]+)"', row)
    assert polyline and len(polyline.group(1).split()) >= 59
    assert "<script>alert" not in page and "&lt;script&gt;" in page

    partial = client.get("/queues", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in partial and f'data-queue="{queue}"' in partial


def test_workers_page_shows_status_pool_counts_queues_and_registered_tasks(
    services: Services, client_as: Callable[[str], FlaskClient], unique: str
) -> None:
    seed(services, f"q-{unique}")
    page = client_as("viewer").get("/workers").get_data(as_text=True)
    row = page[page.index('data-worker="good@host"') :].split("</tr>")[0]
    assert 'data-status="online"' in row and ">4<" in row and ">42<" in row
    assert f"q-{unique}" in row and "1 task" in row
    hostile = page[page.index('data-worker="&lt;script&gt;') :].split("</tr>")[0]
    assert 'data-status="late"' in hostile  # heartbeat 25 s old, interval 10 s
    assert "<script>alert" not in page
    assert page.count("hx-disable") >= 1


def test_dashboard_alert_strip_names_the_queue_nobody_consumes(
    services: Services, client_as: Callable[[str], FlaskClient], unique: str
) -> None:
    seed(services, f"q-{unique}")
    fragment = client_as("viewer").get("/fragments/fleet").get_data(as_text=True)
    strip = fragment[fragment.index('id="alerts"') :].split("</section>")[0]
    assert 'data-kind="queue_without_consumer"' in strip and "&lt;script&gt;" in strip
    assert 'data-kind="worker_late"' in strip
    assert f"q-{unique}" not in strip  # it has a consumer


def test_api_returns_the_same_figures_as_the_pages(
    services: Services, client: FlaskClient, token_for: Callable[[str], str], unique: str
) -> None:
    queue = f"q-{unique}"
    seed(services, queue)
    headers = {"Authorization": f"Bearer {token_for('viewer')}"}
    body = client.get("/api/v1/queues", headers=headers).get_json()
    assert body["broker"] == {"reachable": True, "error": None, "down_since": None}
    assert body["stale"] is False and body["sampled_at"]
    [row] = [q for q in body["queues"] if q["name"] == queue]
    assert row == {
        "name": queue, "ready": 12, "unacked": 3, "scheduled": 2, "consumers": 1,
        "concurrency": 4, "rate_in_per_min": 30.0, "rate_out_per_min": 12.0,
        "oldest_waiting_age_s": row["oldest_waiting_age_s"], "no_consumer": False,
    }  # fmt: skip
    assert 175 < row["oldest_waiting_age_s"] < 200
    workers = client.get("/api/v1/workers", headers=headers).get_json()["workers"]
    assert {w["hostname"]: w["status"] for w in workers}["good@host"] == "online"
    alerts = client.get("/api/v1/alerts", headers=headers).get_json()["alerts"]
    assert {"queue_without_consumer", "worker_late"} <= {a["kind"] for a in alerts}
    assert client.get("/api/v1/queues").status_code == 401


def test_pages_say_when_nobody_samples(
    services: Services, client_as: Callable[[str], FlaskClient]
) -> None:
    client = client_as("viewer")
    assert "No queue sample yet" in client.get("/queues").get_data(as_text=True)
    with services.transaction() as session:
        old = utcnow() - timedelta(minutes=10)
        write_sample(session, FleetSample(old, {"q": QueueState("q", 1)}))
    page = client.get("/queues").get_data(as_text=True)
    assert "No fresh queue sample since" in page and "10 min ago" in page


def test_pages_need_a_login(client: FlaskClient) -> None:
    for path in ("/queues", "/workers"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_backlog_series_takes_the_largest_backlog_of_each_minute(database_url: str) -> None:
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    sessions = db.make_session_factory(engine)
    now = utcnow().replace(second=30, microsecond=0)
    try:
        with db.session_scope(sessions) as session:
            for minutes_ago, seconds, ready in ((5, 0, 3), (5, 20, 9), (5, 40, 4), (1, 10, 2)):
                at = now - timedelta(minutes=minutes_ago) + timedelta(seconds=seconds - 30)
                session.add(
                    QueueSample(queue="q", sampled_at=at, ready=ready, unacked=1, scheduled=1)
                )
            session.add(QueueSample(queue="other", sampled_at=now, ready=100))
        with db.session_scope(sessions) as session:
            series = backlog_series(session, ["q"], now)
        assert set(series) == {"q"}
        values = series["q"]
        assert len(values) == 60
        # backlog = ready + reserved (the ETA tasks in `scheduled` are not due: not backlog)
        assert values[-6] == 10 and values[-2] == 3  # max of 3/9/4 (+1), then 2 (+1)
        assert [v for v in values if v is not None] == [10, 3]
    finally:
        engine.dispose()
