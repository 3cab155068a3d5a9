"""Several replicas on one PostgreSQL schema and one broker (#19 item 4): three `serve`, two
`events`, two `scheduler` processes; work triggered through every replica; one of each kind
SIGKILLed halfway. Every task and every action is stored once, the counters of every replica's
/metrics agree, the leader moves within the lock TTL and only one scheduler samples at a time.

Long (about a minute: seven processes and a worker start): marked `long` so `make faults` and
CI can place it; every interval in it is the shortest its setting allows.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from controlplane import db, users
from controlplane.broker.embedded import EmbeddedRedis, die_with_parent, free_port
from controlplane.config import Settings
from controlplane.events.counters import REFRESH_TTL
from controlplane.models import Action, FleetStatus, QueueSample, Task
from controlplane.services import build_services
from tests.conftest import ROOT, start_worker, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.long]

LOCK_TTL = 2.0
SAMPLE_INTERVAL = 0.5
TASK = "worker_tasks.tasks.add"
PER_REPLICA = 8  # tasks triggered through each serve replica in each half


class Process:
    """One `controlplane <command>` subprocess, its output in a file."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        with open(log_path, "wb") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "controlplane.cli", *command],
                env=env, cwd=str(ROOT), stdout=log_file, stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )  # fmt: skip
        self.name = f"{os.uname().nodename}:{self.process.pid}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


class Serve(Process):
    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        super().__init__(["serve", "--port", str(self.port)], env, log_path)

    def get(self, path: str) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()

    def ready(self) -> bool:
        """/readyz 200: the console is built (/healthz is 200 from the moment the port is bound,
        while every other path still answers 503 "starting")."""
        try:
            return self.get("/readyz")[0] == 200
        except OSError:
            return False

    def trigger(self, token: str, queue: str, number: int, key: str) -> str:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        }
        body = json.dumps({"name": TASK, "args": [number, 1], "queue": queue})
        try:
            connection.request("POST", "/api/v1/tasks", body=body, headers=headers)
            response = connection.getresponse()
            answer = json.loads(response.read())
        finally:
            connection.close()
        assert response.status == 202, answer
        return str(answer["task_id"])

    def task_counters(self) -> list[str]:
        """The celery_task_* lines of a scrape (comments and timestamps aside)."""
        status, body = self.get("/metrics")
        assert status == 200, body[:300]
        return sorted(line for line in body.splitlines() if line.startswith("celery_task_"))


@pytest.fixture
def private_broker() -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis().start()
    yield server
    server.stop()


@pytest.fixture
def started(request: pytest.FixtureRequest) -> Iterator[list[Process]]:
    """The processes a test starts: stopped afterwards, their logs shown if it failed."""
    processes: list[Process] = []
    yield processes
    for process in processes:
        process.stop()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for process in processes:
            request.node.add_report_section("call", process.log_path.name, process.log()[-4000:])


def test_three_serve_two_events_two_schedulers_share_one_database(
    postgres_url: str, private_broker: EmbeddedRedis, tmp_path: Path, started: list[Process]
) -> None:
    queue = f"replicas-{uuid.uuid4().hex[:8]}"
    services = build_services(
        Settings(broker_url=private_broker.url, database_url=postgres_url, secret_key="r")
    )
    db.upgrade(services.engine)
    users.create_user(services, "op", "operator-password", "operator")
    token = users.create_token(services, "op")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTROLPLANE_")}
    env.update(
        PYTHONPATH=str(ROOT),
        CONTROLPLANE_BROKER_URL=private_broker.url,
        CONTROLPLANE_DATABASE_URL=postgres_url,
        CONTROLPLANE_SECRET_KEY="replicas-test",
        CONTROLPLANE_TASK_ALLOWLIST=TASK,
        CONTROLPLANE_QUEUES=queue,
        CONTROLPLANE_SAMPLE_INTERVAL=str(SAMPLE_INTERVAL),
        CONTROLPLANE_INSPECT_TIMEOUT="0.3",
        CONTROLPLANE_LEADER_LOCK_TTL=str(LOCK_TTL),
        CONTROLPLANE_LOG_LEVEL="DEBUG",
    )

    def spawn(kind: str) -> Process:
        log_path = tmp_path / f"{kind}-{len(started)}.log"
        process = Serve(env, log_path) if kind == "serve" else Process([kind], env, log_path)
        started.append(process)
        return process

    worker = start_worker(private_broker.url, (queue,), tmp_path, concurrency=2)
    try:
        serves = [spawn("serve") for _ in range(3)]
        ingesters = [spawn("events") for _ in range(2)]
        schedulers = [spawn("scheduler") for _ in range(2)]
        for serve in serves:
            wait_for(lambda s=serve: s.ready() or not s.alive(), timeout=60, what="serve ready")
            assert serve.alive(), serve.log()[-2000:]
        wait_for(
            lambda: all("ingesting" in p.log() or not p.alive() for p in ingesters),
            timeout=60, what="both ingesters consuming",
        )  # fmt: skip
        assert all(p.alive() for p in ingesters), [p.log()[-2000:] for p in ingesters]

        def leader() -> Process | None:
            found = [s for s in schedulers if s.alive() and _leads(s)]
            return found[-1] if found else None

        wait_for(lambda: leader() is not None, timeout=30, what="a leading scheduler")

        # First half: through all three serve replicas.
        ids: dict[str, str] = {}  # idempotency key -> task id
        for number in range(PER_REPLICA * 3):
            key = f"first-{number}"
            ids[key] = serves[number % 3].trigger(token, queue, number, key)

        # One of each kind dies without a word.
        old_leader = leader()
        assert old_leader is not None
        standby = next(s for s in schedulers if s is not old_leader)
        samples_before = _samples(standby)
        for process in (serves[0], ingesters[0], old_leader):
            process.kill()
        killed = time.monotonic()
        wait_for(lambda: _leads(standby), timeout=LOCK_TTL * 2 + 5, interval=0.05,
                 what="the standby to lead")  # fmt: skip
        takeover = time.monotonic() - killed
        # the lock expires at most LOCK_TTL after its last renewal; the standby tries every TTL/5
        assert takeover <= LOCK_TTL * 1.2 + 1.0, f"took over after {takeover:.2f} s"
        assert samples_before == 0, "the standby sampled while another led"

        # Second half through the survivors; a client that lost its answer from the dead
        # replica sends the same request again (same Idempotency-Key): one action, one task.
        for number in range(PER_REPLICA * 2):
            key = f"second-{number}"
            ids[key] = serves[1 + number % 2].trigger(token, queue, 100 + number, key)
        for key in ("first-0", "first-3"):  # both went through serves[0]
            assert serves[1].trigger(token, queue, 0, key) == ids[key]

        expected = set(ids.values())
        assert len(expected) == len(ids)

        def all_done() -> bool:
            with services.transaction() as session:
                done = session.scalar(
                    select(func.count()).select_from(Task)
                    .where(Task.task_id.in_(expected), Task.state == "SUCCESS")
                )  # fmt: skip
            return done == len(expected)

        wait_for(all_done, timeout=60, what="every task's success written")
        landed = time.monotonic()

        with services.transaction() as session:
            rows = session.execute(select(Task.task_id, Task.name, Task.worker)).all()
            actions = session.execute(
                select(Action.idempotency_key, Action.outcome, Action.target)
                .where(Action.action == "trigger")
            ).all()  # fmt: skip
        # every task row exactly once (and nothing else: no stray half-rows)
        assert sorted(row.task_id for row in rows) == sorted(expected)
        assert {row.worker for row in rows} == {worker.hostname}
        # every action exactly once: one row per request, the repeats answered from it
        assert sorted(a.idempotency_key for a in actions) == sorted(ids)
        assert all(a.outcome == "ok" for a in actions)

        # A replica started now reads the same history: all three agree with each other and
        # with the rows, within one refresh of their counters (REFRESH_TTL) and some slack.
        serves.append(spawn("serve"))
        wait_for(lambda: serves[-1].ready(), timeout=60, what="the new serve replica ready")
        live = [s for s in serves if s.alive()]
        assert len(live) == 3

        def agree() -> bool:
            scrapes = [s.task_counters() for s in live]
            succeeded = [_succeeded(lines) for lines in scrapes]
            return all(lines == scrapes[0] for lines in scrapes) and succeeded == [
                len(expected)
            ] * len(live)

        wait_for(agree, timeout=REFRESH_TTL + 10, interval=0.25, what="the replicas' counters")
        assert time.monotonic() - landed <= REFRESH_TTL + 10

        # No duplicate sampling: one sampler at a time, samples at least half an interval apart.
        with services.transaction() as session:
            stamps = list(
                session.scalars(
                    select(QueueSample.sampled_at)
                    .where(QueueSample.queue == queue)
                    .order_by(QueueSample.sampled_at)
                )
            )
            sampler = session.scalar(select(FleetStatus.sampler))
        assert len(stamps) >= 5
        gaps = [later - earlier for earlier, later in zip(stamps, stamps[1:], strict=False)]
        assert min(gaps) >= timedelta(seconds=SAMPLE_INTERVAL / 2), min(gaps)
        assert sampler == standby.name
    finally:
        worker.stop()
        services.close()


def _leads(scheduler: Process) -> bool:
    return f"leader lock acquired by {scheduler.name}" in scheduler.log()


def _samples(scheduler: Process) -> int:
    return len(re.findall(r"sampled \d+ queue", scheduler.log()))


def _succeeded(lines: list[str]) -> int:
    """celery_task_succeeded_total summed over its series."""
    total = 0.0
    for line in lines:
        if line.startswith("celery_task_succeeded_total{") and f'name="{TASK}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return int(total)
