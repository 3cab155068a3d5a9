"""Phones: every page at 360 px wide has no page-level horizontal scrolling and nothing clipped;
wide tables scroll inside their own box. `overflow-x: hidden` on the page would not pass: it is
checked for, and clipping is measured element by element."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from controlplane import audit_runs
from controlplane.broker import QueueState
from controlplane.clock import utcnow
from controlplane.config import Settings
from controlplane.control.alerts import acknowledge_alert
from controlplane.fleet.sample import FleetSample, write_sample
from controlplane.models import Task, Worker
from controlplane.services import Services
from tests.audit.audit_support import make_inline, with_projects, write_shop
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser
LONG = "billing.very_long_module_name.tasks.reconcile_every_invoice_of_the_month_with_the_ledger"
HOST = "celery-worker-reports-7f9c6d5b8-x2k4q@ip-10-0-12-34.eu-west-1.compute.internal"

# Everything on the page must fit, except inside a box that scrolls by itself (or hides on
# purpose, like a <details> body); the page itself must not hide overflow.
OVERFLOW_CHECK = """() => {
  const width = window.innerWidth;
  const page = document.documentElement;
  const scrolls = (el) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const x = getComputedStyle(a).overflowX;
      if (x === 'auto' || x === 'scroll') return true;
    }
    return false;
  };
  const clipped = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if ((box.right > width + 1 || box.left < -1) && !scrolls(el)) {
      const kind = typeof el.className === 'string' && el.className ? '.' + el.className : '';
      clipped.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + kind.split(' ')[0] +
                   ' ' + Math.round(box.left) + '..' + Math.round(box.right));
    }
  }
  return {
    scrollWidth: page.scrollWidth, bodyScrollWidth: document.body.scrollWidth, width: width,
    hidden: [getComputedStyle(page).overflowX, getComputedStyle(document.body).overflowX],
    clipped: clipped.slice(0, 12),
  };
}"""


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return write_shop(tmp_path / "shop", hostile=True)


@pytest.fixture
def settings(settings: Settings, shop: Path, tmp_path: Path) -> Settings:
    return with_projects(settings, tmp_path / "audit-cache", shop=shop)


def seed(services: Services, shop: Path) -> dict[str, Any]:
    """A fleet in some trouble, with long names everywhere, and two audit runs."""
    now = utcnow()
    queue = "reports-and-very-long-queue-name-for-the-month-end"
    with services.transaction() as session:
        for n in range(30):
            state = QueueState(queue, ready=40 + n, reserved=3, scheduled=2,
                               oldest_waiting_at=now - timedelta(seconds=62))  # fmt: skip
            write_sample(session, FleetSample(now - timedelta(seconds=60 - 2 * n), {queue: state}))
        for n in range(12):
            session.add(Task(
                task_id=f"{n:04d}-5f3c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9", name=LONG,
                state="FAILURE" if n % 2 else "STARTED", queue=queue, worker=HOST,
                args="['" + "x" * 300 + "']", kwargs="{'customer': 'ACME-" + "9" * 60 + "'}",
                exception="ValueError('" + "disk full on /data/exports/" * 8 + "')",
                traceback="Traceback (most recent call last):\n" + "  File 'x.py'\n" * 40,
                first_seen_at=now - timedelta(seconds=90 - n), sent_at=now - timedelta(seconds=90),
                started_at=now - timedelta(seconds=80), runtime=0.00022 if n % 2 else None,
                finished_at=now - timedelta(seconds=70) if n % 2 else None, updated_at=now,
            ))  # fmt: skip
        session.add(Worker(hostname=HOST, status="online", freq=2.0, last_heartbeat=now,
                           concurrency=4, active=2, processed=1234, loadavg="[0.5, 0.4, 0.3]",
                           queues=json.dumps([queue, "default"]), booted_at=now,
                           registered=json.dumps([LONG]), updated_at=now))  # fmt: skip
        session.add(
            Worker(
                hostname="lost-" + HOST,
                status="online",
                freq=2.0,
                last_heartbeat=now - timedelta(minutes=5),
                updated_at=now,
            )
        )
    acknowledge_alert(services, "alice", "worker_offline", "lost-" + HOST)
    first = audit_runs.run_audit(services, "shop", "admin")
    make_inline(shop)
    second = audit_runs.run_audit(services, "shop", "admin")
    return {"queue": queue, "task": "0001-5f3c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9",
            "runs": (first.id, second.id)}  # fmt: skip


def test_every_page_fits_360_px_without_page_scrolling_or_clipping(
    page_as: Callable[[str], Any], services: Services, shop: Path
) -> None:
    seeded = seed(services, shop)
    page = page_as("admin")
    page.set_viewport_size({"width": 360, "height": 780})
    first, second = seeded["runs"]
    paths = [
        "/", "/queues", "/workers", "/tasks", f"/tasks/{seeded['task']}", "/trigger",
        "/insights", "/actions", "/audit", f"/audit/runs/{second}",
        f"/audit/diff?a={first}&b={second}", f"/queues/{seeded['queue']}/scaledobject",
        "/users",
    ]  # fmt: skip
    problems = {}
    for path in paths:
        page.goto(page.base_url + path)
        if path == "/":
            page.wait_for_selector("#alerts")
        page.wait_for_load_state("networkidle")
        found = page.evaluate(OVERFLOW_CHECK)
        assert found["width"] == 360
        if found["scrollWidth"] > 360 or found["bodyScrollWidth"] > 360 or found["clipped"]:
            problems[path] = found
        assert "hidden" not in found["hidden"], f"{path} hides the page's overflow"
        name = "-".join(path.strip("/").split("?")[0].split("/")[:2]) or "dashboard"
        screenshot(page, f"phone-{name[:40]}")
    assert not problems, json.dumps(problems, indent=1)
    # wide tables are still whole: they scroll inside their own box
    page.goto(page.base_url + "/tasks")
    box = page.locator("#task-table").evaluate("t => [t.scrollWidth, t.parentElement.clientWidth]")
    assert box[0] > box[1]
    scroller = page.locator("#task-table").evaluate(
        "t => getComputedStyle(t.parentElement).overflowX"
    )
    assert scroller == "auto"


def test_the_login_page_fits_too(browser: Any, live_url: str) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 780})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_url + "/login")
    found = page.evaluate(OVERFLOW_CHECK)
    page.fill("input[name=username]", "nobody")
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Wrong user name or password.")
    context.close()
    assert found["scrollWidth"] <= 360 and not found["clipped"], found
    assert errors == []  # a failed login logs no 401 in the browser console
