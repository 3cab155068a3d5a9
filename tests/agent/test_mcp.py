"""`controlplane mcp` driven by the MCP SDK's own client: over stdio (the command started as a
subprocess, as an agent's configuration starts it) and over streamable HTTP, against history
written by a real worker and the event ingester."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from controlplane import db, users
from controlplane.broker.embedded import EmbeddedRedis, free_port
from controlplane.clock import utcnow
from controlplane.config import Settings
from controlplane.events import Ingester
from controlplane.fleet.sampler import Sampler
from controlplane.models import AuditRun
from controlplane.services import Services, build_services
from tests.conftest import PASSWORD, WorkerProcess, wait_for
from tests.events.events_helpers import rows

COMMAND = Path(sys.executable).with_name("controlplane")
TOOLS = {"fleet_status", "queue_depth", "task", "recent_failures", "audit_summary"}


@dataclass
class History:
    services: Services
    env: dict[str, str]  # what starts `controlplane mcp` on this database and broker
    queue: str
    succeeded: str
    failed: str
    token: str  # a viewer's


@pytest.fixture
def history(
    redis_server: EmbeddedRedis, worker_factory: Callable[..., WorkerProcess], tmp_path: Path,
    unique: str,
) -> Iterator[History]:  # fmt: skip
    queue = f"mcp-{unique}"
    settings = Settings(broker_url=redis_server.url, database_url=f"sqlite:///{tmp_path / 'cp.db'}",
                        queues=(queue,), inspect_timeout=0.5)  # fmt: skip
    services = build_services(settings)
    db.upgrade(services.engine)
    ingester = Ingester(settings, services.engine, flush_interval=0.05).start()
    try:
        worker_factory((queue,))
        ok = services.celery.send_task("worker_tasks.tasks.add", args=[2, 3], queue=queue)
        bad = services.celery.send_task(
            "worker_tasks.tasks.always_fails", args=["disk full"], queue=queue
        )
        assert ok.get(timeout=20) == 5
        wait_for(lambda: len(rows(services.engine, [ok.id, bad.id])) == 2
                 and rows(services.engine, [bad.id])[bad.id].state == "FAILURE",
                 timeout=30, what="both tasks ingested")  # fmt: skip
        sampler = Sampler(services, services.state.latest, "test")
        sampler.inspect(force=True)
        sampler.sample()
        now = utcnow()
        with services.transaction() as session:
            session.add(
                AuditRun(project="shop", root="/src/shop", status="done", endpoints=40,
                         offloaded=30, inline=10, inline_heavy=3, coverage=75.0,
                         started_at=now - timedelta(minutes=2), finished_at=now)
            )  # fmt: skip
        users.create_user(services, f"agent-{unique}", PASSWORD, "viewer")
        token = users.create_token(services, f"agent-{unique}")
        env = dict(os.environ, CONTROLPLANE_DATABASE_URL=settings.database_url,
                   CONTROLPLANE_BROKER_URL=redis_server.url, CONTROLPLANE_QUEUES=queue,
                   CONTROLPLANE_LOG_LEVEL="WARNING")  # fmt: skip
        yield History(services, env, queue, ok.id, bad.id, token)
    finally:
        ingester.stop()
        services.close()


async def exercise(client: Client, history: History) -> dict[str, Any]:
    """Every tool once; their structured answers by name."""
    listed = await client.list_tools()
    assert {tool.name for tool in listed.tools} == TOOLS
    assert all(tool.annotations and tool.annotations.read_only_hint for tool in listed.tools)
    calls = {
        "fleet_status": {},
        "queue_depth": {"queue": history.queue},
        "task": {"task_id": history.succeeded},
        "recent_failures": {"minutes": 30},
        "audit_summary": {},
    }
    answers = {}
    for name, arguments in calls.items():
        result = await client.call_tool(name, arguments)
        assert not result.is_error, (name, result.content)
        assert json.loads(result.content[0].text) == result.structured_content  # type: ignore[union-attr]
        answers[name] = result.structured_content
    missing = await client.call_tool("task", {"task_id": "no-such-task"})
    assert missing.is_error and "no task with id 'no-such-task'" in missing.content[0].text  # type: ignore[union-attr]
    return answers


def check_answers(answers: dict[str, Any], history: History) -> None:
    status = answers["fleet_status"]
    assert status["broker"]["reachable"] is True and status["workers"]["online"] >= 1
    [queue] = answers["queue_depth"]["queues"]
    assert queue["name"] == history.queue and queue["consumers"] == 1 and queue["backlog"] == 0
    task = answers["task"]
    assert (task["task_id"], task["state"], task["result"]) == (history.succeeded, "SUCCESS", "5")
    [failure] = answers["recent_failures"]["failures"]
    assert failure["task_id"] == history.failed and "disk full" in failure["exception"]
    [project] = answers["audit_summary"]["projects"]
    assert project["project"] == "shop" and project["latest_finished"]["inline_heavy"] == 3


def test_stdio_server_answers_the_sdk_client_with_a_viewer_token(history: History) -> None:
    env = {**history.env, "CONTROLPLANE_MCP_TOKEN": history.token}
    params = StdioServerParameters(command=str(COMMAND), args=["mcp"], env=env)

    async def main() -> dict[str, Any]:
        async with Client(params, read_timeout_seconds=30) as client:
            return await exercise(client, history)

    check_answers(anyio.run(main), history)


@pytest.mark.long  # real processes for a long while: `make faults` runs it, so `make test` < 15 min
def test_stdio_server_refuses_a_missing_or_unknown_token(history: History) -> None:
    for token in ("", "not-a-token"):
        result = subprocess.run(
            [str(COMMAND), "mcp"], env={**history.env, "CONTROLPLANE_MCP_TOKEN": token},
            input=b"", capture_output=True, timeout=60,
        )  # fmt: skip
        assert result.returncode == 2, result.stderr[-2000:]
        assert b"token" in result.stderr and result.stdout == b""


def test_http_server_needs_the_bearer_token_on_every_request(history: History) -> None:
    port = free_port()
    server = subprocess.Popen(
        [str(COMMAND), "mcp", "--http", "--port", str(port)], env=history.env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/mcp"
    try:

        def refused() -> httpx2.Response | None:
            if server.poll() is not None:  # it died: say why now, not after the wait
                raise AssertionError(server.stderr.read().decode()[-2000:])  # type: ignore[union-attr]
            try:
                return httpx2.post(url, json={}, timeout=2)
            except httpx2.TransportError:
                return None

        # a generous start-up wait: on a loaded 2-core machine the import alone took 30 s
        answer = wait_for(refused, timeout=90, what="the HTTP server to listen")
        assert answer.status_code == 401 and "Bearer" in answer.json()["error"]
        wrong = httpx2.post(url, json={}, headers={"Authorization": "Bearer nope"}, timeout=5)
        assert wrong.status_code == 401

        async def main() -> dict[str, Any]:
            headers = {"Authorization": f"Bearer {history.token}"}
            async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
                transport = streamable_http_client(url, http_client=http)
                async with Client(transport) as client:  # type: ignore[arg-type]
                    return await exercise(client, history)

        check_answers(anyio.run(main), history)
    finally:
        server.terminate()
        server.wait(10)
