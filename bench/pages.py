"""Server time of the console's pages over a large task history, in SQLite and PostgreSQL.

    .venv/bin/python bench/pages.py [--rows 200000] [--stores sqlite,postgresql]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/test] [--requests 200]
        [--clients 20] [--search-clients 16] [--keep] [--no-search]
        [--retention-seconds 20] [--retention-only]

Rows: `--rows` synthetic tasks spread evenly over the last 8 days (task n has id md5('t' || n),
one of 40 names, skewed: job_0 about 16% of the tasks, job_39 about 0.6%; each name routed to
one of 5 queues and run by that queue's 4 hosts; 90% SUCCESS, 6% FAILURE drawn apart from the
name; args naming `ORD-n` and one of 10,000 customers' emails, a result per success).
PostgreSQL makes them itself (`generate_series`, a million rows per statement) into the table
stripped of its primary key and indexes, then builds each index with one sort (10M rows: about
a minute of inserts and six minutes of index builds here); the trigram index only when the
searches are measured (`--no-search` leaves it out, and a later run that measures them builds
it). SQLite gets its rows from Python in batches. With `--keep` the rows stay for the next run
(schema `bench_pages_<rows>`, or `pages-<rows>.db` in the temporary directory) and a run
finding them skips the fill; free disk is checked before a fill.

Cases (JSON lines, `STORE/PAGE`):
- single client, time inside the app (Flask test client, no network), `median_ms`, `p95_ms`,
  `app_cpu_median_ms` (the thread's CPU time: the app's share) and on PostgreSQL
  `db_cpu_mean_ms` (the app's database backends, when the server runs on this machine): the
  Tasks page (first page, a filtered page, a deep keyset page 90% down), text searches (an
  order number: one row; a customer's email: rows/10,000; "ValueError": 6%), a task's detail,
  the dashboard fragment, Insights, and the Failures page when the app has one.
- `PAGE@N`: the same pages under `--clients` concurrent clients over HTTP (waitress, as `serve`
  runs it): `median_ms`, `p95_ms`, `requests_per_s`.
- `search@16`: `--search-clients` clients searching for customers' emails over HTTP while one
  more client asks `/healthz` every 20 ms (clients in processes of their own): the searches'
  `p95_ms` and `/healthz`'s `p99_ms`.
- `retention` (`--retention-seconds` > 0): the ingester's write path (events/store.py, the
  batches `controlplane events` writes: 500 new tasks per transaction) runs for that long
  alone, then again while retention deletes the oldest day (fleet/retention.py's batches):
  `ingest_rows_per_s` without and during, their `ratio` (target >= 0.8), the writer's batch
  `p99_ms` in both, and the rows and seconds retention took.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import importlib.metadata
import json
import multiprocessing
import random
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from backend_cpu import BackendCpu
from sqlalchemy import Engine, create_engine, func, select, text

from controlplane import db, users
from controlplane.broker.embedded import EmbeddedRedis, free_port
from controlplane.config import Settings
from controlplane.events.merge import TaskRow
from controlplane.events.store import EventStore
from controlplane.fleet.retention import purge_older_than
from controlplane.fleet.task_history import encode_cursor
from controlplane.models import Task
from controlplane.services import Services, build_services
from controlplane.web import create_app
from controlplane.web.server import make_server

DAYS = 8
APPLICATION = "controlplane-bench-pages"  # how the bench finds the app's database backends
TEXT_SEARCH_PARENT = "0017_failure_groups"  # the revision before 0018_text_search
BYTES_PER_ROW = 2500  # heap, the b-trees and the trigram index, measured at 1M rows, rounded up
STATES = ["SUCCESS"] * 90 + ["FAILURE"] * 6 + ["REVOKED", "STARTED", "RETRY", "PENDING"]


def emit(case: str, metric: str, value: float, unit: str = "ms", **extra: Any) -> None:
    line = {"bench": "pages", "case": case, "metric": metric, "value": round(value, 3)}
    line.update(unit=unit, **extra)
    print(json.dumps(line), flush=True)


# ---- the rows ---------------------------------------------------------------------------------

# Task n, spelled once in SQL (PostgreSQL) and once in Python (SQLite), in integer arithmetic
# both compute alike. Names are skewed (job_0 about 16% of the tasks, job_39 about 0.6%), each
# name is routed to one queue and runs on that queue's four hosts; states are drawn apart from
# names; times are spread evenly over DAYS (`:start` the first, `:step` the gap).
QUEUES = ["default", "reports", "slow", "mail", "billing"]
NAMES = 40
NAME_SPREAD = 1_000_003  # a prime: (n * 2654435761) % it is spread evenly over 0 .. it - 1

PG_FILL = """
INSERT INTO tasks (task_id, name, state, queue, worker, args, kwargs, args_incomplete, result,
    exception, retries, first_seen_at, sent_at, received_at, started_at, finished_at, runtime,
    state_changed_at, updated_at)
SELECT md5('t' || n)::uuid::text, 'proj.tasks.job_' || j.name, s.state,
    (ARRAY['default', 'reports', 'slow', 'mail', 'billing'])[1 + j.name % 5],
    'celery@' || (ARRAY['default', 'reports', 'slow', 'mail', 'billing'])[1 + j.name % 5]
        || '-' || (n * 48271 % 2147483647 % 4),
    '[' || n || ', ''ORD-' || n || ''', ''customer-' || (n * 104729 % 10000) || '@example.com'']',
    '{}', false,
    CASE WHEN s.state = 'SUCCESS' THEN '''ok-' || n || '''' END,
    CASE WHEN s.state = 'FAILURE' THEN 'ValueError(''bad row ' || n % 1000 || ''')' END,
    0, t.at, t.at, t.at, t.at, t.at + r.runtime * interval '1 second', r.runtime, t.at, t.at
FROM generate_series(CAST(:low AS bigint), CAST(:high AS bigint) - 1) AS n
CROSS JOIN LATERAL (SELECT n * 2654435761 % {spread} AS a) AS u
CROSS JOIN LATERAL (SELECT {names} * u.a * u.a / ({spread}::bigint * {spread}) AS name) AS j
CROSS JOIN LATERAL (SELECT (ARRAY[{states}])[1 + n * 40503 % 65521 % 100] AS state) AS s
CROSS JOIN LATERAL (SELECT :start + n * :step * interval '1 second' AS at) AS t
CROSS JOIN LATERAL (SELECT (n * 48271 % 1000) / 500.0 AS runtime) AS r
{on_conflict}
"""


def name_of(n: int) -> int:
    """Task n's name number (skewed towards job_0: the square of an even spread)."""
    spread = n * 2654435761 % NAME_SPREAD
    return NAMES * spread * spread // (NAME_SPREAD * NAME_SPREAD)


def python_row(n: int, start: datetime, step: float) -> tuple[Any, ...]:
    state = STATES[n * 40503 % 65521 % 100]
    name = name_of(n)
    queue = QUEUES[name % 5]
    at = start + timedelta(seconds=n * step)
    runtime = (n * 48271 % 1000) / 500.0
    return (
        str(_uuid_of(n)), f"proj.tasks.job_{name}", state, queue,
        f"celery@{queue}-{n * 48271 % 2147483647 % 4}",
        f"[{n}, 'ORD-{n}', 'customer-{n * 104729 % 10000}@example.com']", "{}", False,
        f"'ok-{n}'" if state == "SUCCESS" else None,
        f"ValueError('bad row {n % 1000}')" if state == "FAILURE" else None,
        0, at, at, at, at, at + timedelta(seconds=runtime), runtime, at, at,
    )  # fmt: skip


def _uuid_of(n: int) -> str:
    digest = hashlib.md5(f"t{n}".encode(), usedforsecurity=False).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"


SQLITE_FILL = (
    "INSERT OR IGNORE INTO tasks (task_id, name, state, queue, worker, args, kwargs, "
    "args_incomplete, result, exception, retries, first_seen_at, sent_at, received_at, "
    "started_at, finished_at, "
    "runtime, state_changed_at, updated_at) VALUES (" + ", ".join("?" * 19) + ")"
)


def fill(
    engine: Engine, rows: int, start: datetime, upto: int | None = None, fresh: bool = False
) -> None:
    """Tasks 0 .. `upto` (all `rows` by default) of a history of `rows`; rows already there
    are left alone (a kept history refills what its retention case deleted) unless `fresh`
    (an empty table without its primary key: no conflict to look for)."""
    step = DAYS * 86400 / max(rows, 1)
    upto = rows if upto is None else upto
    if engine.dialect.name == "postgresql":
        states = ", ".join(f"'{state}'" for state in STATES)
        sql = PG_FILL.replace("{states}", states).replace("{spread}", str(NAME_SPREAD))
        sql = sql.replace("{names}", str(NAMES))
        conflict = "" if fresh else "ON CONFLICT (task_id) DO NOTHING"
        statement = text(sql.replace("{on_conflict}", conflict))
        for low in range(0, upto, 1_000_000):
            with engine.begin() as connection:
                connection.execute(text("SET LOCAL synchronous_commit = off"))
                high = min(upto, low + 1_000_000)
                connection.execute(
                    statement, {"low": low, "high": high, "start": start, "step": step}
                )
        return
    with engine.begin() as connection:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        for low in range(0, upto, 10_000):
            batch = range(low, min(upto, low + 10_000))
            cursor.executemany(
                SQLITE_FILL, [_sqlite_row(python_row(n, start, step)) for n in batch]
            )


# ---- PostgreSQL: fill without indexes, then build them ----------------------------------------

# The indexes a fresh PostgreSQL fill dropped and has not built yet (the trigram index waits for
# a run that measures the searches); a bench table beside `tasks` in the bench's schema.
DEFERRED = "bench_pages_deferred_indexes"
TEXT_INDEX = "ix_tasks_text_trgm"


def drop_task_indexes(engine: Engine) -> None:
    """Drop the primary key and every index of `tasks`, remembering how to build them again:
    one sort per index after the fill instead of ten random b-tree inserts per row."""
    with engine.begin() as connection:
        connection.execute(
            text(f"CREATE TABLE IF NOT EXISTS {DEFERRED} (name text PRIMARY KEY, ddl text)")
        )
        key = connection.execute(
            text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'tasks'::regclass AND contype = 'p'"
            )
        ).one()
        indexes = connection.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tasks' "
                "AND schemaname = current_schema() AND indexname <> :key"
            ),
            {"key": key[0]},
        ).all()
        remember = text(f"INSERT INTO {DEFERRED} VALUES (:name, :ddl)")
        connection.execute(
            remember, {"name": key[0], "ddl": f"ALTER TABLE tasks ADD CONSTRAINT {key[0]} {key[1]}"}
        )
        for name, ddl in indexes:
            connection.execute(remember, {"name": name, "ddl": ddl})
            connection.execute(text(f'DROP INDEX "{name}"'))
        connection.execute(text(f'ALTER TABLE tasks DROP CONSTRAINT "{key[0]}"'))


def build_deferred_indexes(engine: Engine, with_text: bool) -> float:
    """Build what drop_task_indexes dropped (the trigram index only `with_text`); seconds."""
    began = time.perf_counter()
    with engine.connect() as connection:
        connection.execute(text("SET maintenance_work_mem = '1GB'"))
        connection.execute(text("SET max_parallel_maintenance_workers = 1"))
        connection.commit()
        pending = connection.execute(
            text(f"SELECT name, ddl FROM {DEFERRED} ORDER BY ddl LIKE 'ALTER%' DESC, name")
        ).all()
        for name, ddl in pending:
            if name == TEXT_INDEX and not with_text:
                continue
            connection.execute(text(ddl))
            connection.execute(text(f"DELETE FROM {DEFERRED} WHERE name = :name"), {"name": name})
            connection.commit()
    return time.perf_counter() - began


def has_deferred_table(engine: Engine) -> bool:
    with engine.connect() as connection:
        return bool(connection.execute(text(f"SELECT to_regclass('{DEFERRED}')")).scalar())


def _sqlite_row(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """Times as SQLAlchemy stores them on SQLite (naive UTC text)."""
    return tuple(
        value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, datetime)
        else value
        for value in values
    )


def prepare(services: Services, rows: int, keep: bool, searches: bool) -> datetime:
    """Upgrade the schema and fill it unless a kept run already did; returns the first row's
    time (the fill ends about now). `searches`: the text index is wanted (built if missing)."""
    engine = services.engine
    postgres = engine.dialect.name == "postgresql"
    db.upgrade(engine)
    with services.transaction() as session:
        have = session.scalar(select(func.count()).select_from(Task))
        first = session.scalar(select(func.min(Task.first_seen_at)))
    if keep and have == rows and first is not None:
        emit("fill", "reused_rows", rows, "rows", store=engine.dialect.name)
        if postgres and has_deferred_table(engine):
            built = build_deferred_indexes(engine, with_text=searches)
            emit(f"{engine.dialect.name}/fill", "index_build_s", built, "s", rows=rows)
        return first if first.tzinfo else first.replace(tzinfo=UTC)
    if have:
        raise SystemExit(f"{have} rows already there (a kept run of another size?)")
    need, free = rows * BYTES_PER_ROW, shutil.disk_usage(tempfile.gettempdir()).free
    if need > free * 0.8:
        raise SystemExit(f"need about {need / 1e9:.1f} GB, {free / 1e9:.1f} GB free")
    start = datetime.now(UTC) - timedelta(days=DAYS)
    began = time.perf_counter()
    if postgres:
        # Into a table without indexes, then one sort per index; the trigram index only when
        # searches are measured (a later run that measures them builds it).
        drop_task_indexes(engine)
        fill(engine, rows, start, fresh=True)
        filled = time.perf_counter()
        built = build_deferred_indexes(engine, with_text=searches)
        analyze(engine)
    else:
        # Without the text index while filling, then the revision builds it over the rows.
        db.downgrade(engine, TEXT_SEARCH_PARENT)
        fill(engine, rows, start)
        filled = time.perf_counter()
        db.upgrade(engine)
        built = time.perf_counter() - filled
        analyze(engine)
    store = engine.dialect.name
    emit(f"{store}/fill", "rows_per_s", rows / (filled - began), "1/s", rows=rows)
    emit(f"{store}/fill", "index_build_s", built, "s", rows=rows)
    return start


def analyze(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("ANALYZE" if engine.dialect.name == "sqlite" else "ANALYZE tasks"))


# ---- measuring ------------------------------------------------------------------------------


def timed(call: Callable[[], Any], count: int, warmup: int = 3) -> tuple[list[float], list[float]]:
    """Wall-clock and this thread's CPU time (ms) of each of `count` calls, after `warmup`
    calls. The CPU time is the app's own (Python, templates); the database's is not in it."""
    for _ in range(warmup):
        call()
    samples, cpu = [], []
    for _ in range(count):
        started, cpu_started = time.perf_counter(), time.thread_time()
        call()
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - cpu_started) * 1000)
    return samples, cpu


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def pages_of(services: Services, rows: int, app: Any, searches: bool) -> dict[str, str]:
    with services.transaction() as session:
        # 90% down the history: the rows are spread evenly over DAYS, so by time (an OFFSET of
        # nine million rows would read them all)
        newest, oldest = session.execute(
            select(func.max(Task.first_seen_at), func.min(Task.first_seen_at))
        ).one()
        deep = session.scalars(
            select(Task).where(Task.first_seen_at <= oldest + (newest - oldest) * 0.1)
            .order_by(Task.first_seen_at.desc(), Task.task_id.desc()).limit(1)
        ).one()  # fmt: skip
    some = rows // 3
    pages = {
        "tasks_first": "/tasks",
        # job_7 (about 3% of the tasks) is routed to QUEUES[7 % 5]; 6% of its runs failed
        "tasks_filtered": f"/tasks?state=FAILURE&name=proj.tasks.job_7&queue={QUEUES[7 % 5]}",
        "tasks_deep": f"/tasks?cursor={encode_cursor(deep)}",
        "search_order": f"/tasks?text=ORD-{some}'",  # the quote ends the number: one task
        "search_customer": "/tasks?text=customer-4242@example",
        "search_common": "/tasks?text=ValueError",
        "task_detail": f"/tasks/{_uuid_of(some)}",
        "dashboard_fragment": "/fragments/fleet",
        "insights": "/insights",
    }
    if not searches:
        pages = {page: path for page, path in pages.items() if not page.startswith("search_")}
    if any(rule.rule == "/failures" for rule in app.url_map.iter_rules()):
        pages["failures"] = "/failures"
    return pages


class Http:
    """Clients of the app over HTTP, as `serve` runs it, with one logged-in session."""

    def __init__(self, app: Any, cookie: str) -> None:
        self.port = free_port()
        self.server = make_server(app, "127.0.0.1", self.port)
        threading.Thread(target=self.server.run, daemon=True).start()
        # the session is "strong"-protected: the browser must stay the one that logged in
        self.headers = {
            "Cookie": f"controlplane_session={cookie}",
            "User-Agent": f"Werkzeug/{importlib.metadata.version('werkzeug')}",
        }

    def hammer(self, paths: list[str], clients: int, each: int) -> tuple[list[float], float]:
        """`clients` threads each GET `each` of `paths` in turn; latencies (ms), wall time (s)."""
        return hammer(self.port, self.headers, paths, clients, each)

    def close(self) -> None:
        self.server.close()


def hammer(
    port: int, headers: dict[str, str], paths: list[str], clients: int, each: int
) -> tuple[list[float], float]:
    """`clients` threads each GET `each` of `paths` in turn; latencies (ms), wall time (s)."""
    results: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        local = []
        for turn in range(each):
            path = paths[(index * each + turn) % len(paths)]
            started = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                errors.append(f"{path}: {response.status}")
                return
            local.append((time.perf_counter() - started) * 1000)
        with lock:
            results.extend(local)

    began = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(errors[0])
    return results, time.perf_counter() - began


def _searching(port: int, headers: dict[str, str], paths: list[str], clients: int, each: int,
               out: Any) -> None:  # fmt: skip
    out.put(hammer(port, headers, paths, clients, each)[0])


def _probing(port: int, stop: Any, out: Any) -> None:
    """GET /healthz every 20 ms until `stop` is set, as a kubelet would."""
    health = []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while not stop.is_set():
        started = time.perf_counter()
        connection.request("GET", "/healthz")
        connection.getresponse().read()
        health.append((time.perf_counter() - started) * 1000)
        time.sleep(0.02)
    out.put(health)


def search_with_health(
    http_clients: Http, clients: int, each: int
) -> tuple[list[float], list[float]]:
    """Searches from `clients` clients while another asks /healthz every 20 ms.

    The clients run in processes of their own, as real ones do: threads of this process would
    share the server's GIL and charge their own work to its latencies.
    """
    rng = random.Random(3)
    needles = [
        f"/tasks?text=customer-{rng.randrange(10000)}@example" for _ in range(clients * each)
    ]
    spawn = multiprocessing.get_context("spawn")
    searches_out, health_out, stop = spawn.Queue(), spawn.Queue(), spawn.Event()
    prober = spawn.Process(target=_probing, args=(http_clients.port, stop, health_out))
    searchers = spawn.Process(
        target=_searching,
        args=(http_clients.port, http_clients.headers, needles, clients, each, searches_out),
    )
    prober.start()
    searchers.start()
    searches = searches_out.get(timeout=3600)
    stop.set()
    health = health_out.get(timeout=60)
    searchers.join(60)
    prober.join(60)
    return searches, health


def retention_case(
    store: str, services: Services, start: datetime, rows: int, seconds: float
) -> None:
    """The ingester's writes alone, then while retention deletes the oldest of the 8 days."""
    writer = EventStore(services.engine)
    counter = iter(range(10**9))

    def write_for(until: Callable[[], bool]) -> tuple[int, float, list[float]]:
        written, latencies = 0, []
        began = time.perf_counter()
        while not until():
            now = time.time()
            rows = {}
            for _ in range(500):
                row = TaskRow(f"bench-ret-{next(counter)}", "SUCCESS", now)
                row.name, row.queue, row.args = "proj.tasks.new", "default", "[1, 'x']"
                row.received_at = row.started_at = row.finished_at = now
                row.reported_runtime = 0.01
                rows[row.task_id] = row
            t0 = time.perf_counter()
            with services.engine.begin() as connection:
                writer.merge_tasks(connection, rows, now)
            latencies.append((time.perf_counter() - t0) * 1000)
            written += len(rows)
        return written, time.perf_counter() - began, latencies

    deadline = time.perf_counter() + seconds
    alone, alone_s, alone_lat = write_for(lambda: time.perf_counter() > deadline)
    # retention runs in a process of its own, as in `controlplane scheduler`
    spawn = multiprocessing.get_context("spawn")
    results: Any = spawn.Queue()
    began = spawn.Event()
    url = services.engine.url.render_as_string(hide_password=False)
    purger = spawn.Process(
        target=purge_process, args=(url, start + timedelta(days=1), began, results)
    )
    purger.start()
    began.wait(timeout=120)  # measured from the first delete, not the process start-up
    during, during_s, during_lat = write_for(lambda: not purger.is_alive())
    purger.join()
    if purger.exitcode != 0:
        raise SystemExit(f"retention failed (exit {purger.exitcode})")
    purged = [results.get(timeout=5)]
    deleted, purge_s = purged[0]
    alone_rate, during_rate = alone / alone_s, during / max(during_s, 1e-9)
    emit(f"{store}/retention", "ingest_rows_per_s_alone", alone_rate, "1/s")
    emit(f"{store}/retention", "ingest_rows_per_s_during", during_rate, "1/s")
    emit(f"{store}/retention", "ratio", during_rate / alone_rate, "x", target=0.8)
    emit(f"{store}/retention", "write_p99_ms_alone", percentile(alone_lat, 0.99))
    emit(f"{store}/retention", "write_p99_ms_during", percentile(during_lat, 0.99))
    emit(f"{store}/retention", "deleted_rows", deleted, "rows", seconds=round(purge_s, 1))
    # put the history back as it was, for the next run with --keep
    with services.engine.begin() as connection:
        connection.execute(text("DELETE FROM tasks WHERE task_id LIKE 'bench-ret-%'"))
    fill(services.engine, rows, start, upto=rows // DAYS + 1000)


def purge_process(database_url: str, cutoff: datetime, began: Any, results: Any) -> None:
    engine = db.make_engine(database_url)
    sessions = db.make_session_factory(engine)
    db.ping(engine)
    began.set()
    started = time.perf_counter()
    purged = purge_older_than(sessions, cutoff)
    results.put((purged.tasks, time.perf_counter() - started))
    engine.dispose()


def run_store(store: str, database_url: str, options: argparse.Namespace, redis_url: str) -> None:
    settings = Settings(broker_url=redis_url, database_url=database_url, secret_key="bench")
    services = build_services(settings)
    rows = options.rows
    start = prepare(services, rows, options.keep, searches=not options.no_search)
    if not any(user.username == "bench" for user in users.list_users(services)):
        users.create_user(services, "bench", "bench-password", "viewer")

    if options.retention_only:
        retention_case(store, services, start, rows, options.retention_seconds)
        services.close()
        return
    app = create_app(services, {"WTF_CSRF_ENABLED": False})
    client = app.test_client()
    client.post("/login", data={"username": "bench", "password": "bench-password"})
    pages = pages_of(services, rows, app, searches=not options.no_search)
    backends = BackendCpu(services.engine, APPLICATION) if store == "postgresql" else None
    for page, path in pages.items():

        def get(path: str = path) -> None:
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"{path}: {response.status_code}")

        for _ in range(3):
            get()
        if backends is not None:
            backends.begin()
        samples, cpu = timed(get, options.requests, warmup=0)
        emit(f"{store}/{page}", "median_ms", statistics.median(samples), rows=rows)
        emit(f"{store}/{page}", "p95_ms", percentile(samples, 0.95), rows=rows, target=50)
        emit(f"{store}/{page}", "app_cpu_median_ms", statistics.median(cpu), rows=rows)
        if backends is not None:
            db_ms = backends.end() * 1000 / options.requests
            emit(f"{store}/{page}", "db_cpu_mean_ms", db_ms, rows=rows)

    cookie = client.get_cookie("controlplane_session")
    assert cookie is not None
    http_clients = Http(app, cookie.value)
    each = max(5, options.requests // options.clients)
    for page, path in pages.items():
        results, wall = http_clients.hammer([path], options.clients, each)
        case = f"{store}/{page}@{options.clients}"
        emit(case, "median_ms", statistics.median(results), rows=rows)
        emit(case, "p95_ms", percentile(results, 0.95), rows=rows)
        emit(case, "requests_per_s", len(results) / wall, "1/s", rows=rows)

    if not options.no_search:
        searches, health = search_with_health(http_clients, options.search_clients, each)
        case = f"{store}/search@{options.search_clients}"
        emit(case, "median_ms", statistics.median(searches), rows=rows)
        emit(case, "p95_ms", percentile(searches, 0.95), rows=rows)
        emit(case, "healthz_p99_ms", percentile(health, 0.99), rows=rows, target=50)
    http_clients.close()

    if options.retention_seconds > 0:
        retention_case(store, services, start, rows, options.retention_seconds)
    services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--search-clients", type=int, default=16)
    parser.add_argument("--retention-seconds", type=float, default=0.0)
    parser.add_argument("--keep", action="store_true", help="keep the rows for the next run")
    parser.add_argument(
        "--no-search",
        action="store_true",
        help="leave out the text searches (and, on a fresh PostgreSQL fill, the trigram index)",
    )
    parser.add_argument("--retention-only", action="store_true", help="only the retention case")
    options = parser.parse_args()

    with EmbeddedRedis() as redis_server, tempfile.TemporaryDirectory() as tmp:
        for store in options.stores.split(","):
            if store == "sqlite":
                folder = Path(tempfile.gettempdir() if options.keep else tmp)
                path = folder / f"controlplane-bench-pages-{options.rows}.db"
                run_store(store, f"sqlite:///{path}", options, redis_server.url)
                if not options.keep:
                    path.unlink(missing_ok=True)
            elif store == "postgresql":
                schema = f"bench_pages_{options.rows}"
                admin = create_engine(options.postgres_url)
                with admin.begin() as connection:
                    if not options.keep:
                        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                    connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                try:
                    url = (
                        f"{options.postgres_url}?options=-csearch_path%3D{schema}"
                        f"&application_name={APPLICATION}"
                    )
                    run_store(store, url, options, redis_server.url)
                finally:
                    if not options.keep:
                        with admin.begin() as connection:
                            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                    admin.dispose()


if __name__ == "__main__":
    main()
