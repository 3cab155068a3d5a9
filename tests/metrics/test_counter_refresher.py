"""A replica's task counters refreshed by their thread beside the scrapes (events/refresher.py):
rows written show without a scrape rebuilding them, a refresh that fails is retried by the next
scrape itself, and the thread stops when nobody asks or the services close."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from controlplane import db
from controlplane.clock import utcnow
from controlplane.events.counters import DatabaseCounters
from controlplane.models import Task
from controlplane.services import Services

ADD = "worker_tasks.tasks.add"
LABELS = (ADD, "w@host", "q")


def add_success(services: Services) -> None:
    now = utcnow()
    with db.session_scope(services.sessions) as session:
        session.add(Task(task_id=str(uuid.uuid4()), name=ADD, state="SUCCESS", queue="q",
                         worker="w@host", first_seen_at=now, sent_at=now, received_at=now,
                         started_at=now, finished_at=now, runtime=0.5, updated_at=now))  # fmt: skip


def wait_until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("not within the timeout")
        time.sleep(0.02)


def refresher_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "controlplane-counters"]


def succeeded(counters: DatabaseCounters) -> int:
    return counters.snapshot().task_events.get(LABELS, {}).get("succeeded", 0)


def test_the_thread_refreshes_the_counters_a_scrape_then_reads(services: Services) -> None:
    add_success(services)
    counters = DatabaseCounters(services.engine, ttl=0.2)
    try:
        assert succeeded(counters) == 1  # the first read refreshes here, then starts the thread
        assert counters.refreshing_in_background
        first = counters.refreshed_at
        add_success(services)
        # the thread, not a reader, refreshes: wait without asking for a snapshot
        wait_until(lambda: (counters.refreshed_at or 0) > (first or 0) + 0.1)
        refreshed = counters.refreshed_at
        assert succeeded(counters) == 2
        assert counters.refreshed_at == refreshed  # the read took what the thread read
    finally:
        counters.close()
    assert not counters.refreshing_in_background


def test_without_a_ttl_every_read_is_a_refresh_and_no_thread_runs(services: Services) -> None:
    counters = DatabaseCounters(services.engine, ttl=0.0)
    before = len(refresher_threads())
    add_success(services)
    assert succeeded(counters) == 1
    add_success(services)
    assert succeeded(counters) == 2
    assert not counters.refreshing_in_background
    assert len(refresher_threads()) == before


def test_the_thread_stops_when_nobody_asks(services: Services) -> None:
    counters = DatabaseCounters(services.engine, ttl=0.05, idle_after=0.3)
    try:
        counters.snapshot()
        assert counters.refreshing_in_background
        wait_until(lambda: not counters.refreshing_in_background, timeout=5)
        add_success(services)
        # the next read finds its snapshot stale, refreshes and starts the thread again
        time.sleep(0.06)
        assert succeeded(counters) == 1
        assert counters.refreshing_in_background
    finally:
        counters.close()


def test_closing_the_services_stops_the_thread(services: Services) -> None:
    services.state.database_counters = counters = DatabaseCounters(services.engine, ttl=0.05)
    counters.snapshot()
    assert counters.refreshing_in_background
    services.close()
    assert not counters.refreshing_in_background


def test_a_failing_refresh_is_logged_and_the_next_read_refreshes_itself(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A real fault: the counters' tables go away under the thread (SQLite answers "no such
    table"); it logs and goes on, and a read that finds its snapshot too old refreshes itself
    and raises, so /metrics says the database is unavailable instead of old figures."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'counters.db'}")
    try:
        db.upgrade(engine)
        counters = DatabaseCounters(engine, ttl=0.1)
        counters.snapshot()
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE tasks RENAME TO tasks_away"))
        with caplog.at_level(logging.WARNING, logger="controlplane.events.refresher"):
            wait_until(lambda: "refresh failed" in caplog.text, timeout=5)
        assert counters.refreshing_in_background  # still trying
        stale_since = counters.refreshed_at or 0.0
        wait_until(lambda: time.monotonic() - stale_since > 2 * counters.ttl)
        with pytest.raises(Exception, match="no such table"):
            counters.snapshot()
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE tasks_away RENAME TO tasks"))
        wait_until(lambda: time.monotonic() - (counters.refreshed_at or 0) < counters.ttl)
        counters.snapshot()  # back: the thread refreshed again
        counters.close()
    finally:
        engine.dispose()


def test_a_read_while_the_thread_refreshes_waits_for_that_refresh(services: Services) -> None:
    """Two refreshes never run at once: a stale read waits for the one under way and takes
    its snapshot rather than starting another."""
    counters = DatabaseCounters(services.engine, ttl=0.1)
    try:
        counters.snapshot()
        calls: list[float] = []
        original = counters._refresh

        def slow_refresh(now: Any) -> Any:
            calls.append(time.monotonic())
            time.sleep(0.3)
            return original(now)

        counters._refresh = slow_refresh  # type: ignore[method-assign]
        wait_until(lambda: calls)  # the thread is inside a refresh now
        time.sleep(0.25)  # the snapshot is now older than 2 x ttl
        started = time.monotonic()
        counters.snapshot()
        assert all(call <= started for call in calls)  # no refresh of its own
        assert time.monotonic() - started < 0.3  # waited for the thread's refresh only
    finally:
        counters.close()
