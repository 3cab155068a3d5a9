"""Queue depth is exact on Redis and on RabbitMQ: one contract suite, then what only Redis has.

Real redis-server (private), the RabbitMQ on this machine (unique queues, deleted after), real
Celery workers holding prefetched and ETA tasks.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from kombu import Connection, Exchange, Queue

from controlplane import db
from controlplane.broker import Broker, QueueState, RedisBroker, broker_for
from controlplane.broker.embedded import EmbeddedRedis
from controlplane.config import Settings
from controlplane.fleet.sample import FleetSample, LatestSample
from controlplane.fleet.sampler import Sampler
from controlplane.models import Worker
from controlplane.services import build_services
from tests.conftest import WorkerProcess, wait_for


@dataclass
class BrokerUnderTest:
    """One broker for the contract: its URL, a publisher, our Broker, and what to clean up."""

    kind: str
    url: str
    result_backend: str
    publisher: Celery
    broker: Broker
    queues: list[str] = field(default_factory=list)

    def queue(self) -> str:
        name = f"cp-depth-{uuid.uuid4().hex[:10]}"
        self.queues.append(name)
        return name

    def send(self, queue: str, count: int, **options: Any) -> None:
        for _ in range(count):
            self.publisher.send_task("worker_tasks.tasks.add", args=[1, 2], queue=queue, **options)

    def depth(self, queue: str) -> QueueState:
        return self.broker.depths([queue])[queue]


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_under_test(
    request: pytest.FixtureRequest, redis_server: EmbeddedRedis
) -> Iterator[BrokerUnderTest]:
    url = redis_server.url if request.param == "redis" else request.getfixturevalue("rabbitmq_url")
    publisher = Celery(broker=url, set_as_current=False)
    publisher.conf.update(task_serializer="json", broker_connection_retry_on_startup=False)
    under_test = BrokerUnderTest(request.param, url, redis_server.url, publisher, broker_for(url))
    yield under_test
    under_test.broker.close()
    publisher.close()
    if request.param == "rabbitmq":
        with Connection(url) as connection:
            channel = connection.channel()
            for name in under_test.queues:
                channel.queue_delete(name)
                channel.exchange_delete(name)


def make_sampler(under_test: BrokerUnderTest, tmp_path: Path, queues: tuple[str, ...]) -> Sampler:
    settings = Settings(
        broker_url=under_test.url,
        result_backend=under_test.result_backend,
        database_url=f"sqlite:///{tmp_path / 'fleet.db'}",
        queues=queues,
        inspect_timeout=1.0,
    )
    services = build_services(settings)
    db.upgrade(services.engine)
    return Sampler(services, LatestSample(), "test-sampler")


# ---- the contract: both brokers -----------------------------------------------------------------


def test_depth_is_exact_while_tasks_pile_up_including_priority_messages(
    broker_under_test: BrokerUnderTest,
) -> None:
    queue = broker_under_test.queue()
    broker_under_test.send(queue, 7)
    for priority in (1, 3, 5, 7, 9, 9):  # Redis: lists for steps 0, 3, 6 and 9
        broker_under_test.send(queue, 1, priority=priority)

    # RabbitMQ confirms asynchronously: wait for the count, then check it stays exact.
    wait_for(lambda: broker_under_test.depth(queue).ready == 13, timeout=10, what="13 ready")
    depth = broker_under_test.depth(queue)
    assert depth.ready == 13
    assert depth.reserved in (0, None)  # RabbitMQ's passive declare cannot tell: None
    assert depth.held == 13

    broker_under_test.send(queue, 2, priority=9)
    wait_for(lambda: broker_under_test.depth(queue).ready == 15, timeout=10, what="15 ready")


def test_a_queue_that_does_not_exist_is_empty_not_an_error(
    broker_under_test: BrokerUnderTest,
) -> None:
    missing, present = broker_under_test.queue(), broker_under_test.queue()
    broker_under_test.send(present, 2)
    wait_for(lambda: broker_under_test.depth(present).ready == 2, timeout=10, what="2 ready")
    depths = broker_under_test.broker.depths([missing, present])
    assert depths[missing].ready == 0 and depths[present].ready == 2


def test_unacked_and_scheduled_match_a_worker_holding_prefetched_and_eta_tasks(
    broker_under_test: BrokerUnderTest,
    worker_factory: Callable[..., WorkerProcess],
    tmp_path: Path,
) -> None:
    """Concurrency 1, prefetch 2: one running, one reserved, three ETA tasks held, two waiting."""
    queue = broker_under_test.queue()
    worker = worker_factory(
        (queue,), concurrency=1, prefetch=2, broker_url=broker_under_test.url,
        result_backend=broker_under_test.result_backend,
    )  # fmt: skip
    sampler = make_sampler(broker_under_test, tmp_path, (queue,))
    try:
        # ETA tasks first: the worker takes them at once (they do not use up its prefetch).
        broker_under_test.send(queue, 3, countdown=600)
        for _ in range(4):
            broker_under_test.publisher.send_task("worker_tasks.tasks.slow", args=[60], queue=queue)
        assert worker.hostname in (sampler.inspect(force=True) or [])

        expected = {"ready": 2, "reserved": 2, "scheduled": 3, "consumers": 1}
        if broker_under_test.kind == "rabbitmq":
            expected["reserved"] = None  # type: ignore[assignment]

        def matches() -> FleetSample | None:
            sample = sampler.sample()
            if sample is None:
                return None
            depth = dataclasses.asdict(sample.queues[queue])
            return sample if {k: depth[k] for k in expected} == expected else None

        sample = wait_for(matches, timeout=20, interval=0.2, what=f"depth {expected}")
        assert sample.queues[queue].held == (7 if broker_under_test.kind == "redis" else 5)
        # The sample was written for replicas that do not sample.
        from controlplane.fleet.sample import read_latest

        with db.session_scope(sampler.services.sessions) as session:
            stored = read_latest(session)
        assert stored.queues[queue].ready == 2
        assert stored.queues[queue].scheduled == 3
        # Inspection wrote what the worker consumes, its pool and what it runs (no heartbeats
        # in this test, so active/processed come from inspect()).
        sampler.inspect(force=True)
        with db.session_scope(sampler.services.sessions) as session:
            row = session.get(Worker, worker.hostname)
            assert row is not None and row.inspected_at is not None
            assert (row.concurrency, row.active, json.loads(row.queues or "[]")) == (1, 1, [queue])
            assert "worker_tasks.tasks.add" in json.loads(row.registered or "[]")
    finally:
        worker.kill()  # the running task would hold a warm shutdown for a minute
        sampler.services.close()


# ---- Redis only -------------------------------------------------------------------------------


def test_redis_reserved_messages_count_under_their_queue_when_routing_key_differs(
    redis_server: EmbeddedRedis, worker_factory: Callable[..., WorkerProcess]
) -> None:
    """kombu stores (exchange, routing key) with a reserved message, not the queue: we resolve
    the binding the way kombu does when it restores the message."""
    unique = uuid.uuid4().hex[:8]
    queue = f"cp-bound-{unique}"
    exchange = Exchange(f"cp-x-{unique}", type="direct")
    bound = Queue(queue, exchange, routing_key=f"cp-rk-{unique}")
    worker = worker_factory((queue,), concurrency=1, prefetch=2)
    publisher = Celery(broker=redis_server.url, set_as_current=False)
    try:
        for _ in range(3):
            publisher.send_task(
                "worker_tasks.tasks.slow", args=[60], queue=bound,
                exchange=exchange, routing_key=f"cp-rk-{unique}",
            )  # fmt: skip
        broker = RedisBroker(redis_server.url)
        wait_for(
            lambda: broker.depths([queue])[queue] == QueueState(queue, 1, 2),
            timeout=15,
            what="1 ready and 2 reserved (running + prefetched) on the bound queue",
        )
        assert broker.depths([f"cp-rk-{unique}"])[f"cp-rk-{unique}"].reserved == 0
        # The paged HSCAN used for huge hashes agrees with the script.
        paged = RedisBroker(redis_server.url, max_unacked_in_script=0)
        assert paged.depths([queue])[queue] == QueueState(queue, 1, 2)
        assert paged.depths([queue])[queue] == QueueState(queue, 1, 2)  # from its tag cache
        broker.close()
        paged.close()
    finally:
        worker.kill()
        publisher.close()


def test_redis_counts_every_priority_step_when_the_fleet_uses_ten(
    redis_server: EmbeddedRedis,
) -> None:
    """`priority_steps=range(10)` puts messages in lists 1, 2, 4, 5, 7, 8 too."""
    queue = f"cp-steps-{uuid.uuid4().hex[:8]}"
    publisher = Celery(broker=redis_server.url, set_as_current=False)
    publisher.conf.broker_transport_options = {"priority_steps": list(range(10))}
    try:
        for priority in range(10):
            for _ in range(priority + 1):
                publisher.send_task("worker_tasks.tasks.add", args=[1, 2], queue=queue,
                                    priority=priority)  # fmt: skip
        broker = RedisBroker(redis_server.url)
        assert broker.depths([queue])[queue].ready == sum(range(1, 11))
        # A name no queue can have (from untrusted task events) reads as empty, not an error.
        depths = broker.depths(["bad\nname", queue, ""])
        assert [d.ready for d in depths.values()] == [0, 55, 0]
        broker.close()
    finally:
        publisher.close()


def test_redis_counts_a_huge_unacked_hash_by_reading_only_new_messages(
    redis_server: EmbeddedRedis,
) -> None:
    """Past the script's limit, tags are listed and only unseen messages fetched, in pages."""
    import json

    import redis

    unique = uuid.uuid4().hex[:8]
    prefix = f"cp-huge-{unique}:"  # kombu's global_keyprefix keeps this test's hash apart
    queues = [f"cp-huge-{unique}-{i}" for i in range(3)]
    client = redis.Redis.from_url(redis_server.url)
    body = json.dumps({"body": "e30=", "headers": {"id": "x" * 200}, "properties": {}})
    client.hset(
        prefix + "unacked",
        mapping={f"tag-{n}": f'[{body}, "", "{queues[n % 3]}"]' for n in range(3000)},
    )
    broker = RedisBroker(redis_server.url, key_prefix=prefix, max_unacked_in_script=2000)
    try:
        depths = broker.depths(queues)
        assert [depths[q].reserved for q in queues] == [1000, 1000, 1000]
        client.hdel(prefix + "unacked", *[f"tag-{n}" for n in range(0, 600, 3)])  # 200 acked
        client.hset(prefix + "unacked", "late-tag", f'[{body}, "", "{queues[2]}"]')
        depths = broker.depths(queues)
        assert [depths[q].reserved for q in queues] == [800, 1000, 1001]
    finally:
        client.delete(prefix + "unacked")
        client.close()
        broker.close()
