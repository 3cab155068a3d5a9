"""The attempt history in a real browser (issue 17 item 7): an autoretried task run by a real
worker shows each retry's exception and time, and is not listed as its own parent or child."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from controlplane.fleet.task_history import get_task
from controlplane.services import Services
from tests.browser.conftest import screenshot
from tests.conftest import WorkerProcess, wait_for

pytestmark = pytest.mark.browser


def test_an_autoretried_task_shows_each_retry_and_is_not_its_own_relative(
    page_as: Callable[[str], Any], services: Services, ingesting: Any,
    worker_factory: Callable[..., WorkerProcess], unique: str,
) -> None:  # fmt: skip
    queue = f"attempts-{unique}"
    worker = worker_factory((queue,))
    task_id = services.celery.send_task(
        "worker_tasks.tasks.flaky", kwargs={"fail_times": 2}, queue=queue
    ).id

    def finished() -> bool:
        row = get_task(services, task_id)
        return row is not None and row.state == "SUCCESS" and row.attempt_summary.deliveries == 3

    wait_for(finished, timeout=45, what="the flaky task to succeed on its third attempt")
    page = page_as("viewer")
    page.goto(f"{page.base_url}/tasks/{task_id}")
    expect(page.locator("#autoretries")).to_have_text("2 autoretries")
    expect(page.locator("#deliveries")).to_have_text("delivered 3 times")
    assert page.locator("#duplicate-note").count() == 0
    retried = page.locator("#attempts tr.attempt-retried")
    assert retried.count() == 2
    assert "attempt 1 of 3 failed" in retried.nth(0).inner_text()
    assert "attempt 2 of 3 failed" in retried.nth(1).inner_text()
    assert worker.hostname in retried.nth(0).inner_text()
    assert page.locator("#attempts tr.attempt-received").count() == 3
    # itself: neither its parent nor its child, and no edge to itself in the graph
    related = page.locator("section.card", has=page.locator("h2", has_text="Related"))
    expect(related).to_contain_text("No parent, children or retries.")
    assert page.locator(f'section.card a[href="/tasks/{task_id}"]').count() == 0
    screenshot(page, "task-attempts")
