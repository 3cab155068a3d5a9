"""A GET of the task names (the trigger form, /api/v1/task-names) reads what is stored.

It used to broadcast registered() to the fleet when no names were stored yet: a page view that
could hang on the broker and loaded every worker. Observed on the private redis-server with
MONITOR, beside a real worker that would answer: a broadcast publishes to the pidbox exchange
and declares a reply queue (`reply.celery.pidbox`), and a GET must do neither.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import redis
from flask import Flask
from flask.testing import FlaskClient

from controlplane.broker.embedded import EmbeddedRedis
from controlplane.control import NOT_REPORTED, known_task_names
from controlplane.services import Services
from tests.conftest import WorkerProcess

ADD = "worker_tasks.tasks.add"


@contextmanager
def monitored(server: EmbeddedRedis) -> Iterator[list[str]]:
    """Every command the redis-server ran inside the block (filled when the block ends)."""
    client = redis.Redis.from_url(server.url, socket_timeout=10)
    seen: list[str] = []
    try:
        with client.monitor() as monitor:
            yield seen
            marker = f"end-of-window-{uuid.uuid4().hex}"
            client.echo(marker)  # MONITOR shows commands in order: everything before it is in
            while marker not in (command := monitor.next_command()["command"]):
                seen.append(command)
    finally:
        client.close()


def broadcasts(seen: list[str]) -> list[str]:
    """The commands of a console broadcast: a publish to the pidbox exchange, or its reply
    queue. Not the worker's own pidbox consumer, which re-binds its queue now and then
    (`SADD _kombu.binding.celery.pidbox ...`, binding deadlines): a CI run saw it here."""
    return [
        c for c in seen
        if "reply.celery.pidbox" in c or (c.startswith("PUBLISH") and "pidbox" in c)
    ]  # fmt: skip


def test_a_get_with_no_names_stored_makes_no_broadcast(
    app: Flask,
    services: Services,
    redis_server: EmbeddedRedis,
    worker_factory: Callable[..., WorkerProcess],
    client_as: Callable[[str], FlaskClient],
    token_for: Callable[[str], str],
) -> None:
    worker_factory((services.settings.queues[0],), concurrency=1)  # it would answer
    operator = client_as("operator")
    bearer = {"Authorization": f"Bearer {token_for('viewer')}"}

    with monitored(redis_server) as seen:
        page = operator.get("/trigger")
        api = app.test_client().get("/api/v1/task-names", headers=bearer)

    assert page.status_code == 200
    assert 'id="trigger-names-note">No worker has reported its tasks yet' in page.text
    assert api.status_code == 200
    assert api.get_json() == {"names": [], "reported": False, "note": NOT_REPORTED}
    assert not broadcasts(seen), seen

    # The same window sees an action's refresh (a trigger's POST of a name not stored yet)
    # broadcast, and afterwards a GET lists what the workers answered.
    with monitored(redis_server) as seen:
        assert ADD in known_task_names(services, refresh=True)
    assert [c for c in broadcasts(seen) if "reply.celery.pidbox" in c], seen
    with monitored(redis_server) as seen:
        body = app.test_client().get("/api/v1/task-names", headers=bearer).get_json()
    assert ADD in body["names"] and body["reported"] is True and body["note"] is None
    assert not broadcasts(seen), seen
