"""On PostgreSQL a batch is merged by one SQL statement (merge_sql.py) instead of merge.py:
random event streams, cut into batches anyhow, shuffled, repeated, and written by two
ingesters at once, end in exactly the rows merge.py folds in Python."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text

from controlplane import db
from controlplane.config import DEFAULT_REDACT_PATTERN
from controlplane.events import attempts
from controlplane.events.batch import Batch, LostCheck, lost_row
from controlplane.events.merge import TaskRow
from controlplane.events.redact import Redactor
from controlplane.events.store import TASKS, EventStore, to_epoch
from controlplane.events.validate import (
    GROUP_EVENT,
    TASK_EVENT_STATES,
    group_row_from_event,
    task_row_from_event,
)
from tests.conftest import postgres_schema

pytestmark = pytest.mark.postgres

REDACTOR = Redactor(DEFAULT_REDACT_PATTERN, 4096, 16384)
NOW = 1_790_000_000.0
KINDS = sorted(TASK_EVENT_STATES)
# few distinct values, so that ties (same state, same time) and max/min choices are common
TIMES = (0.0, 0.5, 1.0, 1.000001, 2.0, 30.25)
WORDS = ("a", "b", "é", "Z", "zz", "é2")  # code point order: 'Z' < 'a' < 'zz' < 'é'


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    """A task event, or (type "lost") the row the ingester makes for a task it finds lost."""
    kind = draw(st.sampled_from((*KINDS, "lost", GROUP_EVENT)))
    event: dict[str, Any] = {
        "type": kind,
        "uuid": draw(st.sampled_from(("t1", "t2", "t3"))),
        "timestamp": NOW + draw(st.sampled_from(TIMES)),
        "hostname": draw(st.sampled_from(("w1@h", "w2@h", "client@h"))),
        "pid": draw(st.sampled_from((None, 7, 4000))),
    }
    maybe = st.none() | st.sampled_from(WORDS)
    if kind in ("task-sent", "task-received"):
        event.update(
            name=draw(maybe), args=draw(maybe), kwargs=draw(maybe),
            retries=draw(st.sampled_from((0, 1, 3))), parent_id=draw(maybe),
            root_id=draw(maybe),
            eta=draw(st.none() | st.just("2026-09-21T10:00:00+00:00")),
        )  # fmt: skip
        if kind == "task-sent":
            event.update(queue=draw(maybe), routing_key=draw(maybe), exchange=draw(maybe))
    elif kind == "task-succeeded":
        event.update(result=draw(maybe), runtime=draw(st.sampled_from((None, 0.1, 2.5))))
    elif kind in ("task-failed", "task-retried"):
        event.update(exception=draw(maybe), traceback=draw(maybe))
    elif kind == "task-revoked":
        event.update(terminated=draw(st.booleans()), signum=draw(st.sampled_from((9, 15))))
    elif kind == "task-rejected":
        event.update(requeue=draw(st.booleans()))
    elif kind == GROUP_EVENT:
        event.update(group=draw(maybe))
    return event


def row_of(event: dict[str, Any]) -> TaskRow:
    if event["type"] == "lost":
        check = LostCheck(event["hostname"], event["timestamp"], "worker went offline")
        return lost_row(event["uuid"], check)
    if event["type"] == GROUP_EVENT:
        return group_row_from_event(event)
    return task_row_from_event(event, REDACTOR)


def python_fold(stream: list[dict[str, Any]]) -> dict[str, TaskRow]:
    rows: dict[str, TaskRow] = {}
    for event in stream:
        row = row_of(event)
        current = rows.get(row.task_id)
        rows[row.task_id] = row if current is None else current.merge(row)
    return rows


COLUMNS = tuple(c for c in TaskRow.FIELDS if c != "reported_runtime") + ("runtime", "queue_wait")
TIME_COLUMNS = frozenset(
    ("state_changed_at", "eta", "expires", "first_seen_at", "sent_at", "received_at",
     "started_at", "retried_at", "finished_at")
)  # fmt: skip


def expected(rows: dict[str, TaskRow]) -> dict[str, tuple[Any, ...]]:
    return {tid: tuple(getattr(row, c) for c in COLUMNS) for tid, row in rows.items()}


def stored(engine: Engine) -> dict[str, tuple[Any, ...]]:
    with engine.connect() as connection:
        records = connection.execute(select(*[TASKS.c[c] for c in COLUMNS])).all()
    out = {}
    for record in records:
        values = [
            to_epoch(value)
            if name in TIME_COLUMNS
            else attempts.decode(value)
            if name == "attempts"
            else value
            for name, value in zip(COLUMNS, record, strict=True)
        ]
        out[values[0]] = tuple(values)
    return out


def write(store: EventStore, stream: list[dict[str, Any]], cuts: list[int]) -> None:
    """Fold `stream` batch by batch (sizes from `cuts`) and merge each batch in SQL."""
    position, sizes = 0, iter(cuts)
    while position < len(stream):
        size = next(sizes, len(stream))
        batch = Batch()
        for event in stream[position : position + size]:
            batch.add_task(row_of(event))
        with store.engine.begin() as connection:
            store.merge_tasks(connection, batch.tasks, NOW + 100)
        position += size


@pytest.fixture(scope="module")
def pg_engine() -> Iterator[Engine]:
    """One schema for the module's many examples (each starts from an empty table)."""
    with postgres_schema() as url:
        engine = db.make_engine(url)
        db.upgrade(engine)
        yield engine
        engine.dispose()


def empty(engine: Engine) -> EventStore:
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE tasks"))
    return EventStore(engine)


@pytest.mark.long  # 150 examples on the store under test, about 40 s: make faults runs it
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    stream=st.lists(events(), min_size=1, max_size=25),
    cuts=st.lists(st.integers(1, 6), max_size=25),
    data=st.data(),
)
def test_the_sql_merge_ends_in_the_rows_merge_py_folds(
    pg_engine: Engine, stream: list[dict[str, Any]], cuts: list[int], data: st.DataObject
) -> None:
    want = expected(python_fold(stream))
    shuffled = data.draw(st.permutations(stream + data.draw(st.lists(st.sampled_from(stream)))))
    store = empty(pg_engine)
    write(store, shuffled, cuts)
    assert stored(pg_engine) == want


def test_two_writers_merging_overlapping_batches_at_once_agree(pg_engine: Engine) -> None:
    """Two ingesters see the same stream (Redis pub/sub fans out): each merges it in its own
    order and batch sizes, concurrently, without a lock; no deadlock, one result."""
    rng = random.Random(7)
    stream = []
    for index in range(3000):
        task = f"task-{index % 400}"
        kind = KINDS[rng.randrange(len(KINDS))]
        event = {"type": kind, "uuid": task, "hostname": f"w{index % 3}@h",
                 "timestamp": NOW + rng.choice(TIMES) + index % 7}  # fmt: skip
        if kind == "task-succeeded":
            event.update(result=str(index), runtime=0.5)
        stream.append(event)
    want = expected(python_fold(stream))
    empty(pg_engine)
    errors: list[BaseException] = []

    def ingester(seed: int) -> None:
        own = stream[:]
        random.Random(seed).shuffle(own)
        try:
            write(EventStore(pg_engine), own, [random.Random(seed).randint(50, 400)] * 100)
        except BaseException as exc:  # reported below: a deadlock would land here
            errors.append(exc)

    threads = [threading.Thread(target=ingester, args=(seed,)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert stored(pg_engine) == want


def test_a_long_attempts_record_is_cut_alike_in_sql_and_in_python(pg_engine: Engine) -> None:
    """Past attempts.CAP entries both merges keep the same first and last ones, whatever the
    order and batching (a task redelivered and retried many times)."""
    rng = random.Random(11)
    stream = []
    for index in range(3 * attempts.CAP):
        kind = ("task-received", "task-started", "task-retried")[index % 3]
        stream.append({"type": kind, "uuid": "long", "hostname": f"w{index % 4}@h",
                       "pid": 100 + index % 5, "timestamp": NOW + index * 0.5,
                       "retries": index // 3, "exception": f"Boom({index})"})  # fmt: skip
    want = expected(python_fold(stream))
    assert len(want["long"][COLUMNS.index("attempts")]) == attempts.CAP
    for seed in (1, 2, 3):
        shuffled = stream + stream[:10]
        rng.shuffle(shuffled)
        store = empty(pg_engine)
        write(store, shuffled, [rng.randint(1, 9) for _ in range(200)])
        assert stored(pg_engine) == want, seed
