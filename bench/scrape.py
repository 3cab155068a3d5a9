"""What a Prometheus scrape of /metrics costs, beside what celery-exporter pays per scrape.

    .venv/bin/python bench/scrape.py [--queues 500] [--workers 200] [--task-names 300]
        [--hosts-per-task 2] [--tasks 12000] [--scrapes 40] [--inspect-workers 3]
        [--inspect-runs 5]

Cases, each a median over `--scrapes` GET /metrics over HTTP (waitress, as `serve` runs it),
every scrape reading afresh (no cache between scrapes, as with Prometheus every 15 s), and
`cpu_ms`, the median CPU time of the thread that served each scrape. Between
two scrapes the fleet lives through `--interval` seconds (not waited, applied): every worker
heartbeats (its row changes), the sampler writes a new sample of every queue, and
`--rate` tasks/s run (sent, received, started, succeeded: counters and histograms move):

- `controlplane`: as in `controlplane up`, the event ingester's counters and the leading
  scheduler's latest sample in memory;
- `controlplane_serve`: a `serve` replica, the sample and the task counters from the database.
  Its counters are rebuilt by a thread every REFRESH_TTL (5 s) beside the scrapes
  (events/refresher.py), so between two scrapes (15 s of the fleet's life) the bench calls
  that thread's refresh once, outside the scrape's timing, and reports its median as
  `refresh_ms`: the work a replica does for its counters, no longer on the scrape's path.

The fleet is loaded into SQLite: `--queues` sampled queues, `--workers` online workers (each
consuming a few queues, every task registered), `--task-names` task names each run by
`--hosts-per-task` workers, `--tasks` task rows over the last hour. Metrics `median_ms` and
`bytes` (the exposition's size).

`inspect_broadcast`: `inspect().stats()` then `inspect().active_queues()` with the default
1 s timeout, as celery-exporter sends them on every scrape, against `--inspect-workers` real
workers on a private redis-server: `median_ms` and `bytes` (the replies as JSON).
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/ for start_worker

from controlplane import db
from controlplane.autoscale.recommender import recommender_of
from controlplane.broker.celery_app import make_celery
from controlplane.broker.embedded import EmbeddedRedis, free_port
from controlplane.config import Settings
from controlplane.events.counters import DatabaseCounters, seeded_stats
from controlplane.fleet.sample import read_latest
from controlplane.models import FleetStatus, QueueSample, Task, Worker, registered_digest
from controlplane.services import ProcessState, Services, TimedCache, build_services
from controlplane.web import create_app
from controlplane.web.server import make_server

STATES = ["SUCCESS"] * 90 + ["FAILURE"] * 5 + ["RETRY", "STARTED", "RECEIVED", "PENDING", "REVOKED"]


def emit(case: str, metric: str, value: float, unit: str, **extra: Any) -> None:
    line = {"bench": "scrape", "case": case, "metric": metric, "value": round(value, 3)}
    line.update(unit=unit, **extra)
    print(json.dumps(line), flush=True)


def queue_name(index: int) -> str:
    return f"queue-{index:03d}"


def fill(services: Services, options: argparse.Namespace) -> None:
    """Workers, one sample of every queue, and task history over the last hour."""
    rng = random.Random(11)
    now = datetime.now(UTC)
    names = [f"proj.tasks.module_{i % 17}.job_{i:03d}" for i in range(options.task_names)]
    consumers: dict[int, list[str]] = {}
    workers = []
    registered = json.dumps(names)  # with its digest, as the scheduler's inspection writes it
    for index in range(options.workers):
        hostname = f"celery@worker-{index:03d}-7d9f8b6c5-x2k4p"
        queues = sorted({(index + k * options.workers) % options.queues for k in range(3)})
        for queue in queues:
            consumers.setdefault(queue, []).append(hostname)
        workers.append(
            {
                "hostname": hostname, "status": "online", "last_heartbeat": now,
                "online_at": now - timedelta(hours=1), "freq": 600.0, "active": rng.randrange(4),
                "processed": rng.randrange(10_000), "concurrency": 4, "pid": 1000 + index,
                "queues": json.dumps([queue_name(q) for q in queues]),
                "registered": registered, "registered_digest": registered_digest(registered),
                "software": "py-celery 5.5.3 Linux",
                "inspected_at": now, "updated_at": now,
            }
        )  # fmt: skip
    samples = [
        {
            "queue": queue_name(q), "sampled_at": now, "ready": rng.randrange(50),
            "unacked": rng.randrange(8), "scheduled": 0, "consumers": len(consumers.get(q, [])),
            "oldest_waiting_at": None,
        }
        for q in range(options.queues)
    ]  # fmt: skip
    tasks = []
    per_name = max(1, options.tasks // len(names))
    for index, name in enumerate(names):
        queue = index % options.queues
        hosts = consumers.get(queue) or [workers[index % len(workers)]["hostname"]]
        hosts = (hosts * options.hosts_per_task)[: options.hosts_per_task]
        for n in range(per_name):
            stamp = now - timedelta(seconds=rng.uniform(0, 3600))
            state = rng.choice(STATES)
            runtime = rng.expovariate(4.0)
            done = state in ("SUCCESS", "FAILURE", "REVOKED")
            tasks.append(
                {
                    "task_id": str(uuid.UUID(int=rng.getrandbits(128))), "name": name,
                    "state": state, "queue": queue_name(queue), "worker": hosts[n % len(hosts)],
                    "args": "[]", "kwargs": "{}", "args_incomplete": False,
                    "retries": 1 if state == "RETRY" else 0, "first_seen_at": stamp,
                    "sent_at": stamp, "received_at": stamp + timedelta(milliseconds=5),
                    "started_at": None if state in ("PENDING", "RECEIVED") else stamp
                    + timedelta(milliseconds=20),
                    "finished_at": stamp + timedelta(seconds=runtime) if done else None,
                    "runtime": runtime if state == "SUCCESS" else None,
                    "queue_wait": 0.02 if state not in ("PENDING", "RECEIVED") else None,
                    "exception": f"ValueError('row {n}')" if state == "FAILURE" else None,
                    "updated_at": stamp,
                }
            )  # fmt: skip
    with services.engine.begin() as connection:
        connection.execute(insert(Worker), workers)
        connection.execute(insert(QueueSample), samples)
        connection.execute(
            insert(FleetStatus),
            [{"id": 1, "sampler": "bench", "last_sample_at": now, "updated_at": now}],
        )
        for start in range(0, len(tasks), 5000):
            connection.execute(insert(Task), tasks[start : start + 5000])


class LiveFleet:
    """What changes in `interval` seconds of a live fleet, applied at once between scrapes."""

    def __init__(self, services: Services, options: argparse.Namespace, in_memory: bool) -> None:
        self.services = services
        self.interval = options.interval
        self.rate = options.rate if options.rate is not None else options.tasks / 3600
        self.in_memory = in_memory
        self.rng = random.Random(5)
        with services.engine.connect() as connection:
            rows = connection.execute(select(Task.name, Task.worker, Task.queue).distinct())
            self.series = sorted(tuple(row) for row in rows)
        self.queues = [queue_name(q) for q in range(options.queues)]

    def advance(self) -> None:
        now = datetime.now(UTC)
        rng = self.rng
        tasks = []
        for _ in range(round(self.rate * self.interval)):
            name, worker, queue = rng.choice(self.series)
            runtime, wait = rng.expovariate(4.0), rng.expovariate(50.0)
            # Time does not pass between the scrapes here: spread the rows over the hour the
            # fill covers, or every interval would pile into the last 30 s the rates read.
            stamp = now - timedelta(seconds=rng.uniform(0, 3600))
            if self.in_memory:
                stats = self.services.state.ingest_stats
                assert stats is not None
                labels = (name, worker, queue)
                for kind in ("sent", "received"):
                    stats.count_task(kind, labels)
                stats.count_task("started", labels, queue_wait=wait)
                stats.count_task("succeeded", labels, runtime=runtime)
            tasks.append(
                {
                    "task_id": str(uuid.uuid4()), "name": name, "state": "SUCCESS",
                    "queue": queue, "worker": worker, "args": "[]", "kwargs": "{}",
                    "args_incomplete": False, "retries": 0, "first_seen_at": stamp,
                    "sent_at": stamp, "received_at": stamp, "started_at": stamp,
                    "finished_at": stamp + timedelta(seconds=runtime), "runtime": runtime,
                    "queue_wait": wait, "updated_at": stamp,
                }
            )  # fmt: skip
        samples = [
            {
                "queue": queue, "sampled_at": now, "ready": rng.randrange(50),
                "unacked": rng.randrange(8), "scheduled": 0, "consumers": 1,
                "oldest_waiting_at": None,
            }
            for queue in self.queues
        ]  # fmt: skip
        with self.services.engine.begin() as connection:
            if tasks:
                connection.execute(insert(Task), tasks)
            connection.execute(insert(QueueSample), samples)
            connection.execute(update(FleetStatus).values(last_sample_at=now, updated_at=now))
            connection.execute(
                update(Worker).values(last_heartbeat=now, active=rng.randrange(4), updated_at=now)
            )
        if self.in_memory:
            with self.services.transaction() as session:
                self.services.state.latest.publish(read_latest(session))


class ThreadCpu:
    """WSGI middleware: the CPU time of the thread that served each request, in ms (the
    figure a busy machine inflates least; waitress writes the body from its I/O thread)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.spent: list[float] = []

    def __call__(self, environ: Any, start_response: Any) -> Any:
        started = time.thread_time()
        try:
            return self.app(environ, start_response)
        finally:
            self.spent.append((time.thread_time() - started) * 1000)


def scrape_times(
    services: Services, scrapes: int, fleet: LiveFleet
) -> tuple[list[float], list[float], int, list[float]]:
    """Median-able timings of GET /metrics over HTTP, the serving thread's CPU time of each,
    the size of the last answer, and (a replica) each refresh of its counters between two
    scrapes."""
    app = ThreadCpu(create_app(services))
    # every scrape queries afresh, except a replica's counters: their thread refreshes them
    # every REFRESH_TTL, three times in the 15 s between two scrapes (once here, untimed)
    counters = None
    if services.state.ingest_stats is None:
        counters = services.state.database_counters = DatabaseCounters(services.engine)
    services.state.rates = TimedCache(0.0)
    recommender_of(services).history_ttl = 0.0
    port = free_port()
    server = make_server(app, "127.0.0.1", port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    timings, size, refreshes = [], 0, []
    try:
        for index in range(scrapes + 3):
            fleet.advance()
            if counters is not None:
                refresh_started = time.perf_counter()
                counters.refresh()
                refreshes.append((time.perf_counter() - refresh_started) * 1000)
            started = time.perf_counter()
            connection.request("GET", "/metrics")
            response = connection.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status != 200:
                raise SystemExit(f"/metrics answered {response.status}: {body[:300]!r}")
            if index >= 3:  # the first ones warm the caches of SQLAlchemy and the templates
                timings.append(elapsed)
            size = len(body)
    finally:
        connection.close()
        time.sleep(0.2)  # let waitress finish the last response before its sockets close
        server.close()
        if counters is not None:
            counters.close()
    return timings, app.spent[3:], size, refreshes[3:]


def inspect_broadcast(redis_url: str, workers: int, runs: int, log_dir: Path) -> None:
    from tests.conftest import start_worker

    started = [start_worker(redis_url, (f"bench-{i}",), log_dir, concurrency=1)
               for i in range(workers)]  # fmt: skip
    app = make_celery(Settings(broker_url=redis_url))
    try:
        timings, size = [], 0
        for _ in range(runs):
            t0 = time.perf_counter()
            stats = app.control.inspect().stats() or {}
            queues = app.control.inspect().active_queues() or {}
            timings.append((time.perf_counter() - t0) * 1000)
            size = len(json.dumps([stats, queues], default=str))
            if len(stats) != workers or len(queues) != workers:
                raise SystemExit(f"only {len(stats)}/{len(queues)} of {workers} workers answered")
        emit("inspect_broadcast", "median_ms", statistics.median(timings), "ms", workers=workers)
        emit("inspect_broadcast", "bytes", size, "B", workers=workers)
    finally:
        app.close()
        for worker in started:
            worker.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queues", type=int, default=500)
    parser.add_argument("--workers", type=int, default=200)
    parser.add_argument("--task-names", type=int, default=300)
    parser.add_argument("--hosts-per-task", type=int, default=2)
    parser.add_argument("--tasks", type=int, default=12_000)
    parser.add_argument("--scrapes", type=int, default=40)
    parser.add_argument("--interval", type=float, default=15.0, help="seconds between scrapes")
    parser.add_argument("--rate", type=float, default=None, help="tasks/s (default: --tasks/h)")
    parser.add_argument("--inspect-workers", type=int, default=3)
    parser.add_argument("--inspect-runs", type=int, default=5)
    parser.add_argument("--cases", default="controlplane,controlplane_serve,inspect_broadcast")
    options = parser.parse_args()
    cases = options.cases.split(",")
    size = {
        "queues": options.queues, "workers": options.workers,
        "task_names": options.task_names, "tasks": options.tasks,
    }  # fmt: skip

    with EmbeddedRedis() as redis_server, tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            broker_url=redis_server.url,
            database_url=f"sqlite:///{Path(tmp) / 'scrape.db'}",
            queues=(),
            secret_key="bench",
        )
        services = build_services(settings)
        db.upgrade(services.engine)
        fill(services, options)
        for case in ("controlplane", "controlplane_serve"):
            if case not in cases:
                continue
            services.state = ProcessState()
            # `up` runs the ingester and the leading scheduler in the process: counters and
            # the latest sample are in memory. A `serve` replica reads both from the database.
            in_memory = case == "controlplane"
            services.state.ingest_stats = seeded_stats(services.engine) if in_memory else None
            services.state.latest.clear()
            if in_memory:
                with services.transaction() as session:
                    services.state.latest.publish(read_latest(session))
            fleet = LiveFleet(services, options, in_memory)
            timings, cpu, body, refreshes = scrape_times(services, options.scrapes, fleet)
            emit(case, "median_ms", statistics.median(timings), "ms", **size)
            emit(case, "cpu_ms", statistics.median(cpu), "ms", **size)
            if refreshes:
                emit(case, "refresh_ms", statistics.median(refreshes), "ms", **size)
            emit(case, "bytes", body, "B", **size)
        services.close()
        if "inspect_broadcast" in cases:
            inspect_broadcast(
                redis_server.url, options.inspect_workers, options.inspect_runs, Path(tmp)
            )


if __name__ == "__main__":
    main()
