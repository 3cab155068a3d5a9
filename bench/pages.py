"""Server time of the console's pages over a large task history, in SQLite and PostgreSQL.

    .venv/bin/python bench/pages.py [--rows 1000000] [--stores sqlite,postgresql]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/test] [--requests 200]

Pages: the Tasks page (first page, a filtered page, a deep keyset page), one task's detail and
the dashboard fragment. Single client: time spent inside the app (Flask test client, no
network). Then 20 concurrent clients over HTTP (waitress, as `serve` runs it). PostgreSQL rows go
into a schema of their own, dropped at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select, text

from controlplane import db, users
from controlplane.broker.embedded import EmbeddedRedis, free_port
from controlplane.config import Settings
from controlplane.fleet.task_history import encode_cursor
from controlplane.models import Task
from controlplane.services import build_services
from controlplane.web import create_app
from controlplane.web.server import make_server

NAMES = [f"proj.tasks.job_{i}" for i in range(40)]
QUEUES = ["default", "reports", "slow", "mail", "billing"]
STATES = ["SUCCESS"] * 90 + ["FAILURE"] * 6 + ["REVOKED", "STARTED", "RETRY", "PENDING"]


def emit(case: str, metric: str, value: float, unit: str = "ms", **extra: Any) -> None:
    line = {"bench": "pages", "case": case, "metric": metric, "value": round(value, 3)}
    line.update(unit=unit, **extra)
    print(json.dumps(line), flush=True)


def fill(engine: Any, rows: int) -> None:
    """`rows` synthetic tasks over the last 7 days, in batches."""
    rng = random.Random(7)
    start = datetime.now(UTC) - timedelta(days=7)
    step = timedelta(days=7) / max(rows, 1)
    batch: list[dict[str, Any]] = []
    with engine.begin() as connection:
        for index in range(rows):
            stamp = start + step * index
            state = rng.choice(STATES)
            runtime = rng.expovariate(2.0)
            batch.append(
                {
                    "task_id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "name": rng.choice(NAMES),
                    "state": state,
                    "queue": rng.choice(QUEUES),
                    "worker": f"celery@worker-{rng.randrange(20)}",
                    "args": f"[{index}, 'customer-{rng.randrange(10000)}']",
                    "kwargs": "{}",
                    "args_incomplete": False,
                    "retries": 0,
                    "first_seen_at": stamp,
                    "sent_at": stamp,
                    "received_at": stamp,
                    "started_at": stamp,
                    "finished_at": stamp + timedelta(seconds=runtime),
                    "runtime": runtime,
                    "updated_at": stamp,
                    "exception": "ValueError('bad row')" if state == "FAILURE" else None,
                }
            )
            if len(batch) == 10_000:
                connection.execute(insert(Task), batch)
                batch.clear()
        if batch:
            connection.execute(insert(Task), batch)


def timed(call: Callable[[], Any], count: int) -> list[float]:
    for _ in range(5):
        call()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def run_store(store: str, database_url: str, rows: int, requests: int, redis_url: str) -> None:
    settings = Settings(broker_url=redis_url, database_url=database_url, secret_key="bench")
    services = build_services(settings)
    db.upgrade(services.engine)
    started = time.perf_counter()
    fill(services.engine, rows)
    emit(f"{store}/fill", "rows_per_s", rows / (time.perf_counter() - started), "1/s", rows=rows)
    if store == "sqlite":
        with services.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    else:
        with services.engine.begin() as connection:
            connection.execute(text("ANALYZE tasks"))
    users.create_user(services, "bench", "bench-password", "viewer")
    with services.transaction() as session:
        deep = session.scalars(
            select(Task).order_by(Task.first_seen_at.desc(), Task.task_id.desc())
            .offset(int(rows * 0.9)).limit(1)
        ).one()  # fmt: skip
        cursor = encode_cursor(deep)
        some_id = deep.task_id

    app = create_app(services, {"WTF_CSRF_ENABLED": False})
    client = app.test_client()
    client.post("/login", data={"username": "bench", "password": "bench-password"})
    pages = {
        "tasks_first": "/tasks",
        "tasks_filtered": "/tasks?state=FAILURE&name=proj.tasks.job_7&queue=reports",
        "tasks_deep": f"/tasks?cursor={cursor}",
        "task_detail": f"/tasks/{some_id}",
        "dashboard_fragment": "/fragments/fleet",
    }
    for page, path in pages.items():

        def get(path: str = path) -> None:
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"{path}: {response.status_code}")

        samples = timed(get, requests)
        emit(f"{store}/{page}", "median_ms", statistics.median(samples), rows=rows)
        emit(f"{store}/{page}", "p95_ms", p95(samples), rows=rows)

    # 20 concurrent clients over HTTP
    port = free_port()
    server = make_server(app, "127.0.0.1", port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    cookie = client.get_cookie("controlplane_session")
    assert cookie is not None
    headers = {"Cookie": f"controlplane_session={cookie.value}"}
    for page in ("tasks_first", "tasks_filtered", "task_detail"):
        results: list[float] = []
        lock = threading.Lock()

        def worker(
            path: str = pages[page], results: list[float] = results, lock: Any = lock
        ) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            local = []
            for _ in range(max(5, requests // 20)):
                t0 = time.perf_counter()
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                local.append((time.perf_counter() - t0) * 1000)
            with lock:
                results.extend(local)

        threads = [threading.Thread(target=worker) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        emit(f"{store}/{page}@20", "median_ms", statistics.median(results), rows=rows)
        emit(f"{store}/{page}@20", "p95_ms", p95(results), rows=rows)
    server.close()
    services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--requests", type=int, default=200)
    options = parser.parse_args()

    with EmbeddedRedis() as redis_server, tempfile.TemporaryDirectory() as tmp:
        for store in options.stores.split(","):
            if store == "sqlite":
                url = f"sqlite:///{Path(tmp) / 'pages.db'}"
                run_store(store, url, options.rows, options.requests, redis_server.url)
            elif store == "postgresql":
                schema = f"bench_pages_{uuid.uuid4().hex[:8]}"
                admin = create_engine(options.postgres_url)
                with admin.begin() as connection:
                    connection.execute(text(f'CREATE SCHEMA "{schema}"'))
                try:
                    url = f"{options.postgres_url}?options=-csearch_path%3D{schema}"
                    run_store(store, url, options.rows, options.requests, redis_server.url)
                finally:
                    with admin.begin() as connection:
                        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                    admin.dispose()


if __name__ == "__main__":
    main()
