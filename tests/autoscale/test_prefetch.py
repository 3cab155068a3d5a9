"""What workers really hold: prefetch warnings on long tasks, RabbitMQ's reserved from events,
the ScaledJob and its one-task workers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient

from controlplane.autoscale.manifests import (
    JOB_EXAMPLE,
    ManifestError,
    keda_scaled_job,
)
from controlplane.autoscale.prefetch import fleet_prefetch_warnings, prefetch_warnings
from controlplane.clock import utcnow
from controlplane.fleet.health import WorkerHealth
from controlplane.fleet.sampler import Sampler
from controlplane.models import Task
from controlplane.services import Services
from tests.conftest import WorkerProcess, wait_for

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def worker(name: str, prefetch: int | None, concurrency: int, queues: tuple[str, ...]) -> Any:
    return WorkerHealth(
        hostname=name, status="online", last_seen=None, heartbeat_age=1.0, interval=2.0,
        shutdown=False, concurrency=concurrency, active=0, processed=0, queues=queues,
        registered=(), software=None, pid=None, loadavg=None, prefetch_count=prefetch,
    )  # fmt: skip


def test_only_workers_prefetching_beyond_their_slots_on_long_tasks_are_flagged() -> None:
    workers = [
        worker("heavy@a", 64, 16, ("slow", "fast")),
        worker("fine@b", 16, 16, ("slow",)),  # prefetch multiplier 1
        worker("short@c", 64, 16, ("fast",)),  # prefetch high, but tasks are short
        worker("unknown@d", None, 16, ("slow",)),  # never inspected
    ]
    found = prefetch_warnings(workers, {"slow": 300.0, "fast": 0.2}, 60.0, {"heavy@a": 612})
    assert [(w.hostname, w.queue, w.holding) for w in found] == [("heavy@a", "slow", 612)]
    assert "worker_prefetch_multiplier=1" in found[0].advice
    assert "--disable-prefetch" in found[0].advice


def test_a_real_worker_with_default_prefetch_on_long_tasks_is_flagged_on_the_queues_page(
    services: Services, worker_factory: Callable[..., WorkerProcess],
    client_as: Callable[[str], FlaskClient], unique: str,
) -> None:  # fmt: skip
    slow, fast = f"long-{unique}", f"short-{unique}"
    heavy = worker_factory((slow,), concurrency=1, prefetch=4)
    light = worker_factory((fast,), concurrency=1, prefetch=4)
    now = utcnow()
    with services.transaction() as session:  # history says tasks on `slow` take 2 minutes
        for n, queue, runtime in [
            (n, q, r) for n in range(3) for q, r in ((slow, 120.0), (fast, 0.1))
        ]:
            session.add(Task(task_id=f"{queue}-{n}", name="x", state="SUCCESS", queue=queue,
                             runtime=runtime, first_seen_at=now - timedelta(seconds=30),
                             finished_at=now - timedelta(seconds=10), updated_at=now))  # fmt: skip
    sampler = Sampler(services, services.state.latest, "test")
    sampler.inspect(force=True)
    sampler.sample()
    found = {w.hostname: w for w in fleet_prefetch_warnings(services)}
    assert heavy.hostname in found and light.hostname not in found
    assert (found[heavy.hostname].prefetch_count, found[heavy.hostname].concurrency) == (4, 1)
    page = client_as("viewer").get("/queues").get_data(as_text=True)
    assert 'id="prefetch-warnings"' in page and f"{heavy.hostname} may hold 4 messages" in page


def test_the_scaledjob_file_is_the_template_rendered_with_the_example() -> None:
    text = (DEPLOY / "k8s/keda-scaledjob.yaml").read_text()
    assert keda_scaled_job(**JOB_EXAMPLE) == text  # type: ignore[arg-type]
    job = yaml.safe_load(text)
    assert (job["apiVersion"], job["kind"]) == ("keda.sh/v1alpha1", "ScaledJob")
    spec = job["spec"]
    container = spec["jobTargetRef"]["template"]["spec"]["containers"][0]
    assert container["args"][:3] == ["-A", "proj", "worker"]
    assert container["args"][container["args"].index("-Q") + 1] == "slow"
    assert {e["name"]: e["value"] for e in container["env"]}["CONTROLPLANE_EXIT_AFTER_TASKS"] == "1"
    assert spec["jobTargetRef"]["template"]["spec"]["restartPolicy"] == "Never"
    assert spec["scalingStrategy"]["strategy"] == "default"
    query = spec["triggers"][0]["metadata"]["query"]
    for metric in ("controlplane_queue_ready", "controlplane_queue_reserved",
                   "controlplane_queue_paused"):  # fmt: skip
        assert f'{metric}{{queue_name="slow"}}' in query
    early = yaml.safe_load(keda_scaled_job(**JOB_EXAMPLE, acks_late=False))  # type: ignore[arg-type]
    assert early["spec"]["scalingStrategy"]["strategy"] == "accurate"


@pytest.mark.parametrize(
    "change",
    [{"queue": 'x"}) or vector(1'}, {"image": "img\n  evil: 1"}, {"celery_app": "a b"},
     {"name": "Bad_Name"}, {"max_replicas": 0}, {"prometheus_url": "file:///x"}],
)  # fmt: skip
def test_the_scaledjob_refuses_values_that_would_break_it(change: dict[str, Any]) -> None:
    with pytest.raises(ManifestError):
        keda_scaled_job(**{**JOB_EXAMPLE, **change})  # type: ignore[arg-type]


def test_the_queues_page_links_a_scaledjob_per_queue(
    client_as: Callable[[str], FlaskClient], unique: str
) -> None:
    client = client_as("viewer")
    page = client.get(f"/queues/q-{unique}/scaledjob?image=reg.example/w:2&celery_app=proj.app")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "kind: ScaledJob" in text and "reg.example/w:2" in text
    bad = client.get(f"/queues/q-{unique}/scaledjob?image=bad image")
    assert bad.status_code == 400 and 'id="manifest-error"' in bad.get_data(as_text=True)


def test_a_job_worker_runs_one_task_then_exits_and_an_idle_one_ends_too(
    services: Services, worker_factory: Callable[..., WorkerProcess],
    monkeypatch: pytest.MonkeyPatch, unique: str,
) -> None:  # fmt: skip
    queue = f"job-{unique}"
    monkeypatch.setenv("CONTROLPLANE_WORKER_HOOK", "1")
    monkeypatch.setenv("CONTROLPLANE_EXIT_AFTER_TASKS", "1")
    ids = [services.celery.send_task("worker_tasks.tasks.add", args=[n, 1], queue=queue).id
           for n in range(3)]  # fmt: skip
    job = worker_factory((queue,), concurrency=1, prefetch=1, wait=False)
    wait_for(lambda: job.process.poll() is not None, timeout=30, what="the job worker to exit")
    assert job.process.returncode == 0
    states = [services.celery.AsyncResult(task_id).state for task_id in ids]
    assert states.count("SUCCESS") == 1, states  # one task, the others left for other Jobs
    assert services.broker.depths([queue])[queue].ready == 2

    monkeypatch.delenv("CONTROLPLANE_EXIT_AFTER_TASKS")
    monkeypatch.setenv("CONTROLPLANE_EXIT_WHEN_IDLE", "2")
    idle = worker_factory((f"empty-{uuid.uuid4().hex[:6]}",), concurrency=1, prefetch=1, wait=False)
    wait_for(lambda: idle.process.poll() is not None, timeout=30, what="the idle worker to exit")
    assert idle.process.returncode == 0 and "CONTROLPLANE_EXIT_WHEN_IDLE" in idle.log()
    assert json.dumps(states)  # the ground truth came from the result backend
