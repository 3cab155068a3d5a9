"""Pausing a queue fleet-wide against real workers: nothing starts, restarts included.

Ground truth is the result backend (task_track_started writes STARTED when a task starts) and
the broker's own list length, not what the console's history says.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from controlplane.control.mailbox import WorkerMailbox
from controlplane.fleet.sampler import Sampler
from controlplane.fleet.view import fleet_view
from controlplane.models import Action, QueuePauseConsumer
from controlplane.services import Services
from tests.conftest import WorkerProcess, wait_for

ADD = "worker_tasks.tasks.add"
SLOW = "worker_tasks.tasks.slow"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post(client: FlaskClient, path: str, token: str) -> Any:
    return client.post(path, json={}, headers=bearer(token))


def send(services: Services, queue: str, count: int, name: str = ADD, **kw: Any) -> list[str]:
    args = kw.pop("args", [1, 2])
    return [services.celery.send_task(name, args=args, queue=queue, **kw).id for _ in range(count)]


def states(services: Services, ids: list[str]) -> set[str]:
    return {services.celery.AsyncResult(task_id).state for task_id in ids}


def ready(services: Services, queue: str) -> int:
    return services.broker.depths([queue])[queue].ready


def consumed_by(services: Services, hostname: str) -> list[str]:
    replies = services.celery.control.inspect(destination=[hostname], timeout=1).active_queues()
    return [q["name"] for q in (replies or {}).get(hostname, [])]


def proves_it_works(services: Services, queue: str) -> None:
    """Tasks on another queue of the same workers finish: the workers are up and consuming."""
    ids = send(services, queue, 2)
    wait_for(lambda: states(services, ids) == {"SUCCESS"}, timeout=30, what="the other queue")


def test_a_paused_queue_starts_nothing_even_on_a_worker_that_restarts_and_resume_runs_it(
    client: FlaskClient, services: Services, ingesting: Any, mailbox: WorkerMailbox,
    hooked: None, token_for: Callable[[str], str], worker_factory: Callable[..., WorkerProcess],
    unique: str,
) -> None:  # fmt: skip
    paused, other = f"pause-{unique}", f"other-{unique}"
    first = worker_factory((paused, other), name=f"pa{unique}")
    second = worker_factory((paused, other), name=f"pb{unique}")
    admin = token_for("admin")

    answer = post(client, f"/api/v1/queues/{paused}/pause", admin)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert sorted(body["cancelled_on"]) == sorted([first.hostname, second.hostname])
    assert body["not_answered"] == []
    for worker in (first, second):
        assert paused not in consumed_by(services, worker.hostname)
        assert other in consumed_by(services, worker.hostname)

    waiting = send(services, paused, 5)
    proves_it_works(services, other)
    assert ready(services, paused) == 5 and states(services, waiting) == {"PENDING"}

    # A restart: the worker comes back with `-Q paused,other`, five tasks waiting for it.
    first.stop()
    restarted = worker_factory((paused, other), name=f"pa{unique}")
    assert "not consuming paused queue(s)" in restarted.log()
    proves_it_works(services, other)
    assert paused not in consumed_by(services, restarted.hostname)
    assert ready(services, paused) == 5 and states(services, waiting) == {"PENDING"}

    again = post(client, f"/api/v1/queues/{paused}/pause", admin)
    assert again.status_code == 409 and "already paused" in again.get_json()["error"]

    resumed = post(client, f"/api/v1/queues/{paused}/resume", admin)
    assert resumed.status_code == 200, resumed.get_json()
    assert sorted(resumed.get_json()["resumed_on"]) == sorted([first.hostname, second.hostname])
    wait_for(lambda: states(services, waiting) == {"SUCCESS"}, timeout=30, what="the 5 tasks")
    with services.transaction() as session:
        logged = session.scalars(
            select(Action.action).where(Action.target == paused, Action.outcome == "ok")
        ).all()
    assert logged == ["pause_queue", "resume_queue"]


def test_a_worker_without_the_hook_is_told_on_worker_online_with_its_own_declaration(
    client: FlaskClient, services: Services, ingesting: Any,
    token_for: Callable[[str], str], worker_factory: Callable[..., WorkerProcess], unique: str,
) -> None:  # fmt: skip
    """The ingester's worker-online hook cancels the paused queue on a worker that (re)starts
    consuming it, and records the declaration resume will use."""
    paused = f"pause-{unique}"
    admin = token_for("admin")
    answer = post(client, f"/api/v1/queues/{paused}/pause", admin)
    assert answer.status_code == 200 and answer.get_json()["cancelled_on"] == []

    worker = worker_factory((paused,), name=f"pc{unique}")
    wait_for(
        lambda: paused not in consumed_by(services, worker.hostname),
        timeout=20,
        what="the worker-online hook to cancel the paused queue",
    )
    with services.transaction() as session:
        row = session.get(QueuePauseConsumer, (paused, worker.hostname))
        assert row is not None and json.loads(row.declaration or "{}")["name"] == paused

    resumed = post(client, f"/api/v1/queues/{paused}/resume", admin)
    assert resumed.get_json()["resumed_on"] == [worker.hostname]
    wait_for(lambda: paused in consumed_by(services, worker.hostname), timeout=10, what="resume")


def test_prefetched_tasks_are_shown_held_by_their_worker_and_the_queue_wants_no_workers(
    client: FlaskClient, services: Services, ingesting: Any,
    token_for: Callable[[str], str], worker_factory: Callable[..., WorkerProcess], unique: str,
) -> None:  # fmt: skip
    paused = f"pause-{unique}"
    worker = worker_factory((paused,), concurrency=1, prefetch=2, name=f"pd{unique}")
    try:
        ids = send(services, paused, 4, name=SLOW, args=[30])
        # Concurrency 1, prefetch 2 (acks late): one runs, one is reserved, two wait.
        wait_for(lambda: ready(services, paused) == 2, timeout=20, what="2 left in the broker")
        viewer = token_for("viewer")
        wait_for(lambda: "STARTED" in states(services, ids), timeout=20, what="one running")

        answer = post(client, f"/api/v1/queues/{paused}/pause", token_for("admin"))
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json()["held_by_workers"] == {worker.hostname: 1}

        Sampler(services, services.state.latest, "test").sample()

        def held() -> dict[str, Any] | None:
            queues = client.get("/api/v1/queues", headers=bearer(viewer)).get_json()["queues"]
            row = next(q for q in queues if q["name"] == paused)
            return row["paused"] if row["paused"]["held_by_workers"] else None

        shown = wait_for(held, timeout=20, what="the prefetched task held by the worker")
        assert shown["held_by_workers"] == {worker.hostname: 1}
        assert shown["by"].startswith("api-admin-")

        from controlplane.autoscale.recommender import recommendations

        queue = next(q for q in fleet_view(services).queues if q.name == paused)
        assert queue.backlog >= 2 and not queue.no_consumer
        wanted = recommendations(services, [queue])[paused]
        assert wanted.workers == 0 and "paused by api-admin-" in wanted.reason
    finally:
        worker.kill()


def test_pause_and_resume_are_for_admins_and_refusals_are_logged(
    client: FlaskClient, services: Services, token_for: Callable[[str], str], unique: str
) -> None:
    queue = f"pause-{unique}"
    for role in ("viewer", "operator"):
        assert post(client, f"/api/v1/queues/{queue}/pause", token_for(role)).status_code == 403
    admin = token_for("admin")
    bad = post(client, "/api/v1/queues/bad name!/pause", admin)
    assert bad.status_code == 400
    missing = post(client, f"/api/v1/queues/{queue}/resume", admin)
    assert missing.status_code == 409 and "not paused" in missing.get_json()["error"]
    with services.transaction() as session:
        outcomes = session.scalars(
            select(Action.outcome).where(Action.action.in_(["pause_queue", "resume_queue"]))
        ).all()
    assert sorted(outcomes) == ["refused", "refused"]
