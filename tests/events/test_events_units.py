"""The pieces of event ingestion that need no services: decoding, redaction, merging, buffers."""

from __future__ import annotations

import base64
import json
import pickle
import queue
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from controlplane import db
from controlplane.config import DEFAULT_REDACT_PATTERN
from controlplane.events.batch import Batch, LostCheck
from controlplane.events.buffer import Connected, Disconnected, RawBuffer
from controlplane.events.decode import MalformedEvent, decode_envelope
from controlplane.events.holdback import HoldBack
from controlplane.events.merge import LOST, TaskRow
from controlplane.events.processor import Processor
from controlplane.events.redact import Redactor
from controlplane.events.resp import RespReader
from controlplane.events.stats import IngestStats
from controlplane.events.store import EventStore, GapRecord
from controlplane.events.validate import task_row_from_event
from controlplane.events.writer import Writer
from controlplane.models import Base, EventGap, Task

REDACTOR = Redactor(DEFAULT_REDACT_PATTERN, max_arg_chars=200, max_traceback_chars=300)
NOW = 1_790_000_000.0


def envelope(body: bytes, content_type: str = "application/json", **extra: object) -> bytes:
    data = {
        "body": base64.b64encode(body).decode(),
        "content-encoding": "utf-8",
        "content-type": content_type,
        "headers": {"hostname": "w@h"},
        "properties": {"body_encoding": "base64", "delivery_info": {"exchange": "celeryev"}},
    }
    data.update(extra)
    return json.dumps(data).encode()


def task_event(kind: str, at: float, **fields: object) -> dict[str, object]:
    return {"type": f"task-{kind}", "uuid": "t-1", "hostname": "w1@h", "timestamp": at, **fields}


def rows_from(events: list[dict[str, object]]) -> TaskRow:
    row = task_row_from_event(events[0], REDACTOR)
    for event in events[1:]:
        row.merge(task_row_from_event(event, REDACTOR))
    return row


# ---- decoding --------------------------------------------------------------------------------


def test_envelope_decodes_single_events_and_worker_batches() -> None:
    one = {"type": "task-started", "uuid": "a", "timestamp": NOW}
    assert decode_envelope(envelope(json.dumps(one).encode())) == [one]
    assert decode_envelope(envelope(json.dumps([one, one]).encode())) == [one, one]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (envelope(pickle.dumps({"type": "task-sent"}), "application/x-python-serialize"),
         "not_json"),
        (envelope(b"\xff\xfe{not utf8"), "bad_utf8"),
        (envelope(b"[1, 2"), "bad_body"),
        (envelope(b'"a string"'), "bad_body"),
        (b"{not json", "bad_envelope"),
        (b'{"body": "!!!", "content-type": "application/json", "properties": '
         b'{"body_encoding": "base64"}}', "bad_envelope"),
        (envelope(b"{}", headers={"compression": "application/x-gzip"}), "not_json"),
        (b"x" * 2_000_000, "too_large"),
    ],
)  # fmt: skip
def test_hostile_payloads_are_refused_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(MalformedEvent) as caught:
        decode_envelope(payload)
    assert caught.value.reason == reason


def test_a_pickle_body_is_never_unpickled(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: object, **__: object) -> None:
        raise AssertionError("unpickled")

    monkeypatch.setattr(pickle, "loads", boom)
    with pytest.raises(MalformedEvent):
        decode_envelope(envelope(pickle.dumps(["x"]), "application/x-python-serialize"))


@pytest.mark.parametrize(
    "event",
    [
        {"type": "task-sent", "uuid": 7, "timestamp": NOW},
        {"type": "task-sent", "uuid": "x" * 500, "timestamp": NOW},
        {"type": "task-sent", "uuid": "a", "timestamp": "yesterday"},
        {"type": "task-sent", "uuid": "a", "timestamp": float("nan")},
        {"type": "task-sent", "uuid": "a", "timestamp": True},
        {"type": "task-sent", "uuid": "a", "timestamp": NOW, "name": ["list"]},
        {"type": "task-sent", "uuid": "a", "timestamp": NOW, "retries": "three"},
        {"type": "task-succeeded", "uuid": "a", "timestamp": NOW, "runtime": "fast"},
    ],
)
def test_events_with_wrong_field_types_are_malformed(event: dict[str, object]) -> None:
    with pytest.raises(MalformedEvent):
        task_row_from_event(event, REDACTOR)


# ---- redaction -------------------------------------------------------------------------------


def test_secret_kwargs_are_masked_and_marked_incomplete() -> None:
    text, incomplete = REDACTOR.call_args("{'password': 'hunter2', 'user': 'ann'}")
    assert text == "{'password': '***', 'user': 'ann'}"
    assert incomplete


def test_nested_secrets_and_url_passwords_are_masked() -> None:
    text, _ = REDACTOR.call_args("[{'db': 'postgres://app:s3cr3t@db/x', 'api_key': 'k-123'}]")
    assert "s3cr3t" not in text and "k-123" not in text
    assert "postgres://app:***@db/x" in text


def test_secrets_in_a_traceback_are_masked_and_the_rest_kept() -> None:
    traceback = (
        'File "/srv/venv/sqlalchemy/orm/session.py", line 1969, in commit\n'
        "psycopg.OperationalError: connecting to postgresql://shop:s3cret@db:5432/shop\n"
        "[parameters: {'state': 'paid', 'id': 12}] retry=3 opts=api_key=k-123 "
        'auth_token = "two words" Password: hunter2\n'
    )
    kept = REDACTOR.free_text(traceback, traceback=True) or ""
    for secret in ("s3cret", "k-123", "two words", "hunter2"):
        assert secret not in kept
    assert "postgresql://shop:***@db:5432/shop" in kept
    assert "'state': 'paid'" in kept and "retry=3" in kept and "orm/session.py" in kept


def test_an_unparsable_repr_with_a_secret_key_is_withheld_whole() -> None:
    text, incomplete = REDACTOR.call_args("{'token': <Token object at 0x7f>, 'n': 1}")
    assert "Token" not in text and incomplete


def test_argsrepr_chosen_by_the_producer_is_what_is_stored() -> None:
    event = task_event("sent", NOW, args="['card-4242']", argsrepr="['<card>']", kwargs="{}")
    assert task_row_from_event(event, REDACTOR).args == "['<card>']"


def test_long_values_are_cut_and_tracebacks_keep_their_end() -> None:
    text, incomplete = REDACTOR.call_args("x" * 1000)
    assert len(text or "") == 200 and incomplete
    traceback = "Traceback\n" + "frame\n" * 200 + "ValueError: the end"
    kept = REDACTOR.free_text(traceback, traceback=True) or ""
    assert len(kept) == 300 and kept.endswith("ValueError: the end")


def test_text_that_databases_refuse_is_cleaned() -> None:
    text, _ = REDACTOR.call_args("a\x00b\ud800c")
    assert "\x00" not in (text or "") and "\ud800" not in (text or "")
    (text or "").encode("utf-8")


# ---- merging ---------------------------------------------------------------------------------


def test_a_late_task_received_never_overwrites_success() -> None:
    events = [
        task_event("succeeded", NOW + 2, result="3", runtime=0.5),
        task_event("started", NOW + 1),
        task_event("received", NOW + 0.5, name="add", args="(1, 2)", kwargs="{}"),
    ]
    row = rows_from(events)
    assert row.state == "SUCCESS"
    assert (row.name, row.result, row.runtime) == ("add", "3", 0.5)
    assert row.received_at == NOW + 0.5 and row.started_at == NOW + 1


def test_a_retry_cycle_ends_in_its_latest_state_whatever_the_order() -> None:
    events = [
        task_event("received", NOW, name="flaky", args="()", kwargs="{}"),
        task_event("started", NOW + 1),
        task_event("retried", NOW + 2, exception="TransientError('x')"),
        task_event("received", NOW + 3, name="flaky", args="()", kwargs="{}", retries=1),
    ]
    for order in (events, events[::-1], events[1:] + events[:1]):
        row = rows_from(order)
        assert (row.state, row.retries, row.retried_at) == ("RECEIVED", 1, NOW + 2)
        assert row.exception is None  # it belonged to the RETRY state


def test_failure_runtime_and_queue_wait_come_from_the_merged_times() -> None:
    row = rows_from([
        task_event("sent", NOW, name="f", args="()", kwargs="{}"),
        task_event("failed", NOW + 3, exception="ValueError('x')", traceback="Traceback..."),
        task_event("started", NOW + 1),
    ])  # fmt: skip
    assert (row.state, row.runtime, row.queue_wait) == ("FAILURE", 2.0, 1.0)
    assert row.exception == "ValueError('x')"


def test_lost_gives_way_to_a_later_start_and_to_any_terminal_state() -> None:
    started = task_row_from_event(task_event("started", NOW), REDACTOR)
    lost = TaskRow("t-1", LOST, NOW + 5)
    lost.lost_reason = "worker went offline"
    assert started.merge(lost).state == LOST
    again = task_row_from_event(task_event("started", NOW + 10), REDACTOR)
    assert started.merge(again).state == "STARTED"
    done = task_row_from_event(task_event("succeeded", NOW + 1, runtime=1.0), REDACTOR)
    assert started.merge(done).state == "SUCCESS"


# ---- wire and buffer -------------------------------------------------------------------------


def resp_pmessage(channel: bytes, data: bytes) -> bytes:
    parts = [b"pmessage", b"/0.celeryev/*", channel, data]
    return b"*4\r\n" + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)


def test_resp_reader_reassembles_messages_split_anywhere() -> None:
    stream = b"*3\r\n$10\r\npsubscribe\r\n$13\r\n/0.celeryev/*\r\n:1\r\n" + b"".join(
        resp_pmessage(b"/0.celeryev/task.%s" % b"x" * (i % 3), b"payload-%d" % i) for i in range(50)
    )
    for size in (1, 7, 64, len(stream)):
        reader = RespReader()
        got = []
        for start in range(0, len(stream), size):
            got += reader.messages(stream[start : start + size])
        assert got == [b"payload-%d" % i for i in range(50)]


def test_resp_reader_resynchronises_after_dropped_bytes_or_garbage() -> None:
    first, second = resp_pmessage(b"c", b"one"), resp_pmessage(b"c", b"two")
    reader = RespReader()
    assert reader.messages(first[:20]) == []
    reader.reset(resync=True)
    assert reader.messages(first[30:] + second) == [b"two"]
    assert reader.messages(second + b"*4\r\n$8\r\npmessage\r\n$x\r\n" + second) == [b"two"]
    assert reader.broken is not None  # the garbage was noticed, and reading went on
    assert reader.messages(second) == [b"two"]


def test_buffer_spills_to_disk_in_order_and_counts_what_does_not_fit() -> None:
    buffer = RawBuffer(max_bytes=100, spool_bytes=1000)
    items = [bytes([65 + i]) * 40 for i in range(10)]
    buffer.put_marker(Connected(NOW, "redis"))
    for item in items[:5]:
        assert buffer.put(item, len(item))
    buffer.put_marker(Disconnected(NOW + 1, "redis", "gone"))
    for item in items[5:]:
        assert buffer.put(item, len(item))
    assert buffer.size > buffer.max_bytes  # part of it is on disk
    assert not buffer.put(b"z" * 2000, 2000)  # fits nowhere: dropped
    assert buffer.put(b"last", 4)
    out = []
    while not buffer.empty():
        out += buffer.take(timeout=0.01)
    kinds = [type(item).__name__ for item in out]
    assert out[1:6] == items[:5] and out[7:12] == items[5:]
    assert kinds[0] == "Connected" and kinds[6] == "Disconnected" and kinds[12] == "Overflow"
    assert out[-1] == b"last" and out[12].dropped_bytes == 2000
    buffer.close()


def test_processor_counts_malformed_events_and_keeps_going() -> None:
    stats = IngestStats()
    processor = Processor(RawBuffer(1 << 20), queue.Queue(), REDACTOR, stats, source_name="t")
    good = {"type": "task-sent", "uuid": "ok", "timestamp": NOW, "name": "n", "queue": "q"}
    for payload in (
        envelope(pickle.dumps(good), "application/x-python-serialize"),
        envelope(json.dumps({"type": "task-exploded", "timestamp": NOW}).encode()),
        envelope(json.dumps({"type": "task-sent", "uuid": 1, "timestamp": NOW}).encode()),
        envelope(json.dumps(good).encode()),
    ):
        processor.process_payload(payload)
    batch = processor.take_batch()
    assert list(batch.tasks) == ["ok"]
    snapshot = stats.snapshot()
    assert snapshot.malformed == {"not_json": 1, "unknown_type": 1, "bad_field": 1}
    assert snapshot.events_by_type == {"task-sent": 1}
    assert snapshot.task_events == {("n", "", "q"): {"sent": 1}}


# ---- holding unfinished rows back ------------------------------------------------------------


def batch_of(*events: dict[str, object]) -> Batch:
    batch = Batch()
    for event in events:
        batch.add_task_event(task_row_from_event(event, REDACTOR))
        batch.events += 1
    return batch


def test_finished_rows_go_at_once_and_unfinished_ones_wait_folding_their_events() -> None:
    hold = HoldBack(seconds=1.0)
    first = batch_of(
        {"type": "task-started", "uuid": "short", "hostname": "w", "timestamp": NOW},
        {"type": "task-started", "uuid": "done", "hostname": "w", "timestamp": NOW},
        {"type": "task-succeeded", "uuid": "done", "hostname": "w", "timestamp": NOW + 1},
    )
    sent, waiting = hold.split(first, now=100.0)
    assert list(sent.tasks) == ["done"] and sent.events == 2
    assert list(waiting.tasks) == ["short"] and waiting.events == 1
    waiting.add_task_event(
        task_row_from_event(
            {"type": "task-failed", "uuid": "short", "hostname": "w", "timestamp": NOW + 2},
            REDACTOR,
        )
    )
    waiting.events += 1
    sent, waiting = hold.split(waiting, now=100.5)
    assert sent.tasks["short"].state == "FAILURE" and sent.events == 2  # one write for both
    assert not waiting


def test_an_unfinished_row_waits_no_longer_than_the_hold() -> None:
    hold = HoldBack(seconds=1.0)
    batch = batch_of({"type": "task-started", "uuid": "long", "hostname": "w", "timestamp": NOW})
    sent, waiting = hold.split(batch, now=100.0)
    assert not sent.tasks
    sent, waiting = hold.split(waiting, now=100.9)
    assert not sent.tasks
    sent, waiting = hold.split(waiting, now=101.0)
    assert sent.tasks["long"].state == "STARTED" and not waiting


def test_a_lost_check_or_the_end_sends_every_waiting_row_and_the_oldest_go_first() -> None:
    started = {"type": "task-started", "hostname": "w", "timestamp": NOW}
    hold = HoldBack(seconds=10.0, max_rows=2)
    sent, waiting = hold.split(
        batch_of(*({**started, "uuid": f"t{n}"} for n in range(3))), now=100.0
    )
    assert list(sent.tasks) == ["t0"] and list(waiting.tasks) == ["t1", "t2"]
    waiting.lost_checks.append(LostCheck("w", NOW + 5, "worker went offline"))
    sent, waiting = hold.split(waiting, now=100.1)
    assert list(sent.tasks) == ["t1", "t2"] and not waiting
    sent, waiting = hold.split(batch_of({**started, "uuid": "t3"}), now=100.2, everything=True)
    assert list(sent.tasks) == ["t3"] and not waiting


def test_a_retried_batch_writes_its_gaps_once_and_still_marks_the_lost_tasks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'retry.db'}")
    Base.metadata.create_all(engine)
    store = EventStore(engine)
    batch = batch_of({"type": "task-started", "uuid": "t", "hostname": "w", "timestamp": NOW})
    batch.gaps.append(GapRecord(NOW - 10, NOW - 5, "lost the subscription", 3, "redis"))
    batch.lost_checks.append(LostCheck("w", NOW + 5, "worker went offline"))
    real, failures = store.started_on, [OperationalError("SELECT", {}, Exception("gone"))]

    def flaky(*args: object) -> list[str]:
        if failures:
            raise failures.pop()
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "started_on", flaky)
    writer = Writer(store, queue.Queue(), IngestStats())
    writer._write_with_retry(batch)
    assert writer.errors == 1
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(EventGap)).scalar() == 1
        assert connection.execute(select(Task.state)).scalar() == LOST
    engine.dispose()


def test_a_sent_task_whose_events_were_all_missed_is_still_reconciled(tmp_path: Path) -> None:
    """The console's own PENDING row (no state time yet) is among the unfinished rows a
    reconciliation looks up, once it is older than `before`; a newer one is not."""
    from controlplane.control.tasks import _record_sent

    engine = db.make_engine(f"sqlite:///{tmp_path / 'sent.db'}")
    Base.metadata.create_all(engine)
    with db.session_scope(db.make_session_factory(engine)) as session:
        _record_sent(session, "sent-unseen", "faults.record", "q")
    store = EventStore(engine)
    with engine.connect() as connection:
        assert connection.execute(select(Task.state_changed_at)).scalar() is None
    assert store.unfinished_tasks(before=time.time() + 1, limit=10) == [
        ("sent-unseen", "PENDING", None)
    ]
    assert store.unfinished_tasks(before=time.time() - 60, limit=10) == []
    engine.dispose()
