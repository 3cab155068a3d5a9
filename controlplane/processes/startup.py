"""What a long-running process does before its work: claim its port, check where it writes,
wait for its database and broker.

Order matters for an operator: a port already taken or a database directory nobody can write
is a mistake to fix (one line, exit 2, nothing started, no admin password printed and lost);
a database or broker that is not up yet is a wait (one log line per attempt with a growing
pause, `/readyz` 503 naming what is missing), never a crash loop under `Restart=always`.
"""

from __future__ import annotations

import errno
import logging
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from controlplane import db
from controlplane.config import Settings
from controlplane.errors import ControlplaneError
from controlplane.services import Services

log = logging.getLogger(__name__)

FIRST_PAUSE = 0.5  # seconds before the second attempt; doubled up to startup_backoff_max


class StartupError(ControlplaneError):
    """The process cannot start as configured; the message says what to change."""


# ---- the port ----------------------------------------------------------------------------------


class LateApp:
    """The WSGI app of a server bound before the console is built.

    Until `ready(app)`, /healthz answers 200 (the process is alive) and everything else 503
    with what the process is waiting for, as JSON; a load balancer sends no traffic yet.
    """

    def __init__(self) -> None:
        self.app: Callable[..., Iterable[bytes]] | None = None
        self.waiting_for: dict[str, str] = {"startup": "starting"}

    def ready(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.app is not None:
            return self.app(environ, start_response)
        import json

        body: dict[str, Any]
        if environ.get("PATH_INFO") == "/healthz":
            status, body = "200 OK", {"status": "starting"}
        else:
            status = "503 Service Unavailable"
            body = {"status": "unavailable", "problems": dict(self.waiting_for)}
        payload = json.dumps(body).encode()
        start_response(
            status,
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload))),
             ("Retry-After", "5")],
        )  # fmt: skip
        return [payload]


def bind(settings: Settings, threads: int | None = None) -> tuple[Any, LateApp]:
    """Claim the console's port first, before anything else starts (or is created)."""
    from controlplane.web.server import DEFAULT_THREADS, make_server

    late = LateApp()
    try:
        server = make_server(late, settings.host, settings.port, threads or DEFAULT_THREADS)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(
                f"port {settings.port} is in use; set --port or CONTROLPLANE_PORT"
            ) from None
        raise StartupError(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}; "
            "set --host/--port or CONTROLPLANE_HOST/CONTROLPLANE_PORT"
        ) from None
    return server, late


# ---- where SQLite writes -----------------------------------------------------------------------


def sqlite_file(settings: Settings) -> Path | None:
    """The SQLite database file of `settings` (None: PostgreSQL, or in memory)."""
    if not settings.is_sqlite:
        return None
    name = make_url(settings.database_url).database
    if not name or name == ":memory:":
        return None
    return Path(name).resolve()


def check_data_path(settings: Settings) -> None:
    """For SQLite: the database's directory exists (or can be made) and we may write there."""
    path = sqlite_file(settings)
    if path is None:
        return
    directory = path.parent
    fix = "set CONTROLPLANE_DATABASE_URL to a writable place"
    try:
        if directory.exists() and not directory.is_dir():
            raise StartupError(f"database directory {directory} is not a directory; {fix}")
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StartupError(
            f"cannot create or reach the database directory {directory}: "
            f"{exc.strerror or exc}; {fix}"
        ) from None
    try:  # by trying: permission bits do not tell (root, ACLs, a read-only mount)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError:
        raise StartupError(f"database directory {directory} is not writable; {fix}") from None
    if path.exists():
        try:
            with open(path, "r+b"):
                pass
        except OSError:
            raise StartupError(f"database {path} is not writable; {fix}") from None


# ---- waiting for the database and the broker ---------------------------------------------------


def pauses(longest: float) -> Iterator[float]:
    """0.5, 1, 2, 4... seconds, never above `longest`."""
    pause = FIRST_PAUSE
    while True:
        yield min(pause, longest)
        pause *= 2


def wait_until_ready(
    services: Services,
    needs: tuple[str, ...] = ("database", "broker"),
    stop: threading.Event | None = None,
    late: LateApp | None = None,
    upgrade: bool = False,
) -> bool:
    """Block until the database (upgraded to head, with `upgrade`) and broker in `needs` answer.

    One warning per failed attempt, then a growing pause (`startup_backoff_max` at most).
    False when `stop` was set meanwhile.
    """
    stop = stop or threading.Event()
    for attempt, pause in enumerate(pauses(services.settings.startup_backoff_max), start=1):
        problems = _problems(services, needs, upgrade)
        if late is not None:
            late.waiting_for = problems or {"startup": "starting"}
        if not problems:
            if attempt > 1:
                log.info("%s answered after %d attempts", " and ".join(needs), attempt)
            return True
        log.warning(
            "waiting for %s (attempt %d, next in %.1f s): %s",
            " and ".join(problems), attempt, pause, "; ".join(problems.values()),
        )  # fmt: skip
        if stop.wait(pause):
            return False
    return False  # pragma: no cover - pauses() never ends


def _problems(services: Services, needs: tuple[str, ...], upgrade: bool) -> dict[str, str]:
    problems = {name: why for name, why in services.readiness().items() if name in needs}
    if upgrade and "database" not in problems:
        try:
            db.upgrade(services.engine)
        except Exception as exc:
            problems["database"] = f"schema upgrade failed: {type(exc).__name__}: {exc}"[:500]
    return problems
