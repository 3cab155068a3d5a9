"""Start and stop the local stack for `controlplane up`: broker, database, demo worker, console."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from contextlib import ExitStack, suppress
from types import FrameType

import click

from controlplane import db, users
from controlplane.broker.embedded import EmbeddedRedis, die_with_parent
from controlplane.config import Settings
from controlplane.processes.ingest import start_ingester
from controlplane.processes.scheduler import FleetScheduler
from controlplane.services import Services, build_services

log = logging.getLogger(__name__)


def start_demo_worker(settings: Settings, queues: tuple[str, ...]) -> subprocess.Popen[bytes]:
    """A real Celery worker running worker_tasks, dying with us if we are killed."""
    env = dict(os.environ)
    env["CONTROLPLANE_BROKER_URL"] = settings.broker_url or ""
    if settings.effective_result_backend:
        env["CONTROLPLANE_RESULT_BACKEND"] = settings.effective_result_backend
    args = [
        sys.executable, "-m", "celery", "-A", "worker_tasks", "worker",
        "-E", "-Q", ",".join(queues), "-c", "2", "-n", "demo@%h", "--loglevel", "WARNING",
    ]  # fmt: skip
    return subprocess.Popen(args, env=env, preexec_fn=die_with_parent)


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
    """Everything in one process for a laptop; Ctrl-C stops every process it started."""
    from controlplane.web import create_app
    from controlplane.web.server import make_server

    signal.signal(signal.SIGTERM, _raise_interrupt)
    with ExitStack() as stack:
        if not settings.broker_url:
            redis_server = EmbeddedRedis().start()
            stack.callback(redis_server.stop)
            settings = settings.with_broker(redis_server.url)
            click.echo(f"broker: private redis-server at {redis_server.url}")
        services = build_services(settings)
        stack.callback(services.close)
        db.upgrade(services.engine)
        login = ensure_admin(services)
        ingester = start_ingester(services)
        stack.callback(ingester.stop)  # runs before the broker and database go away
        fleet_scheduler = FleetScheduler(services).start()
        stack.callback(fleet_scheduler.stop)

        if demo_worker:
            worker = start_demo_worker(settings, settings.queues)
            stack.callback(stop_process, worker)

        app = create_app(services)
        server = make_server(app, settings.host, settings.port)
        stack.callback(server.close)
        click.echo(f"controlplane is up: http://{settings.host}:{settings.port}/")
        if login:
            click.echo(f"admin login (shown once): user {login[0]!r}, password {login[1]!r}")
        sys.stdout.flush()
        started = time.monotonic()
        try:
            server.run()
        except KeyboardInterrupt:
            click.echo(f"stopping (ran {time.monotonic() - started:.0f} s)…")
