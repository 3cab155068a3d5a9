"""Real workers, real events, a real database: what the ingester writes and what it refuses."""

from __future__ import annotations

import base64
import json
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from controlplane import db
from controlplane.broker.celery_app import make_celery
from controlplane.broker.embedded import EmbeddedRedis
from controlplane.errors import IngesterAlreadyRunning
from controlplane.events import Ingester, stats_from_database
from controlplane.events.store import to_epoch
from controlplane.models import EventGap, Task, Worker
from controlplane.models import Ingester as IngesterRun
from tests.conftest import ROOT, WorkerProcess, wait_for
from tests.events.events_helpers import (
    FIREHOSE,
    firehose,
    firehose_ids,
    ingest_settings,
    rows,
    start_ingester,
)

SECRET = "tok-SECRET-4242-never-stored"


def test_every_outcome_lands_with_states_times_runtime_and_worker(
    redis_server: EmbeddedRedis,
    worker_factory: Callable[..., WorkerProcess],
    sqlite_url: str,
    unique: str,
    tmp_path: Path,
) -> None:
    settings = ingest_settings(redis_server.url, sqlite_url)
    online: list[str] = []
    ingester, engine = start_ingester(settings, on_worker_online=online.append)
    queue = f"ev-{unique}"
    app = make_celery(settings)
    try:
        worker = worker_factory((queue,), concurrency=2)
        add = app.send_task("worker_tasks.tasks.add", args=[2, 3], queue=queue)
        fails = app.send_task("worker_tasks.tasks.always_fails", args=["boom"], queue=queue)
        flaky = app.send_task("worker_tasks.tasks.flaky", kwargs={"fail_times": 2}, queue=queue)
        secret = app.send_task(
            "worker_tasks.tasks.always_fails",
            kwargs={"message": "m", "api_token": SECRET, "password": SECRET},
            queue=queue,
        )
        slow = app.send_task("worker_tasks.tasks.slow", kwargs={"seconds": 30}, queue=queue)
        wait_for(lambda: rows(engine, [slow.id]).get(slow.id, Task(state="")).state == "STARTED",
                 timeout=30, what="the slow task to start")  # fmt: skip
        app.control.revoke(slow.id, terminate=True)
        ids = [add.id, fails.id, flaky.id, secret.id, slow.id]
        final = {"SUCCESS", "FAILURE", "REVOKED"}
        found = wait_for(
            lambda: (r := rows(engine, ids)) and all(
                t in r and r[t].state in final and r[t].retries >= (2 if t == flaky.id else 0)
                for t in ids
            ) and r,
            timeout=40, what="every task in a final state",
        )  # fmt: skip

        done = found[add.id]
        assert (done.state, done.result, done.name) == ("SUCCESS", "5", "worker_tasks.tasks.add")
        assert done.worker == worker.hostname and done.queue == queue and done.args == "[2, 3]"
        # task-sent is stamped after the publish, so a fast worker may receive and even start
        # "before" it (seen: started 3 ms before sent, on a loaded machine)
        assert done.sent_at is not None and done.sent_at <= done.finished_at
        assert done.received_at <= done.started_at <= done.finished_at
        assert done.runtime is not None and 0 <= done.runtime < 5
        assert done.queue_wait is not None and done.queue_wait >= 0

        failed = found[fails.id]
        assert failed.state == "FAILURE" and failed.exception == "ValueError('boom')"
        assert "raise ValueError(message)" in (failed.traceback or "")
        assert failed.runtime is not None and failed.runtime >= 0

        retried = found[flaky.id]
        assert (retried.state, retried.retries) == ("SUCCESS", 2)
        assert retried.retried_at is not None and retried.exception is None

        revoked = found[slow.id]
        assert revoked.state == "REVOKED" and "terminated" in (revoked.exception or "")

        assert found[secret.id].args_incomplete
        assert SECRET not in (found[secret.id].kwargs or "")

        workers = wait_for(lambda: _worker_row(engine, worker.hostname), what="worker row")
        assert workers.status == "online" and (workers.software or "").startswith("py-celery")
        assert workers.freq == 2.0 and workers.pid and workers.loadavg
        assert worker.hostname in online

        snapshot = ingester.stats.snapshot()
        labels = ("worker_tasks.tasks.add", worker.hostname, queue)
        assert snapshot.task_events[labels]["succeeded"] >= 1
        assert snapshot.runtime[labels].count >= 1
    finally:
        ingester.stop()
        app.close()

    # history survives a restart: the counters come back from the rows
    rebuilt = stats_from_database(engine).snapshot()
    assert rebuilt.task_events[("worker_tasks.tasks.add", worker.hostname, queue)]["succeeded"] == 1
    failures = {k: v for k, v in rebuilt.failures.items() if k[0].endswith("always_fails")}
    assert failures[("worker_tasks.tasks.always_fails", worker.hostname, queue, "ValueError")] == 1

    # the secret is nowhere in the database file, its WAL, or a text dump
    engine.dispose()
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    for path in database.parent.glob(database.name + "*"):
        assert SECRET.encode() not in path.read_bytes(), path
    dump = "\n".join(sqlite3.connect(database).iterdump())
    assert SECRET not in dump and "api_token" in dump


def _worker_row(engine: object, hostname: str) -> Worker | None:
    with db.session_scope(db.make_session_factory(engine)) as session:  # type: ignore[arg-type]
        return session.get(Worker, hostname)


def test_a_worker_killed_mid_task_leaves_the_task_lost(
    redis_server: EmbeddedRedis,
    worker_factory: Callable[..., WorkerProcess],
    database_url: str,
    unique: str,
) -> None:
    settings = ingest_settings(redis_server.url, database_url)
    ingester, engine = start_ingester(settings)
    app = make_celery(settings)
    queue = f"ev-{unique}"
    try:
        worker = worker_factory((queue,), concurrency=1)
        slow = app.send_task("worker_tasks.tasks.slow", kwargs={"seconds": 60}, queue=queue)
        wait_for(lambda: rows(engine, [slow.id]).get(slow.id, Task(state="")).state == "STARTED",
                 timeout=30, what="the task to start")  # fmt: skip
        worker.kill()
        lost = wait_for(
            lambda: (r := rows(engine, [slow.id]).get(slow.id)) and r.state == "LOST" and r,
            timeout=30, what="the task to be marked LOST",
        )  # fmt: skip
        assert "heartbeats" in (lost.lost_reason or "") and lost.worker == worker.hostname
        assert _worker_row(engine, worker.hostname).status == "lost"  # type: ignore[union-attr]
    finally:
        ingester.stop()
        app.close()
        engine.dispose()


@pytest.mark.long  # a minute or more of real processes: make faults runs it
def test_a_killed_ingester_records_its_gap_and_reconciles_on_restart(
    redis_server: EmbeddedRedis,
    worker_factory: Callable[..., WorkerProcess],
    sqlite_url: str,
    unique: str,
    tmp_path: Path,
) -> None:
    settings = ingest_settings(redis_server.url, sqlite_url)
    engine = db.make_engine(sqlite_url)
    db.upgrade(engine)
    queue = f"ev-{unique}"
    worker_factory((queue,), concurrency=2)
    app = make_celery(settings)

    def run_ingester() -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONTROLPLANE_")}
        env.update(CONTROLPLANE_BROKER_URL=redis_server.url, CONTROLPLANE_DATABASE_URL=sqlite_url,
                   CONTROLPLANE_INSPECT_TIMEOUT="1", PYTHONPATH=str(ROOT))  # fmt: skip
        log = open(tmp_path / "ingester.log", "ab")  # noqa: SIM115 - closed with the process
        return subprocess.Popen([sys.executable, "-m", "controlplane.cli", "events"], env=env,
                                stdout=log, stderr=subprocess.STDOUT)  # fmt: skip

    first = run_ingester()
    try:
        wait_for(lambda: _count(engine, IngesterRun) == 1, what="the first ingester")
        results = [
            app.send_task("worker_tasks.tasks.slow", kwargs={"seconds": 0.15}, queue=queue)
            for _ in range(50)
        ]
        ids = [r.id for r in results]
        wait_for(lambda: sum(t.state == "SUCCESS" for t in rows(engine, ids).values()) >= 5,
                 timeout=30, what="some tasks done before the kill")  # fmt: skip
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = time.time()
        time.sleep(2.0)  # tasks go on finishing while nobody watches
        second = run_ingester()
        try:
            for result in results:
                result.get(timeout=60)
            gap = wait_for(lambda: _gaps(engine), timeout=20, what="the recorded gap")[0]
            assert gap.source == "restart" and "no ingester was running" in gap.reason
            assert db_time(gap.started_at) <= killed_at + 0.5
            assert db_time(gap.ended_at) >= killed_at + 1.5

            def settled() -> dict[str, Task] | None:
                found = rows(engine, ids)
                ok = all(t.state in ("SUCCESS", "UNKNOWN") for t in found.values())
                return found if ok and len(found) >= 5 else None

            found = wait_for(settled, timeout=30, what="every row terminal or explicitly unknown")
            assert sum(t.state == "SUCCESS" for t in found.values()) >= 5
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(30) == 0
    finally:
        if first.poll() is None:
            first.kill()
        app.close()
        engine.dispose()


def db_time(value: object) -> float:
    from controlplane.events.store import to_epoch

    return to_epoch(value) or 0.0  # type: ignore[arg-type]


def _gaps(engine: object) -> list[EventGap]:
    with db.session_scope(db.make_session_factory(engine)) as session:  # type: ignore[arg-type]
        return list(session.scalars(select(EventGap).order_by(EventGap.id)))


def _count(engine: object, model: type) -> int:
    with db.session_scope(db.make_session_factory(engine)) as session:  # type: ignore[arg-type]
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _publish_raw(client: redis.Redis, routing_key: str, payload: bytes) -> None:
    client.publish(f"/0.celeryev/{routing_key}", payload)


def _envelope(body: bytes, content_type: str = "application/json") -> bytes:
    return json.dumps({
        "body": base64.b64encode(body).decode(), "content-encoding": "utf-8",
        "content-type": content_type, "headers": {},
        "properties": {"body_encoding": "base64"},
    }).encode()  # fmt: skip


def test_malformed_and_hostile_events_are_skipped_counted_and_survived(
    redis_server: EmbeddedRedis, sqlite_url: str, unique: str
) -> None:
    settings = ingest_settings(redis_server.url, sqlite_url)
    ingester, engine = start_ingester(settings)
    client = redis.Redis.from_url(redis_server.url)
    now = time.time()
    try:
        hostile = {
            "huge": {"type": "task-sent", "uuid": f"{unique}-huge", "timestamp": now,
                     "args": "x" * (10 * 1024 * 1024)},
            "types": {"type": "task-sent", "uuid": f"{unique}-types", "timestamp": "noon",
                      "retries": "many"},
            "unknown": {"type": "task-teleported", "uuid": f"{unique}-u", "timestamp": now},
        }  # fmt: skip
        _publish_raw(client, "task.sent", _envelope(json.dumps(hostile["huge"]).encode()))
        _publish_raw(client, "task.sent", _envelope(b'{"type": "task-sent", "uuid": "\xff\xfe"}'))
        _publish_raw(client, "task.sent", _envelope(pickle.dumps(hostile["types"]),
                                                    "application/x-python-serialize"))  # fmt: skip
        _publish_raw(client, "task.sent", _envelope(json.dumps(hostile["types"]).encode()))
        _publish_raw(client, "task.x", _envelope(json.dumps(hostile["unknown"]).encode()))
        _publish_raw(client, "task.sent", b"\x80\x04not even json")
        good = {"type": "task-sent", "uuid": f"{unique}-good", "timestamp": now, "name": "ok",
                "args": "()", "kwargs": "{}", "hostname": "client@h"}  # fmt: skip
        _publish_raw(client, "task.sent", _envelope(json.dumps(good).encode()))
        wait_for(lambda: f"{unique}-good" in rows(engine, [f"{unique}-good"]), what="good event")
        assert not rows(engine, [f"{unique}-huge", f"{unique}-types", f"{unique}-u"])
        malformed = ingester.stats.snapshot().malformed
        for reason in ("too_large", "bad_utf8", "not_json", "bad_field", "unknown_type",
                       "bad_envelope"):  # fmt: skip
            assert malformed.get(reason, 0) >= 1, (reason, malformed)
    finally:
        client.close()
        ingester.stop()
        engine.dispose()


def test_sqlite_refuses_a_second_ingester_with_a_clear_message(
    redis_server: EmbeddedRedis, sqlite_url: str
) -> None:
    settings = ingest_settings(redis_server.url, sqlite_url)
    first, engine = start_ingester(settings)
    try:
        with pytest.raises(IngesterAlreadyRunning, match="SQLite allows one ingester"):
            Ingester(settings, engine).start()
    finally:
        first.stop()
    second = Ingester(settings, engine).start()  # the lock went with the first one
    second.stop()
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.long  # a minute or more of real processes: make faults runs it
def test_two_ingesters_on_postgresql_write_each_task_once(
    redis_server: EmbeddedRedis, postgres_url: str, unique: str
) -> None:
    """Both receive every event and merge it in SQL at once: each task is one row, exactly
    as the firehose planned it, failures with their (redacted) tracebacks."""
    settings = ingest_settings(redis_server.url, postgres_url)
    first, engine = start_ingester(settings)
    second, _ = start_ingester(settings)
    tasks = 2000
    try:
        published = firehose(redis_server.url, tasks, unique, "sent,received,started,succeeded",
                             failures=0.2)  # fmt: skip
        ids = firehose_ids(unique, tasks)

        def all_done() -> bool:
            return sum(t.finished_at is not None for t in rows(engine, ids).values()) == tasks

        wait_for(all_done, timeout=60, what=f"{tasks} tasks from two ingesters")
        assert first.wait_idle() and second.wait_idle()
        found = rows(engine, ids)
        with db.session_scope(db.make_session_factory(engine)) as session:
            assert session.scalar(select(func.count()).select_from(Task)) == tasks
        plans = [FIREHOSE.plan(unique, index, tasks, published["anchor"], 0.2, 3.0)
                 for index in range(tasks)]  # fmt: skip
        assert {plan.state for plan in plans} == {"SUCCESS", "FAILURE"}
        for plan in plans:
            row = found[plan.task_id]
            assert (row.state, row.name, row.queue, row.worker) == (
                plan.state, plan.name, plan.queue, plan.worker,
            )  # fmt: skip
            assert to_epoch(row.sent_at) == plan.sent_at
            assert to_epoch(row.finished_at) == plan.finished_at
            if plan.failed:
                assert row.traceback and "OperationalError" in row.traceback
                assert FIREHOSE.SECRET not in row.traceback
            else:
                assert row.runtime == plan.runtime and row.traceback is None
        assert first.writer and second.writer
        assert first.writer.errors == 0 and second.writer.errors == 0
        for ingester in (first, second):  # where the time went, recorded for the run
            decode, write = ingester.cpu_seconds() or (0.0, 0.0)
            assert decode > 0 and write > 0
    finally:
        first.stop()
        second.stop()
    with db.session_scope(db.make_session_factory(engine)) as session:
        runs = session.scalars(select(IngesterRun)).all()
        assert len(runs) == 2 and all(run.decode_cpu_s and run.write_cpu_s for run in runs)
    engine.dispose()


@pytest.mark.long  # a minute or more of real processes: make faults runs it
def test_sigterm_writes_everything_received_before_exiting(
    tmp_path: Path, sqlite_url: str, unique: str
) -> None:
    with EmbeddedRedis() as broker:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONTROLPLANE_")}
        env.update(CONTROLPLANE_BROKER_URL=broker.url, CONTROLPLANE_DATABASE_URL=sqlite_url,
                   PYTHONPATH=str(ROOT))  # fmt: skip
        process = subprocess.Popen([sys.executable, "-m", "controlplane.cli", "events"], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
        client = redis.Redis.from_url(broker.url)
        try:
            wait_for(lambda: client.execute_command("PUBSUB", "NUMPAT") >= 1, what="subscribed")
            firehose(broker.url, 5000, unique)
            process.send_signal(signal.SIGTERM)  # most of the burst is still in its buffer
            output = process.communicate(timeout=60)[0].decode()
            assert process.returncode == 0, output
        finally:
            client.close()
            if process.poll() is None:
                process.kill()
    engine = db.make_engine(sqlite_url)
    found = rows(engine, firehose_ids(unique, 5000))
    assert len(found) == 5000 and {t.state for t in found.values()} == {"SUCCESS"}
    with db.session_scope(db.make_session_factory(engine)) as session:
        run = session.scalars(select(IngesterRun)).one()
        assert run.stopped_at is not None
        assert run.events_ingested is not None and run.events_ingested >= 5000  # for `serve`
    engine.dispose()
