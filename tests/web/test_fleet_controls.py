"""Admin controls on the Queues and Workers pages, through the same control/ services as the
API: purge asks for the typed queue name, pool and consumer changes show at once, viewers see
the state without a single form; the Workers page shows what each worker holds."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask.testing import FlaskClient

from controlplane.broker import QueueState
from controlplane.clock import utcnow
from controlplane.control.action_log import list_actions
from controlplane.fleet.inspection import refresh_worker
from controlplane.fleet.sample import FleetSample, write_sample
from controlplane.services import Services
from tests.conftest import WorkerProcess, wait_for

ADD = "worker_tasks.tasks.add"


def field(page: str, row: str, name: str) -> str:
    start = page.index(row)
    match = re.search(rf'data-field="{name}"[^>]*>([^<]*)<', page[start:])
    assert match, f"no {name} in {row}"
    return match.group(1).strip()


def test_viewers_see_state_and_no_form_admins_see_every_control(
    services: Services, client_as: Callable[[str], FlaskClient],
    worker_factory: Callable[..., WorkerProcess], unique: str,
) -> None:  # fmt: skip
    queue = f"ctl-{unique}"
    worker = worker_factory((queue,))
    assert refresh_worker(services, worker.hostname)  # the console knows it (an inspection)
    with services.transaction() as session:
        write_sample(session, FleetSample(utcnow(), {queue: QueueState(queue, ready=2)}))
    admin = client_as("admin")
    token = admin.csrf_token  # type: ignore[attr-defined]
    # the console's consumer button: the worker reports itself at once (no inspection round)
    answer = admin.post(f"/workers/{worker.hostname}/consumers",
                        data={"queue": f"more-{unique}", "csrf_token": token})  # fmt: skip
    assert answer.status_code == 200 and answer.headers["HX-Trigger"] == "fleet-changed"
    viewer = client_as("viewer")
    for path in ("/queues", "/workers"):
        page = viewer.get(path).get_data(as_text=True)
        assert "<form" not in page.split("<main>")[1], path
        assert "hx-post" not in page.split("<main>")[1], path
    workers = viewer.get("/workers").get_data(as_text=True)
    assert field(workers, f'data-worker="{worker.hostname}"', "pool") == "2"
    queues = admin.get("/queues").get_data(as_text=True)
    assert f'/queues/{queue}/purge"' in queues and 'name="confirm"' in queues
    workers = admin.get("/workers").get_data(as_text=True)
    row = workers[workers.index(f'data-worker="{worker.hostname}"') :].split("</tr>")[0]
    for control in ("pool-grow", "pool-shrink", "cancel-consumer", "add-consumer",
                    "shutdown-worker"):  # fmt: skip
        assert control in row, control
    assert f'hx-confirm="Shut down {worker.hostname}?' in row


def test_purge_from_the_queues_page_needs_the_typed_name(
    services: Services, client_as: Callable[[str], FlaskClient], unique: str,
    shared_worker: WorkerProcess,
) -> None:  # fmt: skip
    queue = f"idle-{unique}"
    for _ in range(3):
        services.celery.send_task(ADD, args=[1, 1], queue=queue)
    depth = lambda: services.broker.depths([queue])[queue].ready  # noqa: E731
    wait_for(lambda: depth() == 3, what="three messages")
    admin = client_as("admin")
    token = admin.csrf_token  # type: ignore[attr-defined]
    wrong = admin.post(f"/queues/{queue}/purge", data={"confirm": "default", "csrf_token": token})
    assert wrong.status_code == 400 and "type the queue name" in wrong.get_data(as_text=True)
    assert depth() == 3
    right = admin.post(f"/queues/{queue}/purge", data={"confirm": queue, "csrf_token": token})
    assert right.status_code == 200 and "Purged 3 message(s)" in right.get_data(as_text=True)
    assert depth() == 0
    logged = list_actions(services, {"action": "purge_queue", "target": queue}).rows
    assert [a.outcome for a in logged] == ["ok", "refused"]
    viewer = client_as("viewer")
    token = viewer.csrf_token  # type: ignore[attr-defined]
    refused = viewer.post(f"/queues/{queue}/purge", data={"confirm": queue, "csrf_token": token})
    assert refused.status_code == 403


def test_pool_change_shows_at_once_and_the_worker_row_lists_what_it_holds(
    services: Services, client_as: Callable[[str], FlaskClient],
    worker_factory: Callable[..., WorkerProcess], unique: str,
) -> None:  # fmt: skip
    queue = f"held-{unique}"
    worker = worker_factory((queue,), concurrency=2)
    later = services.celery.send_task(ADD, args=[1, 2], queue=queue, countdown=60)
    admin = client_as("admin")
    token = admin.csrf_token  # type: ignore[attr-defined]
    grown = admin.post(f"/workers/{worker.hostname}/pool", data={"delta": "1", "csrf_token": token})
    assert grown.status_code == 200 and "changed by +1" in grown.get_data(as_text=True)
    page = admin.get("/workers").get_data(as_text=True)
    row = f'data-worker="{worker.hostname}"'
    assert field(page, row, "pool") == "3"  # not "2" until the next inspection round
    assert field(page, row, "uptime") not in ("", "—")
    # the countdown task is held by the worker: listed, and linked
    assert field(page, row, "scheduled") == "1" and f"/tasks/{later.id}" in page
    assert field(page, row, "reserved") == "0"
    shrunk = admin.post(f"/workers/{worker.hostname}/pool",
                        data={"delta": "-1", "csrf_token": token})  # fmt: skip
    assert shrunk.status_code == 200
    wait_for(lambda: field(admin.get("/workers").get_data(as_text=True), row, "pool") == "2",
             timeout=10, what="the pool back at 2")  # fmt: skip
    logged = list_actions(services, {"action": "pool_resize"}).rows
    assert [(a.actor, a.outcome) for a in logged] == [(admin.username, "ok")] * 2  # type: ignore[attr-defined]
