"""A replica's tally of the live task rows, counted again only per label set whose rows changed.

A `serve` replica counts the rows that are not settled (not finished, or finished within the
last couple of minutes: counters.py) at every refresh: about 800 rows on a fleet of 300 task
names, nearly all of them the same as at the refresh before. The rows are still read every
time, and what they hold is the key (no clock, no `updated_at` trusted: a writer that forgets
to bump it still shows at the next refresh); only counting them is skipped, per
(name, worker, queue), while that label set's rows are equal to last time's. The reused tally
is the very same objects, so the merge with the settled totals reuses its sums as well, and
the scrape its rows' text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Executable,
    Integer,
    bindparam,
    or_,
    select,
    type_coerce,
)

from controlplane.events.stats import Histogram
from controlplane.events.stats import exception_type as exception_type_of
from controlplane.models import Task

Labels = tuple[str, str, str]
Row = tuple[Any, ...]

# Whether each time is set, not the time: no datetime is built for the rows of a refresh
# (as integers: the Boolean type's result processor costs a Python call per value).
ROW_COLUMNS = (
    Task.name, Task.worker, Task.queue, Task.state, Task.exception, Task.retries,
    type_coerce(Task.sent_at.is_not(None), Integer),
    type_coerce(Task.received_at.is_not(None), Integer),
    type_coerce(Task.started_at.is_not(None), Integer),
    Task.runtime, Task.queue_wait,
)  # fmt: skip
_STATE_KINDS = {"SUCCESS": "succeeded", "FAILURE": "failed", "REVOKED": "revoked",
                "REJECTED": "rejected"}  # fmt: skip


class Part:
    """One label set's tally: its kinds, failures per exception type and two histograms.

    `kinds` is a plain dict while counting (a Counter's += on a missing key costs twice as
    much) and a Counter once `tally` is done, the one every snapshot then shares.
    """

    __slots__ = ("failures", "kinds", "queue_wait", "runtime")

    def __init__(self) -> None:
        self.kinds: dict[str, int] = {}
        self.failures: dict[str, int] = {}
        self.runtime: Histogram | None = None
        self.queue_wait: Histogram | None = None


def tally(rows: Iterable[Row]) -> dict[Labels, Part]:
    """Each label set's tally of `rows` (selected as `ROW_COLUMNS`), in the rows' order."""
    parts: dict[Labels, Part] = {}
    for row in rows:
        name, worker, queue, state, exception, retries, sent, received, started, runtime, wait = row
        labels: Labels = (name or "", worker or "", queue or "")
        part = parts.get(labels)
        if part is None:
            part = parts[labels] = Part()
        counts = part.kinds
        if sent:
            counts["sent"] = counts.get("sent", 0) + 1
        if received:
            counts["received"] = counts.get("received", 0) + 1
        if started:
            counts["started"] = counts.get("started", 0) + 1
            if wait is not None:
                if part.queue_wait is None:
                    part.queue_wait = Histogram()
                part.queue_wait.observe(wait)
        if retries:
            counts["retried"] = counts.get("retried", 0) + retries
        kind = _STATE_KINDS.get(state)
        if kind is not None:
            counts[kind] = counts.get(kind, 0) + 1
            if kind == "failed":
                failed = exception_type_of(exception)
                part.failures[failed] = part.failures.get(failed, 0) + 1
            elif kind == "succeeded" and runtime is not None:
                if part.runtime is None:
                    part.runtime = Histogram()
                part.runtime.observe(runtime)
    for part in parts.values():
        part.kinds = Counter(part.kinds)
    return parts


# A refresh's two reads, built once with their times as parameters: a statement built per
# call costs SQLAlchemy its cache key (a walk of the statement) at every execution.
LIVE = select(*ROW_COLUMNS).where(
    or_(Task.finished_at >= bindparam("since"), Task.finished_at.is_(None))
)
SETTLING = select(*ROW_COLUMNS).where(
    Task.finished_at >= bindparam("since"), Task.finished_at < bindparam("until")
)


def read_rows(
    connection: Connection,
    where: ColumnElement[bool] | Executable,
    params: dict[str, Any] | None = None,
) -> Sequence[Row]:
    """The rows matching `where` (or read by a statement of `ROW_COLUMNS`, LIVE or SETTLING,
    with `params`) as plain tuples (one fetchall: iterating fetches row by row)."""
    query = where if isinstance(where, Executable) else select(*ROW_COLUMNS).where(where)
    return [tuple(row) for row in connection.execute(query, params).all()]


class LiveTally:
    """The live rows' tally of one replica, kept per label set between refreshes."""

    def __init__(self) -> None:
        # per label set: its rows at the last refresh, and their tally
        self._kept: dict[Labels, tuple[list[Row], Part]] = {}

    def count(self, rows: Iterable[Row]) -> dict[Labels, Part]:
        """The tally of `rows`, reusing a label set's last tally while its rows are equal."""
        grouped: dict[Labels, list[Row]] = {}
        for row in rows:
            labels: Labels = (row[0] or "", row[1] or "", row[2] or "")
            members = grouped.get(labels)
            if members is None:
                grouped[labels] = [row]
            else:
                members.append(row)
        kept = self._kept
        current: dict[Labels, tuple[list[Row], Part]] = {}
        parts: dict[Labels, Part] = {}
        changed: list[Row] = []
        for labels, members in grouped.items():
            hit = kept.get(labels)
            if hit is not None and hit[0] == members:
                current[labels] = hit
                parts[labels] = hit[1]
            else:
                changed.extend(members)
        for labels, part in tally(changed).items():
            current[labels] = (grouped[labels], part)
            parts[labels] = part
        self._kept = current
        return parts
