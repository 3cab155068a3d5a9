"""Runtime rate and time limits against real workers: applied, kept across restarts, reset.

Ground truth is what the worker itself reports (`registered()` with the limit attributes) and
how its tasks behave, never the console's own rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from controlplane.broker.embedded import EmbeddedRedis
from controlplane.config import Settings
from controlplane.control.mailbox import WorkerMailbox
from controlplane.fleet.sampler import Sampler
from controlplane.models import Action
from controlplane.services import Services
from tests.conftest import WorkerProcess, wait_for

ADD = "worker_tasks.tasks.add"
SLOW = "worker_tasks.tasks.slow"


@pytest.fixture(scope="module")
def own_redis() -> Iterator[EmbeddedRedis]:
    """A broker of these tests' own: a limit is fleet-wide, and the session's shared worker
    (which registers the same tasks) must not run at a limit another test set."""
    server = EmbeddedRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(own_redis: EmbeddedRedis, sqlite_url: str) -> Settings:
    return Settings(broker_url=own_redis.url, database_url=sqlite_url,
                    secret_key="test-secret-key", inspect_timeout=0.5)  # fmt: skip


@pytest.fixture
def start(
    own_redis: EmbeddedRedis, worker_factory: Callable[..., WorkerProcess]
) -> Callable[..., WorkerProcess]:
    return lambda queues, **kw: worker_factory(queues, broker_url=own_redis.url, **kw)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def reported(services: Services, hostname: str, name: str) -> dict[str, str] | None:
    """The limit attributes the worker reports for `name` (None: it did not answer)."""
    inspect = services.celery.control.inspect(destination=[hostname], timeout=1, limit=1)
    entries = (inspect.registered("rate_limit", "time_limit", "soft_time_limit") or {}).get(
        hostname
    )
    if entries is None:
        return None
    for entry in entries:
        if entry.split(" ", 1)[0] == name:
            inside = entry.partition(" ")[2].strip("[]")
            return dict(pair.split("=", 1) for pair in inside.split())
    return {}


def test_a_rate_limit_is_applied_kept_across_a_restart_and_reset_to_the_code_value(
    client: FlaskClient, services: Services, ingesting: Any,
    token_for: Callable[[str], str], start: Callable[..., WorkerProcess], unique: str,
) -> None:  # fmt: skip
    queue = f"limits-{unique}"
    worker = start((queue,), name=f"la{unique}")
    operator = token_for("operator")
    assert reported(services, worker.hostname, ADD) == {}  # the code sets none

    answer = client.post(f"/api/v1/task-limits/{ADD}/rate", json={"rate_limit": "5/m"},
                         headers=bearer(operator))  # fmt: skip
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["applied_on"] == [worker.hostname]
    assert reported(services, worker.hostname, ADD) == {"rate_limit": "5/m"}

    worker.stop()
    restarted = start((queue,), name=f"la{unique}")
    wait_for(
        lambda: reported(services, restarted.hostname, ADD) == {"rate_limit": "5/m"},
        timeout=20,
        what="the worker-online hook to re-apply the rate limit",
    )

    listed = client.get("/api/v1/task-limits", headers=bearer(operator)).get_json()["limits"]
    assert [(item["task_name"], item["rate_limit"]["value"]) for item in listed] == [(ADD, "5/m")]

    reset = client.post(f"/api/v1/task-limits/{ADD}/rate/reset", headers=bearer(operator))
    assert reset.status_code == 200, reset.get_json()
    assert reported(services, restarted.hostname, ADD) == {}, reset.get_json()

    # Without controlplane.worker_hook a prefork worker keeps the time limits it started with
    # (Celery's time_limit command only sets the attribute): the answer says so.
    admin = token_for("admin")
    timed = client.post(f"/api/v1/task-limits/{ADD}/time", json={"hard": 5},
                        headers=bearer(admin)).get_json()  # fmt: skip
    assert timed["in_effect_on"] == [] and timed["not_in_effect_on"] == [restarted.hostname]
    assert (
        client.post(f"/api/v1/task-limits/{ADD}/time/reset", headers=bearer(admin)).status_code
        == 200
    )
    assert client.get("/api/v1/task-limits", headers=bearer(operator)).get_json()["limits"] == []
    with services.transaction() as session:
        logged = session.scalars(select(Action.action).where(Action.target == ADD)).all()
    assert logged == ["set_rate_limit", "reset_rate_limit", "set_time_limit", "reset_time_limit"]


def test_a_time_limit_stops_tasks_after_a_restart_too_and_is_for_admins(
    client: FlaskClient, services: Services, ingesting: Any, mailbox: WorkerMailbox,
    hooked: None, token_for: Callable[[str], str],
    start: Callable[..., WorkerProcess], unique: str,
) -> None:  # fmt: skip
    queue = f"limits-{unique}"
    worker = start((queue,), name=f"lb{unique}")
    code = {"soft_time_limit": "60", "time_limit": "65"}
    assert reported(services, worker.hostname, SLOW) == code

    limit = {"soft": 1, "hard": 10}
    path = f"/api/v1/task-limits/{SLOW}/time"
    refused = client.post(path, json=limit, headers=bearer(token_for("operator")))
    assert refused.status_code == 403
    admin = token_for("admin")
    answer = client.post(path, json=limit, headers=bearer(admin))
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["in_effect_on"] == [worker.hostname]

    def stopped_early() -> Any:
        result = services.celery.send_task(SLOW, args=[8], queue=queue)
        return result.get(timeout=20)

    assert stopped_early()["stopped"] == "soft time limit"

    worker.stop()
    restarted = start((queue,), name=f"lb{unique}")
    expected = {"soft_time_limit": "1.0", "time_limit": "10.0"}
    wait_for(lambda: reported(services, restarted.hostname, SLOW) == expected, timeout=20,
             what="the time limits re-applied after the restart")  # fmt: skip
    assert stopped_early()["stopped"] == "soft time limit"

    # The Workers page shows what the worker reports, once inspection has read it.
    Sampler(services, services.state.latest, "test").inspect(force=True)
    viewer = token_for("viewer")
    workers = client.get("/api/v1/workers", headers=bearer(viewer)).get_json()["workers"]
    row = next(w for w in workers if w["hostname"] == restarted.hostname)
    assert row["limits"][SLOW] == expected

    reset = client.post(f"/api/v1/task-limits/{SLOW}/time/reset", headers=bearer(admin))
    assert reset.status_code == 200, reset.get_json()
    back = reported(services, restarted.hostname, SLOW) or {}
    assert {k: float(v) for k, v in back.items()} == {k: float(v) for k, v in code.items()}


def test_bad_limits_and_unknown_tasks_are_refused_and_logged(
    client: FlaskClient, services: Services, token_for: Callable[[str], str],
    start: Callable[..., WorkerProcess], unique: str,
) -> None:  # fmt: skip
    worker = start((f"limits-{unique}",))
    admin = token_for("admin")
    cases = [
        (f"/api/v1/task-limits/{ADD}/rate", {"rate_limit": "fast"}, 400),
        (f"/api/v1/task-limits/{ADD}/rate", {"rate_limit": "10/d"}, 400),
        ("/api/v1/task-limits/no.such.task/rate", {"rate_limit": "1/s"}, 404),
        (f"/api/v1/task-limits/{SLOW}/time", {"soft": 30, "hard": 10}, 400),
        (f"/api/v1/task-limits/{SLOW}/time", {"soft": -1}, 400),
        (f"/api/v1/task-limits/{SLOW}/time", {}, 400),
        (f"/api/v1/task-limits/{ADD}/rate/reset", None, 404),
    ]
    for path, body, status in cases:
        answer = client.post(path, json=body, headers=bearer(admin))
        assert answer.status_code == status, (path, body, answer.get_json())
    operator = bearer(token_for("operator"))
    assert (
        client.post(f"/api/v1/task-limits/{SLOW}/time/reset", headers=operator).status_code == 403
    )
    with services.transaction() as session:
        outcomes = session.scalars(select(Action.outcome).where(Action.action.like("%limit%")))
        assert list(outcomes) == ["refused"] * len(cases)
    assert reported(services, worker.hostname, ADD) == {}
