"""The writer's side of the database: bulk upserts of merged rows, gaps, ingester records.

Each batch is one transaction. On SQLite it reads the task rows it touches, merges in Python
(merge.py) and writes them back with one bulk INSERT ... ON CONFLICT DO UPDATE (one ingester
per file). On PostgreSQL the rows are COPYed into a staging table and merged by one SQL
statement with the same rules (merge_sql.py, checked against merge.py by a property test),
which needs only row locks: two ingesters write at once. Workers are still read, merged and
written back, under a transaction-scoped advisory lock taken for that last part.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, and_, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from controlplane.events import attempts, merge_sql
from controlplane.events.merge import TaskRow, WorkerRow, micro
from controlplane.models import EventGap, Ingester, Task, Worker

TASKS: Table = Task.__table__  # type: ignore[assignment]
WORKERS: Table = Worker.__table__  # type: ignore[assignment]
GAPS: Table = EventGap.__table__  # type: ignore[assignment]
INGESTERS: Table = Ingester.__table__  # type: ignore[assignment]
ADVISORY_LOCK_ID = 0x6370657674  # "cpevt": serialises the workers' read-merge-write
_CHUNK = 500  # ids per IN (...) list

_TASK_TIME_FIELDS = (
    "state_changed_at", "eta", "expires", "first_seen_at", "sent_at", "received_at",
    "started_at", "retried_at", "finished_at",
)  # fmt: skip
_TASK_COLUMNS = (
    "task_id", "name", "state", "state_changed_at", "queue", "routing_key", "exchange",
    "worker", "args", "kwargs", "args_incomplete", "result", "exception", "traceback",
    "retries", "eta", "expires", "parent_id", "root_id", "first_seen_at", "sent_at",
    "received_at", "started_at", "retried_at", "finished_at", "runtime", "queue_wait",
    "lost_reason", "updated_at", "group_id", "attempts",
)  # fmt: skip
_WORKER_COLUMNS = (
    "hostname", "status", "last_heartbeat", "online_at", "offline_at", "active", "processed",
    "loadavg", "software", "pid", "freq", "updated_at",
)  # fmt: skip


def to_datetime(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def to_epoch(value: datetime | None) -> float | None:
    """Epoch seconds of a stored time (SQLite hands back naive datetimes: they are UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return micro(value.timestamp())


@dataclass
class GapRecord:
    started_at: float
    ended_at: float | None
    reason: str
    estimated_missed: int | None
    source: str


class EventStore:
    """Reads and writes what the ingester keeps: tasks, workers, gaps, ingester runs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        columns = ", ".join(_TASK_COLUMNS)
        updates = ", ".join(f"{name} = excluded.{name}" for name in _TASK_COLUMNS[1:])
        marks = ", ".join("?" * len(_TASK_COLUMNS))
        # column names are our constants; every value is a bound parameter
        self._sqlite_task_upsert = (
            f"INSERT INTO tasks ({columns}) VALUES ({marks}) "  # noqa: S608
            f"ON CONFLICT (task_id) DO UPDATE SET {updates}"
        )
        worker_insert = insert(WORKERS)
        self._worker_upsert = worker_insert.on_conflict_do_update(
            index_elements=[WORKERS.c.hostname],
            set_={name: worker_insert.excluded[name] for name in _WORKER_COLUMNS[1:]},
        )

    # ---- batches ---------------------------------------------------------------------------

    def lock_workers(self, connection: Connection) -> None:
        """Worker rows are read, merged and written back: two ingesters take turns for that
        part, the last of a transaction (whoever holds this lock then touches only worker
        rows, so no one waits for it while holding what it needs)."""
        if self.dialect == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": ADVISORY_LOCK_ID})

    def merge_tasks(self, connection: Connection, incoming: dict[str, TaskRow], now: float) -> int:
        """Fold `incoming` rows into the stored ones; returns how many rows were written.

        SQLite: read the stored rows, merge in Python (merge.py), write back. PostgreSQL:
        COPY into a staging table and one set-based merge (merge_sql.py), no read at all.
        """
        if not incoming:
            return 0
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            if self.dialect == "postgresql":
                merge_sql.write_rows(cursor, list(incoming.values()), to_datetime(now))
            else:
                stored = self._sqlite_load_tasks(cursor, list(incoming))
                rows = [
                    row if (current := stored.get(task_id)) is None else current.merge(row)
                    for task_id, row in incoming.items()
                ]
                # plain DB-API with times formatted as SQLAlchemy stores them on SQLite
                # ("YYYY-MM-DD HH:MM:SS.ffffff", UTC), about 3x faster than Core here
                text_stamp = _sqlite_time(now)
                params = [_sqlite_task_params(row, text_stamp) for row in rows]
                cursor.executemany(self._sqlite_task_upsert, params)
        finally:
            cursor.close()
        return len(incoming)

    def _sqlite_load_tasks(self, cursor: Any, ids: list[str]) -> dict[str, TaskRow]:
        found: dict[str, TaskRow] = {}
        columns = ", ".join(name for name in _TASK_COLUMNS if name != "queue_wait")
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            query = f"SELECT {columns} FROM tasks WHERE task_id IN ({marks})"  # noqa: S608
            cursor.execute(query, chunk)
            names = [d[0] for d in cursor.description]
            for values in cursor.fetchall():
                record = dict(zip(names, values, strict=True))
                for name in _TASK_TIME_FIELDS:
                    record[name] = _parse_sqlite_time(record[name])
                row = _task_from_record(record)
                found[row.task_id] = row
        return found

    def load_workers(
        self, connection: Connection, hostnames: Iterable[str]
    ) -> dict[str, WorkerRow]:
        names = list(hostnames)
        found: dict[str, WorkerRow] = {}
        if not names:
            return found
        columns = [WORKERS.c[name] for name in _WORKER_COLUMNS if name != "updated_at"]
        for record in connection.execute(select(*columns).where(WORKERS.c.hostname.in_(names))):
            row = _worker_from_record(record._mapping)
            found[row.hostname] = row
        return found

    def save_workers(self, connection: Connection, rows: Sequence[WorkerRow], now: float) -> None:
        if rows:
            stamp = to_datetime(now)
            connection.execute(self._worker_upsert, [_worker_params(row, stamp) for row in rows])

    def started_on(self, connection: Connection, hostname: str, before: float) -> list[str]:
        """Tasks STARTED on `hostname` at or before `before`: lost if the worker is gone."""
        query = select(TASKS.c.task_id).where(
            and_(
                TASKS.c.worker == hostname,
                TASKS.c.state == "STARTED",
                TASKS.c.state_changed_at <= to_datetime(before),
            )
        )
        return list(connection.scalars(query))

    def insert_gaps(self, connection: Connection, gaps: Sequence[GapRecord]) -> None:
        if gaps:
            connection.execute(
                GAPS.insert(),
                [
                    {
                        "started_at": to_datetime(gap.started_at),
                        "ended_at": to_datetime(gap.ended_at),
                        "reason": gap.reason[:2000],
                        "estimated_missed": gap.estimated_missed,
                        "source": gap.source[:255],
                    }
                    for gap in gaps
                ],
            )

    # ---- reads outside batches -------------------------------------------------------------

    def unfinished_tasks(self, before: float, limit: int) -> list[tuple[str, str, str | None]]:
        """(task_id, state, worker) of rows that have not finished, newest first.

        A row the console wrote when it sent the task has no state time until an event
        comes; if the ingester missed them all, its send time stands in (else a task that
        ran unseen would stay PENDING for ever).
        """
        changed = func.coalesce(TASKS.c.state_changed_at, TASKS.c.first_seen_at)
        query = (
            select(TASKS.c.task_id, TASKS.c.state, TASKS.c.worker)
            .where(TASKS.c.state.in_(("PENDING", "RECEIVED", "STARTED", "RETRY")))
            .where(changed <= to_datetime(before))
            .order_by(changed.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [(r[0], r[1], r[2]) for r in connection.execute(query)]

    def live_workers(self) -> list[WorkerRow]:
        with self.engine.connect() as connection:
            query = select(*[WORKERS.c[n] for n in _WORKER_COLUMNS if n != "updated_at"]).where(
                WORKERS.c.status == "online"
            )
            return [_worker_from_record(r._mapping) for r in connection.execute(query)]

    # ---- ingester runs ---------------------------------------------------------------------

    def register_ingester(self, ingester_id: str, hostname: str, pid: int, now: float) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                INGESTERS.insert(),
                {
                    "id": ingester_id, "hostname": hostname[:255], "pid": pid,
                    "started_at": to_datetime(now), "alive_at": to_datetime(now),
                },
            )  # fmt: skip

    def touch_ingester(
        self,
        ingester_id: str,
        now: float,
        last_event_at: float | None,
        events_per_s: float | None,
        stopped: bool = False,
        events_ingested: int | None = None,
        cpu_s: tuple[float, float] | None = None,
    ) -> None:
        values: dict[str, Any] = {"alive_at": to_datetime(now), "events_per_s": events_per_s}
        if events_ingested is not None:
            values["events_ingested"] = events_ingested
        if cpu_s is not None:
            values["decode_cpu_s"], values["write_cpu_s"] = cpu_s
        if last_event_at is not None:
            values["last_event_at"] = to_datetime(last_event_at)
        if stopped:
            values["stopped_at"] = to_datetime(now)
        with self.engine.begin() as connection:
            connection.execute(
                update(INGESTERS).where(INGESTERS.c.id == ingester_id).values(values)
            )

    def previous_ingesters(self, except_id: str) -> list[dict[str, Any]]:
        """Other runs, newest first: was anyone watching the events while we were not?"""
        query = (
            select(INGESTERS)
            .where(INGESTERS.c.id != except_id)
            .order_by(INGESTERS.c.alive_at.desc())
            .limit(20)
        )
        with self.engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(query)]


_DAY_PREFIX: dict[int, str] = {}  # day number since the epoch -> "YYYY-MM-DD "
_MICROS_PER_DAY = 86_400_000_000


def _sqlite_time(epoch: float | None) -> str | None:
    """Epoch seconds as SQLAlchemy's SQLite text ("YYYY-MM-DD HH:MM:SS.ffffff", UTC).

    The date is cached per day and the rest is integer arithmetic: this runs for every
    time of every row written (a datetime and its isoformat cost ~1.5 µs each time).
    """
    if epoch is None:
        return None
    day, rest = divmod(int(epoch * 1e6 + 0.5), _MICROS_PER_DAY)
    prefix = _DAY_PREFIX.get(day)
    if prefix is None:
        if len(_DAY_PREFIX) > 4096:
            _DAY_PREFIX.clear()
        prefix = _DAY_PREFIX[day] = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d ")
    seconds, micros = divmod(rest, 1_000_000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{prefix}{hours:02d}:{minutes:02d}:{seconds:02d}.{micros:06d}"


def _parse_sqlite_time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _sqlite_task_params(row: TaskRow, updated_at: str | None) -> tuple[Any, ...]:
    return (
        row.task_id, row.name, row.state, _sqlite_time(row.state_changed_at), row.queue,
        row.routing_key, row.exchange, row.worker, row.args, row.kwargs,
        1 if row.args_incomplete else 0, row.result, row.exception, row.traceback,
        row.retries, _sqlite_time(row.eta), _sqlite_time(row.expires), row.parent_id,
        row.root_id, _sqlite_time(row.first_seen_at), _sqlite_time(row.sent_at),
        _sqlite_time(row.received_at), _sqlite_time(row.started_at),
        _sqlite_time(row.retried_at), _sqlite_time(row.finished_at), row.runtime,
        row.queue_wait, row.lost_reason, updated_at, row.group_id,
        attempts.encode(row.attempts),
    )  # fmt: skip


def _task_from_record(record: Any) -> TaskRow:
    row = TaskRow(record["task_id"], record["state"], to_epoch(record["state_changed_at"]) or 0.0)
    for name in _TASK_COLUMNS:
        if name in ("task_id", "state", "runtime", "queue_wait", "updated_at"):
            continue
        value = record[name]
        if name in _TASK_TIME_FIELDS:
            value = to_epoch(value)
        elif name == "attempts":
            value = attempts.decode(value)
        setattr(row, name, value)
    row.args_incomplete = bool(row.args_incomplete)
    row.retries = row.retries or 0
    if row.first_seen_at is None:
        row.first_seen_at = row.state_changed_at or 0.0
    row.reported_runtime = record["runtime"] if record["state"] == "SUCCESS" else None
    return row


def _worker_params(row: WorkerRow, updated_at: datetime | None) -> dict[str, Any]:
    return {
        "hostname": row.hostname,
        "status": row.status,
        "last_heartbeat": to_datetime(row.last_heartbeat),
        "online_at": to_datetime(row.online_at),
        "offline_at": to_datetime(row.offline_at),
        "active": row.active or 0,
        "processed": row.processed or 0,
        "loadavg": row.loadavg,
        "software": row.software,
        "pid": row.pid,
        "freq": row.freq,
        "updated_at": updated_at,
    }


def _worker_from_record(record: Any) -> WorkerRow:
    heartbeat, offline = to_epoch(record["last_heartbeat"]), to_epoch(record["offline_at"])
    status_at = max(x for x in (heartbeat, offline, 0.0) if x is not None)
    row = WorkerRow(record["hostname"], record["status"], status_at)
    row.last_heartbeat, row.offline_at = heartbeat, offline
    row.online_at = to_epoch(record["online_at"])
    for name in ("active", "processed", "loadavg", "software", "pid", "freq"):
        setattr(row, name, record[name])
    return row
