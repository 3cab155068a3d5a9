"""Failure groups: the fingerprint, and grouping as the writer stores final failures."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from sqlalchemy import Engine, text

from controlplane import db
from controlplane.events.merge import TaskRow
from controlplane.events.store import EventStore
from controlplane.failures.fingerprint import cause_of, normalise
from controlplane.failures.ingest import record_failures

TB = """Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/celery/app/trace.py", line 453, in trace_task
    R = retval = fun(*args, **kwargs)
  File "/srv/app/shop/orders.py", line {line}, in {function}
    return lookup(user)
  File "/usr/lib/python3.12/json/decoder.py", line 12, in decode
    raise KeyError(key)
KeyError: {message}
"""


def tb(message: str, function: str = "charge", line: int = 10) -> str:
    return TB.format(message=message, function=function, line=line)


def test_per_run_values_are_replaced_so_one_cause_is_one_group() -> None:
    a = cause_of("shop.charge", "KeyError('user 4821')", tb("'user 4821'"))
    b = cause_of("shop.charge", "KeyError('user 77')", tb("'user 77'", line=99))
    assert a.fingerprint == b.fingerprint
    assert (a.exception_type, a.frame) == ("KeyError", "shop/orders.py in charge")
    assert normalise("order 12 at 0xdeadbeef for 3f2504e0-4f89-11d3-9a0c-0305e82c3301") == (
        "order <n> at <hex> for <id>"
    )
    assert normalise("user 'bob' id=4821 hash 9f86d081884c7d65") == "user <value> id=<n> hash <hex>"
    other_frame = cause_of("shop.charge", "KeyError('user 4821')", tb("'x'", function="refund"))
    other_type = cause_of("shop.charge", "ValueError('user 4821')", tb("'x'"))
    other_task = cause_of("shop.refund", "KeyError('user 4821')", tb("'x'"))
    prints = {c.fingerprint for c in (a, other_frame, other_type, other_task)}
    assert len(prints) == 4


def _failed(task_id: str, name: str | None, message: str, at: float, **extra: Any) -> TaskRow:
    row = TaskRow(task_id, "FAILURE", at)
    row.name, row.worker, row.finished_at, row.first_seen_at = name, "w1@host", at, at - 1
    row.exception, row.traceback = f"KeyError({message!r})", tb(repr(message))
    for key, value in extra.items():
        setattr(row, key, value)
    return row


def _write(engine: Engine, rows: list[TaskRow]) -> int:
    store = EventStore(engine)
    now = time.time()
    with engine.begin() as connection:
        store.merge_tasks(connection, {row.task_id: row for row in rows}, now)
        return record_failures(connection, [r.task_id for r in rows if r.state == "FAILURE"], now)


def test_final_failures_are_counted_once_and_a_resolved_group_reopens(database_url: str) -> None:
    from controlplane.config import Settings
    from controlplane.failures.actions import set_status
    from controlplane.failures.groups import get_group, list_groups, state_counts
    from controlplane.services import build_services

    engine = db.make_engine(database_url)
    db.upgrade(engine)
    services = build_services(Settings(database_url=database_url, secret_key="x"), engine)
    now = time.time()
    first = [_failed(f"t{i}", "shop.charge", f"user {i}", now - 100 + i) for i in range(3)]
    assert _write(engine, first) == 3
    assert _write(engine, first) == 0  # the same events again add nothing
    # a task whose FAILURE arrives without its name (received earlier): grouped by its row
    received = TaskRow("late", "RECEIVED", now - 50)
    received.name, received.first_seen_at = "shop.charge", now - 50
    _write(engine, [received])
    assert _write(engine, [_failed("late", None, "user 9", now - 40)]) == 1
    # a success is not a failure; another cause is another group
    ok = TaskRow("fine", "SUCCESS", now)
    ok.name = "shop.charge"
    assert _write(engine, [ok, _failed("r1", "shop.refund", "user 1", now - 30)]) == 1

    groups = list_groups(services)
    assert [(g.task_name, g.failures, g.tasks_affected) for g in groups] == [
        ("shop.refund", 1, 1), ("shop.charge", 4, 4)
    ]  # fmt: skip
    charge = groups[1]
    assert charge.state == "new" and charge.workers == (("w1@host", 4),)
    assert sum(charge.hourly) == 4 and charge.sample_task_id == "late"

    # a console retry that fails again is one more failure of the same task
    sent = TaskRow("t0-retry", "PENDING", now - 25)
    sent.name, sent.first_seen_at = "shop.charge", now - 25
    _write(engine, [sent])
    with engine.begin() as connection:  # as control's retry records it when it sends
        connection.execute(text("UPDATE tasks SET retry_of = 't0' WHERE task_id = 't0-retry'"))
    _write(engine, [_failed("t0-retry", "shop.charge", "user 0", now - 20)])
    detail = get_group(services, charge.id)
    assert detail is not None
    assert (detail.group.failures, detail.group.tasks_affected) == (5, 4)
    assert (detail.not_retried, detail.not_retried_more) == (4, False)  # t0 has a retry child
    services.settings = dataclasses.replace(services.settings, bulk_max=3)
    capped = get_group(services, charge.id)  # the page counts as far as one Retry group goes
    assert capped is not None and (capped.not_retried, capped.not_retried_more) == (3, True)

    assert set_status(services, "alice", charge.id, "resolve").ok
    assert list_groups(services, state="resolved")[0].status_by == "alice"
    _write(engine, [_failed("t-again", "shop.charge", "user 5", time.time() + 1)])
    reopened = list_groups(services, state="regression")
    assert [g.id for g in reopened] == [charge.id]
    assert state_counts(services) == {
        "new": 1, "regression": 1, "ongoing": 0, "resolved": 0, "ignored": 0
    }  # fmt: skip
    # retention takes the members with the tasks' history; the group keeps its counts
    from datetime import UTC, datetime, timedelta

    from controlplane.failures.retention import purge_failures_before

    assert purge_failures_before(services, datetime.now(UTC) + timedelta(hours=1), batch=3) == 7
    kept = get_group(services, charge.id)
    assert kept is not None and kept.recent == () and kept.group.failures == 6
    services.close()
    engine.dispose()
