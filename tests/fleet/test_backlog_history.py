"""The backlog history a scrape reads, on both stores: times compared as stored (#19 item 5);
the queue records it is read for."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, text

from controlplane import db
from controlplane.broker import QueueState
from controlplane.fleet import alerts
from controlplane.fleet.backlog_history import LAST_STAMPS, SampleBacklogs
from controlplane.fleet.queue_rates import QueueRates
from controlplane.fleet.sample import FleetSample, write_sample
from controlplane.fleet.view import queue_states
from controlplane.models import QueueSample
from controlplane.services import Services


def test_backlog_history_of_chosen_queues_restarts_after_a_hole(database_url: str) -> None:
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    sessions = db.make_session_factory(engine)
    now = datetime.now(UTC)
    try:
        with db.session_scope(sessions) as session:
            for n in range(8):
                queues = {
                    "a": QueueState("a", ready=10 + n, reserved=1),
                    "c": QueueState("c", ready=100),
                }
                if n != 5:
                    queues["b"] = QueueState("b", ready=n)
                stamp = now - timedelta(seconds=40 - 5 * n, microseconds=123)
                write_sample(session, FleetSample(stamp, queues))
        with db.session_scope(sessions) as session:
            history = alerts.backlog_history(session, 6)
            chosen = alerts.backlog_history(session, 6, ["b", "a", "missing"])
            assert alerts.backlog_history(session, 6, []) == {}
        assert history == {"a": (13, 14, 15, 16, 17, 18), "b": (6, 7), "c": (100,) * 6}
        assert chosen == {"a": (13, 14, 15, 16, 17, 18), "b": (6, 7)}
    finally:
        engine.dispose()


def test_kept_samples_give_what_a_fresh_read_gives_as_samples_come_and_go(
    database_url: str,
) -> None:
    """The process keeps each sample's backlogs; a new sample shows at once, one deleted by
    retention drops out, and the answer always equals a reading from scratch."""
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    sessions = db.make_session_factory(engine)
    kept = SampleBacklogs()
    now = datetime.now(UTC)
    try:
        for n in range(10):
            queues = {"a": QueueState("a", ready=10 + n * (-1) ** n), "c": QueueState("c", ready=n)}
            if n % 4 != 3:
                queues["b"] = QueueState("b", ready=2 * n)
            with db.session_scope(sessions) as session:
                write_sample(session, FleetSample(now - timedelta(seconds=60 - 5 * n), queues))
            if n == 7:  # retention deletes the two oldest samples
                with db.session_scope(sessions) as session:
                    cutoff = now - timedelta(seconds=60 - 5 * 2)
                    session.execute(delete(QueueSample).where(QueueSample.sampled_at < cutoff))
            with db.session_scope(sessions) as session:
                cached = alerts.backlog_history(session, 6, None, kept)
                chosen = alerts.backlog_history(session, 6, ["a", "b"], kept)
                fresh = alerts.backlog_history(session, 6)
            assert cached == fresh
            assert chosen == {q: v for q, v in fresh.items() if q in ("a", "b")}
            assert cached["c"][-1] == n  # the sample just written is in the very next reading
        assert cached["b"] == (16, 18)  # restarted after the hole at n == 7
    finally:
        engine.dispose()


def test_queue_states_keep_every_field_the_sample_filled(services: Services) -> None:
    """The view builds each queue's record field by field (a scrape does it for every
    queue): what the sampler stored comes through, and a field added to QueueState later
    cannot be dropped silently."""
    since = datetime.now(UTC) - timedelta(minutes=3)
    sampled = QueueState("q", ready=7, reserved=3, scheduled=2, consumers=5,
                         oldest_waiting_at=since)  # fmt: skip
    sample = FleetSample(datetime.now(UTC), {"q": sampled})
    rates = QueueRates(arrival={"q": 1.5}, completion={"q": 0.5})
    (state,) = queue_states(services, sample, [], rates)
    filled_by_view = {"consumers", "workers", "processes", "arrival_rate", "completion_rate",
                      "pause"}  # fmt: skip
    for name in {f.name for f in fields(QueueState)} - filled_by_view:
        assert getattr(state, name) == getattr(sampled, name), name
    assert (state.arrival_rate, state.completion_rate, state.workers) == (1.5, 0.5, 0)


def test_what_a_scrape_reads_from_history_is_found_through_the_time_indexes(
    database_url: str,
) -> None:
    """The failure counts read the window on the finished-time index (not every finished
    task by state), and the last samples are found by walking down the sample-time index
    (a DISTINCT over the samples table reads all of it on PostgreSQL)."""
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    since = datetime.now(UTC) - timedelta(minutes=5)
    try:
        with engine.connect() as connection:
            stamps = LAST_STAMPS.params(samples=6)
            if connection.dialect.name == "postgresql":
                connection.execute(text("SET LOCAL enable_seqscan = off"))
                explain = "EXPLAIN"
            else:
                explain = "EXPLAIN QUERY PLAN"
            plans = []
            for query in (alerts.outcomes_query(since), stamps):
                compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
                rows = connection.execute(text(f"{explain} {compiled}")).all()
                plans.append(" ".join(str(row[-1]) for row in rows))
            window, walk = plans
            assert "ix_tasks_finished" in window and "ix_tasks_state_time" not in window, window
            assert "ix_queue_samples_time" in walk, walk
            if connection.dialect.name == "postgresql":
                assert "Seq Scan" not in walk, walk
    finally:
        engine.dispose()
