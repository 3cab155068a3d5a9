"""Worker status, consumers per queue, stuck tasks and alerts, from what the database holds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import text

from controlplane.fleet.health import (
    WorkerHealth,
    consumers_by_queue,
    json_names,
    stuck_query,
    stuck_tasks,
    worker_status,
)
from controlplane.models import Task
from controlplane.services import Services

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def status(**signs: object) -> str:
    return worker_status(now=NOW, inspect_interval=30.0, **signs)[0]  # type: ignore[arg-type]


def test_heartbeat_age_decides_online_late_offline_in_heartbeat_intervals() -> None:
    assert status(last_heartbeat=ago(3.9), freq=2.0) == "online"
    assert status(last_heartbeat=ago(4.1), freq=2.0) == "late"  # older than 2 intervals
    assert status(last_heartbeat=ago(6.1), freq=2.0) == "offline"  # older than 3
    assert status(last_heartbeat=ago(5.0), freq=5.0) == "online"  # its own interval counts
    assert status(last_heartbeat=ago(5.0)) == "late"  # no freq: Celery's 2 s default
    # A naive datetime (SQLite) is UTC.
    assert status(last_heartbeat=ago(1).replace(tzinfo=None), freq=2.0) == "online"


def test_naive_and_aware_times_of_one_worker_compare_as_their_utc_values() -> None:
    """The signs are compared as stored (all naive or all aware); a worker whose times mix
    the two (naive is UTC) gets the answer its all-UTC times give, not a TypeError."""
    signs = {
        "recorded_status": "lost", "last_heartbeat": ago(50), "online_at": ago(3600),
        "offline_at": ago(40), "inspected_at": ago(10), "freq": 2.0,
    }  # fmt: skip
    aware = worker_status(now=NOW, inspect_interval=30.0, **signs)  # type: ignore[arg-type]
    assert aware == ("online", ago(10), 30.0, False)  # pinged after it was given up on
    for naive in ("last_heartbeat", "online_at", "offline_at", "inspected_at"):
        mixed = {**signs, naive: signs[naive].replace(tzinfo=None)}  # type: ignore[union-attr]
        assert worker_status(now=NOW, inspect_interval=30.0, **mixed) == aware  # type: ignore[arg-type]
    # another offset, the same instants
    shifted = {k: v.astimezone(timezone(timedelta(hours=2))) if isinstance(v, datetime) else v
               for k, v in signs.items()}  # fmt: skip
    assert worker_status(now=NOW, inspect_interval=30.0, **shifted) == aware  # type: ignore[arg-type]


def test_a_clean_shutdown_is_offline_at_once_and_a_restart_is_online_again() -> None:
    gone = status(recorded_status="offline", last_heartbeat=ago(1), offline_at=ago(0.5), freq=2)
    assert gone == "offline"
    assert worker_status(
        now=NOW, inspect_interval=30, recorded_status="offline", last_heartbeat=ago(1),
        offline_at=ago(0.5), freq=2,
    )[3] is True  # fmt: skip
    back = status(recorded_status="online", online_at=ago(0.2), offline_at=ago(5), freq=2)
    assert back == "online"
    # The event ingester marks a worker "lost" when its heartbeats stop: offline, not shut down.
    lost = worker_status(
        now=NOW, inspect_interval=30, recorded_status="lost", last_heartbeat=ago(4.5),
        offline_at=ago(0.5), freq=2,
    )  # fmt: skip
    assert (lost[0], lost[3]) == ("offline", False)


def test_without_events_the_schedulers_pings_stand_in_for_heartbeats() -> None:
    assert status(inspected_at=ago(40)) == "online"  # within 2 inspection intervals
    assert status(inspected_at=ago(70)) == "late"
    assert status(inspected_at=ago(100)) == "offline"
    # Heartbeats stopped long ago but the worker still answers pings (events turned off).
    assert status(last_heartbeat=ago(3600), freq=2, inspected_at=ago(5)) == "online"
    # A ping shortly before the heartbeats stopped does not hide a dead worker.
    assert status(last_heartbeat=ago(10), freq=2, inspected_at=ago(11)) == "offline"
    assert status() == "offline"  # never seen alive


def worker(name: str, status: str, queues: tuple[str, ...], concurrency: int = 4) -> WorkerHealth:
    return WorkerHealth(
        hostname=name,
        status=status,  # type: ignore[arg-type]
        last_seen=NOW,
        heartbeat_age=0.0 if status == "online" else 9.0,
        interval=2.0,
        shutdown=False,
        concurrency=concurrency,
        active=0,
        processed=0,
        queues=queues,
        registered=(),
        software=None,
        pid=None,
        loadavg=None,
    )


def test_consumers_count_alive_workers_and_their_pool_per_queue() -> None:
    workers = [
        worker("a@h", "online", ("q1", "q2"), 4),
        worker("b@h", "late", ("q1",), 2),
        worker("c@h", "offline", ("q1", "q3"), 8),
    ]
    consumers = consumers_by_queue(workers)
    assert (consumers["q1"].consumers, consumers["q1"].concurrency) == (2, 6)
    assert (consumers["q2"].consumers, consumers["q2"].concurrency) == (1, 4)
    assert "q3" not in consumers


def test_stuck_tasks_are_started_longer_than_the_threshold(services: Services) -> None:
    now = datetime.now(UTC)
    with services.transaction() as session:
        for task_id, state, started in (
            ("long", "STARTED", now - timedelta(hours=2)),
            ("short", "STARTED", now - timedelta(minutes=1)),
            ("done", "SUCCESS", now - timedelta(hours=3)),
        ):
            session.add(
                Task(task_id=task_id, state=state, name="t", queue="q", worker="w@h",
                     first_seen_at=started, started_at=started, updated_at=now)
            )  # fmt: skip
    with services.transaction() as session:
        stuck = stuck_tasks(session, now, threshold=1800)
    assert [t.task_id for t in stuck] == ["long"]
    assert 7190 < stuck[0].running_for < 7210


def test_stuck_tasks_are_read_from_their_partial_index(services: Services) -> None:
    """The oldest STARTED tasks come from ix_tasks_stuck, not from every STARTED row of the
    history sorted (0.3 s at 10 million tasks)."""
    query = stuck_query(NOW, 50)
    with services.engine.connect() as connection:
        compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL enable_seqscan = off"))
            rows = connection.execute(text(f"EXPLAIN {compiled}")).all()
            plan = " ".join(str(row[0]) for row in rows)
            assert "ix_tasks_stuck" in plan and "Sort" not in plan, plan
        else:
            rows = connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
            plan = " ".join(str(row[-1]) for row in rows)
            assert "ix_tasks_stuck" in plan and "TEMP B-TREE" not in plan, plan


def test_worker_lists_from_the_database_are_bounded_and_malformed_ones_read_empty() -> None:
    assert json_names('["a", "b", 3]') == ("a", "b")
    assert json_names("{not json") == ()
    assert json_names('{"a": 1}') == ()
    assert len(json_names('["' + "x" * 1000 + '"]')[0]) == 255


def test_inspection_leaves_heartbeat_counts_to_the_ingester(services: Services) -> None:
    """processed/active come from inspect() only for a worker that never sent a heartbeat."""
    from controlplane.fleet.inspection import WorkerReport, record_reports
    from controlplane.models import Worker

    report = WorkerReport("w@h", concurrency=4, processed=5, active=2, queues=("q",))
    with services.transaction() as session:
        record_reports(session, [report], NOW)
    with services.transaction() as session:
        row = session.get(Worker, "w@h")
        assert row is not None and (row.processed, row.active, row.concurrency) == (5, 2, 4)
        row.last_heartbeat, row.processed, row.active = NOW, 9, 3  # the ingester's heartbeat
    later = WorkerReport("w@h", concurrency=8, processed=7, active=0, queues=("q", "r"))
    with services.transaction() as session:
        record_reports(session, [later], NOW)
    with services.transaction() as session:
        row = session.get(Worker, "w@h")
        assert row is not None and (row.processed, row.active, row.concurrency) == (9, 3, 8)
        assert row.queues == '["q", "r"]'


def test_inspection_writes_the_registered_lists_digest(services: Services) -> None:
    """Scrapes read each distinct list by its digest (0020): the upsert writes both."""
    from controlplane.fleet.inspection import WorkerReport, record_reports
    from controlplane.models import Worker, registered_digest

    for registered in (("proj.a",), ("proj.a", "proj.b")):  # inserted, then updated
        report = WorkerReport("d@h", concurrency=1, queues=("q",), registered=registered)
        with services.transaction() as session:
            record_reports(session, [report], NOW)
        with services.transaction() as session:
            row = session.get(Worker, "d@h")
            assert row is not None and row.registered == json.dumps(list(registered))
            assert row.registered_digest == registered_digest(row.registered)
