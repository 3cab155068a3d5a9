"""Start and stop the local stack for `controlplane up`: broker, database, demo worker, console.

What a newcomer needs is printed last, in a frame: the URL, the login, where the demo worker
writes its log (not into the terminal), and where queued work is kept between runs.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from contextlib import ExitStack, suppress
from pathlib import Path
from types import FrameType

import click
from sqlalchemy.engine import make_url

from controlplane import users
from controlplane.broker.embedded import EmbeddedRedis, die_with_parent
from controlplane.config import Settings
from controlplane.fleet.inspection import ping
from controlplane.processes.ingest import start_ingester, start_worker_mailbox
from controlplane.processes.scheduler import FleetScheduler
from controlplane.processes.startup import bind, wait_until_ready
from controlplane.services import Services, build_services

log = logging.getLogger(__name__)


DEMO_WORKER_LOG = "demo-worker.log"
REDIS_DIR = "controlplane-redis"
READY_WAIT = 30.0  # seconds `up` waits for the demo worker before printing the banner


def home_of(settings: Settings) -> Path:
    """Where `up` keeps its files: beside the SQLite database (else the current directory)."""
    if settings.is_sqlite:
        name = make_url(settings.database_url).database
        if name and name != ":memory:":
            return Path(name).resolve().parent
    return Path.cwd()


def start_demo_worker(
    settings: Settings, queues: tuple[str, ...], log_path: Path
) -> subprocess.Popen[bytes]:
    """A real Celery worker running worker_tasks, its output in `log_path`, dying with us."""
    env = dict(os.environ)
    env["CONTROLPLANE_BROKER_URL"] = settings.broker_url or ""
    env["CONTROLPLANE_WORKER_HOOK"] = "1"  # restarts leave paused queues paused
    if settings.effective_result_backend:
        env["CONTROLPLANE_RESULT_BACKEND"] = settings.effective_result_backend
    args = [
        sys.executable, "-m", "celery", "-A", "worker_tasks", "worker",
        "-E", "-Q", ",".join(queues), "-c", "2", "-n", "demo@%h", "--loglevel", "INFO",
    ]  # fmt: skip
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            args, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )  # fmt: skip


def wait_for_worker(services: Services, process: subprocess.Popen[bytes], timeout: float) -> bool:
    """True once the demo worker answers a ping (False: it exited, or took too long)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        with suppress(Exception):
            if ping(services.celery, 0.5):
                return True
    return False


def framed(lines: list[str]) -> str:
    """Lines in a box, so they stand out from whatever was printed before."""
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 2) + "+"
    return "\n".join([rule, *(f"| {line.ljust(width)} |" for line in lines), rule])


def stop_process(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM (a Celery warm shutdown), then SIGKILL the whole process group after `grace`."""
    if process.poll() is None:
        process.terminate()
        with suppress(subprocess.TimeoutExpired):
            process.wait(grace)
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # pool children left behind, if any
    if process.poll() is None:
        process.wait(5)


def ensure_admin(services: Services) -> tuple[str, str] | None:
    """Create `admin` with a random password when there is no user yet; return the login."""
    password = secrets.token_urlsafe(12)
    created = users.create_first_admin(services, password)
    return None if created is None else (created.username, password)


def _raise_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_up(settings: Settings, demo_worker: bool) -> None:
    """Everything in one process for a laptop; Ctrl-C stops every process it started.

    The port is claimed before anything starts, and the first admin is created only once the
    console answers on it: a busy port fails in one line with nothing started and no admin
    password printed and lost.
    """
    from controlplane.web import create_app

    signal.signal(signal.SIGTERM, _raise_interrupt)
    home = home_of(settings)
    notes: list[str] = []
    with ExitStack() as stack:
        server, late = bind(settings)
        stack.callback(server.close)
        if not settings.broker_url:
            data = home / REDIS_DIR
            redis_server = EmbeddedRedis(data_dir=data).start()
            stack.callback(redis_server.stop)
            settings = settings.with_broker(redis_server.url)
            click.echo(f"broker: private redis-server at {redis_server.url}, data in {data}")
            notes.append(f"broker: {redis_server.url}; queued and ETA tasks are kept between")
            notes.append(f"  runs in {data} (append-only file)")
        services = build_services(settings)
        stack.callback(services.close)
        wait_until_ready(services, ("database",), late=late, upgrade=True)
        ingester = start_ingester(services)
        stack.callback(ingester.stop)  # runs before the broker and database go away
        stack.callback(start_worker_mailbox(services).stop)
        fleet_scheduler = FleetScheduler(services).start()
        stack.callback(fleet_scheduler.stop)

        late.ready(create_app(services))
        login = ensure_admin(services)
        if demo_worker:
            log_path = home / DEMO_WORKER_LOG
            worker = start_demo_worker(settings, settings.queues, log_path)
            stack.callback(stop_process, worker)
            ready = wait_for_worker(services, worker, READY_WAIT)
            state = "running" if ready else "NOT answering yet"
            notes.append(
                f"demo worker ({state}) on {', '.join(settings.queues)}: log in {log_path}"
            )
        lines = [f"controlplane is up: http://{settings.host}:{settings.port}/"]
        if login:
            lines.append(f"admin login (shown once): user {login[0]!r}, password {login[1]!r}")
        else:
            lines.append("log in with an existing user (controlplane users add NAME --role admin)")
        lines += [*notes, "Ctrl-C stops everything."]
        click.echo(framed(lines))
        sys.stdout.flush()
        started = time.monotonic()
        try:
            server.run()
        except KeyboardInterrupt:
            click.echo(f"stopping (ran {time.monotonic() - started:.0f} s)…")
