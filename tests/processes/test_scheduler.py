"""The scheduler under faults: one leader among many, takeover after a crash, a broker that goes
away and comes back, and a job that raises."""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from celery import Celery
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from controlplane import db
from controlplane.broker.embedded import EmbeddedRedis, die_with_parent
from controlplane.config import Settings
from controlplane.models import FleetStatus, QueueSample
from controlplane.processes.scheduler import FleetScheduler
from controlplane.services import ProcessState, Services, build_services
from controlplane.web import create_app
from tests.conftest import ROOT, log_in, wait_for

LOCK_TTL = 2.0
INTERVAL = 0.2


class SchedulerProcess:
    """`controlplane scheduler` as a subprocess, its log in a file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        with open(log_path, "wb") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "controlplane.cli", "scheduler"],
                env=env, cwd=str(ROOT), stdout=log_file, stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )  # fmt: skip
        self.name = f"{os.uname().nodename}:{self.process.pid}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def samples_taken(self) -> int:
        return len(re.findall(r"sampled \d+ queue", self.log()))

    def leads(self) -> bool:
        return f"leader lock acquired by {self.name}" in self.log()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@pytest.fixture
def spawn_scheduler(
    redis_server: EmbeddedRedis, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[[], SchedulerProcess]]:
    database = tmp_path / "schedulers.db"
    engine = db.make_engine(f"sqlite:///{database}")
    db.upgrade(engine)
    engine.dispose()
    env = scheduler_env(
        redis_server.url, f"sqlite:///{database}", f"cp-sched-{uuid.uuid4().hex[:8]}",
        INTERVAL, LOCK_TTL,
    )  # fmt: skip
    yield from scheduler_spawner(env, tmp_path, request)


def scheduler_env(
    broker_url: str, database_url: str, queue: str, interval: float, lock_ttl: float
) -> dict[str, str]:
    """The environment of a `controlplane scheduler` subprocess with short settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTROLPLANE_")}
    env.update(
        PYTHONPATH=str(ROOT),
        CONTROLPLANE_BROKER_URL=broker_url,
        CONTROLPLANE_DATABASE_URL=database_url,
        CONTROLPLANE_QUEUES=queue,
        CONTROLPLANE_SAMPLE_INTERVAL=str(interval),
        CONTROLPLANE_INSPECT_TIMEOUT="0.3",
        CONTROLPLANE_LEADER_LOCK_TTL=str(lock_ttl),
        CONTROLPLANE_LOG_LEVEL="DEBUG",
    )
    return env


def scheduler_spawner(
    env: dict[str, str], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[[], SchedulerProcess]]:
    """Yield a spawner of schedulers; SIGKILL them all after, their logs in a failed report."""
    started: list[SchedulerProcess] = []

    def spawn() -> SchedulerProcess:
        process = SchedulerProcess(env, tmp_path / f"scheduler-{len(started)}.log")
        started.append(process)
        return process

    yield spawn
    for process in started:
        process.stop(signal.SIGKILL)
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for process in started:
            request.node.add_report_section("call", f"log of {process.name}", process.log())


def test_only_the_lock_holder_samples_and_another_takes_over_when_it_dies(
    spawn_scheduler: Callable[[], SchedulerProcess],
) -> None:
    first, second = spawn_scheduler(), spawn_scheduler()
    wait_for(lambda: first.leads() or second.leads(), timeout=20, what="a leader")
    leader, standby = (first, second) if first.leads() else (second, first)
    wait_for(lambda: leader.samples_taken() >= 10, timeout=20, what="the leader sampling")
    assert standby.samples_taken() == 0 and not standby.leads()

    leader.stop(signal.SIGKILL)  # a crash: the lock is not released, it has to expire
    killed = time.monotonic()
    wait_for(standby.leads, timeout=LOCK_TTL * 2 + 3, interval=0.05, what="the standby to lead")
    takeover = time.monotonic() - killed
    # The lock expires at most LOCK_TTL after the last renewal; the standby tries every TTL/5.
    assert takeover <= LOCK_TTL * 1.2 + 1.0, f"took over after {takeover:.2f} s"
    wait_for(lambda: standby.samples_taken() >= 3, timeout=10, what="the new leader sampling")

    # A clean stop releases the lock: a newcomer takes over at its next try, not after the TTL.
    newcomer = spawn_scheduler()
    wait_for(lambda: "started (standby)" in newcomer.log(), timeout=20, what="newcomer up")
    standby.stop(signal.SIGTERM)
    assert "leader lock released" in standby.log()
    released = time.monotonic()
    wait_for(newcomer.leads, timeout=LOCK_TTL, interval=0.05, what="the newcomer to lead")
    assert time.monotonic() - released < LOCK_TTL


@pytest.fixture
def private_broker() -> Iterator[EmbeddedRedis]:
    """A redis-server of this test's own, to stop and start again."""
    server = EmbeddedRedis().start()
    yield server
    server.stop()


@pytest.fixture
def sampled_services(private_broker: EmbeddedRedis, sqlite_url: str) -> Iterator[Services]:
    settings = Settings(
        broker_url=private_broker.url,
        database_url=sqlite_url,
        queues=(f"cp-down-{uuid.uuid4().hex[:8]}",),
        secret_key="test-secret-key",
        sample_interval=INTERVAL,
        inspect_timeout=0.3,
        leader_lock_ttl=LOCK_TTL,
    )
    services = build_services(settings)
    db.upgrade(services.engine)
    yield services
    services.close()


def viewer_client(services: Services) -> FlaskClient:
    from tests.conftest import add_user

    username = f"viewer-{uuid.uuid4().hex[:6]}"
    add_user(services, username, "viewer")
    client = create_app(services, {"TESTING": True}).test_client()
    log_in(client, username)
    return client


def test_broker_down_pages_say_since_when_and_the_sampler_recovers_by_itself(
    sampled_services: Services, private_broker: EmbeddedRedis
) -> None:
    services = sampled_services
    [queue] = services.settings.queues
    publisher = Celery(broker=private_broker.url, set_as_current=False)
    for _ in range(3):
        publisher.send_task("worker_tasks.tasks.add", args=[1, 1], queue=queue)
    publisher.close()
    scheduler = FleetScheduler(services).start()
    # A replica that does not sample: it reads the database only.
    replica = dataclasses.replace(services, state=ProcessState())
    leader_client, replica_client = viewer_client(services), viewer_client(replica)
    try:
        wait_for(
            lambda: f'data-queue="{queue}"' in replica_client.get("/queues").get_data(as_text=True),
            timeout=10, what="the queue on the replica's page",
        )  # fmt: skip

        port = private_broker.port
        private_broker.stop()
        for client in (leader_client, replica_client):
            for path in ("/queues", "/workers", "/fragments/fleet"):
                page = wait_for(
                    lambda c=client, p=path: _page_with(c, p, "Broker unreachable since"),
                    timeout=15, what=f"{path} to say the broker is unreachable",
                )  # fmt: skip
                assert f'data-queue="{queue}"' in page or path == "/workers"  # last sample kept
        assert scheduler.sampler.failures >= 1

        restarted = EmbeddedRedis(port=port).start()
        try:
            publisher = Celery(broker=restarted.url, set_as_current=False)
            publisher.send_task("worker_tasks.tasks.add", args=[1, 1], queue=queue)
            publisher.close()
            # The data is gone with the old server: 1 message now, and no outage banner.
            for client in (leader_client, replica_client):
                wait_for(
                    lambda c=client: _ready_cell(c, queue) == "1"
                    and "Broker unreachable" not in c.get("/queues").get_data(as_text=True),
                    timeout=45, interval=0.2, what="the sampler to recover by itself",
                )  # fmt: skip
            assert scheduler.sampler.failures == 0
        finally:
            scheduler.stop()
            restarted.stop()
    finally:
        if scheduler.scheduler.running:
            scheduler.stop()


def _page_with(client: FlaskClient, path: str, needle: str) -> str | None:
    response = client.get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return page if needle in page else None


def _ready_cell(client: FlaskClient, queue: str) -> str | None:
    page = client.get("/queues").get_data(as_text=True)
    match = re.search(
        rf'data-queue="{re.escape(queue)}".*?data-field="ready">(\d+)<', page, flags=re.S
    )
    return match.group(1) if match else None


def test_a_job_that_raises_is_logged_and_runs_again_next_time(
    sampled_services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    services = sampled_services
    scheduler = FleetScheduler(services).start()

    def samples() -> int:
        with services.transaction() as session:
            return session.scalar(select(func.count()).select_from(QueueSample)) or 0

    try:
        wait_for(lambda: samples() >= 2, timeout=10, what="samples")
        with caplog.at_level(logging.ERROR, logger="controlplane.processes.scheduler"):
            with services.engine.begin() as connection:
                connection.execute(text("ALTER TABLE queue_samples RENAME TO queue_samples_away"))
            wait_for(
                lambda: "job 'sample' failed" in caplog.text, timeout=10, what="the failure logged"
            )
            with services.engine.begin() as connection:
                connection.execute(text("ALTER TABLE queue_samples_away RENAME TO queue_samples"))
        before = samples()
        wait_for(lambda: samples() > before + 2, timeout=10, what="sampling to resume")
        assert scheduler.scheduler.running
        with services.transaction() as session:
            status = session.get(FleetStatus, 1)
            assert status is not None and status.sampler == scheduler.lock.name
    finally:
        scheduler.stop()
