"""Issue 15, the hostile run (operator-action part): every attack of items 1-5, 8-11 and 21 at
once, against the real console and a real worker on a redis-server of the module's own.

The tally comes from the broker itself (MONITOR), not from the console's answers: what was
pushed, broadcast or deleted, and whether the worker is alive and still runs tasks. Nothing may
reach the broker but the one legitimate trigger sent alongside as a control; every attack is
answered below 500 and written in the action log as refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis
from flask.testing import FlaskClient
from sqlalchemy import select

from controlplane.clock import utcnow
from controlplane.fleet.sampler import QueueDiscovery
from controlplane.models import Action, Task
from controlplane.services import Services
from tests.conftest import WorkerProcess
from tests.control.safety.broker_watch import BrokerWatch
from tests.control.safety.conftest import worker_still_works
from tests.control.safety.test_input import RESERVED

ADD = "worker_tasks.tasks.add"


def test_a_hostile_run_publishes_nothing_deletes_nothing_and_kills_no_worker(
    client: FlaskClient, services: Services, token_for: Callable[[str], str],
    fleet_worker: WorkerProcess, work_queue: str, redis_server: Any, unique: str,
) -> None:  # fmt: skip
    raw = redis.Redis.from_url(redis_server.url)
    raw.sadd("_kombu.binding.reports", "reports\x06\x16\x06\x16reports")
    raw.set(f"app:{unique}", "someone else's data")
    now = utcnow()
    with services.transaction() as session:  # history as hostile events would have left it
        for task_id, name, queue in ((f"cleanup-{unique}", "celery.backend_cleanup", "default"),
                                     (f"claimed-{unique}", ADD, "unacked")):  # fmt: skip
            session.add(Task(task_id=task_id, name=name, state="FAILURE", args="[1, 2]",
                             kwargs="{}", queue=queue, exchange="evil", routing_key="unacked",
                             first_seen_at=now, updated_at=now, retries=0,
                             args_incomplete=False))  # fmt: skip
    admin = {"Authorization": f"Bearer {token_for('admin')}"}
    raw_json = {**admin, "Content-Type": "application/json"}
    ghost = f"ghost-{unique}@nowhere"

    def deep(depth: int) -> str:
        return '{"name": "%s", "args": %s}' % (ADD, "[" * depth + "]" * depth)  # noqa: UP031

    attacks: list[tuple[str, Callable[[], Any]]] = [
        *[(f"trigger to {name!r}", lambda name=name: client.post(
            "/api/v1/tasks", json={"name": ADD, "args": [1, 1], "queue": name}, headers=admin))
          for name in RESERVED],
        ("trigger 900 deep", lambda: client.post("/api/v1/tasks", data=deep(900),
                                                 headers=raw_json)),
        ("trigger 5000 deep", lambda: client.post("/api/v1/tasks", data=deep(5000),
                                                  headers=raw_json)),
        ("trigger celery.*", lambda: client.post(
            "/api/v1/tasks", json={"name": "celery.backend_cleanup"}, headers=admin)),
        ("retry celery.*", lambda: client.post(f"/api/v1/tasks/cleanup-{unique}/retry",
                                               headers=admin)),
        ("retry to unacked", lambda: client.post(f"/api/v1/tasks/claimed-{unique}/retry",
                                                 json={"queue": "unacked"}, headers=admin)),
        ("bulk without scope", lambda: client.post("/api/v1/tasks/bulk", headers=admin, json={
            "action": "retry", "filter": {}, "dry_run": False})),
        ("bulk empty selection", lambda: client.post("/api/v1/tasks/bulk", headers=admin, json={
            "action": "revoke", "scope": "selected", "ids": [], "dry_run": False})),
        ("purge a binding", lambda: client.post("/api/v1/queues/_kombu.binding.reports/purge",
                                                json={"confirm": "_kombu.binding.reports"},
                                                headers=admin)),
        ("purge app data", lambda: client.post(f"/api/v1/queues/app%3A{unique}/purge",
                                               json={"confirm": f"app:{unique}"}, headers=admin)),
        ("shutdown a ghost", lambda: client.post(f"/api/v1/workers/{ghost}/shutdown", json={},
                                                 headers=admin)),
        ("grow a ghost", lambda: client.post(f"/api/v1/workers/{ghost}/pool",
                                             json={"delta": 8}, headers=admin)),
        ("consume celeryev", lambda: client.post(
            f"/api/v1/workers/{fleet_worker.hostname}/consumers", json={"queue": "celeryev"},
            headers=admin)),
    ]  # fmt: skip

    with BrokerWatch(redis_server.url) as watch:
        answers = {what: attack() for what, attack in attacks}
        control = client.post("/api/v1/tasks", json={"name": ADD, "args": [2, 2],
                              "queue": work_queue}, headers=admin)  # fmt: skip
        discovery = QueueDiscovery(services.settings.queues)
        with services.transaction() as session:
            services.broker.depths(discovery.queues(session, utcnow(), [work_queue]))

    tally = {
        "answered 5xx": sorted(w for w, r in answers.items() if r.status_code >= 500),
        "accepted": sorted(w for w, r in answers.items() if r.status_code < 400),
        "pushed": watch.pushes(),
        "broadcast": watch.broadcasts(),
        "deleted": watch.deleted(),
    }
    assert control.status_code == 202, control.get_json()
    assert tally == {"answered 5xx": [], "accepted": [], "pushed": [work_queue],
                     "broadcast": [], "deleted": []}, tally  # fmt: skip
    with services.transaction() as session:
        logged = session.scalars(select(Action).where(Action.outcome == "refused")).all()
    assert len(logged) == len(attacks)
    assert raw.type("unacked") in (b"none", b"hash")
    assert raw.type("_kombu.binding.reports") == b"set"
    assert raw.get(f"app:{unique}") == b"someone else's data"
    assert services.celery.AsyncResult(control.get_json()["task_id"]).get(timeout=30) == 4
    worker_still_works(services, fleet_worker, work_queue)
