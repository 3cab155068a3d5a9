"""The attempts record (events/attempts.py): one entry per receive/start/retry/end, merged as
a set, bounded, and read back as deliveries, autoretries and a duplicate flag."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from controlplane import db
from controlplane.config import DEFAULT_REDACT_PATTERN
from controlplane.events import attempts
from controlplane.events.batch import Batch
from controlplane.events.merge import TaskRow
from controlplane.events.redact import Redactor
from controlplane.events.store import EventStore
from controlplane.events.validate import task_row_from_event
from controlplane.models import Base

REDACTOR = Redactor(DEFAULT_REDACT_PATTERN, max_arg_chars=200, max_traceback_chars=300)
NOW = 1_790_000_000.0


def event(kind: str, at: float, host: str = "w1@h", pid: int = 10, **extra: Any) -> dict[str, Any]:
    return {"type": f"task-{kind}", "uuid": "t", "timestamp": NOW + at, "hostname": host,
            "pid": pid, **extra}  # fmt: skip


def fold(events: list[dict[str, Any]]) -> TaskRow:
    row: TaskRow | None = None
    for item in events:
        one = task_row_from_event(item, REDACTOR)
        row = one if row is None else row.merge(one)
    assert row is not None
    return row


def test_the_same_event_twice_is_one_entry_and_order_does_not_matter() -> None:
    stream = [event("received", 0), event("started", 1), event("succeeded", 2)]
    once = fold(stream)
    twice = fold([*stream, *reversed(stream)])
    assert once.attempts == twice.attempts
    assert [entry[1] for entry in once.attempts or ()] == ["received", "started", "succeeded"]
    assert once.attempts and once.attempts[0][2:4] == ("w1@h", 10)


def test_autoretries_are_deliveries_celery_explains() -> None:
    stream = []
    for retry in range(3):
        stream += [event("received", retry * 10, retries=retry), event("started", retry * 10 + 1)]
        if retry < 2:
            stream.append(event("retried", retry * 10 + 2, exception=f"ValueError({retry})"))
    stream.append(event("succeeded", 30))
    record = attempts.summary(fold(stream).attempts)
    assert (record.deliveries, record.autoretries, record.duplicate) == (3, 2, False)
    retried = [a for a in record.attempts if a.kind == "retried"]
    assert [a.exception for a in retried] == ["ValueError(0)", "ValueError(1)"]


def test_a_message_received_again_after_its_process_died_is_a_duplicate() -> None:
    """A pool process SIGKILLed with task_reject_on_worker_lost: the same worker (same host
    and pid) receives the same message again, retries still 0."""
    stream = [event("received", 0), event("started", 1), event("rejected", 2, requeue=True),
              event("received", 3), event("started", 4), event("succeeded", 5)]  # fmt: skip
    record = attempts.summary(fold(stream).attempts)
    assert (record.deliveries, record.redeliveries, record.duplicate) == (2, 1, True)


def test_two_workers_running_the_same_message_are_two_deliveries() -> None:
    """Past Redis' visibility_timeout a second worker gets a message the first still runs."""
    stream = [event("received", 0, "w1@h"), event("received", 1, "w2@h", 20),
              event("started", 2, "w1@h"), event("started", 3, "w2@h", 20),
              event("succeeded", 4, "w1@h"), event("succeeded", 5, "w2@h", 20)]  # fmt: skip
    record = attempts.summary(fold(stream).attempts)
    assert (record.deliveries, record.duplicate) == (2, True)
    assert record.hosts == ("w1@h (pid 10)", "w2@h (pid 20)")


def test_an_eta_task_restored_to_the_same_worker_is_two_deliveries() -> None:
    """FAULTS row 5: a countdown longer than visibility_timeout; the worker holding the ETA
    message receives it again, and both copies start when their time comes."""
    stream = [event("received", 0), event("received", 5), event("started", 15),
              event("started", 15.001), event("succeeded", 16),
              event("succeeded", 16.5)]  # fmt: skip
    record = attempts.summary(fold(stream).attempts)
    assert (record.deliveries, record.duplicate) == (2, True)


def test_a_start_whose_receipt_was_lost_still_counts_as_a_delivery() -> None:
    record = attempts.summary(fold([event("started", 1), event("started", 5, pid=11)]).attempts)
    assert record.deliveries == 2 and record.duplicate


def test_the_record_is_bounded_keeping_the_first_and_the_last_in_any_order() -> None:
    stream = [event("received" if i % 2 else "started", i, retries=i) for i in range(100)]
    want = fold(stream).attempts
    assert want is not None and len(want) == attempts.CAP
    assert want[0][0] == NOW and want[-1][0] == NOW + 99
    rng = random.Random(3)
    for _ in range(5):
        shuffled = stream[:]
        rng.shuffle(shuffled)
        assert fold(shuffled).attempts == want
    assert not attempts.summary(want).complete


def test_an_autoretried_task_is_not_its_own_parent() -> None:
    """Celery's autoretry re-sends the task from inside itself: a task sent from outside any
    task then arrives with itself as parent_id."""
    row = fold([event("received", 0), event("received", 5, parent_id="t", retries=1)])
    assert row.parent_id is None
    assert fold([event("received", 0, parent_id="p")]).parent_id == "p"


def test_sqlite_store_keeps_the_record_across_batches() -> None:
    stream = [event("received", 0), event("started", 1), event("retried", 2, exception="E()"),
              event("received", 3, retries=1), event("started", 4), event("failed", 5)]  # fmt: skip
    with tempfile.TemporaryDirectory() as directory:
        engine = db.make_engine(f"sqlite:///{Path(directory) / 'a.db'}")
        Base.metadata.create_all(engine)
        store = EventStore(engine)
        for item in stream + stream[:2]:
            batch = Batch()
            batch.add_task(task_row_from_event(item, REDACTOR))
            with engine.begin() as connection:
                store.merge_tasks(connection, batch.tasks, NOW + 10)
        with engine.connect() as connection:
            stored = store._sqlite_load_tasks(connection.connection.cursor(), ["t"])["t"]
        engine.dispose()
    assert stored.attempts == fold(stream).attempts
    record = attempts.summary(stored.attempts)
    assert (record.deliveries, record.autoretries, record.duplicate) == (2, 1, False)
