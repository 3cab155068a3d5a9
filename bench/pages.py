"""Server time of the console's pages over a large task history, in SQLite and PostgreSQL.

    .venv/bin/python bench/pages.py [--rows 1000000] [--stores sqlite,postgresql]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/test] [--requests 200]
        [--case tasks|failures]

Pages: the Tasks page (first page, a filtered page, a deep keyset page), one task's detail and
the dashboard fragment. With --case failures: --rows failed tasks (200 causes, the largest a
fifth of them) grouped through the ingester's own hook (failures/ingest.py, timed per
failure), then the Failures page, a state filter, the largest group and its JSON. Single
client: time spent inside the app (Flask test client, no network). Then (tasks case) 20
concurrent clients over HTTP (waitress, as `serve` runs it). PostgreSQL rows go into a schema
of their own, dropped at the end.
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


# ---- failure groups (#18 part 3) -------------------------------------------------------------

FAILURE_TEMPLATES = (
    ("KeyError", "customer {n} not found"), ("ValueError", "invalid amount '{n}.00'"),
    ("TimeoutError", "upstream 10.0.{n}.7 timed out after 30 s"),
    ("IntegrityError", "duplicate key value violates unique constraint order_{n}"),
    ("ConnectionError", "Error 111 connecting to 0x{n:x}"),
)  # fmt: skip
FAILURE_TRACEBACK = """Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/celery/app/trace.py", line 453, in trace_task
    R = retval = fun(*args, **kwargs)
  File "/srv/proj/tasks/{module}.py", line {line}, in {function}
    return handle(payload)
{kind}: {message}
"""


def fill_failures(engine: Any, rows: int) -> float:
    """`rows` failed tasks over 7 days, grouped batch by batch as the ingester does; returns
    the grouping's seconds (record_failures alone)."""
    from controlplane.failures.ingest import record_failures

    rng = random.Random(18)
    start = datetime.now(UTC) - timedelta(days=7)
    step = timedelta(days=7) / max(rows, 1)
    causes = [(name, kind, text) for name in NAMES for kind, text in FAILURE_TEMPLATES]
    weights = [1.0 / (rank + 1) for rank in range(len(causes))]  # a few causes dominate
    grouping = 0.0
    for first in range(0, rows, 5000):
        batch = []
        for index in range(first, min(rows, first + 5000)):
            stamp = start + step * index
            name, kind, template = rng.choices(causes, weights)[0]
            message = template.format(n=rng.randrange(1, 100_000))
            function = name.rsplit(".", 1)[-1]
            batch.append({
                "task_id": str(uuid.UUID(int=rng.getrandbits(128))), "name": name,
                "state": "FAILURE", "queue": rng.choice(QUEUES),
                "worker": f"celery@worker-{rng.randrange(20)}", "args": f"[{index}]",
                "kwargs": "{}", "args_incomplete": False, "retries": 0,
                "first_seen_at": stamp, "sent_at": stamp, "received_at": stamp,
                "started_at": stamp, "finished_at": stamp + timedelta(seconds=0.2),
                "runtime": 0.2, "updated_at": stamp, "exception": f"{kind}({message!r})",
                "traceback": FAILURE_TRACEBACK.format(
                    module=function, line=rng.randrange(10, 400), function=function,
                    kind=kind, message=message),
            })  # fmt: skip
        with engine.begin() as connection:
            connection.execute(insert(Task), batch)
            started = time.perf_counter()
            record_failures(connection, [row["task_id"] for row in batch], time.time())
            grouping += time.perf_counter() - started
    return grouping


def run_failures(store: str, database_url: str, rows: int, requests: int, redis_url: str) -> None:
    from controlplane.failures.groups import list_groups

    settings = Settings(broker_url=redis_url, database_url=database_url, secret_key="bench")
    services = build_services(settings)
    db.upgrade(services.engine)
    started = time.perf_counter()
    grouping = fill_failures(services.engine, rows)
    emit(f"{store}/failures_fill", "rows_per_s", rows / (time.perf_counter() - started), "1/s",
         rows=rows)  # fmt: skip
    emit(f"{store}/failures_grouping", "us_per_failure", grouping / rows * 1e6, "us", rows=rows)
    with services.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    users.create_user(services, "bench", "bench-password", "viewer")
    groups = list_groups(services, limit=200)
    largest = max(groups, key=lambda g: g.failures)
    emit(f"{store}/failures_groups", "groups", len(groups), "groups", rows=rows,
         largest=largest.failures)  # fmt: skip
    app = create_app(services, {"WTF_CSRF_ENABLED": False})
    client = app.test_client()
    client.post("/login", data={"username": "bench", "password": "bench-password"})
    token = users.create_token(services, "bench")
    pages = {
        "failures_page": ("/failures", {}),
        "failures_ongoing": ("/failures?state=ongoing", {}),
        "failure_group": (f"/failures/{largest.id}", {}),
        "api_failure_groups": ("/api/v1/failure-groups", {"Authorization": f"Bearer {token}"}),
    }
    for page, (path, headers) in pages.items():

        def get(path: str = path, headers: dict[str, str] = headers) -> None:
            response = client.get(path, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"{path}: {response.status_code}")

        samples = timed(get, requests)
        emit(f"{store}/{page}", "median_ms", statistics.median(samples), rows=rows)
        emit(f"{store}/{page}", "p95_ms", p95(samples), rows=rows)
    services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--case",
        choices=("tasks", "failures"),
        default="tasks",
        help="failures: --rows failed tasks, grouped, and the Failures pages",
    )
    options = parser.parse_args()
    run = run_failures if options.case == "failures" else run_store

    with EmbeddedRedis() as redis_server, tempfile.TemporaryDirectory() as tmp:
        for store in options.stores.split(","):
            if store == "sqlite":
                url = f"sqlite:///{Path(tmp) / 'pages.db'}"
                run(store, url, options.rows, options.requests, redis_server.url)
            elif store == "postgresql":
                schema = f"bench_pages_{uuid.uuid4().hex[:8]}"
                admin = create_engine(options.postgres_url)
                with admin.begin() as connection:
                    connection.execute(text(f'CREATE SCHEMA "{schema}"'))
                try:
                    url = f"{options.postgres_url}?options=-csearch_path%3D{schema}"
                    run(store, url, options.rows, options.requests, redis_server.url)
                finally:
                    with admin.begin() as connection:
                        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                    admin.dispose()


if __name__ == "__main__":
    main()
