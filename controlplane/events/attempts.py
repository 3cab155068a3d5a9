"""A task's attempts record: every receive, start, retry and end, with host, pid and time.

ISSUE-NOTES "Attempts, one model": a console retry is a new task id (`retry_of`), an
autoretry is the same id retried by Celery (task-retried, `retries`), a redelivery is the
same id received or started again (a killed pool process with `task_reject_on_worker_lost`,
a worker killed with `acks_late` and its message restored after Redis' visibility_timeout).
All three show in this one record: each task event but task-sent becomes an entry

    (at, kind, host, pid, retries, exception)

and a task's entries are a set kept sorted, so that merging is a union: the same event twice
is one entry, and order or batching does not matter. The set is bounded: past `CAP` entries
the middle goes and the first `KEEP_FIRST` and the last ones stay (truncating the middle of a
sorted set commutes with union, so the bound keeps the merge order-independent).

Stored as compact JSON text in `tasks.attempts`; on PostgreSQL merge_sql.py unions it with
the same order and bound (`merged_sql`). Read back by `summary()`: the deliveries and
whether some delivery was a duplicate (more deliveries than Celery's own retries explain).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

Entry = tuple[float, str, str, int, int, str]  # at, kind, host, pid, retries, exception
Entries = tuple[Entry, ...]

CAP = 32
KEEP_FIRST = 8
EXCEPTION_CHARS = 300  # the whole traceback of the final failure is in the task row

KINDS = {
    "task-received": "received",
    "task-started": "started",
    "task-retried": "retried",
    "task-succeeded": "succeeded",
    "task-failed": "failed",
    "task-revoked": "revoked",
    "task-rejected": "rejected",
}
DELIVERY_KINDS = frozenset({"received", "started"})


def entry(
    at: float, kind: str, host: str | None, pid: int | None, retries: int, exc: str | None
) -> Entry:
    """One entry; None becomes "" / -1 so that entries always sort."""
    return (at, kind, host or "", -1 if pid is None else pid, retries,
            (exc or "")[:EXCEPTION_CHARS])  # fmt: skip


def merge(mine: Entries | None, theirs: Entries | None) -> Entries | None:
    """The union of two records, sorted, bounded (see the module docstring)."""
    if not theirs:
        return mine
    if not mine:
        return theirs
    # events mostly arrive in order: one side wholly after the other needs no sort
    if mine[-1] < theirs[0]:
        merged = mine + theirs
    elif theirs[-1] < mine[0]:
        merged = theirs + mine
    elif mine == theirs:
        return mine
    else:
        merged = tuple(sorted(set(mine).union(theirs)))
    return merged if len(merged) <= CAP else bound(merged)


def bound(entries: Entries) -> Entries:
    if len(entries) <= CAP:
        return entries
    return entries[:KEEP_FIRST] + entries[len(entries) - (CAP - KEEP_FIRST) :]


def encode(entries: Entries | None) -> str | None:
    return None if not entries else orjson.dumps(entries).decode()


def decode(text: str | None) -> Entries | None:
    """Stored JSON back to entries; anything unreadable is no record (never an error)."""
    if not text:
        return None
    try:
        raw = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    found: list[Entry] = []
    for item in raw if isinstance(raw, list) else ():
        try:
            at, kind, host, pid, retries, exc = item
            found.append((float(at), str(kind), str(host), int(pid), int(retries), str(exc)))
        except (TypeError, ValueError):
            continue
    return tuple(sorted(found)) or None


@dataclass(frozen=True)
class Attempt:
    """One entry as pages and the API read it."""

    at: float
    kind: str
    host: str | None
    pid: int | None
    retries: int
    exception: str | None

    @property
    def when(self) -> datetime:
        return datetime.fromtimestamp(self.at, UTC)

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.when.isoformat(), "kind": self.kind, "host": self.host,
                "pid": self.pid, "retries": self.retries, "exception": self.exception}  # fmt: skip


@dataclass(frozen=True)
class AttemptSummary:
    """What the record says: deliveries, autoretries, whether a delivery was a duplicate.

    A delivery starts at each task-received, and at a task-started with no receipt on the
    same host and pid since that one's previous start (its task-received was lost).
    Celery's autoretries account for one delivery each; deliveries beyond `autoretries + 1`
    are redeliveries of the same message (a killed worker's message handed out again):
    `duplicate`. `complete` is False when the record was cut to its bound, and the counts
    are then lower bounds.
    """

    attempts: tuple[Attempt, ...] = ()
    deliveries: int = 0
    autoretries: int = 0
    complete: bool = True

    @property
    def duplicate(self) -> bool:
        return self.deliveries > self.autoretries + 1

    @property
    def redeliveries(self) -> int:
        return max(0, self.deliveries - self.autoretries - 1)

    @property
    def hosts(self) -> tuple[str, ...]:
        """Where it was delivered, first delivery first."""
        seen = dict.fromkeys(
            f"{a.host}" + (f" (pid {a.pid})" if a.pid is not None else "")
            for a in self.attempts
            if a.kind in DELIVERY_KINDS and a.host
        )
        return tuple(seen)


def summary(entries: Iterable[Entry] | None) -> AttemptSummary:
    ordered = sorted(entries or ())
    attempts = tuple(
        Attempt(at, kind, host or None, None if pid < 0 else pid, retries, exc or None)
        for at, kind, host, pid, retries, exc in ordered
    )
    deliveries = 0
    waiting: dict[tuple[str | None, int | None], int] = {}  # received there, not started yet
    retried = 0
    most_retries = 0
    for attempt in attempts:
        where = (attempt.host, attempt.pid)
        if attempt.kind == "received":
            deliveries += 1
            waiting[where] = waiting.get(where, 0) + 1
            most_retries = max(most_retries, attempt.retries)
        elif attempt.kind == "started":
            if waiting.get(where):
                waiting[where] -= 1
            else:
                deliveries += 1
        elif attempt.kind == "retried":
            retried += 1
    return AttemptSummary(
        attempts=attempts,
        deliveries=deliveries,
        autoretries=max(retried, most_retries),
        complete=len(attempts) < CAP,
    )
