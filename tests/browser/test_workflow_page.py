"""The workflow graph in a real browser: a chord run by a real worker, drawn and navigable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from celery import chord

from controlplane.fleet.workflow import workflow_of
from controlplane.services import Services
from tests.browser.conftest import screenshot
from tests.conftest import WorkerProcess, wait_for

pytestmark = pytest.mark.browser


def test_a_chord_is_drawn_on_the_task_page_and_each_node_opens_its_task(
    page_as: Callable[[str], Any], services: Services, ingesting: Any,
    worker_factory: Callable[..., WorkerProcess], unique: str,
) -> None:  # fmt: skip
    queue = f"wfb-{unique}"
    worker_factory((queue,))
    sig = services.celery.signature
    header = [sig("worker_tasks.tasks.add", args=(n, n), queue=queue) for n in (1, 2, 3)]
    result = chord(header, sig("worker_tasks.tasks.total", queue=queue)).apply_async()
    assert result.get(timeout=30) == 12
    members = [child.id for child in result.parent.results]

    def drawn() -> bool:
        found = workflow_of(services, result.id)
        return found is not None and found.summary.done == 4

    wait_for(drawn, timeout=30, what="the chord ingested")
    page = page_as("viewer")
    page.goto(f"{page.base_url}/tasks/{result.id}")
    nodes = page.locator("svg.workflow a.wf-link")
    assert nodes.count() == 4
    assert page.locator("svg.workflow path.wf-edge-chord").count() == 3
    assert page.locator("svg.workflow rect.wf-focus").count() == 1
    assert "4 tasks: 4 done" in page.inner_text("#workflow-summary")
    assert "result backend" in page.inner_text("#workflow-notes")
    screenshot(page, "workflow-chord")

    page.locator(f'svg.workflow a.wf-link[data-task="{members[1]}"]').click()
    page.wait_for_url(f"**/tasks/{members[1]}")
    focused = page.locator("svg.workflow a.wf-link", has=page.locator("rect.wf-focus"))
    assert focused.get_attribute("data-task") == members[1]

    page.goto(f"{page.base_url}/tasks")
    page.check("#roots-only")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**roots=1**")
    rows = page.locator("#task-rows tr")
    ids = [rows.nth(i).get_attribute("id") for i in range(rows.count())]
    assert f"task-{result.id}" not in ids  # the callback is not a root
