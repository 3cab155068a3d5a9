"""Event ingestion benchmark: our ingester (SQLite, PostgreSQL) beside Flower, same firehose.

Each case starts a private redis-server, the consumer under test as its own process
(`controlplane events`, or `celery flower`), then publishes synthetic task events from a
separate process (bench/firehose.py) straight to the event exchange, and watches the
consumer until every task has landed or progress stops.

Cases and metrics (JSON lines, see ARCHITECTURE.md "Benchmarks"):
- sqlite / postgresql / flower: `events_per_s` (events / (last landed - first published)),
  with the pub/sub output limit lifted on the private redis-server, so a consumer slower
  than the firehose is measured at its own pace instead of being cut off,
  `lag_s` (last landed - last published), `peak_rss_mb`, `rss_growth_mb` (peak - idle
  after start), `tasks_seen`. The firehose is paced at `--rate` events/s (default: as fast
  as one process publishes, about 75,000/s here).
- amqp: the same through RabbitMQ (`--amqp-url`): the events are published into the
  ingester's queue while it is stopped, then it drains them (kombu publishes only about
  3,000 events/s from one process, too slow to load it live).
- burst (`--burst-tasks`, 3 events per task, published at full speed against a redis-server
  with default limits): `tasks_seen`, `events_per_s`, `gaps`, for "burst" (ours, SQLite)
  and "burst-flower".

    .venv/bin/python bench/ingest.py [--tasks 10000] [--burst-tasks 50000] [--runs 1]
        [--cases sqlite,postgresql,amqp,flower,burst] [--postgres-url URL] [--amqp-url URL]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import redis
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from controlplane.broker.embedded import EmbeddedRedis, free_port  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
STALL_SECONDS = 8.0


def emit(case: str, metric: str, value: float, unit: str) -> None:
    print(json.dumps({"bench": "ingest", "case": case, "metric": metric,
                      "value": round(value, 3), "unit": unit}))  # fmt: skip
    sys.stdout.flush()


class RssSampler:
    """Peak RSS of a process (and its children), sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        try:
            procs = [self.process, *self.process.children(recursive=True)]
            return sum(p.memory_info().rss for p in procs)
        except psutil.Error:
            return 0

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.rss())

    def cpu(self) -> float:
        try:
            times = self.process.cpu_times()
            return times.user + times.system
        except psutil.Error:
            return 0.0

    def __enter__(self) -> RssSampler:
        self.peak = self.rss()
        self.cpu_start = self.cpu()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu_used = self.cpu() - self.cpu_start
        self._stop.set()
        self._thread.join()


def publish(url: str, tasks: int, kinds: str, prefix: str, rate: float | None) -> dict[str, Any]:
    args = [sys.executable, str(ROOT / "bench" / "firehose.py"), "--url", url,
            "--tasks", str(tasks), "--events", kinds, "--prefix", prefix]  # fmt: skip
    if rate:
        args += ["--rate", str(rate)]
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["ended"] = result["started"] + result["seconds"]
    return result


def watch(count: Callable[[], int], target: int, since: float) -> tuple[int, float]:
    """Poll `count` until it reaches `target` or stops moving; (final count, time reached)."""
    last, last_change = -1, time.time()
    while True:
        seen = count()
        now = time.time()
        if seen != last:
            last, last_change = seen, now
        if seen >= target or now - last_change > STALL_SECONDS:
            reached = now if seen >= target else last_change
            return seen, reached
        time.sleep(0.05)


# ---- our ingester ------------------------------------------------------------------------


UNLIMITED = ("--client-output-buffer-limit", "pubsub", "0", "0", "0")


class AmqpBroker:
    """RabbitMQ given by URL, looking like EmbeddedRedis to run_ours."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> AmqpBroker:
        return self

    def __exit__(self, *exc: object) -> None:
        from kombu import Connection

        with Connection(self.url) as connection:  # the ingester's queue outlives it by design
            connection.default_channel.queue_delete("celeryev.controlplane")


def _subscribed(broker: Any, client: Any) -> bool:
    if isinstance(broker, AmqpBroker):
        from kombu import Connection

        try:
            with Connection(broker.url) as connection:
                _, _, consumers = connection.default_channel.queue_declare(
                    "celeryev.controlplane", passive=True
                )
                return bool(consumers)
        except Exception:
            return False
    return bool(client.execute_command("PUBSUB", "NUMPAT") >= 1)


def run_ours(
    case: str,
    database_url: str,
    tasks: int,
    kinds: str,
    rate: float | None,
    redis_args: tuple[str, ...] = UNLIMITED,
    amqp_url: str | None = None,
) -> dict[str, float]:
    """Our ingester as `controlplane events`. On AMQP the events are published into its
    queue while it is stopped, then it is started: the drain rate is ours, not kombu's
    publishing rate (about 3,000/s from one process)."""
    last_kind = kinds.split(",")[-1]
    final_state = {"succeeded": "SUCCESS", "started": "STARTED", "received": "RECEIVED"}[last_kind]
    broker_cm: Any = AmqpBroker(amqp_url) if amqp_url else EmbeddedRedis(extra_args=redis_args)
    with broker_cm as broker:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONTROLPLANE_")}
        env.update(CONTROLPLANE_BROKER_URL=broker.url, CONTROLPLANE_DATABASE_URL=database_url,
                   CONTROLPLANE_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT))  # fmt: skip
        client = None if amqp_url else redis.Redis.from_url(broker.url)
        engine = create_engine(database_url)

        def start() -> subprocess.Popen[bytes]:
            process = subprocess.Popen(
                [sys.executable, "-m", "controlplane.cli", "events"], env=env, cwd=str(ROOT),
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
            deadline = time.time() + 30
            while not _subscribed(broker, client):
                if time.time() > deadline or process.poll() is not None:
                    raise RuntimeError("the ingester did not subscribe")
                time.sleep(0.05)
            return process

        process = start()
        try:
            time.sleep(0.5)
            prefix = uuid.uuid4().hex[:8]
            query = text("SELECT count(*) FROM tasks WHERE state = :state")

            def landed() -> int:
                with engine.connect() as connection:
                    return int(connection.execute(query, {"state": final_state}).scalar() or 0)

            if amqp_url:
                stop(process)
                published = publish(broker.url, tasks, kinds, prefix, rate)
                process = start()
                began = time.time()
            with RssSampler(process.pid) as rss:
                idle = rss.peak
                if not amqp_url:
                    published = publish(broker.url, tasks, kinds, prefix, rate)
                    began = published["started"]
                seen, reached = watch(landed, tasks, began)
            with engine.connect() as connection:
                gaps = connection.execute(text("SELECT count(*) FROM event_gaps")).scalar() or 0
        finally:
            stop(process)
            if client is not None:
                client.close()
            engine.dispose()
    elapsed = max(reached - began, 1e-6)
    return {
        "events_per_s": min(seen, tasks) * len(kinds.split(",")) / elapsed,
        "lag_s": max(0.0, reached - max(began, published["ended"])),
        "peak_rss_mb": rss.peak / 2**20,
        "rss_growth_mb": (rss.peak - idle) / 2**20,
        "tasks_seen": seen,
        "gaps": gaps,
        "cpu_us_per_event": rss.cpu_used * 1e6 / max(1, seen * len(kinds.split(","))),
        "publish_per_s": published["published"] / max(published["seconds"], 1e-6),
    }


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()


# ---- Flower ------------------------------------------------------------------------------

_METRIC = re.compile(r"^flower_events_total\{([^}]*)\}\s+([0-9.e+]+)$", re.M)


def flower_counts(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as response:
        body = response.read().decode()
    counts: dict[str, float] = {}
    for labels, value in _METRIC.findall(body):
        kind = re.search(r'type="([^"]+)"', labels)
        if kind:
            counts[kind.group(1)] = counts.get(kind.group(1), 0.0) + float(value)
    return counts


def run_flower(
    tasks: int, kinds: str, rate: float | None, redis_args: tuple[str, ...] = UNLIMITED
) -> dict[str, float]:
    kind_list = kinds.split(",")
    last_type = f"task-{kind_list[-1]}"
    port = free_port()
    with EmbeddedRedis(extra_args=redis_args) as broker, tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONTROLPLANE_")}
        env["HOME"] = home
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "--broker", broker.url, "flower",
             f"--port={port}", "--address=127.0.0.1", "--logging=warning"],
            env=env, cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(broker.url)
        try:
            deadline = time.time() + 60
            while client.execute_command("PUBSUB", "NUMPAT") < 1:
                if time.time() > deadline or process.poll() is not None:
                    raise RuntimeError("flower did not subscribe")
                time.sleep(0.1)
            time.sleep(0.5)
            prefix = uuid.uuid4().hex[:8]
            events = tasks * len(kind_list)

            def seen_events() -> int:
                return int(sum(flower_counts(port).values()))

            with RssSampler(process.pid) as rss:
                idle = rss.peak
                published = publish(broker.url, tasks, kinds, prefix, rate)
                total, reached = watch(seen_events, events, published["started"])
            tasks_seen = int(flower_counts(port).get(last_type, 0))
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
            client.close()
    elapsed = max(reached - published["started"], 1e-6)
    return {
        "events_per_s": total / elapsed,
        "lag_s": max(0.0, reached - published["ended"]),
        "peak_rss_mb": rss.peak / 2**20,
        "rss_growth_mb": (rss.peak - idle) / 2**20,
        "tasks_seen": tasks_seen,
        "gaps": 0,  # Flower records none, whatever it lost
        "cpu_us_per_event": rss.cpu_used * 1e6 / max(1, total),
    }


# ---- PostgreSQL schema -------------------------------------------------------------------


class PgSchema:
    def __init__(self, base: str) -> None:
        self.base, self.schema = base, f"bench_{uuid.uuid4().hex[:10]}"
        self.admin = create_engine(base)

    def __enter__(self) -> str:
        with self.admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        separator = "&" if "?" in self.base else "?"
        return f"{self.base}{separator}options=-csearch_path%3D{self.schema}"

    def __exit__(self, *exc: object) -> None:
        with self.admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
        self.admin.dispose()


def sqlite_url(directory: str) -> str:
    return f"sqlite:///{directory}/bench-{uuid.uuid4().hex[:6]}.db"


def report(case: str, runs: list[dict[str, float]], metrics: tuple[str, ...]) -> None:
    units = {"events_per_s": "1/s", "lag_s": "s", "peak_rss_mb": "MB", "rss_growth_mb": "MB",
             "tasks_seen": "tasks", "gaps": "gaps", "cpu_us_per_event": "us",
             "publish_per_s": "1/s"}  # fmt: skip
    for metric in metrics:
        emit(case, metric, statistics.median(run[metric] for run in runs), units[metric])


def main() -> None:
    parser = argparse.ArgumentParser(description="event ingestion: ours vs Flower")
    parser.add_argument("--tasks", type=int, default=10000, help="tasks (4 events each)")
    parser.add_argument("--burst-tasks", type=int, default=50000, help="tasks (3 events each)")
    parser.add_argument("--runs", type=int, default=1, help="runs per case (median reported)")
    parser.add_argument("--rate", type=float, default=None, help="firehose events/s")
    parser.add_argument("--cases", default="sqlite,postgresql,amqp,flower,burst")
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672//")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("CONTROLPLANE_TEST_POSTGRES_URL", DEFAULT_PG)
    )
    args = parser.parse_args()
    cases = args.cases.split(",")
    if importlib.util.find_spec("flower") is None and ("flower" in cases or "burst" in cases):
        print("flower is not installed (pip install flower): its cases are skipped",
              file=sys.stderr)  # fmt: skip
        cases = [case for case in cases if case != "flower"]
        flower_missing = True
    else:
        flower_missing = False
    sustained = "sent,received,started,succeeded"
    metrics = ("events_per_s", "lag_s", "peak_rss_mb", "rss_growth_mb", "tasks_seen",
               "cpu_us_per_event")  # fmt: skip
    workdir = tempfile.mkdtemp(prefix="bench-ingest-")
    try:
        if "sqlite" in cases:
            runs = [run_ours("sqlite", sqlite_url(workdir), args.tasks, sustained, args.rate)
                    for _ in range(args.runs)]  # fmt: skip
            report("sqlite", runs, metrics)
        if "postgresql" in cases:
            runs = []
            for _ in range(args.runs):
                with PgSchema(args.postgres_url) as url:
                    runs.append(run_ours("postgresql", url, args.tasks, sustained, args.rate))
            report("postgresql", runs, metrics)
        if "amqp" in cases:
            runs = [run_ours("amqp", sqlite_url(workdir), args.tasks, sustained, args.rate,
                             amqp_url=args.amqp_url) for _ in range(args.runs)]  # fmt: skip
            report("amqp", runs, metrics + ("publish_per_s",))
        if "flower" in cases:
            runs = [run_flower(args.tasks, sustained, args.rate) for _ in range(args.runs)]
            report("flower", runs, metrics)
        if "burst" in cases:
            burst = "received,started,succeeded"
            runs = [run_ours("burst", sqlite_url(workdir), args.burst_tasks, burst, None, ())
                    for _ in range(args.runs)]  # fmt: skip
            report("burst", runs, ("tasks_seen", "events_per_s", "gaps", "peak_rss_mb"))
            if not flower_missing:
                runs = [run_flower(args.burst_tasks, burst, None, ()) for _ in range(args.runs)]
                report("burst-flower", runs, ("tasks_seen", "events_per_s", "gaps", "peak_rss_mb"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
