"""The plots' numbers: throughput per minute, failure rate, runtime percentiles, depth series."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from flask.testing import FlaskClient

from controlplane.clock import utcnow
from controlplane.fleet.insights import runtime_percentiles, throughput
from controlplane.models import QueueSample, Task
from controlplane.services import Services


def add_finished(services: Services, count: int, state: str, minutes_ago: float, name: str,
                 runtime: float, now: datetime | None = None) -> None:  # fmt: skip
    # the middle of the minute `minutes_ago` whole minutes before the current one
    now = (now or utcnow()).replace(second=30, microsecond=0)
    with services.transaction() as session:
        for index in range(count):
            stamp = now - timedelta(minutes=minutes_ago)
            session.add(Task(
                task_id=f"{state}-{minutes_ago}-{name}-{index}", name=name, state=state,
                first_seen_at=stamp, finished_at=stamp, runtime=runtime * (index + 1),
                updated_at=stamp, retries=0, args_incomplete=False,
            ))  # fmt: skip


def test_throughput_counts_each_finished_task_in_its_minute(services: Services) -> None:
    now = utcnow().replace(second=45)
    add_finished(services, 3, "SUCCESS", 2, "a", 0.1, now)
    add_finished(services, 1, "FAILURE", 2, "a", 0.1, now)
    add_finished(services, 2, "SUCCESS", 10, "b", 0.1, now)
    add_finished(services, 5, "SUCCESS", 90, "old", 0.1, now)  # outside the hour
    with services.transaction() as session:
        flow = throughput(session, now, minutes=60)
    assert sum(flow.succeeded) == 5 and sum(flow.failed) == 1
    assert flow.succeeded[-3] == 3 and flow.failed[-3] == 1 and flow.succeeded[-11] == 2
    assert flow.failure_rate[-3] == 0.25
    assert flow.per_minute(last=5) == (3 / 5, 1 / 5)


def test_runtime_percentiles_per_task_name(services: Services) -> None:
    add_finished(services, 100, "SUCCESS", 5, "proj.slow", 0.01)  # runtimes 0.01 .. 1.00
    with services.transaction() as session:
        [row] = runtime_percentiles(session, utcnow())
    assert row.name == "proj.slow" and row.count == 100
    assert abs(row.p50 - 0.505) < 1e-9 and abs(row.p95 - 0.9505) < 1e-9
    assert abs(row.p99 - 0.9901) < 1e-9


def test_insights_page_draws_svg_without_inline_script(
    client_as: Callable[[str], FlaskClient], services: Services
) -> None:
    add_finished(services, 4, "SUCCESS", 3, "proj.<b>bold</b>", 0.2)
    now = utcnow()
    with services.transaction() as session:
        for minute in range(10):
            session.add(QueueSample(queue="q<script>", sampled_at=now - timedelta(minutes=minute),
                                    ready=minute, unacked=1, scheduled=0, consumers=1))  # fmt: skip
    page = client_as("viewer").get("/insights").get_data(as_text=True)
    for chart in ("chart-throughput", "chart-failure-rate", "chart-depth", "chart-runtimes"):
        assert f'id="{chart}"' in page
    assert "<polyline" in page and "<rect" in page
    assert "<script>" not in page.split("</head>")[1]
    assert "q&lt;script&gt;" in page and "proj.&lt;b&gt;bold" in page
