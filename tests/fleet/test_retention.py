"""Retention deletes only what is older than the cutoff, in small batches (SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from controlplane import db
from controlplane.clock import utcnow
from controlplane.fleet.retention import purge_older_than, retention_cutoff
from controlplane.models import QueueSample, Task, Worker


def test_retention_deletes_old_tasks_samples_and_workers_in_batches(database_url: str) -> None:
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    sessions = db.make_session_factory(engine)
    now = utcnow()
    old, recent = now - timedelta(days=20), now - timedelta(days=1)
    try:
        with db.session_scope(sessions) as session:
            for index in range(23):
                when = old if index < 17 else recent
                session.add(
                    Task(task_id=f"t{index}", state="SUCCESS", queue="q", first_seen_at=when,
                         updated_at=when)
                )  # fmt: skip
                session.add(QueueSample(queue="q", sampled_at=when, ready=index))
            session.add(Worker(hostname="gone@host", status="offline", updated_at=old))
            session.add(Worker(hostname="here@host", status="online", updated_at=recent))

        purged = purge_older_than(sessions, retention_cutoff(now, 14), batch=5, pause=0)
        assert (purged.tasks, purged.queue_samples, purged.workers) == (17, 17, 1)

        with db.session_scope(sessions) as session:
            assert session.scalar(select(func.count()).select_from(Task)) == 6
            assert session.scalar(select(func.min(QueueSample.ready))) == 17
            assert session.scalars(select(Worker.hostname)).all() == ["here@host"]

        again = purge_older_than(sessions, retention_cutoff(now, 14), batch=5, pause=0)
        assert again.tasks == again.queue_samples == again.workers == 0
    finally:
        engine.dispose()


def test_retention_stops_after_max_batches_and_finishes_next_time(sqlite_url: str) -> None:
    engine = db.make_engine(sqlite_url)
    db.upgrade(engine)
    sessions = db.make_session_factory(engine)
    old = utcnow() - timedelta(days=30)
    try:
        with db.session_scope(sessions) as session:
            session.add_all(QueueSample(queue="q", sampled_at=old, ready=1) for _ in range(10))
        cutoff = retention_cutoff(utcnow(), 14)
        assert (
            purge_older_than(sessions, cutoff, batch=3, pause=0, max_batches=2).queue_samples == 6
        )
        assert purge_older_than(sessions, cutoff, batch=3, pause=0).queue_samples == 4
    finally:
        engine.dispose()
