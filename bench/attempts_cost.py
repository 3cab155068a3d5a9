"""What the attempts record costs per event, part by part (CPU time, steadier than bench/ingest's
end-to-end rates on a shared machine).

Folds a firehose-like stream (sent, received, started, succeeded per task: 8 workers, 8 pids)
and writes it in batches of 1,000 tasks, and prints JSON lines, in microseconds per event:
- `fold`: validate + merge in Python (the processor thread, both databases);
- `sqlite_write`: the writer's merge_tasks on SQLite (Python and SQLite, one process);
- `pg_client`, `pg_backend`: merge_tasks on PostgreSQL, the writer's CPU and its backend's;
- `pg_table_alternative`: the backend CPU a separate `task_attempts` table would add instead
  (COPY of every entry into a staging table, INSERT ... ON CONFLICT DO NOTHING on a primary
  key of task id, time, kind, host and pid), the design the JSON column was chosen over.

    .venv/bin/python bench/attempts_cost.py [--tree PATH] [--tasks 20000] [--postgres-url URL]

`--tree` imports controlplane from another checkout (for example `git archive` of the commit
before the attempts record) to measure the same parts there; the alternative runs only when
the tree has the attempts record.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
import psycopg

NOW = 1_790_000_000.0
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def stream(tasks: int) -> list[dict[str, Any]]:
    events = []
    for index in range(tasks):
        at = NOW + index * 0.01
        common = {"uuid": f"task-{index:08d}-{uuid.UUID(int=index).hex[:24]}",
                  "hostname": f"w{index % 8}@host", "pid": 4000 + index % 8, "utcoffset": 0,
                  "clock": index}  # fmt: skip
        call = {"name": "app.tasks.x", "args": "(1, 2)", "kwargs": "{}", "retries": 0}
        events += [
            {**common, **call, "type": "task-sent", "timestamp": at, "queue": "q",
             "routing_key": "q", "exchange": ""},
            {**common, **call, "type": "task-received", "timestamp": at + 0.001},
            {**common, "type": "task-started", "timestamp": at + 0.002},
            {**common, "type": "task-succeeded", "timestamp": at + 0.003, "result": "3",
             "runtime": 0.001},
        ]  # fmt: skip
    return events


def emit(part: str, seconds: float, events: int) -> None:
    print(json.dumps({"bench": "attempts_cost", "part": part,
                      "us_per_event": round(seconds / events * 1e6, 2)}))  # fmt: skip


def cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree", default=str(Path(__file__).resolve().parent.parent))
    parser.add_argument("--tasks", type=int, default=20000)
    parser.add_argument("--postgres-url", default=DEFAULT_PG)
    args = parser.parse_args()
    sys.path.insert(0, args.tree)
    from controlplane import db
    from controlplane.config import DEFAULT_REDACT_PATTERN
    from controlplane.events.batch import Batch
    from controlplane.events.redact import Redactor
    from controlplane.events.store import EventStore
    from controlplane.events.validate import task_row_from_event

    redactor = Redactor(DEFAULT_REDACT_PATTERN, 4096, 16384)
    events = stream(args.tasks)

    def fold(part: list[dict[str, Any]]) -> Any:
        batch = Batch()
        for event in part:
            batch.add_task(task_row_from_event(event, redactor))
        return batch.tasks

    started = time.process_time()
    batches = [fold(events[at : at + 4000]) for at in range(0, len(events), 4000)]
    emit("fold", time.process_time() - started, len(events))

    with tempfile.TemporaryDirectory() as directory:
        engine = db.make_engine(f"sqlite:///{directory}/bench.db")
        db.upgrade(engine)
        store = EventStore(engine)
        started = time.process_time()
        for rows in batches:
            with engine.begin() as connection:
                store.merge_tasks(connection, rows, NOW + 100)
        emit("sqlite_write", time.process_time() - started, len(events))
        engine.dispose()

    schema = f"attempts_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        separator = "&" if "?" in args.postgres_url else "?"
        engine = db.make_engine(f"{args.postgres_url}{separator}options=-csearch_path%3D{schema}")
        db.upgrade(engine)
        store = EventStore(engine)
        with engine.connect() as connection:
            raw: Any = connection.connection.driver_connection
            backend = psutil.Process(raw.info.backend_pid)
            before, started = cpu(backend), time.process_time()
            for rows in batches:
                store.merge_tasks(connection, rows, NOW + 100)
                connection.commit()
            emit("pg_client", time.process_time() - started, len(events))
            emit("pg_backend", cpu(backend) - before, len(events))
            if hasattr(next(iter(batches[0].values())), "attempts"):
                emit("pg_table_alternative", _table_alternative(raw, batches), len(events))
        engine.dispose()
    finally:
        with psycopg.connect(args.postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def _table_alternative(raw: Any, batches: list[Any]) -> float:
    """Backend CPU seconds to keep the same entries as rows of their own table."""
    backend = psutil.Process(raw.info.backend_pid)
    cursor = raw.cursor()
    cursor.execute(
        "CREATE TABLE task_attempts (task_id varchar(155), at timestamptz, kind text, "
        "host text, pid int, retries int, exception text, "
        "PRIMARY KEY (task_id, at, kind, host, pid))"
    )
    raw.commit()
    before = cpu(backend)
    for rows in batches:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS attempts_in (task_id text, at float8, "
            "kind text, host text, pid int4, retries int4, exception text) ON COMMIT DELETE ROWS"
        )
        with cursor.copy("COPY attempts_in FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["text", "float8", "text", "text", "int4", "int4", "text"])
            for row in rows.values():
                for entry in row.attempts or ():
                    copy.write_row((row.task_id, *entry))
        cursor.execute(
            "INSERT INTO task_attempts SELECT task_id, to_timestamp(at), kind, host, pid, "
            "retries, exception FROM attempts_in ORDER BY task_id, at ON CONFLICT DO NOTHING"
        )
        raw.commit()
    return cpu(backend) - before


if __name__ == "__main__":
    main()
