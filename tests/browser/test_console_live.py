"""The 3 a.m. console in Chromium, with the ingester and scheduler running as `up` runs them:
alerts named and acknowledged, the live task list, admin controls on Queues and Workers, and
Retry that moves the address bar to the new task."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from controlplane import control
from controlplane.config import Settings
from controlplane.failures.actions import set_status
from controlplane.failures.groups import list_groups
from controlplane.models import Task
from controlplane.services import Services
from tests.browser.conftest import screenshot
from tests.conftest import WorkerProcess, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.long]  # `make faults` runs it: `make test` < 15 min
ADD = "worker_tasks.tasks.add"
FAILS = "worker_tasks.tasks.always_fails"
SLOW = "worker_tasks.tasks.slow"
BATCH = "worker_tasks.tasks.csv_batch"
XSS = '<img src=x onerror=alert(1)><b hx-get="/logout" hx-trigger="load">boom</b>'


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Thresholds a test can cross in seconds: a 3 s wait target, a 10 s failure window."""
    return dataclasses.replace(
        settings, inspect_interval=2.0, autoscale_target_wait_seconds=3.0,
        alert_failure_window_seconds=10.0, alert_failure_min=3,
    )  # fmt: skip


@pytest.fixture
def services(live_services: Services) -> Services:
    return live_services


def send(services: Services, name: str, queue: str, **options: Any) -> str:
    return str(services.celery.send_task(name, queue=queue, **options).id)


def state_of(services: Services, task_id: str) -> str | None:
    with services.transaction() as session:
        row = session.get(Task, task_id)
        return row.state if row else None


def alerts_shown(page: Any) -> set[tuple[str, str]]:
    rows = page.locator("#alerts .alert[data-kind]")
    found = rows.evaluate_all("els => els.map(e => [e.dataset.kind, e.dataset.subject])")
    return {(kind, subject) for kind, subject in found}


def alert_row(page: Any, kind: str, subject: str) -> Any:
    return page.locator(f'#alerts .alert[data-kind="{kind}"][data-subject="{subject}"]')


def test_the_dashboard_names_each_alert_and_says_all_clear_only_when_none_holds(
    page_as: Callable[[str], Any], services: Services, shared_worker: WorkerProcess,
    shared_queues: tuple[str, ...], worker_factory: Callable[..., WorkerProcess], unique: str,
) -> None:  # fmt: skip
    default = shared_queues[0]
    idle = f"idle-{unique}"
    doomed = worker_factory((f"doomed-{unique}",))
    for n in range(3):
        send(services, ADD, idle, args=[n, n])  # nobody consumes it: waits, and waits
    failed = [send(services, FAILS, default, args=[f"row {n}"]) for n in range(4)]
    wait_for(lambda: all(state_of(services, t) == "FAILURE" for t in failed), timeout=30,
             what="the failures")  # fmt: skip
    doomed.kill()  # SIGKILL: no goodbye, so it is lost, not shut down

    page = page_as("admin")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    expected = {
        ("queue_without_consumer", idle), ("queue_wait_over_target", idle),
        ("failure_ratio", default), ("worker_offline", doomed.hostname),
    }  # fmt: skip
    wait_for(lambda: expected <= alerts_shown(page), timeout=45, what=f"the alerts {expected}")
    expect(page.locator("#all-clear")).to_have_count(0)
    for kind, subject in expected:  # each named, with its number and a link to its page
        row = alert_row(page, kind, subject)
        assert row.locator(".alert-title").inner_text().strip()
        assert re.search(r"\d", row.locator(".alert-value").inner_text())
        assert row.locator("a.alert-subject").get_attribute("href").startswith("/")
    ratio = alert_row(page, "failure_ratio", default).locator(".alert-value").inner_text()
    assert ratio.startswith("100%")
    screenshot(page, "dashboard-trouble")

    # acknowledge: who and when, on the banner and in the action log
    alert_row(page, "failure_ratio", default).locator(".ack-button").click()
    expect(alert_row(page, "failure_ratio", default).locator(".alert-ack")).to_contain_text(
        f"acknowledged by {page.username}"
    )
    # forget the lost worker (admin): it leaves the banner and the Workers page
    alert_row(page, "worker_offline", doomed.hostname).locator(".forget-button").click()
    assert doomed.hostname in dialogs[-1]
    expect(page.locator("#flash .flash-ok")).to_contain_text(f"Forgot {doomed.hostname}")
    wait_for(lambda: ("worker_offline", doomed.hostname) not in alerts_shown(page), timeout=15,
             what="the forgotten worker to leave the banner")  # fmt: skip

    # the link goes to the page that shows it
    alert_row(page, "queue_without_consumer", idle).locator("a.alert-subject").click()
    page.wait_for_url(f"**/queues#queue-{idle}")
    expect(page.locator(f'tr[data-queue="{idle}"] .badge-bad')).to_have_text("no consumer")

    # put things right: purge the idle queue, resolve the new failure group (the Failures
    # page's Resolve); the failures age out of the window
    purged = control.purge_queue(services, "admin", idle, idle)
    assert purged.ok and purged.body["purged"] == 3
    for group in list_groups(services):
        assert set_status(services, "admin", group.id, "resolve").ok
    page.goto(page.base_url + "/")
    expect(page.locator("#all-clear")).to_be_visible(timeout=60000)
    assert alerts_shown(page) == set()
    screenshot(page, "dashboard-all-clear")
    page.goto(page.base_url + "/actions?action=alert_ack")
    assert page.username in page.inner_text("#action-table")
    page.goto(page.base_url + "/actions?action=forget_worker")
    assert doomed.hostname in page.inner_text("#action-table")


def test_the_task_list_is_live_in_one_request_and_holds_while_rows_are_ticked(
    page_as: Callable[[str], Any], services: Services, shared_worker: WorkerProcess,
    shared_queues: tuple[str, ...],
) -> None:  # fmt: skip
    slow = shared_queues[2]
    page = page_as("operator")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(page.base_url + f"/tasks?queue={slow}")
    first = send(services, SLOW, slow, kwargs={"seconds": 2})
    # a new task matching the filter appears, and its row changes state, without a reload
    row = page.locator(f'tr[data-task="{first}"]')
    expect(row).to_have_attribute("data-state", "SUCCESS", timeout=30000)
    with page.expect_request(lambda request: "fragment=rows" in request.url, timeout=15000):
        pass  # and it keeps refreshing (Playwright delivers events while it waits)
    refreshes = [url for url in requests if "fragment=rows" in url]
    assert len(refreshes) >= 2
    assert all(f"queue={slow}" in url for url in refreshes)
    assert not [url for url in requests if url.endswith("/row")]  # never one request per row

    # ticked rows hold the list still, visibly; nothing is refreshed under the operator
    row.locator("input[name=ids]").check()
    expect(page.locator("#live-status")).to_contain_text("Paused: 1 row ticked")
    before = len([url for url in requests if "fragment=rows" in url])
    second = send(services, SLOW, slow, kwargs={"seconds": 4})  # longer than a refresh period
    wait_for(lambda: state_of(services, second) == "SUCCESS", timeout=30, what="the second task")
    expect(page.locator(f'tr[data-task="{second}"]')).to_have_count(0)  # events delivered here
    assert len([url for url in requests if "fragment=rows" in url]) == before
    assert row.locator("input[name=ids]").is_checked()
    row.locator("input[name=ids]").uncheck()
    expect(page.locator("#live-status")).to_contain_text("Live")
    expect(page.locator(f'tr[data-task="{second}"]')).to_have_count(1, timeout=15000)

    # Flower's columns: exception text, elapsed time and progress of running tasks, args cut
    hostile = send(services, FAILS, slow, args=[XSS])
    batch = send(services, BATCH, slow, kwargs={"rows": 80, "delay": 0.1})
    running = page.locator(f'tr[data-task="{batch}"]')
    expect(running.locator('[data-field="progress"]')).to_be_visible(timeout=30000)
    expect(running.locator('[data-field="elapsed"]')).to_contain_text("running")
    bad = page.locator(f'tr[data-task="{hostile}"]')
    expect(bad.locator(".exception")).to_contain_text("boom", timeout=30000)
    assert bad.locator("img, b").count() == 0 and "<img src=x" in bad.inner_text()
    assert page.url.endswith(f"/tasks?queue={slow}")  # the hostile hx-get did not log us out
    screenshot(page, "tasks-live")

    # sort by runtime, and find a task by a part of its name
    page.click("#sort-runtime")
    page.wait_for_url("**sort=slowest**")
    runtimes = []
    for task_id in page.locator("#task-rows tr[data-task]").evaluate_all(
        "rows => rows.map(r => r.dataset.task)"
    ):
        with services.transaction() as session:
            runtimes.append(session.get(Task, task_id).runtime)  # type: ignore[union-attr]
    assert runtimes == sorted(runtimes, reverse=True) and len(runtimes) >= 3
    page.goto(page.base_url + f"/tasks?queue={slow}&name=always_fails")
    expect(page.locator(f'tr[data-task="{hostile}"]')).to_have_count(1)
    assert page.locator("#task-rows tr[data-task]").count() == 1


def test_admins_act_on_queues_and_workers_from_their_pages_and_viewers_only_see(
    page_as: Callable[[str], Any], services: Services, shared_worker: WorkerProcess,
    worker_factory: Callable[..., WorkerProcess], unique: str,
) -> None:  # fmt: skip
    queue, idle, extra = f"ctl-{unique}", f"idle-{unique}", f"extra-{unique}"
    worker = worker_factory((queue,), concurrency=2)
    later = send(services, ADD, queue, args=[1, 1], countdown=120)
    for n in range(3):
        send(services, ADD, idle, args=[n, n])
    page = page_as("admin")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))

    page.goto(page.base_url + "/workers")
    row = page.locator(f'tr[data-worker="{worker.hostname}"]')
    expect(row.locator('[data-field="pool"]')).to_have_text("2", timeout=30000)
    # what the worker holds, its uptime and load, from the scheduler's inspection
    expect(row.locator('[data-field="scheduled"]')).to_have_text("1", timeout=30000)
    row.locator("details.held summary").click()
    expect(row.locator(f'a[href="/tasks/{later}"]')).to_be_visible()
    assert row.locator('[data-field="uptime"]').inner_text() != "—"
    expect(row.locator('[data-field="load"]')).not_to_have_text("—", timeout=15000)

    row.locator(".pool-grow").click()
    assert worker.hostname in dialogs[-1]
    expect(page.locator("#flash")).to_contain_text("changed by +1")
    expect(row.locator('[data-field="pool"]')).to_have_text("3", timeout=10000)

    row.locator("details.add-consumer summary").click()
    expect(page.locator("#workers-status")).to_contain_text("Paused while an action form")
    row.locator("details.add-consumer input[name=queue]").fill(extra)
    row.locator("details.add-consumer button[type=submit]").click()
    expect(page.locator("#flash")).to_contain_text(f"now consumes {extra}")
    tag = row.locator(".worker-queues .tag", has_text=extra)
    expect(tag).to_have_count(1, timeout=15000)
    tag.locator(".cancel-consumer").click()
    assert extra in dialogs[-1] and worker.hostname in dialogs[-1]
    expect(row.locator(".worker-queues .tag", has_text=extra)).to_have_count(0, timeout=15000)
    screenshot(page, "workers-admin")

    page.goto(page.base_url + "/queues")
    purge = page.locator(f'tr[data-queue="{idle}"] details.purge')
    expect(page.locator(f'tr[data-queue="{idle}"] [data-field="ready"]')).to_have_text(
        "3", timeout=15000
    )
    purge.locator("summary").click()
    expect(purge.locator("form")).to_contain_text(f"Delete the 3 ready messages of {idle}")
    purge.locator("button[type=submit]").click()  # nothing typed: the browser sends nothing
    assert purge.locator("input[name=confirm]").evaluate("i => !i.validity.valid")
    assert services.broker.depths([idle])[idle].ready == 3
    # (a wrong name is refused by the server: tests/web/test_fleet_controls.py)
    purge.locator("input[name=confirm]").fill(idle)
    purge.locator("button[type=submit]").click()
    expect(page.locator("#flash")).to_contain_text("Purged 3 message(s)")
    assert services.broker.depths([idle])[idle].ready == 0
    screenshot(page, "queues-admin")

    page.goto(page.base_url + "/workers")
    page.locator(f'tr[data-worker="{worker.hostname}"] .shutdown-worker').click()
    assert worker.hostname in dialogs[-1]
    wait_for(lambda: worker.process.poll() is not None, timeout=30, what="the worker to exit")

    viewer = page_as("viewer")
    for path in ("/queues", "/workers"):
        viewer.goto(viewer.base_url + path)
        expect(viewer.locator("main table.grid")).to_be_visible()
        assert viewer.locator("main form, main details.hold").count() == 0, path


def test_retry_moves_the_address_bar_to_the_new_task(
    page_as: Callable[[str], Any], services: Services, shared_worker: WorkerProcess,
    shared_queues: tuple[str, ...],
) -> None:  # fmt: skip
    failed = send(services, FAILS, shared_queues[1], args=["retry me"])
    wait_for(lambda: state_of(services, failed) == "FAILURE", timeout=30, what="the failure")
    page = page_as("operator")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(page.base_url + f"/tasks/{failed}")
    page.click("#retry-button")
    page.wait_for_url(lambda url: "/tasks/" in url and failed not in url)
    retried = page.url.rsplit("/", 1)[1]
    expect(page.locator("h1")).to_contain_text(retried)
    expect(page.locator("#retry-of-link")).to_contain_text(failed[:8])
    page.go_back()
    page.wait_for_url(f"**/tasks/{failed}")
    expect(page.locator("h1")).to_contain_text(failed)
