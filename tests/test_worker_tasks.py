"""The demo fleet's tasks run end to end on a real worker through the private redis-server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from celery import Celery

from controlplane.broker.celery_app import make_celery
from controlplane.config import Settings
from tests.conftest import WorkerProcess, wait_for


@pytest.fixture
def fleet(settings: Settings, shared_worker: WorkerProcess) -> Iterator[Celery]:
    app = make_celery(settings)
    yield app
    app.close()


def test_add_runs_on_a_real_worker(fleet: Celery, shared_queues: tuple[str, ...]) -> None:
    result = fleet.send_task("worker_tasks.tasks.add", args=[2, 3], queue=shared_queues[0])
    assert result.get(timeout=20) == 5
    assert result.state == "SUCCESS"


def test_csv_batch_reports_progress_while_it_runs(
    fleet: Celery, shared_queues: tuple[str, ...]
) -> None:
    result = fleet.send_task(
        "worker_tasks.tasks.csv_batch", kwargs={"rows": 60, "delay": 0.05}, queue=shared_queues[1]
    )
    progress = wait_for(
        lambda: result.state == "PROGRESS" and result.info, timeout=20, what="PROGRESS meta"
    )
    assert progress["total"] == 60
    assert 0 < progress["current"] < 60
    assert result.get(timeout=30) == {"rows": 60}


def test_flaky_task_retries_with_backoff_then_succeeds(
    fleet: Celery, shared_queues: tuple[str, ...]
) -> None:
    result = fleet.send_task(
        "worker_tasks.tasks.flaky", kwargs={"fail_times": 2}, queue=shared_queues[0]
    )
    assert result.get(timeout=30) == {"attempts": 3}


def test_always_failing_task_ends_in_failure_with_its_traceback(
    fleet: Celery, shared_queues: tuple[str, ...]
) -> None:
    result = fleet.send_task(
        "worker_tasks.tasks.always_fails", args=["boom-from-test"], queue=shared_queues[0]
    )
    wait_for(lambda: result.state == "FAILURE", timeout=20, what="FAILURE")
    assert isinstance(result.result, ValueError)
    assert "boom-from-test" in str(result.result)
    assert "raise ValueError(message)" in (result.traceback or "")
