"""A recorded stream of real events, replayed twice, shuffled and split at random, ends in the
same rows: ingestion is idempotent and order-independent (property-based, with hypothesis),
on SQLite (merged in Python) and on PostgreSQL (merged in SQL)."""

from __future__ import annotations

import base64
import json
import queue
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select

from controlplane import db
from controlplane.broker.celery_app import make_celery
from controlplane.broker.embedded import EmbeddedRedis
from controlplane.config import DEFAULT_REDACT_PATTERN, Settings
from controlplane.events.buffer import RawBuffer
from controlplane.events.processor import Processor
from controlplane.events.redact import Redactor
from controlplane.events.redis_source import event_channel_pattern
from controlplane.events.stats import IngestStats
from controlplane.events.store import EventStore
from controlplane.events.writer import Writer
from controlplane.models import Base, Task, Worker
from tests.conftest import postgres_schema, start_worker, wait_for


@pytest.fixture(scope="module")
def recorded(redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """Raw pub/sub payloads of real tasks of every outcome, and of the worker's whole life."""
    client = redis.Redis.from_url(redis_server.url)
    pubsub = client.pubsub()
    pubsub.psubscribe(event_channel_pattern(redis_server.url))
    queue_name = f"replay-{int(time.time() * 1000)}"
    worker = start_worker(redis_server.url, (queue_name,), tmp_path_factory.mktemp("replay"))
    app = make_celery(Settings(broker_url=redis_server.url))
    try:
        sent = [
            app.send_task("worker_tasks.tasks.add", args=[1, 2], queue=queue_name),
            app.send_task("worker_tasks.tasks.always_fails", args=["x"], queue=queue_name),
            app.send_task("worker_tasks.tasks.flaky", kwargs={"fail_times": 1}, queue=queue_name),
            app.send_task(
                "worker_tasks.tasks.add", kwargs={"x": 1, "y": 2, "password": "p"}, queue=queue_name
            ),  # fmt: skip
        ]
        slow = app.send_task("worker_tasks.tasks.slow", kwargs={"seconds": 20}, queue=queue_name)
        for result in sent:
            wait_for(lambda r=result: r.ready(), timeout=30, what="a task to finish")
        app.control.revoke(slow.id, terminate=True)
        wait_for(lambda: slow.state == "REVOKED", timeout=30, what="the revoke")
    finally:
        worker.stop()
        app.close()
    payloads: list[bytes] = []
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.2)
        if message and message["type"] == "pmessage":
            payloads.append(message["data"])
            deadline = time.monotonic() + 1  # until the stream goes quiet
    pubsub.close()
    client.close()
    # a worker left over from another test may find this server on a reused port: keep ours
    ours = {result.id for result in [*sent, slow]}
    payloads = [p for p in payloads if _belongs(p, worker.hostname, ours)]
    assert len(payloads) > 20
    return payloads


def _belongs(payload: bytes, hostname: str, task_ids: set[str]) -> bool:
    envelope = json.loads(payload)
    body = json.loads(base64.b64decode(envelope["body"]))
    events = body if isinstance(body, list) else [body]
    return all(e.get("hostname") == hostname or e.get("uuid") in task_ids for e in events)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A database for the module's replays (each starts from empty tables)."""
    if request.param == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            engine = db.make_engine(f"sqlite:///{Path(directory) / 'replay.db'}")
            Base.metadata.create_all(engine)
            yield engine
            engine.dispose()
        return
    with postgres_schema() as url:
        engine = db.make_engine(url)
        db.upgrade(engine)
        yield engine
        engine.dispose()


def replay(engine: Engine, payloads: list[bytes], cuts: list[int]) -> tuple[list[Any], list[Any]]:
    """Apply payloads in batches of the given sizes to empty tables; return the rows."""
    with engine.begin() as connection:
        connection.execute(delete(Task.__table__))
        connection.execute(delete(Worker.__table__))
    redactor = Redactor(DEFAULT_REDACT_PATTERN, 4096, 16384)
    stats = IngestStats()
    processor = Processor(RawBuffer(1 << 20), queue.Queue(), redactor, stats, source_name="t")
    writer = Writer(EventStore(engine), queue.Queue(), stats)
    position, sizes = 0, iter(cuts)
    while position < len(payloads):
        size = next(sizes, len(payloads))
        for payload in payloads[position : position + size]:
            processor.process_payload(payload)
        writer.write(processor.take_batch())
        position += size
    with engine.connect() as connection:
        tasks = [_without_updated_at(r) for r in connection.execute(select(Task.__table__))]
        workers = [_without_updated_at(r) for r in connection.execute(select(Worker.__table__))]
    return sorted(tasks), sorted(workers)


def _without_updated_at(row: Any) -> tuple[Any, ...]:
    return tuple(v for k, v in row._mapping.items() if k != "updated_at")


@pytest.fixture(scope="module")
def baseline(recorded: list[bytes], store_engine: Engine) -> tuple[list[Any], list[Any]]:
    tasks, workers = replay(store_engine, recorded, [len(recorded)])
    states = {row[2] for row in tasks}
    assert {"SUCCESS", "FAILURE", "REVOKED"} <= states, states
    assert [row[1] for row in workers] == ["offline"]  # one worker, online then offline
    return tasks, workers


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_replayed_twice_shuffled_and_split_anyhow_gives_identical_rows(
    recorded: list[bytes],
    store_engine: Engine,
    baseline: tuple[list[Any], list[Any]],
    data: st.DataObject,
) -> None:
    order = data.draw(st.permutations(recorded), label="order")
    repeats = data.draw(st.lists(st.sampled_from(recorded), max_size=len(recorded)))
    stream = data.draw(st.permutations(order + repeats), label="stream")
    cuts = data.draw(st.lists(st.integers(1, 12), max_size=60), label="batch sizes")
    assert replay(store_engine, stream, cuts) == baseline


def test_the_same_stream_applied_twice_changes_nothing(
    recorded: list[bytes], store_engine: Engine, baseline: tuple[list[Any], list[Any]]
) -> None:
    assert replay(store_engine, recorded + recorded, [len(recorded), len(recorded)]) == baseline
