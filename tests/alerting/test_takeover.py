"""Exactly once across replicas (at-least-once with a stable id): two real `controlplane
scheduler` processes; the leader is SIGKILLed while its firing notification is in flight.
The standby takes over and the receiver sees that one id again (the in-flight one, same
id), then one resolved notification: never a second firing id, never a missing resolve."""

from __future__ import annotations

import json
import os
import signal
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from controlplane import db
from controlplane.alerting.channels import ID_HEADER
from controlplane.broker.embedded import EmbeddedRedis
from controlplane.config import Settings
from controlplane.services import build_services
from tests.conftest import ROOT, wait_for
from tests.processes.test_scheduler import SchedulerProcess

LOCK_TTL = 2.0


class Receiver:
    """The webhook endpoint: records (id, event) per request; the first request is held
    open until the test lets it go, so the leader dies with that notification in flight."""

    def __init__(self) -> None:
        self.got: list[tuple[str, str]] = []
        self.release = threading.Event()
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        body = json.loads(request.get_data())
        with self.lock:
            self.got.append((request.headers[ID_HEADER], body["event"]))
            first = len(self.got) == 1
        if first:
            self.release.wait(20)
        return Response("ok")

    def received(self) -> list[tuple[str, str]]:
        with self.lock:
            return list(self.got)


@pytest.fixture
def spawn(
    redis_server: EmbeddedRedis, tmp_path: Path, httpserver: HTTPServer,
    request: pytest.FixtureRequest, database_url: str,
) -> Iterator[tuple[Callable[[], SchedulerProcess], str, str]]:  # fmt: skip
    database = database_url  # SQLite, and PostgreSQL where claims lock rows (SKIP LOCKED)
    engine = db.make_engine(database)
    db.upgrade(engine)
    engine.dispose()
    queue = f"alert-takeover-{uuid.uuid4().hex[:8]}"
    alerts = {
        "rules": {"idle": {"condition": "queue_without_consumer", "queues": queue}},
        "channels": {"hook": {"kind": "webhook", "url": httpserver.url_for("/hook"),
                              "secret": "s3cr3t-takeover"}},
        "delivery_timeout_seconds": 1, "delivery_backoff_seconds": 0.2,
    }  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTROLPLANE_")}
    env.update(
        PYTHONPATH=str(ROOT), CONTROLPLANE_BROKER_URL=redis_server.url,
        CONTROLPLANE_DATABASE_URL=database, CONTROLPLANE_QUEUES=queue,
        CONTROLPLANE_SAMPLE_INTERVAL="0.3", CONTROLPLANE_INSPECT_TIMEOUT="0.3",
        CONTROLPLANE_LEADER_LOCK_TTL=str(LOCK_TTL), CONTROLPLANE_LOG_LEVEL="DEBUG",
        CONTROLPLANE_ALERTS=json.dumps(alerts),
    )  # fmt: skip
    started: list[SchedulerProcess] = []

    def make() -> SchedulerProcess:
        process = SchedulerProcess(env, tmp_path / f"scheduler-{len(started)}.log")
        started.append(process)
        return process

    yield make, queue, database
    for process in started:
        process.stop(signal.SIGKILL)
    redis.Redis.from_url(redis_server.url).delete(queue)
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for process in started:
            request.node.add_report_section("call", f"log of {process.name}", process.log())


def test_a_leader_killed_mid_delivery_leaves_one_firing_id_and_one_resolve(
    spawn: tuple[Callable[[], SchedulerProcess], str, str], httpserver: HTTPServer,
    redis_server: EmbeddedRedis,
) -> None:  # fmt: skip
    make, queue, database = spawn
    receiver = Receiver()
    httpserver.expect_request("/hook", method="POST").respond_with_handler(receiver)
    first, second = make(), make()
    wait_for(lambda: first.leads() or second.leads(), timeout=20, what="a leader")
    leader, standby = (first, second) if first.leads() else (second, first)

    broker = redis.Redis.from_url(redis_server.url)
    broker.lpush(queue, json.dumps({"body": "", "headers": {"task": "t", "id": "x"}}))
    wait_for(lambda: receiver.received(), timeout=30, what="the firing notification")
    leader.stop(signal.SIGKILL)  # in flight: the receiver has not answered yet
    receiver.release.set()
    wait_for(standby.leads, timeout=LOCK_TTL * 3 + 5, what="the standby to take over")

    # the new leader re-sends the one in flight (its claim's lease ran out), same id
    wait_for(lambda: len(receiver.received()) >= 2, timeout=30, what="the in-flight re-send")
    broker.delete(queue)  # drained: the alert resolves, announced by the new leader
    wait_for(lambda: any(e == "resolved" for _i, e in receiver.received()), timeout=30,
             what="the resolved notification")  # fmt: skip
    settle = build_services(Settings(database_url=database))
    try:
        from controlplane.alerting.history import list_notifications

        wait_for(lambda: all(n.status == "delivered" for n in list_notifications(settle)),
                 timeout=10, what="every notification delivered")  # fmt: skip
        stored = sorted((n.event, n.id) for n in list_notifications(settle))
    finally:
        settle.close()
    got = receiver.received()
    firing = [i for i, e in got if e == "firing"]
    resolved = [i for i, e in got if e == "resolved"]
    assert len(set(firing)) == 1 and len(firing) == 2, got  # the in-flight one, twice, same id
    assert len(resolved) == 1 and resolved[0] != firing[0], got
    assert [e for _i, e in got] == ["firing", "firing", "resolved"]
    assert stored == sorted([("firing", firing[0]), ("resolved", resolved[0])])
