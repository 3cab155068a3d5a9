"""The fault suite's fixtures: servers it may kill, workers running the probe, the tally.

Every server a test stops, pauses or kills is its own: a private redis-server
(`fault_redis`), a private PostgreSQL cluster (`private_postgres`, initdb in a temp dir on a
free port, run as the postgres user since initdb refuses root). Workers run
`tests.faults.probe`, whose `faults.record` task writes the ground truth the tally reads.
Every test here is marked `faults`: `make faults` runs them alone.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from controlplane import db
from controlplane.broker.embedded import EmbeddedRedis, free_port
from controlplane.config import Settings
from controlplane.events import Ingester
from controlplane.fleet.task_history import TaskRecord, get_task
from controlplane.processes.ingest import start_ingester
from controlplane.services import Services, build_services
from tests.conftest import WorkerProcess, require, start_worker, wait_for
from tests.faults.tally import Tally, read_console, read_ground_truth, tally

HERE = Path(__file__).resolve().parent
PROBE_APP = "tests.faults.probe"
RECORD = "faults.record"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(HERE):
            item.add_marker(pytest.mark.faults)


# ---- Redis we may pause, kill and restart ------------------------------------------------------


class FaultRedis:
    """A private redis-server without persistence; SIGSTOP/SIGCONT/SIGKILL and restart."""

    def __init__(self) -> None:
        self.server = EmbeddedRedis().start()
        assert self.server.port is not None
        self.port: int = self.server.port
        self.paused = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        assert self.server.process is not None
        return self.server.process.pid

    def pause(self) -> None:
        """A hang without a reset: connections stay open, nothing answers."""
        os.kill(self.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        if self.paused:
            os.kill(self.pid, signal.SIGCONT)
            self.paused = False

    def crash(self) -> None:
        """SIGKILL: every queued message is gone (no persistence)."""
        self.resume()
        assert self.server.process is not None
        self.server.process.kill()
        self.server.process.wait(10)
        self.server.stop()

    def restart(self) -> None:
        """A new, empty redis-server on the same port."""
        self.server = EmbeddedRedis(port=self.port).start()

    def stop(self) -> None:
        self.resume()
        self.server.stop()


@pytest.fixture
def fault_redis() -> Iterator[FaultRedis]:
    try:
        server = FaultRedis()
    except Exception as exc:
        require(False, f"cannot start a private redis-server: {exc}")
        raise
    yield server
    server.stop()


# ---- PostgreSQL we may kill --------------------------------------------------------------------


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    """A PostgreSQL cluster of our own in a temp dir, on a free loopback port."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="controlplane-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self.user = "postgres"
        owner = pwd.getpwnam(self.user)
        os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self._as_postgres(
            [str(bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
             "--no-sync", "-E", "UTF8"]
        )  # fmt: skip

    def _as_postgres(self, args: list[str]) -> None:
        command = args if os.getuid() != 0 else ["runuser", "-u", self.user, "--", *args]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def new_database(self) -> str:
        """A fresh database in this cluster (the cluster must be running); its URL."""
        name = f"cp_{uuid.uuid4().hex[:10]}"
        admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        # fsync off survives a killed server (the OS keeps what was written); asynchronous
        # commit would not: a commit acknowledged just before `-m immediate` would vanish.
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off"
        )
        self._as_postgres(
            [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options, "-l",
             str(self.log), "-w", "-t", "60", "start"]
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """`immediate` is a crash: no shutdown checkpoint, clients cut off."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._as_postgres(
                [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]
            )

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PrivatePostgres]:
    """One private cluster per session (initdb costs seconds); tests that stop it restart it."""
    bindir = postgres_bin()
    require(bindir is not None, "no PostgreSQL server binaries under /usr/lib/postgresql")
    assert bindir is not None
    try:
        cluster = PrivatePostgres(bindir)
        cluster.start()
    except (subprocess.CalledProcessError, KeyError, OSError) as exc:
        require(False, f"cannot start a private PostgreSQL cluster: {exc}")
        raise
    yield cluster
    cluster.destroy()


@pytest.fixture
def private_postgres(postgres_cluster: PrivatePostgres) -> Iterator[PrivatePostgres]:
    """The private cluster, running at the start of the test and again after it."""
    postgres_cluster.start() if not _answers(postgres_cluster) else None
    yield postgres_cluster
    if not _answers(postgres_cluster):
        postgres_cluster.start()


def _answers(cluster: PrivatePostgres) -> bool:
    result = subprocess.run(
        [str(cluster.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(cluster.port)],
        capture_output=True,
    )
    return result.returncode == 0


# ---- Ground truth, workers and the tally -------------------------------------------------------


@pytest.fixture
def ground_truth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The file probe workers started by this test write their runs to."""
    path = tmp_path / "ground-truth.jsonl"
    monkeypatch.setenv("FAULTS_GROUND_TRUTH", str(path))
    return path


@pytest.fixture
def probe_workers(
    ground_truth: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., WorkerProcess]]:
    """Start real Celery workers running the probe app; stopped after the test."""
    started: list[WorkerProcess] = []
    request.node.started_workers = started  # logs attached on failure (tests/conftest.py)

    def factory(broker_url: str, queues: tuple[str, ...], **kwargs: Any) -> WorkerProcess:
        kwargs.setdefault("log_dir", tmp_path)
        worker = start_worker(broker_url, queues, app=PROBE_APP, **kwargs)
        started.append(worker)
        return worker

    yield factory
    for worker in started:
        worker.stop()


class Ledger:
    """What the test triggered and revoked; the tally compares it with the ground truth."""

    def __init__(self, ground_truth: Path) -> None:
        self.ground_truth = ground_truth
        self.triggered: set[str] = set()
        self.revoked: set[str] = set()

    def runs_of(self, task_id: str) -> list[str]:
        return [run.event for run in read_ground_truth(self.ground_truth) if run.task_id == task_id]

    def wait_ended(self, task_ids: set[str], timeout: float = 30.0, interval: float = 0.05) -> None:
        """Poll the ground truth until every one of `task_ids` ended (a long run reads a big
        file each time: it polls less often)."""

        def all_ended() -> bool:
            ended = {r.task_id for r in read_ground_truth(self.ground_truth) if r.event == "end"}
            return task_ids <= ended

        wait_for(all_ended, timeout=timeout, interval=interval,
                 what=f"{len(task_ids)} probe task(s) to end")  # fmt: skip

    def tally(self, engine: Engine) -> Tally:
        console = read_console(engine, self.triggered)
        return tally(self.triggered, read_ground_truth(self.ground_truth), console, self.revoked)


@pytest.fixture
def ledger(ground_truth: Path) -> Ledger:
    return Ledger(ground_truth)


# ---- The console under test --------------------------------------------------------------------

PROBE_TASKS = ("faults.record", "faults.record_late")


@pytest.fixture
def console_factory(tmp_path: Path) -> Iterator[Callable[..., Services]]:
    """Services (database upgraded) for a console on `broker_url`, closed after the test."""
    built: list[Services] = []

    def factory(broker_url: str, database_url: str | None = None, **overrides: Any) -> Services:
        overrides.setdefault("queues", (f"f{uuid.uuid4().hex[:8]}",))
        overrides.setdefault("inspect_timeout", 0.5)
        overrides.setdefault("task_allowlist", PROBE_TASKS)
        settings = Settings(
            broker_url=broker_url,
            database_url=database_url or f"sqlite:///{tmp_path / 'controlplane.db'}",
            secret_key="fault-suite-secret",
            **overrides,
        )
        services = build_services(settings)
        built.append(services)
        db.upgrade(services.engine)
        return services

    yield factory
    for services in built:
        services.close()


@pytest.fixture
def ingesters() -> Iterator[Callable[[Services], Ingester]]:
    """Start the event ingester over `services` in this process; stopped after the test."""
    running: list[Ingester] = []

    def start(services: Services) -> Ingester:
        ingester = start_ingester(services)
        running.append(ingester)
        return ingester

    yield start
    for ingester in running:
        ingester.stop()


def task_row(services: Services, task_id: str) -> TaskRecord | None:
    """The console's record of one task (None: it has not seen it)."""
    return get_task(services, task_id)


def wait_states(services: Services, task_ids: set[str], state: str, timeout: float = 60) -> None:
    """Poll until the console shows every one of `task_ids` in `state`."""
    for task_id in task_ids:

        def reached(task_id: str = task_id) -> bool:
            row = task_row(services, task_id)
            return row is not None and row.state == state

        try:
            wait_for(reached, timeout=timeout, what=f"the console to show {task_id} {state}")
        except AssertionError as exc:
            shown = {t: (r.state, r.lost_reason) if (r := task_row(services, t)) else None
                     for t in task_ids}  # fmt: skip
            raise AssertionError(f"{exc}; the console shows {shown}") from None
