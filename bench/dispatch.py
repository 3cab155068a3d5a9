"""Latency of `POST /api/v1/tasks` (HTTP on loopback, action row written, message published)
beside a bare `send_task` in the same run.

    .venv/bin/python bench/dispatch.py [--calls 2000] [--database-url URL]

Starts a private redis-server and the console (waitress, as `serve` runs it) in this process;
the task name is allow-listed so no worker is needed. Nothing consumes the queue, so every
published message is still countable at the end (the bench checks the count).
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

from controlplane import db, users
from controlplane.broker.embedded import EmbeddedRedis, free_port
from controlplane.config import Settings
from controlplane.services import build_services
from controlplane.web import create_app
from controlplane.web.server import make_server

TASK = "worker_tasks.tasks.add"


def emit(case: str, metric: str, value: float, unit: str, **extra: object) -> None:
    line = {"bench": "dispatch", "case": case, "metric": metric, "value": round(value, 4)}
    line.update(unit=unit, **extra)
    print(json.dumps(line), flush=True)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis() as redis_server:
        database_url = options.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = Settings(
            broker_url=redis_server.url,
            database_url=database_url,
            task_allowlist=(TASK,),
            secret_key="bench",
        )
        services = build_services(settings)
        db.upgrade(services.engine)
        username = f"bench-{uuid.uuid4().hex[:8]}"  # a --database-url may be reused
        users.create_user(services, username, "bench-password", "operator")
        token = users.create_token(services, username)

        port = free_port()
        server = make_server(create_app(services), "127.0.0.1", port)  # as `serve` runs it
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()

        queue = "bench-dispatch"
        body = json.dumps({"name": TASK, "args": [1, 2], "queue": queue})
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

        def call() -> float:
            started = time.perf_counter()
            connection.request("POST", "/api/v1/tasks", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status != 202:
                raise SystemExit(f"unexpected answer {response.status}")
            return elapsed

        for _ in range(50):  # warm up: connections, caches, the first SQLite pages
            call()
        api = [call() for _ in range(options.calls)]

        bare_queue = "bench-bare"
        services.celery.send_task(TASK, args=[1, 2], queue=bare_queue)  # warm up

        def bare() -> float:
            started = time.perf_counter()
            services.celery.send_task(TASK, args=[1, 2], queue=bare_queue)
            return (time.perf_counter() - started) * 1000

        send = [bare() for _ in range(options.calls)]
        published = services.broker.depths([queue])[queue].ready
        server.close()
        services.close()

    store = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    emit("api", "median_ms", statistics.median(api), "ms", store=store, calls=options.calls)
    emit("api", "p99_ms", percentile(api, 0.99), "ms", store=store)
    emit("send_task", "median_ms", statistics.median(send), "ms", calls=options.calls)
    emit("send_task", "p99_ms", percentile(send, 0.99), "ms")
    emit("api", "ratio_to_send_task", statistics.median(api) / statistics.median(send), "x")
    emit("api", "messages_published", published, "messages", expected=options.calls + 50)


if __name__ == "__main__":
    main()
