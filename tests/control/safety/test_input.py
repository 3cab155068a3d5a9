"""Issue 15 items 8 and 9: broker keys are never queues, and poison arguments stop at the door.

Each test reproduces the attack against the real console and a real worker on a redis-server of
the module's own, then checks the effect: nothing pushed or broadcast, the key intact, the
worker alive.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient

from controlplane.broker.queue_names import reserved_reason
from controlplane.clock import utcnow
from controlplane.config import Settings, TransportOptions
from controlplane.control.validate import depth_of, json_text_depth
from controlplane.fleet.sampler import QueueDiscovery
from controlplane.models import Task
from controlplane.services import Services
from tests.conftest import WorkerProcess
from tests.control.safety.broker_watch import BrokerWatch
from tests.control.safety.conftest import worker_still_works

ADD = "worker_tasks.tasks.add"
RESERVED = [
    "unacked",
    "unacked_index",
    "unacked_mutex",
    "_kombu.binding.reports",
    "_kombu.binding.celery.pidbox",
    "celeryev",
    "celeryev.3f1c",
    "w1@host.celery.pidbox",
    "reply.celery.pidbox",
    "x.reply.celery.pidbox",
    "celery-task-meta-0b0e",
    "amq.gen-JzTY20BRgKO-HjmUJj0wLg",
    "reports\x06\x163",
]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("name", RESERVED)
def test_the_policy_refuses_every_reserved_pattern(name: str) -> None:
    assert reserved_reason(name) is not None


@pytest.mark.parametrize("name", ["default", "reports", "orders.eu", "q@team", "unacked-jobs"])
def test_the_policy_leaves_queue_names_alone(name: str) -> None:
    assert reserved_reason(name) is None


def test_names_under_the_global_keyprefix_and_a_custom_priority_separator_are_refused() -> None:
    options = TransportOptions(sep=":", global_keyprefix="fleet_")
    assert reserved_reason("fleet_default", options) is not None
    assert reserved_reason("reports:6", options) is not None
    assert reserved_reason("reports", options) is None


def test_reserved_names_are_refused_for_every_action_and_nothing_reaches_the_broker(
    client: FlaskClient, services: Services, token_for: Callable[[str], str],
    fleet_worker: WorkerProcess, work_queue: str, redis_server: Any,
) -> None:  # fmt: skip
    admin = token_for("admin")
    raw = redis.Redis.from_url(redis_server.url)
    raw.sadd("_kombu.binding.reports", "reports\x06\x16\x06\x16reports")
    host = fleet_worker.hostname
    with BrokerWatch(redis_server.url) as watch:
        for name in RESERVED:
            quoted = name.replace("\x06\x16", "%06%16")
            answers = {
                "trigger": client.post("/api/v1/tasks", json={"name": ADD, "args": [1, 1],
                                       "queue": name}, headers=bearer(admin)),
                "purge": client.post(f"/api/v1/queues/{quoted}/purge", json={"confirm": name},
                                     headers=bearer(admin)),
                "add_consumer": client.post(f"/api/v1/workers/{host}/consumers",
                                            json={"queue": name}, headers=bearer(admin)),
                "cancel_consumer": client.post(
                    f"/api/v1/workers/{host}/consumers/{quoted}/cancel", json={},
                    headers=bearer(admin)),
                "pause": client.post(f"/api/v1/queues/{quoted}/pause", json={},
                                     headers=bearer(admin)),
            }  # fmt: skip
            for action, response in answers.items():
                assert response.status_code == 400, (name, action, response.get_json())
                error = response.get_json()["error"]
                assert "reserved" in error or "expected a queue name" in error, (name, error)
    assert watch.pushes() == [] and watch.broadcasts() == [] and watch.deleted() == []
    assert raw.type("unacked") in (b"none", b"hash")
    assert raw.type("_kombu.binding.reports") == b"set"
    worker_still_works(services, fleet_worker, work_queue)


def test_a_typed_queue_is_still_used_when_it_is_not_reserved(
    client: FlaskClient, services: Services, token_for: Callable[[str], str],
    fleet_worker: WorkerProcess, work_queue: str,
) -> None:  # fmt: skip
    response = client.post("/api/v1/tasks", json={"name": ADD, "args": [20, 22],
                           "queue": work_queue}, headers=bearer(token_for("operator")))  # fmt: skip
    assert response.status_code == 202, response.get_json()
    assert services.celery.AsyncResult(response.get_json()["task_id"]).get(timeout=30) == 42


# ---- item 9: nesting and size ----------------------------------------------------------------


def test_depth_is_counted_without_recursion() -> None:
    assert depth_of(1, 32) == 0 and depth_of([1, {"a": [2]}], 32) == 3
    assert depth_of(nested(100_000), 32) == 33  # stops counting past the limit
    text = "[" * 100_000 + "]" * 100_000
    assert json_text_depth(text, 32) == 33
    assert json_text_depth('["[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["]', 5) == 1  # inside a string


@pytest.mark.parametrize("depth", [33, 900, 5000])
def test_deep_args_get_a_400_naming_the_limit_and_nothing_reaches_the_broker(
    client: FlaskClient, services: Services, token_for: Callable[[str], str],
    fleet_worker: WorkerProcess, work_queue: str, redis_server: Any, depth: int,
) -> None:  # fmt: skip
    operator = token_for("operator")
    body = '{"name": "%s", "queue": "%s", "args": %s}' % (  # noqa: UP031 - JSON text, built raw
        ADD, work_queue, "[" * depth + "1" + "]" * depth)  # fmt: skip
    kwargs_body = {"name": ADD, "queue": work_queue, "kwargs": {"x": nested(min(depth, 900))}}
    with BrokerWatch(redis_server.url) as watch:
        answer = client.post("/api/v1/tasks", data=body, headers={
            **bearer(operator), "Content-Type": "application/json"})  # fmt: skip
        assert answer.status_code == 400, answer.get_data(as_text=True)[:300]
        assert "32" in answer.get_json()["error"] and "max_arg_depth" in answer.get_json()["error"]
        as_kwargs = client.post("/api/v1/tasks", json=kwargs_body, headers=bearer(operator))
        assert as_kwargs.status_code == 400, as_kwargs.get_data(as_text=True)[:300]
        assert (
            "limit is 32" in as_kwargs.get_json()["error"]
            or "32" in (as_kwargs.get_json()["error"])
        )
        bulk = client.post(
            "/api/v1/tasks/bulk",
            data=body.replace('"name"', '"action"', 1),
            headers={**bearer(operator), "Content-Type": "application/json"},
        )
        assert bulk.status_code == 400, bulk.get_data(as_text=True)[:300]
    assert watch.pushes() == []
    worker_still_works(services, fleet_worker, work_queue)


def test_deep_args_from_the_trigger_form_get_a_400_and_send_nothing(
    client_as: Callable[[str], FlaskClient], services: Services, fleet_worker: WorkerProcess,
    work_queue: str, redis_server: Any,
) -> None:  # fmt: skip
    operator = client_as("operator")
    with BrokerWatch(redis_server.url) as watch:
        for depth in (33, 5000):
            response = operator.post("/trigger", data={
                "csrf_token": operator.csrf_token,  # type: ignore[attr-defined]
                "name": ADD, "args": json.dumps([1]) if depth == 33 else "[" * depth + "]" * depth,
                "kwargs": json.dumps({"x": nested(depth)}) if depth == 33 else "",
                "queue": work_queue,
            })  # fmt: skip
            assert response.status_code == 400
            assert "max_arg_depth" in response.get_data(as_text=True)
    assert watch.pushes() == []
    worker_still_works(services, fleet_worker, work_queue)


def test_the_nesting_limit_is_a_setting(
    client: FlaskClient, services: Services, token_for: Callable[[str], str], settings: Settings,
    work_queue: str, fleet_worker: WorkerProcess,
) -> None:  # fmt: skip
    assert settings.max_arg_depth == 32
    services.settings = dataclasses.replace(settings, max_arg_depth=3)
    operator = token_for("operator")
    ok = client.post("/api/v1/tasks", json={"name": "worker_tasks.tasks.total",
                     "args": [[1, 2]], "queue": work_queue}, headers=bearer(operator))  # fmt: skip
    assert ok.status_code == 202, ok.get_json()
    body = {"name": "worker_tasks.tasks.total", "args": [[[[1]]]], "queue": work_queue}
    deep = client.post("/api/v1/tasks", json=body, headers=bearer(operator))
    assert deep.status_code == 400 and "limit is 3" in deep.get_json()["error"]


def test_queue_names_from_events_never_reach_the_depth_script(
    services: Services, redis_server: Any, unique: str
) -> None:
    """A task event claiming queue "unacked" made the sampler LLEN a hash: WRONGTYPE, and the
    broker looked unreachable until the key was deleted by hand."""
    raw = redis.Redis.from_url(redis_server.url)
    raw.hset("unacked", "some-tag", '[{"body": ""}, "", "default"]')
    now = utcnow()
    with services.transaction() as session:
        for queue in ("unacked", "_kombu.binding.default", f"real-{unique}"):
            session.add(Task(task_id=f"{queue}-{unique}", name=ADD, state="RECEIVED", queue=queue,
                             first_seen_at=now, updated_at=now, retries=0,
                             args_incomplete=False))  # fmt: skip
    discovery = QueueDiscovery(services.settings.queues, services.settings.broker_transport_options)
    with services.transaction() as session:
        queues = discovery.queues(session, utcnow(), [])
    assert f"real-{unique}" in queues
    assert "unacked" not in queues and "_kombu.binding.default" not in queues
    depths = services.broker.depths(queues)  # one script over them all: no WRONGTYPE
    assert depths[f"real-{unique}"].ready == 0
    assert raw.type("unacked") == b"hash"
    raw.delete("unacked")
