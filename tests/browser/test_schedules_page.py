"""The Schedules page in a real browser: beat's entry with its runs from a real worker, the
schedule in words, the run strip, and Run now for an operator (written in the action log)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from controlplane.broker.embedded import EmbeddedRedis
from controlplane.config import Settings
from controlplane.models import Action, Task
from controlplane.periodic.views import list_schedules
from controlplane.periodic.watch import watch_schedules
from controlplane.services import Services
from tests.browser.conftest import screenshot
from tests.conftest import WorkerProcess, wait_for
from tests.periodic.conftest import Beat, start_beat, write_app

pytestmark = pytest.mark.browser


@pytest.fixture
def queue(unique: str) -> str:
    return f"sched-{unique}"


@pytest.fixture
def beat_app(
    redis_server: EmbeddedRedis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, queue: str
) -> str:
    monkeypatch.syspath_prepend(str(tmp_path))
    return write_app(tmp_path, redis_server.url, {
        "nightly-report": {"task": "worker_tasks.tasks.add", "schedule": 2.0,
                           "args": (20, 22), "options": {"queue": queue}},
    })  # fmt: skip


@pytest.fixture
def settings(settings: Settings, beat_app: str) -> Settings:
    return dataclasses.replace(settings, celery_app=f"{beat_app}:app",
                               schedule_grace_min_seconds=1.5)  # fmt: skip


@pytest.fixture
def running_beat(beat_app: str, tmp_path: Path) -> Iterator[Beat]:
    started = start_beat(beat_app, tmp_path)
    yield started
    started.kill()


@pytest.mark.long  # a slow browser story: `make faults` runs it, so `make test` < 15 min
def test_an_operator_sees_beats_runs_and_runs_a_schedule_now(
    page_as: Callable[[str], Any], services: Services, ingesting: Any, running_beat: Beat,
    worker_factory: Callable[..., WorkerProcess], queue: str,
) -> None:  # fmt: skip
    worker_factory((queue,))
    watch_schedules(services)

    def ran(count: int) -> bool:
        with services.transaction() as session:
            rows = session.scalars(select(Task).where(Task.name == "worker_tasks.tasks.add",
                                                      Task.state == "SUCCESS")).all()  # fmt: skip
        return len(rows) >= count

    wait_for(lambda: ran(3), timeout=40, what=f"beat's runs\n{running_beat.log()[-1500:]}")
    watch_schedules(services)
    page = page_as("operator")
    page.click("nav >> text=Schedules")
    row = page.locator('tr[data-schedule="nightly-report"]')
    assert row.locator('[data-field="words"]').inner_text() == "every 2 seconds"
    assert row.locator('[data-field="last"] a').count() == 1
    outcomes = row.locator('[data-field="strip"] [data-outcome]')
    assert outcomes.count() >= 2
    screenshot(page, "schedules")

    running_beat.kill()
    [schedule] = list_schedules(services)
    row.locator("button.run-now").click()
    page.wait_for_url("**/schedules#schedule-*")
    assert "Sent worker_tasks.tasks.add now" in page.inner_text("body")
    with services.transaction() as session:
        action = session.scalars(select(Action).where(Action.action == "schedule_run_now")).one()
    assert action.target == f"schedule:{schedule.id}" and action.outcome == "ok"
    assert action.actor == page.username
