"""The console in a real headless browser: log in, trigger, look at pages, roles, escaping."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from controlplane.fleet.inspection import refresh_worker
from controlplane.services import Services
from tests.browser.conftest import screenshot
from tests.conftest import WorkerProcess

pytestmark = pytest.mark.browser


def test_operator_triggers_add_from_the_form_and_lands_on_its_page(
    page_as: Callable[[str], Any], services: Services, shared_worker: WorkerProcess,
    shared_queues: tuple[str, ...],
) -> None:  # fmt: skip
    refresh_worker(services, shared_worker.hostname)  # as the scheduler's inspection stores it
    page = page_as("operator")
    screenshot(page, "dashboard")
    page.click("text=Trigger")
    page.select_option("#trigger-name", "worker_tasks.tasks.add")
    # the queue field stays empty (only a typed queue overrides); the form says where it goes
    assert page.input_value("#trigger-queue") == ""
    # waits: the route is shown by the page's script, which may run after the pick
    expect(page.locator("#trigger-route")).to_have_text(re.compile(f"^Goes to {shared_queues[0]}:"))
    page.fill("textarea[name=args]", "[2, 40]")
    screenshot(page, "trigger")
    page.click("#trigger-submit")
    page.wait_for_url("**/tasks/*")
    task_id = page.url.rsplit("/", 1)[1]
    assert services.celery.AsyncResult(task_id).get(timeout=20) == 42
    assert "worker_tasks.tasks.add" in page.inner_text("h1")


def test_json_editor_refuses_bad_args_before_submit(
    page_as: Callable[[str], Any], services: Services, shared_worker: WorkerProcess
) -> None:
    refresh_worker(services, shared_worker.hostname)  # the form lists the stored names only
    page = page_as("operator")
    page.goto(page.base_url + "/trigger")
    page.select_option("#trigger-name", "worker_tasks.tasks.add")
    page.fill("textarea[name=args]", '{"not": "a list"}')
    page.click("#trigger-submit")
    assert page.url.endswith("/trigger")  # the browser did not send the form
    assert "expected a JSON list" in page.inner_text(".field-error")


def test_viewer_finds_no_action_buttons(
    page_as: Callable[[str], Any], shared_worker: WorkerProcess
) -> None:
    page = page_as("viewer")
    assert page.locator("text=Trigger").count() == 0
    page.goto(page.base_url + "/tasks")
    assert page.locator("#bulk").count() == 0
    screenshot(page, "tasks-viewer")
