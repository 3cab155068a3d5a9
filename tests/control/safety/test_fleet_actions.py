"""Issue 15 items 10 and 11: purge only deletes queues of the fleet; worker actions only go to
workers the console knows. Effects are read off the module's own broker (MONITOR, key types).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient

from controlplane.fleet.inspection import refresh_worker
from controlplane.services import Services, build_services
from controlplane.web import create_app
from tests.conftest import WorkerProcess, wait_for
from tests.control.safety.broker_watch import BrokerWatch
from tests.control.safety.conftest import worker_still_works


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def raw(redis_server: Any) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url)
    yield client
    client.close()


def test_purge_deletes_only_queues_of_the_fleet(
    client: FlaskClient, services: Services, token_for: Callable[[str], str],
    fleet_worker: WorkerProcess, work_queue: str, redis_server: Any, raw: redis.Redis,
    unique: str,
) -> None:  # fmt: skip
    admin = token_for("admin")
    raw.sadd("_kombu.binding.reports", "reports\x06\x16\x06\x16reports")
    raw.set(f"session:{unique}", "an application's own data")
    raw.rpush(f"stranger-{unique}", "not a celery message")  # a list no one in the fleet uses
    raw.set(services.settings.queues[1], "a string where a configured queue's list would be")
    idle = services.settings.queues[2]
    for _ in range(3):
        services.celery.send_task("worker_tasks.tasks.add", args=[1, 1], queue=idle)

    def purge(queue: str) -> Any:
        quoted = queue.replace(":", "%3A")
        return client.post(f"/api/v1/queues/{quoted}/purge", json={"confirm": queue},
                           headers=bearer(admin))  # fmt: skip

    with BrokerWatch(redis_server.url) as watch:
        binding = purge("_kombu.binding.reports")
        session_key = purge(f"session:{unique}")
        stranger = purge(f"stranger-{unique}")
        string_queue = purge(services.settings.queues[1])
        absent = purge(f"nothing-{unique}")
    assert binding.status_code == 400 and "reserved" in binding.get_json()["error"]
    assert session_key.status_code == 400 and "not a list" in session_key.get_json()["error"]
    assert stranger.status_code == 404 and "not a queue of the fleet" in (
        stranger.get_json()["error"])  # fmt: skip
    assert absent.status_code == 404
    assert string_queue.status_code == 400 and "not a list" in string_queue.get_json()["error"]
    assert watch.deleted() == []
    assert raw.type("_kombu.binding.reports") == b"set"
    assert raw.get(f"session:{unique}") == b"an application's own data"
    assert raw.llen(f"stranger-{unique}") == 1
    raw.delete(services.settings.queues[1])

    done = purge(idle)  # a configured queue: purged, its lists only
    assert done.status_code == 200 and done.get_json()["purged"] == 3
    assert raw.llen(idle) == 0 and raw.type("_kombu.binding.reports") == b"set"
    worker_still_works(services, fleet_worker, work_queue)


def test_worker_actions_to_an_unknown_name_get_404_and_broadcast_nothing(
    client: FlaskClient, services: Services, token_for: Callable[[str], str],
    fleet_worker: WorkerProcess, work_queue: str, redis_server: Any, unique: str,
) -> None:  # fmt: skip
    admin = token_for("admin")
    ghost = f"ghost-{unique}@nowhere"
    with BrokerWatch(redis_server.url) as watch:
        answers = [
            client.post(f"/api/v1/workers/{ghost}/shutdown", json={}, headers=bearer(admin)),
            client.post(f"/api/v1/workers/{ghost}/pool", json={"delta": 1}, headers=bearer(admin)),
            client.post(f"/api/v1/workers/{ghost}/consumers", json={"queue": work_queue},
                        headers=bearer(admin)),
            client.post(f"/api/v1/workers/{ghost}/consumers/{work_queue}/cancel", json={},
                        headers=bearer(admin)),
            # a worker that exists but the console has not seen yet is not a target either
            client.post(f"/api/v1/workers/{fleet_worker.hostname}/shutdown", json={},
                        headers=bearer(admin)),
        ]  # fmt: skip
    for response in answers:
        assert response.status_code == 404, response.get_json()
        assert "known to the console" in response.get_json()["error"]
    assert watch.broadcasts() == []
    worker_still_works(services, fleet_worker, work_queue)


def test_consumer_buttons_reach_a_known_worker_through_the_queue_service(
    client: FlaskClient, services: Services, token_for: Callable[[str], str],
    fleet_worker: WorkerProcess, work_queue: str, redis_server: Any, unique: str,
) -> None:  # fmt: skip
    admin = token_for("admin")
    assert refresh_worker(services, fleet_worker.hostname)  # the console knows it now
    extra = f"extra-{unique}"
    host = fleet_worker.hostname
    with BrokerWatch(redis_server.url) as watch:
        added = client.post(f"/api/v1/workers/{host}/consumers", json={"queue": extra},
                            headers=bearer(admin))  # fmt: skip
        cancelled = client.post(f"/api/v1/workers/{host}/consumers/{extra}/cancel", json={},
                                headers=bearer(admin))  # fmt: skip
    assert added.status_code == 200, added.get_json()
    assert cancelled.status_code == 200, cancelled.get_json()
    assert watch.broadcasts() == ["add_consumer", "cancel_consumer"]
    control = services.celery.control

    def consumed() -> list[str]:
        replies = control.inspect(destination=[host], timeout=1).active_queues() or {}
        return [q["name"] for q in replies.get(host, [])]

    wait_for(lambda: consumed() == [work_queue], timeout=10, what="only its own queue again")
    worker_still_works(services, fleet_worker, work_queue)


def test_purge_on_rabbitmq_deletes_only_a_declared_queue(
    rabbitmq_url: str, services: Services, token_for: Callable[[str], str], unique: str,
) -> None:  # fmt: skip
    """On AMQP a queue of the fleet is one the server has declared: a purge of any other name
    is a 404 and declares nothing (the check is a passive declare)."""
    from kombu import Connection, Exchange, Queue

    admin = token_for("admin")
    amqp = build_services(replace(services.settings, broker_url=rabbitmq_url),
                          engine=services.engine)  # fmt: skip
    app = create_app(amqp, {"TESTING": True}).test_client()
    declared, absent = f"cp-purge-{unique}", f"cp-absent-{unique}"
    with Connection(rabbitmq_url) as connection:
        queue = Queue(declared, Exchange(declared), routing_key=declared, auto_delete=False)
        producer = connection.Producer()
        for n in range(2):
            producer.publish({"n": n}, exchange=queue.exchange, routing_key=declared,
                             declare=[queue])  # fmt: skip
        try:
            missing = app.post(f"/api/v1/queues/{absent}/purge", json={"confirm": absent},
                               headers=bearer(admin))  # fmt: skip
            assert missing.status_code == 404, missing.get_json()
            channel = connection.channel()
            with pytest.raises(Exception):  # noqa: B017 - amqp's NotFound: never declared
                channel.queue_declare(absent, passive=True)
            done = app.post(f"/api/v1/queues/{declared}/purge", json={"confirm": declared},
                            headers=bearer(admin))  # fmt: skip
            assert done.status_code == 200 and done.get_json()["purged"] == 2, done.get_json()
        finally:
            connection.channel().queue_delete(declared)
            connection.channel().exchange_delete(declared)
            amqp.broker.close()
            amqp.celery.close()
