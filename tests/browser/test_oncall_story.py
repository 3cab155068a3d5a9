"""The 3 a.m. story in a real browser, with the ingester and the scheduler running as `up` runs
them: find the failing queue, see why, retry what failed, revoke what must not run, and the
action log says who did what. Screenshots of each main page go to test-output/screenshots/."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from controlplane.models import Task
from controlplane.services import Services
from controlplane.web import create_app
from tests.browser.conftest import screenshot
from tests.conftest import WorkerProcess, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.long]  # `make faults` runs it: `make test` < 15 min
XSS = '<script>alert(1)</script><img src=x onerror=alert(2)><b hx-get="/logout" hx-trigger="load">'


@pytest.fixture
def services(live_services: Services) -> Services:
    """This module's console samples often and ingests events, as `controlplane up` does."""
    return live_services


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services, {"TESTING": True})


def row_state(services: Services, task_id: str) -> str | None:
    with services.transaction() as session:
        row = session.get(Task, task_id)
        return row.state if row else None


def send(services: Services, name: str, queue: str, **options: Any) -> str:
    result = services.celery.send_task(name, queue=queue, **options)
    return str(result.id)


def test_the_oncall_engineer_fixes_a_failing_queue_in_the_browser(
    page_as: Callable[[str], Any], services: Services, shared_worker: WorkerProcess,
    shared_queues: tuple[str, ...],
) -> None:  # fmt: skip
    default, reports, slow = shared_queues
    failing = [
        send(services, "worker_tasks.tasks.always_fails", reports, args=[f"bad row {i}"])
        for i in range(3)
    ]
    hostile = send(services, "worker_tasks.tasks.always_fails", default, args=[XSS])
    for _ in range(4):
        send(services, "worker_tasks.tasks.add", default, args=[1, 2])
    wait_for(lambda: all(row_state(services, t) == "FAILURE" for t in [*failing, hostile]),
             timeout=30, what="the failures in history")  # fmt: skip

    page = page_as("operator")
    page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm asks; the engineer agrees

    # 1. The dashboard: live numbers, the failures per minute, the workers.
    page.wait_for_selector("#stats", timeout=20000)
    wait_for(lambda: page.locator("#workers li[data-status=online]").count() >= 1, timeout=30,
             what="the worker on the dashboard")  # fmt: skip
    screenshot(page, "dashboard")

    # 2. Tasks, filtered to failures on the reports queue.
    page.goto(page.base_url + f"/tasks?state=FAILURE&queue={reports}")
    assert page.locator("#task-rows tr[data-state=FAILURE]").count() == 3
    screenshot(page, "tasks-failed")

    # 3. One failed task: why it failed, then Retry.
    page.click(f"a[href='/tasks/{failing[0]}']")
    page.wait_for_selector("#payload-exception")
    assert "bad row 0" in page.inner_text("#payload-exception")
    screenshot(page, "task-detail")
    page.click("#retry-button")
    page.wait_for_url(lambda url: "/tasks/" in url and failing[0] not in url)
    retried = page.url.rsplit("/", 1)[1]
    assert retried != failing[0]
    page.wait_for_selector("#retry-of-link")
    wait_for(lambda: row_state(services, retried) == "FAILURE", timeout=20, what="the retry ran")
    page.reload()
    assert page.inner_text("#task-state") == "FAILURE"

    # 4. Bulk retry of every failure on the queue, with its dry-run count and confirmation.
    page.goto(page.base_url + f"/tasks?state=FAILURE&queue={reports}")
    page.click("#retry-all")
    page.wait_for_selector("#bulk-confirm")
    # 3 failures less the one already retried (not retried by default; the retry itself went
    # to the task's route, the default queue)
    assert page.inner_text("#bulk-confirmation [data-field=would-act-on]") == "2"
    assert "1 task(s) already retried are left out" in page.inner_text("#bulk-result")
    screenshot(page, "bulk-confirm")
    page.click("#bulk-confirm")
    page.wait_for_selector("#bulk-done")
    assert "acted on 2" in page.inner_text("#bulk-done")

    # 5. Revoke a queued task that must not run (an ETA far enough away).
    queued = send(services, "worker_tasks.tasks.add", slow, args=[5, 5], countdown=8)
    wait_for(lambda: row_state(services, queued) in ("RECEIVED", "PENDING"), what="queued task")
    page.goto(page.base_url + f"/tasks/{queued}")
    page.check("input[name=terminate]")
    page.click("#revoke-button")
    page.wait_for_selector("#flash .flash-ok")
    page.wait_for_selector("#revoke-pending")  # the live region shows the pending revoke
    # the worker drops it when its countdown ends, and says so in a task-revoked event
    wait_for(lambda: row_state(services, queued) == "REVOKED", timeout=30, what="REVOKED")

    # 6. Trigger from the form, and watch the new task reach SUCCESS without a reload.
    page.goto(page.base_url + "/trigger")
    page.select_option("#trigger-name", "worker_tasks.tasks.slow")
    page.fill("#trigger-queue", slow)
    page.fill("textarea[name=kwargs]", '{"seconds": 2}')
    page.click("#trigger-submit")
    page.wait_for_url("**/tasks/*")
    # no reload: the live region polls while the task runs (a locator wait, not page JS,
    # because the CSP forbids eval)
    expect(page.locator("#task-state")).to_have_text("SUCCESS", timeout=30000)

    # 7. Untrusted args render as text: no script ran, no htmx request fired from them.
    page.goto(page.base_url + f"/tasks/{hostile}")
    assert "<script>alert(1)</script>" in page.inner_text("#payload-args")
    assert page.locator("#payload-args script, #payload-args img, #payload-args b").count() == 0
    assert page.url.endswith(hostile)  # the hostile hx-get="/logout" did not log us out

    # 8. The next morning: the action log says who did what.
    page.goto(page.base_url + "/actions")
    log = page.inner_text("#action-table")
    for action in ("retry", "bulk_retry", "revoke", "trigger"):
        assert action in log
    assert page.username in log
    screenshot(page, "actions")

    for name, path in (("queues", "/queues"), ("workers", "/workers"),
                       ("insights", "/insights"), ("audit", "/audit")):  # fmt: skip
        page.goto(page.base_url + path)
        time.sleep(0.3)
        screenshot(page, name)


def test_a_viewer_sees_no_action_buttons_anywhere(
    page_as: Callable[[str], Any], services: Services, shared_worker: WorkerProcess,
    shared_queues: tuple[str, ...],
) -> None:  # fmt: skip
    failed = send(services, "worker_tasks.tasks.always_fails", shared_queues[0])
    wait_for(lambda: row_state(services, failed) == "FAILURE", what="a failed task")
    page = page_as("viewer")
    page.goto(page.base_url + f"/tasks/{failed}")
    assert page.locator("#retry-button, #revoke-button").count() == 0
    page.goto(page.base_url + "/tasks")
    assert page.locator("#bulk-form, input[name=ids]").count() == 0
    page.goto(page.base_url + "/queues")
    assert page.locator("form[hx-post*=purge]").count() == 0
    screenshot(page, "task-detail-viewer")
