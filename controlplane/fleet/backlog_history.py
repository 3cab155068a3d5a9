"""Each queue's backlog over the last few samples, the backlog-growing alert's history.

Every scrape, page view and alert evaluation asks for it, and between two samples nothing in
it changes: a sample's rows are written in one transaction with one `sampled_at` and never
updated. So each process keeps the backlogs of the samples it has read, by that stored
stamp, and reads only the rows of samples it has not seen yet (one new sample per sampling
interval, usually). Which samples are the last few is asked every time (an index scan), so
a new sample shows in the very next reading and one deleted by retention is dropped.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable
from itertools import chain
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Select,
    String,
    bindparam,
    func,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from controlplane.models import QueueSample

KEPT_SAMPLES = 100  # samples remembered at most (the newest): callers ask for a handful

Stamp = Any  # a sample's `sampled_at` as stored: text on SQLite, a datetime on PostgreSQL
# Times compared and kept as stored (SQLite's text, PostgreSQL's timestamps): no datetime is
# built for each of the queues x samples rows.
_stored_at = type_coerce(QueueSample.sampled_at, String())


def _walk_down_the_stamps() -> Select[Stamp]:
    """The stored stamps of the last `:samples` samples, newest first.

    A walk down the time index, one step per sample: each step is the newest stamp older
    than the last (one index probe on both stores). `SELECT DISTINCT ... LIMIT n` reads every
    row of the table on PostgreSQL: two weeks of samples of 500 queues are 60 million.
    """
    first = select(func.max(_stored_at).label("stamp"), literal(1).label("step"))
    walk = first.cte("stamps", recursive=True)
    last = walk.alias("last")
    # ORDER BY ... LIMIT 1, not max(): SQLite's max() under a range condition reads the range
    older = (
        select(_stored_at).where(_stored_at < last.c.stamp).order_by(_stored_at.desc()).limit(1)
    ).scalar_subquery()
    steps = bindparam("samples", type_=Integer)
    walk = walk.union_all(
        select(older, last.c.step + 1).where(last.c.step < steps, last.c.stamp.is_not(None))
    )
    return select(walk.c.stamp).where(walk.c.stamp.is_not(None)).order_by(walk.c.step)


LAST_STAMPS = _walk_down_the_stamps()  # built once: its cache key costs more than the query


@functools.lru_cache(maxsize=4)
def _backlogs_since(dialect: str) -> Select[str, Stamp, int]:
    """Every queue's backlog in the samples from `:since` on, built once per dialect: the
    stamp is bound as stored, text on SQLite, a timestamp on PostgreSQL (a statement built
    per call costs SQLAlchemy its cache key each time)."""
    stored = String() if dialect == "sqlite" else QueueSample.sampled_at.type
    return select(QueueSample.queue, _stored_at, QueueSample.ready + QueueSample.unacked).where(
        _stored_at >= bindparam("since", type_=stored)
    )


def last_stamps(connection: Connection, samples: int) -> list[Stamp]:
    """The stored stamps of the last `samples` samples, newest first."""
    return list(connection.scalars(LAST_STAMPS, {"samples": samples}))


def _last_run(values: list[int | None]) -> list[int | None]:
    """The last unbroken run of a queue's backlogs: growth counts from after a hole (a
    sample that did not have the queue), and a queue no longer sampled keeps its last run."""
    end = len(values)
    while end and values[end - 1] is None:
        end -= 1
    start = end
    while start and values[start - 1] is not None:
        start -= 1
    return values[start:end]


class SampleBacklogs:
    """Backlog (ready + reserved) per queue of each recent sample, by its stored stamp."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_stamp: dict[Stamp, dict[str, int]] = {}

    def history(
        self, session: Session, samples: int, queues: Iterable[str] | None = None
    ) -> dict[str, tuple[int, ...]]:
        """Each queue's backlog in the last `samples` samples, oldest first (only `queues`,
        when given). A queue missing from one of them (not sampled then) gets the samples
        after that."""
        names = None if queues is None else dict.fromkeys(queues)
        if names is not None and not names:
            return {}
        # Core, not the ORM's execute: the same rows for a third of the overhead (a scrape)
        connection = session.connection()
        newest_first = last_stamps(connection, samples)
        if not newest_first:
            return {}
        stamps = newest_first[::-1]
        by_stamp = self._backlogs(connection, stamps)
        samples_of = [by_stamp[stamp] for stamp in stamps]  # oldest first
        wanted = names if names is not None else dict.fromkeys(chain.from_iterable(samples_of))
        # Queue by queue, one list comprehension over the samples (a scrape asks for 500
        # queues of six samples: a loop over every (sample, queue) cost three times as much)
        series: dict[str, tuple[int, ...]] = {}
        for queue in wanted:
            values = [sample.get(queue) for sample in samples_of]
            if None in values:
                values = _last_run(values)
                if not values:
                    continue
            series[queue] = tuple(values)  # type: ignore[arg-type]  # no None left
        return series

    def _backlogs(self, connection: Connection, stamps: list[Stamp]) -> dict[Stamp, dict[str, int]]:
        """The backlogs of `stamps` (oldest first): kept ones reused, the others read."""
        with self._lock:
            known = {stamp: self._by_stamp[stamp] for stamp in stamps if stamp in self._by_stamp}
        missing = [stamp for stamp in stamps if stamp not in known]
        if missing:
            wanted = set(missing)
            read: dict[Stamp, dict[str, int]] = {stamp: {} for stamp in missing}
            # one fetchall
            query = _backlogs_since(connection.dialect.name)
            rows = connection.execute(query, {"since": missing[0]}).all()
            for queue, stamp, backlog in rows:
                if stamp in wanted:
                    read[stamp][queue] = int(backlog or 0)
            known.update(read)
            with self._lock:
                kept = {**self._by_stamp, **read}
                if len(kept) > KEPT_SAMPLES:  # the oldest go (retention deletes them anyway)
                    kept = {stamp: kept[stamp] for stamp in sorted(kept)[-KEPT_SAMPLES:]}
                self._by_stamp = kept
        return known
