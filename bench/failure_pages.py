"""Server time of the Failures pages over many failed tasks (issue 18 part 3).

    .venv/bin/python bench/failure_pages.py [--rows 1000000] [--stores sqlite,postgresql]
        [--postgres-url URL] [--requests 200]

--rows failed tasks (200 causes, Zipf-like, the largest about a sixth) are grouped batch by
batch through the ingester's own hook (failures/ingest.py, timed per failure), then the
Failures page, its state filter, the largest group's page and GET /api/v1/failure-groups are
timed inside the app (Flask test client, no network). Target: p95 under 100 ms with 1,000,000
failed tasks. PostgreSQL rows go into a schema of their own, dropped at the end. Shares its
helpers with pages.py (run from the repository root, as the other benches).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pages import emit, percentile, timed
from sqlalchemy import create_engine, insert, text

from controlplane import db, users
from controlplane.broker.embedded import EmbeddedRedis
from controlplane.config import Settings
from controlplane.models import Task
from controlplane.services import build_services
from controlplane.web import create_app

NAMES = [f"proj.tasks.job_{i}" for i in range(40)]
QUEUES = ["default", "reports", "slow", "mail", "billing"]


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

        samples, cpu = timed(get, requests)
        emit(f"{store}/{page}", "median_ms", statistics.median(samples), rows=rows)
        emit(f"{store}/{page}", "p95_ms", percentile(samples, 0.95), rows=rows)
        emit(f"{store}/{page}", "app_cpu_median_ms", statistics.median(cpu), rows=rows)
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
                url = f"sqlite:///{Path(tmp) / 'failures.db'}"
                run_failures(store, url, options.rows, options.requests, redis_server.url)
            elif store == "postgresql":
                schema = f"bench_failures_{uuid.uuid4().hex[:8]}"
                admin = create_engine(options.postgres_url)
                with admin.begin() as connection:
                    connection.execute(text(f'CREATE SCHEMA "{schema}"'))
                try:
                    url = f"{options.postgres_url}?options=-csearch_path%3D{schema}"
                    run_failures(store, url, options.rows, options.requests, redis_server.url)
                finally:
                    with admin.begin() as connection:
                        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                    admin.dispose()


if __name__ == "__main__":
    main()
