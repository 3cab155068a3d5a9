"""`make screenshots`: the README's pictures of the dashboard in trouble and all clear.

Not a test module (`make test` does not collect it: its name has no `test_` prefix); `make
screenshots` runs it with pytest for the fixtures (a private Redis, a real worker, Chromium)
and CONTROLPLANE_SCREENSHOTS_DIR naming where the images go.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from controlplane import control
from controlplane.config import Settings
from controlplane.services import Services
from tests.browser.test_console_live import ADD, FAILS, alerts_shown, send, state_of
from tests.conftest import WorkerProcess, require, wait_for

TARGET = os.environ.get("CONTROLPLANE_SCREENSHOTS_DIR")
pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _target() -> None:
    """Only `make screenshots` names where the pictures go; without it, fail in CI, skip here."""
    require(bool(TARGET), "set CONTROLPLANE_SCREENSHOTS_DIR (`make screenshots` does)")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings, autoscale_target_wait_seconds=10.0, alert_failure_window_seconds=15.0,
        alert_failure_min=3, queues=("default", "reports", "slow"),
    )  # fmt: skip


@pytest.fixture
def services(live_services: Services) -> Services:
    return live_services


def shot(page: Any, name: str) -> Path:
    assert TARGET
    path = Path(TARGET) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=False)
    return path


def test_take_the_readmes_screenshots(
    page_as: Callable[[str], Any], services: Services,
    worker_factory: Callable[..., WorkerProcess],
) -> None:  # fmt: skip
    worker_factory(("default", "slow"), name="demo")
    failed = [send(services, FAILS, "default", args=[f"invoice {n}"]) for n in range(8)]
    for n in range(5):
        send(services, ADD, "default", args=[n, n])
    for n in range(40):
        send(services, ADD, "reports", args=[n, 1])  # nobody consumes reports
    wait_for(lambda: all(state_of(services, t) == "FAILURE" for t in failed), timeout=30,
             what="the failures")  # fmt: skip
    page = page_as("admin")
    page.set_viewport_size({"width": 1280, "height": 900})
    wait_for(
        lambda: {"queue_without_consumer", "queue_wait_over_target", "failure_ratio"}
        <= {kind for kind, _ in alerts_shown(page)},
        timeout=60, what="the trouble on the dashboard",
    )  # fmt: skip
    shot(page, "dashboard-trouble")

    assert control.purge_queue(services, "admin", "reports", "reports").ok
    page.goto(page.base_url + "/")
    expect(page.locator("#all-clear")).to_be_visible(timeout=60000)
    shot(page, "dashboard-all-clear")
