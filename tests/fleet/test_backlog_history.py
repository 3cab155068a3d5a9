"""The backlog history a scrape reads, on both stores: times compared as stored (#19 item 5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from controlplane import db
from controlplane.broker import QueueState
from controlplane.fleet import alerts
from controlplane.fleet.sample import FleetSample, write_sample


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
