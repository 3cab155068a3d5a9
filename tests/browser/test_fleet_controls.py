"""Fleet controls in a real browser, against real workers: pause/resume on the Queues page, a
runtime rate limit set and reset from Insights."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from controlplane.clock import utcnow
from controlplane.fleet.sampler import Sampler
from controlplane.models import Task
from controlplane.services import Services
from tests.browser.conftest import screenshot
from tests.conftest import WorkerProcess, wait_for

pytestmark = pytest.mark.browser


def consumes(services: Services, hostname: str, queue: str) -> bool:
    replies = services.celery.control.inspect(destination=[hostname], timeout=1).active_queues()
    return queue in [q["name"] for q in (replies or {}).get(hostname, [])]


@pytest.mark.long  # a slow browser story: `make faults` runs it, so `make test` < 15 min
def test_admin_pauses_and_resumes_a_queue_from_the_queues_page(
    page_as: Callable[[str], Any], services: Services,
    worker_factory: Callable[..., WorkerProcess], unique: str,
) -> None:  # fmt: skip
    queue = f"bq-{unique}"
    worker = worker_factory((queue,))
    sampler = Sampler(services, services.state.latest, "test")
    sampler.inspect(force=True)
    sampler.sample()
    page = page_as("admin")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(page.base_url + "/queues")
    row = page.locator(f'tr[data-queue="{queue}"]')
    row.locator('button[data-action="pause"]').click()
    page.wait_for_url("**/queues")
    assert "Paused " + queue in page.inner_text("#flash")
    assert not consumes(services, worker.hostname, queue)  # ground truth: the worker itself
    sampler.sample()
    page.reload()
    badge = page.locator(f'tr[data-queue="{queue}"] [data-field="paused"]')
    assert f"paused by {page.username}" in badge.inner_text()
    assert "wants no workers" in row.inner_text()
    screenshot(page, "queue-paused")

    page.locator(f'tr[data-queue="{queue}"] button[data-action="resume"]').click()
    page.wait_for_url("**/queues")
    assert f"Resumed {queue} on {worker.hostname}" in page.inner_text("#flash")
    wait_for(lambda: consumes(services, worker.hostname, queue), timeout=10, what="resumed")
    assert page.locator(f'tr[data-queue="{queue}"] [data-field="paused"]').count() == 0

    # Long tasks: the ScaledJob beside the ScaledObject, filled in for this queue.
    page.locator(f'tr[data-queue="{queue}"] a', has_text="ScaledJob").click()
    page.wait_for_url(f"**/queues/{queue}/scaledjob")
    assert "kind: ScaledJob" in page.inner_text("#manifest")
    assert f'controlplane_queue_paused{{queue_name="{queue}"}}' in page.inner_text("#manifest")


@pytest.mark.long  # a slow browser story: `make faults` runs it, so `make test` < 15 min
def test_operator_sets_and_resets_a_rate_limit_from_insights(
    page_as: Callable[[str], Any], services: Services,
    worker_factory: Callable[..., WorkerProcess], unique: str,
) -> None:  # fmt: skip
    worker = worker_factory((f"bl-{unique}",))
    name = "worker_tasks.tasks.csv_batch"
    # A finished run puts the task name on Insights (runtime percentiles over 24 h).
    services.celery.send_task(name, kwargs={"rows": 1}, queue=f"bl-{unique}").get(timeout=20)
    with services.transaction() as session:  # as the ingester would have written it
        now = utcnow()
        session.add(Task(task_id=f"done-{unique}", name=name, state="SUCCESS", runtime=0.2,
                         first_seen_at=now, finished_at=now, updated_at=now))  # fmt: skip
    Sampler(services, services.state.latest, "test").inspect(force=True)  # the Workers page
    page = page_as("operator")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(page.base_url + "/insights")
    row = page.locator(f'tr[data-task-name="{name}"]')
    row.locator('input[name="rate_limit"]').fill("7/m")
    row.locator('button[data-action="set-rate"]').click()
    page.wait_for_url("**/insights")
    assert f"Rate limit of {name} is now 7/m" in page.inner_text("#flash")
    assert (
        "7/m" in page.locator(f'tr[data-task-name="{name}"] [data-field="rate-limit"]').inner_text()
    )
    stats = services.celery.control.inspect(destination=[worker.hostname], timeout=1)
    assert f"{name} [rate_limit=7/m]" in (stats.registered("rate_limit") or {})[worker.hostname]
    screenshot(page, "insights-limits")
    page.goto(page.base_url + "/workers")  # what the worker runs with, and that it is ours
    limits = page.locator(f'tr[data-worker="{worker.hostname}"] [data-field="limits"]')
    assert "rate 7/m" in limits.inner_text() and "runtime" in limits.inner_text()
    page.goto(page.base_url + "/insights")

    page.locator(f'tr[data-task-name="{name}"] button[data-action="reset-rate"]').click()
    page.wait_for_url("**/insights")
    assert "back to the code's value" in page.inner_text("#flash")
    assert name in (stats.registered("rate_limit") or {})[worker.hostname]
