"""Grouping at ingest through the real ingester: two PostgreSQL ingesters at once (COPY and
one SQL merge each) count every final failure exactly once, and a replay adds nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from controlplane import db
from controlplane.broker.embedded import EmbeddedRedis
from controlplane.failures.ingest import record_failures
from controlplane.models import FailureGroup, FailureMember, Task
from tests.conftest import wait_for
from tests.events.events_helpers import firehose, firehose_ids, ingest_settings, rows
from tests.events.events_helpers import start_ingester as start_one


@pytest.mark.long  # real processes for a long while: `make faults` runs it, so `make test` < 15 min
def test_two_postgresql_ingesters_count_each_failure_once_and_a_replay_adds_nothing(
    redis_server: EmbeddedRedis, postgres_url: str, unique: str
) -> None:
    settings = ingest_settings(redis_server.url, postgres_url)
    first, engine = start_one(settings, on_failures=record_failures)
    second, _ = start_one(settings, on_failures=record_failures)
    tasks = 1000
    ids = firehose_ids(unique, tasks)

    def counts() -> tuple[int, int, int]:
        with db.session_scope(db.make_session_factory(engine)) as session:
            failed = session.scalar(select(func.count()).where(Task.state == "FAILURE"))
            grouped = session.scalar(select(func.coalesce(func.sum(FailureGroup.failures), 0)))
            members = session.scalar(select(func.count()).select_from(FailureMember))
            return int(failed or 0), int(grouped or 0), int(members or 0)

    try:
        firehose(redis_server.url, tasks, unique, "sent,received,started,succeeded", 0.2)
        wait_for(
            lambda: sum(t.finished_at is not None for t in rows(engine, ids).values()) == tasks,
            timeout=60, what="every task from two ingesters",
        )  # fmt: skip
        assert first.wait_idle() and second.wait_idle()
        failed, grouped, members = counts()
        assert 100 < failed < 300 and grouped == members == failed
        written = first.stats.events_ingested
        firehose(redis_server.url, tasks, unique, "sent,received,started,succeeded", 0.2)
        wait_for(lambda: first.stats.events_ingested >= 2 * written, timeout=60,
                 what="the replay written")  # fmt: skip
        assert first.wait_idle() and second.wait_idle()
        assert counts() == (failed, failed, failed)  # the same events again: nothing more
        with db.session_scope(db.make_session_factory(engine)) as session:
            groups = session.scalars(select(FailureGroup)).all()
            assert groups and all(g.tasks == g.failures for g in groups)
    finally:
        first.stop()
        second.stop()
        engine.dispose()
