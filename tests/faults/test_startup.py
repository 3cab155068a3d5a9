"""Rows 22-23 (start) of FAULTS.md and issue 16 items 4-5: start-up errors are one line and
exit 2; a database or broker that is not there yet is waited for, never a crash loop."""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from controlplane.broker.embedded import free_port
from controlplane.cli import main
from tests.conftest import wait_for
from tests.faults import cli
from tests.faults.conftest import FaultRedis, PrivatePostgres

PROCESSES = ("up", "serve", "events", "scheduler")


def get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def test_up_on_a_busy_port_fails_in_one_line_and_the_next_start_still_shows_the_admin(
    tmp_path: Path,
) -> None:
    env = cli.cli_env()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        failed = cli.run("up", "--port", str(port), "--no-demo-worker", cwd=tmp_path, env=env)
    assert failed.returncode == 2, failed.stdout + failed.stderr
    assert failed.stderr.strip() == f"error: port {port} is in use; set --port or CONTROLPLANE_PORT"
    assert "Traceback" not in failed.stdout + failed.stderr
    # nothing was started or created: no database (so no admin whose password was lost)
    assert sorted(path.name for path in tmp_path.iterdir()) == []

    free = free_port()
    process = subprocess.Popen(
        cli.command("up", "--port", str(free), "--no-demo-worker"),
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(iter(process.stdout.readline, "")))  # type: ignore[union-attr]
    reader.start()
    try:
        wait_for(lambda: any("admin login (shown once)" in line for line in output), timeout=60,
                 what="the admin login in the banner")  # fmt: skip
        assert get(f"http://127.0.0.1:{free}/healthz")[0] == 200
    finally:
        cli.interrupt(process, grace=30)
        reader.join(10)


@pytest.mark.parametrize("command", PROCESSES)
def test_a_database_path_that_cannot_be_created_is_one_line_and_exit_2(
    command: str, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    database = blocker / "data" / "controlplane.db"
    env = cli.cli_env(
        database_url=f"sqlite:///{database}", broker_url="redis://127.0.0.1:1/0", port=free_port()
    )
    result = cli.run(command, cwd=tmp_path, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert str(blocker / "data") in lines[0]
    assert "Traceback" not in result.stdout + result.stderr


@contextlib.contextmanager
def as_nobody() -> Iterator[None]:
    """Root writes anywhere: act as nobody (effective uid) for the block."""
    nobody = pwd.getpwnam("nobody")
    os.setegid(nobody.pw_gid)
    os.seteuid(nobody.pw_uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def test_an_unwritable_database_directory_is_one_line_and_exit_2() -> None:
    top = Path(tempfile.mkdtemp(prefix="controlplane-ro-"))  # /tmp: nobody may pass through
    top.chmod(0o755)
    data = top / "readonly"
    data.mkdir(mode=0o555)
    env = {"CONTROLPLANE_DATABASE_URL": f"sqlite:///{data / 'cp.db'}",
           "CONTROLPLANE_BROKER_URL": "redis://127.0.0.1:1/0"}  # fmt: skip
    with as_nobody():
        result = CliRunner().invoke(main, ["events"], env=env)
    shutil.rmtree(top)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (
        f"error: database directory {data} is not writable; "
        "set CONTROLPLANE_DATABASE_URL to a writable place"
    )


def test_row22_processes_started_before_their_database_and_broker_wait_then_connect(
    private_postgres: PrivatePostgres, fault_redis: FaultRedis, tmp_path: Path
) -> None:
    database = private_postgres.new_database()
    private_postgres.stop()
    fault_redis.crash()  # nothing listens on its port until restart()
    port = free_port()
    env = cli.cli_env(
        database_url=database, broker_url=fault_redis.url, startup_backoff_max=1,
        secret_key="row22-secret", sample_interval=1,
    )  # fmt: skip
    logs = {name: tmp_path / f"{name}.log" for name in ("events", "serve", "scheduler")}
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, path in logs.items():
            args = ("serve", "--port", str(port)) if name == "serve" else (name,)
            with open(path, "wb") as log:
                processes[name] = cli.start(*args, cwd=tmp_path, env=env, log=log)

        def waited_twice(name: str) -> bool:
            return logs[name].read_text(errors="replace").count("waiting for database") >= 2

        for name in logs:
            wait_for(lambda name=name: waited_twice(name), timeout=60,
                     what=f"{name} to log two attempts")  # fmt: skip
        assert get(f"http://127.0.0.1:{port}/healthz")[0] == 200
        status, body = get(f"http://127.0.0.1:{port}/readyz")
        assert status == 503 and "database" in body["problems"], body
        events_log = logs["events"].read_text()
        assert "Traceback" not in events_log
        assert "broker" in events_log  # it names both missing services

        private_postgres.start()
        fault_redis.restart()
        wait_for(lambda: "ingesting events from" in logs["events"].read_text(), timeout=60,
                 what="the ingester to start once both answer")  # fmt: skip
        wait_for(lambda: get(f"http://127.0.0.1:{port}/readyz")[0] == 200, timeout=60,
                 what="/readyz 200")  # fmt: skip
        for name, process in processes.items():
            assert process.poll() is None, f"{name} exited:\n{logs[name].read_text()[-3000:]}"
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
    assert processes["events"].returncode == 0, logs["events"].read_text()[-3000:]
