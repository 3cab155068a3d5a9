"""`controlplane up` as a user runs it: healthy in seconds, demo worker shown, Ctrl-C cleans up."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psutil

from controlplane.broker.embedded import free_port
from tests.conftest import wait_for


class Browserless:
    """A cookie-keeping HTTP client over urllib, enough to log in and read a fragment."""

    def __init__(self, base: str) -> None:
        self.base = base
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def post(self, path: str, data: dict[str, str]) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode()
        try:
            with self.opener.open(self.base + path, data=body, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def test_up_serves_shows_the_demo_worker_and_stops_everything_on_sigint(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTROLPLANE_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "controlplane.cli", "up", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(iter(process.stdout.readline, "")))  # type: ignore[union-attr]
    reader.start()
    try:
        client = Browserless(f"http://127.0.0.1:{port}")
        started = time.monotonic()
        wait_for(lambda: client.get("/healthz")[0] == 200, timeout=20, what="/healthz")
        assert time.monotonic() - started < 15
        assert (tmp_path / "controlplane.db").exists()

        login = wait_for(
            lambda: re.search(r"user 'admin', password '([^']+)'", "".join(output)),
            timeout=10,
            what="the admin login on stdout",
        )
        status, page = client.get("/login")
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        status, _ = client.post(
            "/login", {"username": "admin", "password": login.group(1), "csrf_token": token}
        )
        assert status == 200  # followed the redirect to the dashboard
        wait_for(
            lambda: "demo@" in client.get("/fragments/fleet")[1],
            timeout=45,
            what="the demo worker on the dashboard",
        )
        # the ingester running in `up` feeds /metrics
        status, exposition = client.get("/metrics")
        assert status == 200 and "controlplane_events_ingested_total" in exposition
        assert re.search(r'celery_worker_up\{hostname="demo@[^"]+"\} 1\n', exposition)

        # What a newcomer needs comes last, framed; the worker's banner went to its log file.
        printed = "".join(output).rstrip("\n").splitlines()
        frame = [n for n, line in enumerate(printed) if re.fullmatch(r"\+-+\+", line)]
        assert len(frame) == 2 and frame[1] == len(printed) - 1, printed[-12:]
        box = "\n".join(printed[frame[0] : frame[1] + 1])
        assert f"http://127.0.0.1:{port}/" in box and login.group(1) in box
        log = tmp_path / "demo-worker.log"
        assert f"log in {log}" in box and "demo worker (running)" in box
        assert "demo@" in log.read_text() and "[tasks]" in log.read_text()
        assert "[tasks]" not in "".join(output) and "--- *****" not in "".join(output)

        children = psutil.Process(process.pid).children(recursive=True)
        names = " ".join(" ".join(child.cmdline()) for child in children)
        assert "redis-server" in names and "celery" in names
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(40)
        finally:
            if process.poll() is None:
                process.kill()
            reader.join(5)

    def all_gone() -> bool:
        return not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]

    wait_for(all_gone, timeout=15, what="every child of `up` to exit")
    assert process.returncode == 0, "".join(output)[-2000:]
