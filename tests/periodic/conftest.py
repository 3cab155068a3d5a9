"""A real `celery beat` on the test's private Redis, with a schedule of a few seconds."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from controlplane.broker.embedded import EmbeddedRedis, die_with_parent
from tests.conftest import ROOT


@dataclass
class Beat:
    module: str  # the Celery app's module, importable from `path` (CONTROLPLANE_CELERY_APP)
    path: Path
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def kill(self) -> None:
        """SIGKILL beat: the schedule stops without a goodbye."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def write_app(
    directory: Path, broker_url: str, entries: dict[str, dict[str, Any]], **conf: Any
) -> str:
    """A fleet app module whose beat_schedule is `entries` (and `conf`); returns its name."""
    name = f"beatapp_{uuid.uuid4().hex[:8]}"
    (directory / f"{name}.py").write_text(textwrap.dedent(f"""\
        from celery import Celery

        app = Celery("{name}", broker={broker_url!r})
        app.conf.update(
            task_send_sent_event=True,
            beat_max_loop_interval=1,
            beat_schedule={entries!r},
        )
        app.conf.update({conf!r})
    """))  # fmt: skip
    return name


def start_beat(module: str, directory: Path, *extra: str) -> Beat:
    """`celery beat` for the app in `directory/module.py`, its own process group."""
    log_path = directory / f"{module}.log"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join((str(directory), str(ROOT), env.get("PYTHONPATH", "")))
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", module, "beat", "--loglevel", "INFO",
             "-s", str(directory / f"{module}-schedule"), *extra],
            cwd=str(directory), env=env, stdout=log_file, stderr=subprocess.STDOUT,
            preexec_fn=lambda: (os.setpgrp(), die_with_parent()),
        )  # fmt: skip
    return Beat(module, directory, process, log_path)


@pytest.fixture
def beat(
    redis_server: EmbeddedRedis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[dict[str, dict[str, Any]]], Beat]]:
    """Start beat for a schedule; killed after the test. The console can import its app."""
    started: list[Beat] = []
    monkeypatch.syspath_prepend(str(tmp_path))

    def start(entries: dict[str, dict[str, Any]]) -> Beat:
        found = start_beat(write_app(tmp_path, redis_server.url, entries), tmp_path)
        started.append(found)
        return found

    yield start
    for item in started:
        item.kill()
