"""Event ingestion benchmark: our ingester (SQLite, PostgreSQL) beside Flower, same firehose.

Each case starts a private redis-server, the consumer under test as its own process
(`controlplane events`, or `celery flower` as bench/peer_flower.py runs it), then publishes
synthetic task events from a separate process (bench/firehose.py: uuid task ids, 24 names,
8 workers, 5% failures with tracebacks, times spread over three days) straight to the event
exchange, and watches the consumer until every task has landed or progress stops.

Cases and metrics (JSON lines, see bench/README.md):
- sqlite / postgresql / flower: `events_per_s` (events of the tasks whose final state is
  committed, divided by last landed - first published), with the pub/sub output limit lifted
  on the private redis-server, so a consumer slower than the firehose is measured at its own
  pace instead of being cut off, `lag_s` (last landed - last published), `peak_rss_mb`,
  `rss_growth_mb` (peak - idle after start), `tasks_seen`, `cpu_us_per_event` (the whole
  process); for ours also `decode_cpu_us_per_event` (receiving and decoding threads) and
  `write_cpu_us_per_event` (the writer thread), and on PostgreSQL `db_cpu_us_per_event`
  (the server backends serving the ingester). `ratio_to_flower` is events_per_s over
  Flower's in the same run. The firehose runs as fast as one process publishes (`--rate`).
- amqp: the same through RabbitMQ (`--amqp-url`): the events are published into the
  ingester's queue while it is stopped, then it drains them (kombu publishes only about
  3,000 events/s from one process, too slow to load it live).
- burst (`--burst-tasks`, 3 events per task, published at `--burst-rate` (50,000 events/s, the
  burst of MEASURED.md; the firehose alone reaches ~300,000/s, more than any fleet sends)
  against a redis-server with default limits): `tasks_seen`, `events_per_s`, `gaps`, for
  "burst" (ours, SQLite), "burst-postgresql" and "burst-flower".

    .venv/bin/python bench/ingest.py [--tasks 10000] [--burst-tasks 50000] [--runs 1]
        [--burst-rate 50000] [--cases sqlite,postgresql,amqp,flower,burst]
        [--postgres-url URL] [--amqp-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import redis
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import firehose  # noqa: E402
from backend_cpu import BackendCpu  # noqa: E402
from peer_flower import FLOWER_ARGS, FLOWER_VERSION, flower_problem, run_flower  # noqa: E402

from controlplane.broker.embedded import EmbeddedRedis  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
STALL_SECONDS = 8.0
APPLICATION = "controlplane-events-bench"  # how the bench finds the ingester's backends
FINAL = {"succeeded": ("SUCCESS", "FAILURE"), "started": ("STARTED",), "received": ("RECEIVED",)}


def emit(case: str, metric: str, value: float, unit: str, **extra: str) -> None:
    print(json.dumps({"bench": "ingest", "case": case, "metric": metric,
                      "value": round(value, 3), "unit": unit, **extra}))  # fmt: skip
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
    """Poll `count` until it reaches `target` or stops moving; (final count, time reached).

    Counting costs the consumer (a scan, an HTTP request), so it polls every 0.25 s while
    far from the target and every 0.05 s over the last 5%: little of the machine is taken
    from the consumer, and the clock stops at most 50 ms after the last task landed.
    """
    last, last_change = -1, time.time()
    while True:
        seen = count()
        now = time.time()
        if seen != last:
            last, last_change = seen, now
        if seen >= target or now - last_change > STALL_SECONDS:
            reached = now if seen >= target else last_change
            return seen, reached
        time.sleep(0.05 if seen >= target * 0.95 else 0.25)


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


def _ingester_runs(engine: Any) -> int:
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM ingesters")).scalar() or 0)
    except Exception:  # no schema yet: the ingester creates it
        return 0


def _ingester_cpu(engine: Any) -> tuple[str, float, float] | None:
    """(id, decode CPU s, write CPU s) of the newest ingester run."""
    query = text(
        "SELECT id, decode_cpu_s, write_cpu_s FROM ingesters ORDER BY started_at DESC LIMIT 1"
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return None if row is None else (row[0], row[1] or 0.0, row[2] or 0.0)


def _row_writes(engine: Any) -> int:
    """Row versions written to tasks (inserts + updates), from PostgreSQL's statistics,
    which a backend reports when it exits: read once the ingester's have gone."""
    gone = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name")
    query = text(
        "SELECT n_tup_ins + n_tup_upd FROM pg_stat_user_tables "
        "WHERE relname = 'tasks' AND schemaname = current_schema()"
    )
    with engine.connect() as connection:
        deadline = time.time() + 5
        while connection.execute(gone, {"name": APPLICATION}).scalar() and time.time() < deadline:
            time.sleep(0.05)
        connection.execute(text("SELECT pg_stat_clear_snapshot()"))
        return int(connection.execute(query).scalar() or 0)


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
    final_states = FINAL[kinds.split(",")[-1]]
    postgres = database_url.startswith("postgresql")
    ingester_url = database_url
    if postgres:
        separator = "&" if "?" in database_url else "?"
        ingester_url = f"{database_url}{separator}application_name={APPLICATION}"
    broker_cm: Any = AmqpBroker(amqp_url) if amqp_url else EmbeddedRedis(extra_args=redis_args)
    with broker_cm as broker:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONTROLPLANE_")}
        env.update(CONTROLPLANE_BROKER_URL=broker.url, CONTROLPLANE_DATABASE_URL=ingester_url,
                   CONTROLPLANE_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT))  # fmt: skip
        client = None if amqp_url else redis.Redis.from_url(broker.url)
        engine = create_engine(database_url)
        backends = BackendCpu(engine, APPLICATION) if postgres else None

        def start() -> subprocess.Popen[bytes]:
            """A new ingester, once it is registered and subscribed (RabbitMQ may still
            count the consumer of the one stopped a moment ago)."""
            runs = _ingester_runs(engine)
            process = subprocess.Popen(
                [sys.executable, "-m", "controlplane.cli", "events"], env=env, cwd=str(ROOT),
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
            deadline = time.time() + 60
            while _ingester_runs(engine) <= runs or not _subscribed(broker, client):
                if time.time() > deadline or process.poll() is not None:
                    raise RuntimeError("the ingester did not subscribe")
                time.sleep(0.05)
            return process

        process = start()
        try:
            time.sleep(1.5)  # past the first checkpoint: its CPU figures are in the table
            prefix = uuid.uuid4().hex[:8]
            marks = ", ".join(f"'{state}'" for state in final_states)
            # only the firehose's tasks: a shared RabbitMQ carries other fleets' events too
            query = text(
                f"SELECT count(*) FROM tasks WHERE state IN ({marks}) "
                f"AND name LIKE '{firehose.NAME_PREFIX}%'"
            )

            ingested = text("SELECT coalesce(sum(events_ingested), 0) FROM ingesters")
            per_task = len(kinds.split(","))

            def landed() -> int:
                """Tasks in their final state; while the ingester's own checkpoint (every
                second) says it is far from done, that estimate, so the table is not
                scanned every poll (a scan steals the CPU being measured)."""
                with engine.connect() as connection:
                    events = int(connection.execute(ingested).scalar() or 0) - events_before
                    if events < 0.9 * tasks * per_task:
                        return min(events // per_task, tasks - 1)
                    return int(connection.execute(query).scalar() or 0)

            before = _ingester_cpu(engine)
            with engine.connect() as connection:
                events_before = int(connection.execute(ingested).scalar() or 0)
            if amqp_url:
                stop(process)
                published = publish(broker.url, tasks, kinds, prefix, rate)
                process = start()
                began = time.time()
                newest = _ingester_cpu(engine)  # a new run: its threads start from zero
                before = None if newest is None else (newest[0], 0.0, 0.0)
            if backends is not None:
                backends.begin()
            with RssSampler(process.pid) as rss:
                idle = rss.peak
                if not amqp_url:
                    published = publish(broker.url, tasks, kinds, prefix, rate)
                    began = published["started"]
                seen, reached = watch(landed, tasks, began)
            db_cpu = backends.end() if backends is not None else 0.0
            with engine.connect() as connection:
                gaps = connection.execute(text("SELECT count(*) FROM event_gaps")).scalar() or 0
        finally:
            stop(process)
            if client is not None:
                client.close()
        after = _ingester_cpu(engine)  # written at the clean stop
        writes = _row_writes(engine) if postgres else 0
        engine.dispose()
    events = max(1, min(seen, tasks) * len(kinds.split(",")))
    decode = write = 0.0
    if before is not None and after is not None and before[0] == after[0]:
        decode, write = after[1] - before[1], after[2] - before[2]
    elapsed = max(reached - began, 1e-6)
    return {
        "events_per_s": min(seen, tasks) * len(kinds.split(",")) / elapsed,
        "lag_s": max(0.0, reached - max(began, published["ended"])),
        "peak_rss_mb": rss.peak / 2**20,
        "rss_growth_mb": (rss.peak - idle) / 2**20,
        "tasks_seen": seen,
        "gaps": gaps,
        "cpu_us_per_event": rss.cpu_used * 1e6 / events,
        "decode_cpu_us_per_event": decode * 1e6 / events,
        "write_cpu_us_per_event": write * 1e6 / events,
        "db_cpu_us_per_event": db_cpu * 1e6 / events,
        "row_writes_per_task": writes / max(1, seen),
        "publish_per_s": published["published"] / max(published["seconds"], 1e-6),
    }


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()


def flower(tasks: int, kinds: str, rate: float | None, redis_args: tuple[str, ...]) -> dict:
    def send(url: str, kinds: str) -> dict[str, Any]:
        return publish(url, tasks, kinds, uuid.uuid4().hex[:8], rate)

    return run_flower(tasks, kinds, redis_args, send, watch, RssSampler)


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


UNITS = {"events_per_s": "1/s", "lag_s": "s", "peak_rss_mb": "MB", "rss_growth_mb": "MB",
         "tasks_seen": "tasks", "gaps": "gaps", "cpu_us_per_event": "us",
         "decode_cpu_us_per_event": "us", "write_cpu_us_per_event": "us",
         "db_cpu_us_per_event": "us", "publish_per_s": "1/s",
         "row_writes_per_task": "rows"}  # fmt: skip
PEER = {"peer": f"flower {FLOWER_VERSION} {' '.join(FLOWER_ARGS)}"}


def report(case: str, runs: list[dict[str, float]], metrics: tuple[str, ...]) -> float:
    """Emit the medians; returns the median events/s."""
    extra = PEER if "flower" in case else {}
    for metric in metrics:
        emit(case, metric, statistics.median(run[metric] for run in runs), UNITS[metric], **extra)
    return statistics.median(run["events_per_s"] for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description="event ingestion: ours vs Flower")
    parser.add_argument("--tasks", type=int, default=10000, help="tasks (4 events each)")
    parser.add_argument("--burst-tasks", type=int, default=50000, help="tasks (3 events each)")
    parser.add_argument("--runs", type=int, default=1, help="runs per case (median reported)")
    parser.add_argument("--rate", type=float, default=None, help="firehose events/s")
    parser.add_argument("--burst-rate", type=float, default=50000.0, help="burst events/s")
    parser.add_argument("--cases", default="sqlite,postgresql,amqp,flower,burst")
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672//")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("CONTROLPLANE_TEST_POSTGRES_URL", DEFAULT_PG)
    )
    args = parser.parse_args()
    cases = args.cases.split(",")
    problem = flower_problem()
    if problem and ("flower" in cases or "burst" in cases):
        print(f"{problem}: the Flower cases are skipped", file=sys.stderr)
    sustained = "sent,received,started,succeeded"
    ours = ("events_per_s", "lag_s", "peak_rss_mb", "rss_growth_mb", "tasks_seen",
            "cpu_us_per_event", "decode_cpu_us_per_event", "write_cpu_us_per_event")  # fmt: skip
    burst_metrics = ("tasks_seen", "events_per_s", "gaps", "peak_rss_mb")
    rates: dict[str, float] = {}
    workdir = tempfile.mkdtemp(prefix="bench-ingest-")
    try:
        if "sqlite" in cases:
            runs = [run_ours("sqlite", sqlite_url(workdir), args.tasks, sustained, args.rate)
                    for _ in range(args.runs)]  # fmt: skip
            rates["sqlite"] = report("sqlite", runs, ours)
        if "postgresql" in cases:
            runs = []
            for _ in range(args.runs):
                with PgSchema(args.postgres_url) as url:
                    runs.append(run_ours("postgresql", url, args.tasks, sustained, args.rate))
            pg_metrics = (*ours, "db_cpu_us_per_event", "row_writes_per_task")
            rates["postgresql"] = report("postgresql", runs, pg_metrics)
        if "amqp" in cases:
            runs = [run_ours("amqp", sqlite_url(workdir), args.tasks, sustained, args.rate,
                             amqp_url=args.amqp_url) for _ in range(args.runs)]  # fmt: skip
            rates["amqp"] = report("amqp", runs, (*ours, "publish_per_s"))
        if "flower" in cases and not problem:
            runs = [flower(args.tasks, sustained, args.rate, UNLIMITED) for _ in range(args.runs)]
            flower_rate = report("flower", runs, ours[:6])
            for case, rate in rates.items():
                emit(case, "ratio_to_flower", rate / max(flower_rate, 1e-9), "x", **PEER)
        if "burst" in cases:
            burst = "received,started,succeeded"
            rate = args.burst_rate
            runs = [run_ours("burst", sqlite_url(workdir), args.burst_tasks, burst, rate, ())
                    for _ in range(args.runs)]  # fmt: skip
            report("burst", runs, burst_metrics)
            runs = []
            for _ in range(args.runs):
                with PgSchema(args.postgres_url) as url:
                    runs.append(run_ours("burst-postgresql", url, args.burst_tasks, burst,
                                         rate, ()))  # fmt: skip
            report("burst-postgresql", runs, burst_metrics)
            if not problem:
                runs = [flower(args.burst_tasks, burst, rate, ()) for _ in range(args.runs)]
                report("burst-flower", runs, burst_metrics)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
