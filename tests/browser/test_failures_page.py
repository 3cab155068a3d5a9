"""The Failures page in a real browser: a real worker's failures grouped, opened, retried
(count first, then confirmed) and resolved."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from controlplane.config import Settings
from controlplane.failures.groups import list_groups
from controlplane.services import Services
from tests.browser.conftest import screenshot
from tests.conftest import WorkerProcess, wait_for

pytestmark = pytest.mark.browser
FAILS = "worker_tasks.tasks.always_fails"


@pytest.fixture
def queue(unique: str) -> str:
    return f"fail-{unique}"


@pytest.fixture
def settings(settings: Settings, queue: str) -> Settings:
    """The fleet routes its tasks to `queue` (where a retry is sent, as Celery would)."""
    return dataclasses.replace(settings, task_default_queue=queue)


@pytest.mark.long  # a slow browser story: `make faults` runs it, so `make test` < 15 min
def test_an_operator_opens_a_group_retries_its_failures_and_resolves_it(
    page_as: Callable[[str], Any], services: Services, ingesting: Any,
    worker_factory: Callable[..., WorkerProcess], queue: str,
) -> None:  # fmt: skip
    worker_factory((queue,))
    for order in (1042, 7, 318):
        services.celery.send_task(FAILS, args=[f"order {order} has no address"], queue=queue)
    wait_for(
        lambda: [g.failures for g in list_groups(services)] == [3], timeout=30,
        what="three failures in one group",
    )  # fmt: skip
    [group] = list_groups(services)

    page = page_as("operator")
    page.click("nav >> text=Failures")
    row = page.locator(f'#failure-groups tr[data-group="{group.id}"]')
    assert "order <n> has no address" in row.inner_text()
    assert row.locator('[data-field="count"]').inner_text() == "3"
    assert row.locator('[data-field="state"]').inner_text() == "new"
    assert row.locator("svg.spark").count() == 1
    screenshot(page, "failures")

    row.locator("a").first.click()
    page.wait_for_url(f"**/failures/{group.id}")
    assert "always_fails" in page.inner_text("#sample-traceback")
    assert page.inner_text("#not-retried") == "3"
    page.click("#retry-group")
    assert page.inner_text("#would-retry") == "3"  # the dry run's count, nothing sent yet
    assert list_groups(services)[0].failures == 3
    page.click("#retry-confirm button[type=submit]")
    assert "Retried 3 task(s)" in page.inner_text("body")
    wait_for(lambda: list_groups(services)[0].failures == 6, timeout=30, what="retries failing")

    page.click("#resolve-group")
    assert page.inner_text("#group-state") == "resolved"
    assert page.username in page.inner_text("body")
    page.goto(f"{page.base_url}/failures?state=resolved")
    assert page.locator(f'#failure-groups tr[data-group="{group.id}"]').count() == 1
