"""Worker health against a real worker: a SIGKILLed worker goes late, then offline within three
heartbeat intervals, its queue loses its consumer, and the alert strip says so."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from celery import Celery

from controlplane import db
from controlplane.config import Settings
from controlplane.fleet.view import FleetView, fleet_view
from controlplane.processes.scheduler import FleetScheduler
from controlplane.services import Services, build_services
from controlplane.web import create_app
from tests.conftest import WorkerProcess, wait_for
from tests.fleet.fleet_support import HeartbeatRecorder

HEARTBEAT = 1.0  # seconds: `celery worker --heartbeat-interval 1`


@pytest.fixture
def fleet_services(settings: Settings) -> Iterator[Services]:
    queue = f"cp-health-{uuid.uuid4().hex[:8]}"
    built = build_services(dataclasses.replace(settings, queues=(queue,), sample_interval=0.3))
    db.upgrade(built.engine)
    yield built
    built.close()


def queue_row(view: FleetView, name: str) -> dict[str, int]:
    [queue] = [q for q in view.queues if q.name == name]
    return {"ready": queue.ready, "consumers": queue.consumers}


def test_a_sigkilled_worker_is_offline_within_three_heartbeats_and_stops_consuming(
    fleet_services: Services,
    worker_factory: Callable[..., WorkerProcess],
    token_for: Callable[[str], str],
) -> None:
    services = fleet_services
    [queue] = services.settings.queues
    recorder = HeartbeatRecorder(services.settings.broker_url or "", services.sessions).start()
    scheduler = FleetScheduler(services).start()
    publisher = Celery(broker=services.settings.broker_url, set_as_current=False)
    try:
        worker = worker_factory((queue,), extra_args=("--heartbeat-interval", "1"))

        def consuming() -> bool:
            view = fleet_view(services)
            me = [w for w in view.workers if w.hostname == worker.hostname]
            return bool(me and me[0].status == "online" and me[0].interval == HEARTBEAT) and (
                queue_row(view, queue)["consumers"] == 1
            )

        wait_for(consuming, timeout=30, what="the worker online by heartbeat, consuming")

        worker.kill()
        killed = time.monotonic()
        seen: list[str] = []

        def offline() -> bool:
            [me] = [w for w in fleet_view(services).workers if w.hostname == worker.hostname]
            seen.append(me.status)
            return me.status == "offline"

        wait_for(offline, timeout=3 * HEARTBEAT + 2, interval=0.05, what="offline")
        elapsed = time.monotonic() - killed
        assert elapsed <= 3 * HEARTBEAT + 0.3, f"offline after {elapsed:.2f} s"
        assert "late" in seen  # heartbeat older than 2 intervals, before giving up at 3

        view = fleet_view(services)
        assert queue_row(view, queue)["consumers"] == 0

        # Work arrives for the queue nobody consumes: the next sample shows it, with alerts.
        for _ in range(2):
            publisher.send_task("worker_tasks.tasks.add", args=[1, 1], queue=queue)
        wait_for(
            lambda: queue_row(fleet_view(services), queue)["ready"] == 2, timeout=10,
            what="the next sample to show 2 ready",
        )  # fmt: skip
        kinds = {(a.kind, a.subject) for a in fleet_view(services).alerts}
        assert ("queue_without_consumer", queue) in kinds
        assert ("worker_offline", worker.hostname) in kinds

        client = create_app(services, {"TESTING": True}).test_client()
        headers = {"Authorization": f"Bearer {token_for('viewer')}"}
        body = client.get("/api/v1/workers", headers=headers).get_json()
        [me] = [w for w in body["workers"] if w["hostname"] == worker.hostname]
        assert me["status"] == "offline" and me["shutdown"] is False and me["queues"] == [queue]
        body = client.get("/api/v1/queues", headers=headers).get_json()
        [row] = [q for q in body["queues"] if q["name"] == queue]
        assert row["consumers"] == 0 and row["ready"] == 2 and row["no_consumer"] is True
    finally:
        scheduler.stop()
        recorder.stop()
        publisher.close()
