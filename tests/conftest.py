"""Fixtures every test reuses: a private redis-server, real Celery workers, temp databases, clients.

Nothing here touches a shared server: Redis is our own process on a free port, queue names are
unique per test session, SQLite lives in tmp_path and PostgreSQL tests get a schema of their own.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from controlplane import db, users
from controlplane.broker.embedded import EmbeddedRedis, die_with_parent
from controlplane.config import Settings
from controlplane.services import Services, build_services
from controlplane.web import create_app

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ROOT = Path(__file__).resolve().parent.parent
OUTPUT_DIR = Path(os.environ.get("CONTROLPLANE_TEST_OUTPUT", ROOT / "test-output"))
PASSWORD = "correct horse battery"


def require(condition: bool, reason: str) -> None:
    """A missing service skips on a laptop and fails the run in CI."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def wait_for(
    predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05, what: str = ""
) -> Any:
    """Poll `predicate` until it returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:
            last_error = exc
        time.sleep(interval)
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what or predicate}: {last_error}"
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    if report.failed:
        for worker in getattr(item, "started_workers", []):
            report.sections.append((f"log of {worker.hostname}", worker.log()[-20000:]))
    return report


@contextlib.contextmanager
def served_in_background(server: Any) -> Iterator[None]:
    """`server.run()` (waitress) in a thread until the block ends, then closed.

    close() from this thread can close the socket while the loop is in select() on it: the
    loop then ends with EBADF, which is the stop asked for, not a failure of the test.
    """
    closing = threading.Event()

    def run() -> None:
        try:
            server.run()
        except OSError:
            if not closing.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        closing.set()
        server.close()
        thread.join(5)


# ---- Redis -------------------------------------------------------------------------------------


def private_redis_server() -> Iterator[EmbeddedRedis]:
    """A redis-server of our own for as long as the generator runs (fixtures of any scope)."""
    server = EmbeddedRedis()
    try:
        server.start()
    except Exception as exc:
        require(False, f"cannot start a private redis-server: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    yield from private_redis_server()


@pytest.fixture(scope="session")
def session_id() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def unique() -> str:
    """A short id for names (queues, users) that must not clash with other tests."""
    return uuid.uuid4().hex[:8]


# ---- Celery workers ----------------------------------------------------------------------------


@dataclass
class WorkerProcess:
    """A real `celery worker` subprocess running worker_tasks."""

    hostname: str
    queues: tuple[str, ...]
    process: subprocess.Popen[bytes]
    log_path: Path
    broker_url: str
    extra: dict[str, Any] = field(default_factory=dict)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout)
        self._kill_group()

    def kill(self) -> None:
        """SIGKILL the worker and its pool: a crash, not a shutdown."""
        self._kill_group()

    def _kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(10)


def start_worker(
    broker_url: str,
    queues: tuple[str, ...],
    log_dir: Path,
    *,
    name: str | None = None,
    concurrency: int = 2,
    prefetch: int = 1,
    extra_args: tuple[str, ...] = (),
    wait: bool = True,
    result_backend: str | None = None,
    app: str = "worker_tasks",
) -> WorkerProcess:
    name = name or f"w{uuid.uuid4().hex[:8]}"
    hostname = f"{name}@{os.uname().nodename}"
    log_path = log_dir / f"worker-{name}.log"
    env = dict(os.environ)
    env.update(
        CONTROLPLANE_BROKER_URL=broker_url,
        CONTROLPLANE_RESULT_BACKEND=result_backend or broker_url,
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    args = [
        sys.executable, "-m", "celery", "-A", app, "worker",
        "-E", "-Q", ",".join(queues), "-n", hostname, "-c", str(concurrency),
        "--prefetch-multiplier", str(prefetch),
        "--without-gossip", "--without-mingle", "--loglevel", "INFO", *extra_args,
    ]  # fmt: skip
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            args,
            env=env,
            cwd=str(ROOT),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
    worker = WorkerProcess(hostname, queues, process, log_path, broker_url)
    if wait:
        wait_for_worker(worker)
    return worker


def wait_for_worker(worker: WorkerProcess, timeout: float = 45.0) -> None:
    app = Celery(broker=worker.broker_url, set_as_current=False)
    try:

        def answered() -> bool:
            if worker.process.poll() is not None:
                raise AssertionError(f"worker exited early:\n{worker.log()[-3000:]}")
            replies = app.control.ping(destination=[worker.hostname], timeout=0.5)
            return bool(replies)

        wait_for(answered, timeout=timeout, what=f"worker {worker.hostname} to answer a ping")
    finally:
        app.close()


@pytest.fixture
def worker_factory(
    redis_server: EmbeddedRedis, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., WorkerProcess]]:
    """Start real workers on the private Redis; stopped after the test, logs attached on failure."""
    started: list[WorkerProcess] = []
    request.node.started_workers = started  # the report hook attaches their logs on failure

    def factory(queues: tuple[str, ...], **kwargs: Any) -> WorkerProcess:
        kwargs.setdefault("log_dir", tmp_path)
        broker = kwargs.pop("broker_url", redis_server.url)
        worker = start_worker(broker, queues, **kwargs)
        started.append(worker)
        return worker

    yield factory
    for worker in started:
        worker.stop()


@pytest.fixture(scope="session")
def shared_queues(session_id: str) -> tuple[str, ...]:
    return (f"t{session_id}-default", f"t{session_id}-reports", f"t{session_id}-slow")


@pytest.fixture(scope="session")
def shared_worker(
    redis_server: EmbeddedRedis,
    shared_queues: tuple[str, ...],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WorkerProcess]:
    """One worker for the whole session, on this session's own queues (fast tests share it)."""
    worker = start_worker(
        redis_server.url, shared_queues, tmp_path_factory.mktemp("shared-worker"), concurrency=2
    )
    yield worker
    worker.stop()


# ---- Databases ---------------------------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'controlplane.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    with postgres_schema() as url:
        yield url


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    """`postgres_url` for fixtures of a wider scope."""
    base = os.environ.get("CONTROLPLANE_TEST_POSTGRES_URL")
    require(bool(base), "CONTROLPLANE_TEST_POSTGRES_URL is not set")
    assert base
    schema = f"cp_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        admin.dispose()
        require(False, f"PostgreSQL at {base} is not usable: {exc}")
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """The same test against SQLite and PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url


# ---- Services, app and clients -----------------------------------------------------------------


@pytest.fixture
def settings(
    redis_server: EmbeddedRedis, sqlite_url: str, shared_queues: tuple[str, ...]
) -> Settings:
    return Settings(
        broker_url=redis_server.url,
        database_url=sqlite_url,
        queues=shared_queues,
        secret_key="test-secret-key",
        inspect_timeout=0.5,
        # The test fleet's queues have session-unique names: its default queue is routed here.
        task_default_queue=shared_queues[0],
    )


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    db.upgrade(built.engine)
    yield built
    built.close()


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services, {"TESTING": True})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def add_user(services: Services, username: str, role: str, password: str = PASSWORD) -> None:
    users.create_user(services, username, password, role)


def csrf_token_of(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "page has no CSRF meta tag"
    return match.group(1)


def log_in(client: FlaskClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the real form (with its CSRF token); return a token for later posts."""
    page = client.get("/login")
    token = csrf_token_of(page.get_data(as_text=True))
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return csrf_token_of(client.get("/").get_data(as_text=True))


@pytest.fixture
def client_as(app: Flask, services: Services, unique: str) -> Callable[[str], FlaskClient]:
    """A test client logged in with a new user of the given role."""

    def make(role: str) -> FlaskClient:
        username = f"{role}-{unique}-{uuid.uuid4().hex[:4]}"
        add_user(services, username, role)
        client = app.test_client()
        client.csrf_token = log_in(client, username)  # type: ignore[attr-defined]
        client.username = username  # type: ignore[attr-defined]
        return client

    return make


@pytest.fixture
def logged_in_client(client_as: Callable[[str], FlaskClient]) -> FlaskClient:
    return client_as("operator")


@pytest.fixture
def token_for(services: Services, unique: str) -> Callable[[str], str]:
    """A bearer token for a new user of the given role."""

    def make(role: str) -> str:
        username = f"api-{role}-{unique}-{uuid.uuid4().hex[:4]}"
        add_user(services, username, role)
        return users.create_token(services, username)

    return make


# ---- RabbitMQ ----------------------------------------------------------------------------------

RABBITMQ_URL = os.environ.get(
    "CONTROLPLANE_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//"
)


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """The RabbitMQ on this machine (tests use unique queue names and delete them after)."""
    from kombu import Connection

    try:
        with Connection(RABBITMQ_URL, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        require(False, f"RabbitMQ at {RABBITMQ_URL} is not reachable: {exc}")
    return RABBITMQ_URL


@pytest.fixture
def ingesting(services: Services) -> Iterator[Any]:
    """The event ingester running in this process over `services`, as `controlplane up` runs it
    (including re-sending stored revocations to workers that come online)."""
    from controlplane.processes.ingest import start_ingester

    ingester = start_ingester(services)
    yield ingester
    ingester.stop()
