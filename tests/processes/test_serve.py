"""`controlplane serve` as production runs it: the API answers over HTTP and a trigger publishes."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from collections.abc import Callable

from controlplane.broker.embedded import free_port
from controlplane.config import Settings
from controlplane.services import Services
from tests.conftest import wait_for


def _ready(port: int) -> bool:
    """/readyz, not /healthz: /healthz is 200 as soon as the port is bound, before the console
    is built, while the API still answers 503 "starting"."""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/readyz")
        return connection.getresponse().status == 200
    except OSError:
        return False


def test_serve_answers_the_api_and_publishes_a_trigger(
    settings: Settings, services: Services, token_for: Callable[[str], str], unique: str
) -> None:
    port = free_port()
    queue = f"serve-{unique}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTROLPLANE_")}
    env.update(
        CONTROLPLANE_BROKER_URL=settings.broker_url or "",
        CONTROLPLANE_DATABASE_URL=settings.database_url,
        CONTROLPLANE_SECRET_KEY="serve-test",
        CONTROLPLANE_TASK_ALLOWLIST="worker_tasks.tasks.add",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "controlplane.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: _ready(port) or process.poll() is not None, timeout=30)
        assert process.poll() is None, process.stdout.read()  # type: ignore[union-attr]

        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {
            "Authorization": f"Bearer {token_for('operator')}",
            "Content-Type": "application/json",
        }
        for number in range(20):  # one keep-alive connection, as an API client uses it
            body = {"name": "worker_tasks.tasks.add", "args": [number, 1], "queue": queue}
            connection.request("POST", "/api/v1/tasks", body=json.dumps(body), headers=headers)
            response = connection.getresponse()
            answer = json.loads(response.read())
            assert response.status == 202, answer
        assert services.broker.depths([queue])[queue].ready == 20
    finally:
        process.terminate()
        process.wait(15)
