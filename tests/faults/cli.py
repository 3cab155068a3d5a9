"""Running `controlplane` as a user does: a subprocess with only the settings we give it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]


def cli_env(**settings: Any) -> dict[str, str]:
    """This environment without any CONTROLPLANE_* of ours, plus `settings` (upper-cased)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTROLPLANE_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update({f"CONTROLPLANE_{key.upper()}": str(value) for key, value in settings.items()})
    return env


def command(*args: str) -> list[str]:
    """`python -m controlplane.cli ARGS`."""
    return [sys.executable, "-m", "controlplane.cli", *args]


def run(
    *args: str, cwd: Path, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(*args), cwd=cwd, env=env, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


def start(*args: str, cwd: Path, env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command(*args), cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip


def interrupt(process: subprocess.Popen[Any], grace: float = 60) -> None:
    """Ctrl-C, as a user stops `up`; SIGKILL if it is still there after `grace` seconds."""
    process.send_signal(signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(grace)
    if process.poll() is None:
        process.kill()
        process.wait(10)
