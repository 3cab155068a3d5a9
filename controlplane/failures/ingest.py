"""The events writer's hook: each task that newly ended in FAILURE is added to its group.

It runs inside the batch's transaction (events/writer.py calls it through a callback, so
events/ imports nothing of this package), only for batches that carry a FAILURE: a batch of
successes pays one pass over its rows and nothing else. A task is counted once, whatever
repeats: `failure_members` has one row per task id, and only the rows that insert adds count.
Every write is an additive upsert (counts summed, times by greatest/least), so two
PostgreSQL ingesters may add to the same group at once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, DateTime, Table, Text, and_, bindparam, case, select, text
from sqlalchemy.dialects import postgresql, sqlite

from controlplane.clock import as_utc
from controlplane.failures.fingerprint import cause_of
from controlplane.models import (
    FailureGroup,
    FailureGroupHour,
    FailureGroupWorker,
    FailureMember,
    Task,
)

GROUPS = cast(Table, FailureGroup.__table__)
MEMBERS = cast(Table, FailureMember.__table__)
HOURS = cast(Table, FailureGroupHour.__table__)
WORKERS = cast(Table, FailureGroupWorker.__table__)
TASKS = cast(Table, Task.__table__)
SAMPLE_CHARS = 8000
_CHUNK = 500
_PG_CLAIM = text(
    "INSERT INTO failure_members (task_id, group_id, failed_at) "
    "SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:groups AS int[]), "
    "CAST(:times AS timestamptz[])) ON CONFLICT (task_id) DO NOTHING RETURNING task_id"
)


@dataclass
class _Failure:
    task_id: str
    fingerprint: str
    worker: str | None
    failed_at: datetime
    exception: str | None
    traceback: str | None
    retry_of: str | None


def record_failures(connection: Connection, task_ids: list[str], now: float) -> int:
    """Add the stored FAILURE rows among `task_ids` to their groups; returns how many were new.

    Reads the merged rows (a FAILURE event carries no task name; the row has it), so it must
    run after the batch's tasks were written, in the same transaction.
    """
    if not task_ids:
        return 0
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    stamp = datetime.fromtimestamp(now, UTC)
    failures = _load(connection, sorted(set(task_ids)), stamp)
    if not failures:
        return 0
    group_ids = _ensure_groups(connection, insert, failures)
    new = _claim_members(connection, insert, failures, group_ids)
    if new:
        _add_to_groups(connection, insert, new, group_ids)
    return len(new)


def _load(connection: Connection, ids: list[str], now: datetime) -> dict[str, tuple[_Failure, Any]]:
    found: dict[str, tuple[_Failure, Any]] = {}
    columns = (TASKS.c.task_id, TASKS.c.name, TASKS.c.exception, TASKS.c.traceback,
               TASKS.c.worker, TASKS.c.finished_at, TASKS.c.retry_of)  # fmt: skip
    for start in range(0, len(ids), _CHUNK):
        # by primary key only: a state condition here lets a planner without fresh statistics
        # walk every FAILURE row of the state index instead
        query = select(*columns, TASKS.c.state).where(
            TASKS.c.task_id.in_(ids[start : start + _CHUNK])
        )
        for row in connection.execute(query):
            if row.state != "FAILURE":
                continue
            cause = cause_of(row.name, row.exception, row.traceback)
            failure = _Failure(
                row.task_id, cause.fingerprint, row.worker,
                as_utc(row.finished_at) or now, row.exception, row.traceback, row.retry_of,
            )  # fmt: skip
            found[row.task_id] = (failure, cause)
    return found


def _ensure_groups(
    connection: Connection, insert: Any, failures: dict[str, tuple[_Failure, Any]]
) -> dict[str, int]:
    """Create the groups not seen before (with no failures yet); map fingerprint -> id."""
    fresh: dict[str, dict[str, Any]] = {}
    for failure, cause in failures.values():
        fresh.setdefault(failure.fingerprint, {
            "fingerprint": failure.fingerprint, "task_name": cause.task_name,
            "exception_type": cause.exception_type, "message": cause.message,
            "frame": cause.frame, "failures": 0, "tasks": 0, "first_seen_at": failure.failed_at,
            "last_seen_at": failure.failed_at, "sample_task_id": failure.task_id,
            "sample_exception": (failure.exception or "")[:SAMPLE_CHARS],
            "sample_traceback": (failure.traceback or "")[:SAMPLE_CHARS], "status": "open",
        })  # fmt: skip
    rows = [fresh[key] for key in sorted(fresh)]
    connection.execute(insert(GROUPS).on_conflict_do_nothing(index_elements=["fingerprint"]), rows)
    query = select(GROUPS.c.fingerprint, GROUPS.c.id).where(GROUPS.c.fingerprint.in_(list(fresh)))
    return {row.fingerprint: row.id for row in connection.execute(query)}


def _claim_members(
    connection: Connection,
    insert: Any,
    failures: dict[str, tuple[_Failure, Any]],
    group_ids: dict[str, int],
) -> list[_Failure]:
    """Insert the membership rows; the ones that were not there before are the new failures."""
    rows = [
        {"task_id": f.task_id, "group_id": group_ids[f.fingerprint], "failed_at": f.failed_at}
        for f, _ in (failures[key] for key in sorted(failures))
    ]
    if connection.dialect.name == "postgresql":
        # one statement whose RETURNING names the rows it added: exact with two ingesters
        result = connection.execute(
            _PG_CLAIM,
            {
                "ids": [r["task_id"] for r in rows],
                "groups": [r["group_id"] for r in rows],
                "times": [r["failed_at"] for r in rows],
            },
        )
        claimed = {row[0] for row in result}
    else:  # one ingester per SQLite file (events/lock.py): what is not there yet is new
        ids = [r["task_id"] for r in rows]
        known: set[str] = set()
        for start in range(0, len(ids), _CHUNK):
            query = select(MEMBERS.c.task_id).where(
                MEMBERS.c.task_id.in_(ids[start : start + _CHUNK])
            )
            known.update(connection.scalars(query))
        fresh = [r for r in rows if r["task_id"] not in known]
        if fresh:
            connection.execute(insert(MEMBERS).on_conflict_do_nothing(), fresh)
        claimed = {r["task_id"] for r in fresh}
    return [failures[task_id][0] for task_id in sorted(claimed)]


def hour_floor(at: datetime) -> datetime:
    """The sparkline's bucket of a time (groups.py reads the same buckets)."""
    return at.replace(minute=0, second=0, microsecond=0)


def _repeats(connection: Connection, new: list[_Failure], group_ids: dict[str, int]) -> set[str]:
    """New failures that are console retries of a failure already in the same group."""
    children: dict[str, list[_Failure]] = defaultdict(list)
    for failure in new:
        if failure.retry_of:
            children[failure.retry_of].append(failure)
    if not children:
        return set()
    query = select(MEMBERS.c.task_id, MEMBERS.c.group_id).where(
        MEMBERS.c.task_id.in_(sorted(children))
    )
    return {
        child.task_id
        for task_id, group_id in connection.execute(query)
        for child in children[task_id]
        if group_ids[child.fingerprint] == group_id
    }


def _add_to_groups(
    connection: Connection, insert: Any, new: list[_Failure], group_ids: dict[str, int]
) -> None:
    per_group: dict[int, list[_Failure]] = defaultdict(list)
    for failure in new:
        per_group[group_ids[failure.fingerprint]].append(failure)
    repeats = _repeats(connection, new, group_ids)
    updates = []
    hours: dict[tuple[int, datetime], int] = defaultdict(int)
    workers: dict[tuple[int, str], tuple[int, datetime]] = {}
    for group_id in sorted(per_group):
        members = per_group[group_id]
        latest = max(members, key=lambda f: f.failed_at)
        updates.append({
            "gid": group_id, "n": len(members),
            "tasks": sum(1 for f in members if f.task_id not in repeats),
            "first": min(f.failed_at for f in members),
            "last": latest.failed_at, "sample_id": latest.task_id,
            "sample_exc": (latest.exception or "")[:SAMPLE_CHARS],
            "sample_tb": (latest.traceback or "")[:SAMPLE_CHARS],
        })  # fmt: skip
        for failure in members:
            hours[(group_id, hour_floor(failure.failed_at))] += 1
            if failure.worker:
                key = (group_id, failure.worker[:255])
                count, seen = workers.get(key, (0, failure.failed_at))
                workers[key] = (count + 1, max(seen, failure.failed_at))
    when, string = DateTime(timezone=True), Text()
    first, last = bindparam("first", type_=when), bindparam("last", type_=when)
    newer = GROUPS.c.last_seen_at < last
    reopens = and_(GROUPS.c.status == "resolved", GROUPS.c.status_at < last)

    def newest(column: Any, name: str) -> Any:
        return case((newer, bindparam(name, type_=string)), else_=column)

    connection.execute(
        GROUPS.update()
        .where(GROUPS.c.id == bindparam("gid"))
        .values(
            failures=GROUPS.c.failures + bindparam("n"),
            tasks=GROUPS.c.tasks + bindparam("tasks"),
            first_seen_at=case(
                (GROUPS.c.first_seen_at > first, first), else_=GROUPS.c.first_seen_at
            ),
            last_seen_at=case((newer, last), else_=GROUPS.c.last_seen_at),
            sample_task_id=newest(GROUPS.c.sample_task_id, "sample_id"),
            sample_exception=newest(GROUPS.c.sample_exception, "sample_exc"),
            sample_traceback=newest(GROUPS.c.sample_traceback, "sample_tb"),
            regressed_at=case((reopens, last), else_=GROUPS.c.regressed_at),
            status=case((reopens, "open"), else_=GROUPS.c.status),
        ),
        updates,
    )
    hour_insert = insert(HOURS)
    connection.execute(
        hour_insert.on_conflict_do_update(
            index_elements=["group_id", "hour"],
            set_={"failures": HOURS.c.failures + hour_insert.excluded.failures},
        ),
        [{"group_id": g, "hour": h, "failures": n} for (g, h), n in sorted(hours.items())],
    )
    if workers:
        worker_insert = insert(WORKERS)
        connection.execute(
            worker_insert.on_conflict_do_update(
                index_elements=["group_id", "worker"],
                set_={
                    "failures": WORKERS.c.failures + worker_insert.excluded.failures,
                    "last_seen_at": case(
                        (
                            WORKERS.c.last_seen_at < worker_insert.excluded.last_seen_at,
                            worker_insert.excluded.last_seen_at,
                        ),
                        else_=WORKERS.c.last_seen_at,
                    ),  # fmt: skip
                },
            ),
            [
                {"group_id": g, "worker": w, "failures": n, "last_seen_at": seen}
                for (g, w), (n, seen) in sorted(workers.items())
            ],
        )
