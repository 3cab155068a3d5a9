"""Fixtures for the operator-safety tests (issue 15): a redis-server per module, a real worker.

Here `redis_server` is the module's own, so every command the console sends can be watched
(broker_watch) without another test's traffic in the way.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import pytest

from controlplane.broker.embedded import EmbeddedRedis
from controlplane.config import Settings
from controlplane.services import Services
from tests.conftest import WorkerProcess, private_redis_server, start_worker


@pytest.fixture(scope="module")
def own_redis() -> Iterator[EmbeddedRedis]:
    yield from private_redis_server()


@pytest.fixture
def redis_server(own_redis: EmbeddedRedis) -> EmbeddedRedis:
    """This module's broker is its own (overrides the session's shared one)."""
    return own_redis


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No configured routing table: the console learns the fleet's routing from its workers."""
    return dataclasses.replace(settings, task_default_queue=None, task_routes=())


@pytest.fixture(scope="module")
def work_queue() -> str:
    return f"work-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def fleet_worker(
    own_redis: EmbeddedRedis, work_queue: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    """A real worker on the module's broker, consuming only `work_queue`."""
    worker = start_worker(own_redis.url, (work_queue,), tmp_path_factory.mktemp("fleet-worker"))
    yield worker
    worker.stop()


def worker_still_works(services: Services, worker: WorkerProcess, queue: str) -> None:
    """The worker is alive and still runs tasks (a poisoned key or message would have killed it)."""
    assert worker.process.poll() is None, f"the worker died:\n{worker.log()[-3000:]}"
    result = services.celery.send_task("worker_tasks.tasks.add", args=[2, 3], queue=queue)
    assert result.get(timeout=30) == 5
    assert worker.process.poll() is None
    assert "WRONGTYPE" not in worker.log() and "RecursionError" not in worker.log()
