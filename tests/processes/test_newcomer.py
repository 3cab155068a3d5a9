"""The newcomer's path: `make run PORT=...`, queued work kept between runs of `up`, a CLI run
from the wrong directory, a published secret refused by `serve`, the event queue per install."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import redis
from celery import Celery

from controlplane.broker.embedded import free_port
from controlplane.config import Settings, load_settings
from tests.conftest import ROOT, wait_for


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTROLPLANE_")}
    env.update(extra)
    return env


def cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "controlplane.cli", *args], cwd=cwd, env=clean_env(**env),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def make_run_command(*variables: str) -> str:
    """The command `make run` would run (make -n: nothing runs)."""
    dry = subprocess.run(["make", "--no-print-directory", "-n", "run", *variables], cwd=ROOT,
                         capture_output=True, text=True, timeout=30)  # fmt: skip
    [command] = [line for line in dry.stdout.splitlines() if "controlplane up" in line]
    return command


def test_make_run_passes_the_port_and_host_on() -> None:
    assert make_run_command("PORT=8081").endswith("bin/controlplane up --port 8081")
    assert make_run_command("PORT=9000", "HOST=0.0.0.0").endswith("up --host 0.0.0.0 --port 9000")
    assert make_run_command().endswith("bin/controlplane up")


class Up:
    """`controlplane up --no-demo-worker` in a directory, its output collected."""

    def __init__(self, cwd: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "controlplane.cli", "up", "--no-demo-worker",
             "--port", str(self.port)],
            cwd=cwd, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        stream = self.process.stdout
        assert stream is not None
        self.reader = threading.Thread(target=lambda: self.lines.extend(iter(stream.readline, "")))
        self.reader.start()

    def broker(self) -> str:
        found = wait_for(lambda: re.search(r"broker: (redis://\S+)", "".join(self.lines)),
                         timeout=30, what="the broker line")  # fmt: skip
        return str(found.group(1)).rstrip(";")

    def stop(self) -> str:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(30)
        self.reader.join(5)
        return "".join(self.lines)


def test_up_keeps_queued_and_eta_work_between_runs_in_the_same_directory(tmp_path: Path) -> None:
    first = Up(tmp_path)
    try:
        url = first.broker()
        wait_for(lambda: "+---" in "".join(first.lines), timeout=30, what="the banner")
        app = Celery(broker=url, set_as_current=False)
        queued = [app.send_task("worker_tasks.tasks.add", args=[n, n], queue="reports").id
                  for n in range(3)]  # fmt: skip
        queued.append(app.send_task("worker_tasks.tasks.add", args=[1, 1], queue="reports",
                                    countdown=600).id)  # fmt: skip
        app.close()
    finally:
        output = first.stop()
    assert "kept between" in output and str(tmp_path / "controlplane-redis") in output
    assert (tmp_path / "controlplane-redis" / "port").read_text().strip() == url.split(":")[2][:-2]

    second = Up(tmp_path)
    try:
        assert second.broker() == url  # the same port: workers started against it reconnect
        client = redis.Redis.from_url(url)
        kept = [json.loads(m)["headers"]["id"] for m in client.lrange("reports", 0, -1)]
        client.close()
        assert sorted(kept) == sorted(queued)  # the three queued and the ETA one
    finally:
        second.stop()


def test_the_cli_in_another_directory_says_where_it_looked(tmp_path: Path) -> None:
    result = cli("users", "token", "admin", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(tmp_path / "controlplane.db") in lines[0] and "controlplane up" in lines[0]
    assert "Traceback" not in result.stderr and not (tmp_path / "controlplane.db").exists()
    (tmp_path / "controlplane.db").write_bytes(b"")  # a file, but no schema
    empty = cli("users", "add", "bob", "--role", "admin", "--password-stdin", cwd=tmp_path)
    assert empty.returncode == 2 and "controlplane db upgrade" in empty.stderr
    assert len(empty.stderr.strip().splitlines()) == 1


def test_serve_refuses_a_published_secret_outside_loopback(tmp_path: Path) -> None:
    refused = cli("serve", "--host", "0.0.0.0", cwd=tmp_path,
                  CONTROLPLANE_BROKER_URL="redis://127.0.0.1:1/0",
                  CONTROLPLANE_SECRET_KEY="change-me-in-production")  # fmt: skip
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert "published default" in refused.stderr and "0.0.0.0" in refused.stderr
    example = (ROOT / "deploy/systemd/controlplane.env.example").read_text()
    secret = re.search(r"CONTROLPLANE_SECRET_KEY=(\S+)", example).group(1)  # type: ignore[union-attr]
    assert Settings(host="10.0.0.5", secret_key=secret).public_secret_problem()
    assert Settings(host="127.0.0.1", secret_key=secret).public_secret_problem() is None
    assert Settings(host="0.0.0.0", secret_key="x" * 40).public_secret_problem() is None
    assert "${CONTROLPLANE_SECRET_KEY:?" in (ROOT / "deploy/compose.yaml").read_text()


def test_the_event_queue_is_a_setting_named_after_the_install_by_default(tmp_path: Path) -> None:
    a = Settings(database_url=f"sqlite:///{tmp_path / 'a' / 'controlplane.db'}")
    b = Settings(database_url=f"sqlite:///{tmp_path / 'b' / 'controlplane.db'}")
    ops = Settings(database_url="postgresql://u:secret@db:5432/ops")
    assert a.effective_event_queue != b.effective_event_queue
    assert a.effective_event_queue.startswith("celeryev.controlplane.controlplane-")
    assert ops.effective_event_queue.startswith("celeryev.controlplane.ops-")
    assert "secret" not in ops.effective_event_queue
    chosen = load_settings({"CONTROLPLANE_EVENT_QUEUE": "celeryev.billing"})
    assert chosen.effective_event_queue == "celeryev.billing"
