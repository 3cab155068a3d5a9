"""Folding task and worker events into rows: a join that ignores order and repetition.

Every event becomes a one-event row, and two rows merge field by field with rules that are
commutative, associative and idempotent, so the same events applied twice, shuffled, or
split differently across batches end in the same row:

- `state` comes from the event with the highest key. Terminal states (SUCCESS, FAILURE,
  REVOKED) beat everything and among themselves follow `celery.states.precedence`, so a late
  task-received never overwrites SUCCESS. The states a worker passes through (RECEIVED,
  STARTED, RETRY, REJECTED, and our LOST/UNKNOWN) are ordered by event time, because a retry
  goes round RECEIVED -> STARTED -> RETRY again; ties fall back to precedence. PENDING
  (task-sent, stamped by the client's clock) is below them all.
- The fields that belong to a state (worker, result, exception, traceback, finished_at,
  lost_reason, a reported runtime) come with the winning event.
- Descriptive fields (name, args, queue, eta, ...) keep the greatest non-null value,
  `retries` the maximum, `sent_at`/`received_at`/`started_at` the first time, `retried_at`
  the last.
- `group_id` keeps the greatest non-null value; `attempts` is the union of the two records
  (events/attempts.py: a sorted, bounded set of receive/start/retry/end entries).
- `queue_wait` (first start minus publish, or receipt when no task-sent was seen) and the
  runtime of a task that did not succeed (finish minus first start) are recomputed from
  the merged fields.
"""

from __future__ import annotations

from typing import Any

from celery import states

from controlplane.events import attempts as attempts_record


def micro(seconds: float) -> float:
    """Seconds rounded to the microsecond, as the 6-decimal float every stored time is.

    `round(x, 6)` is correctly rounded but costs ~0.9 µs (it goes through decimal digits);
    this costs ~0.1 µs and maps every input to some k / 1e6, which is all the merge and the
    databases need (both store exactly k microseconds). For non-negative seconds only.
    """
    return int(seconds * 1e6 + 0.5) / 1e6


LOST = "LOST"
UNKNOWN = "UNKNOWN"
TERMINAL_STATES = frozenset(states.READY_STATES)


def _rank(state: str) -> tuple[int, int]:
    rank = -states.precedence(state)
    if state in TERMINAL_STATES:
        return 2, rank
    return (0 if state == states.PENDING else 1), rank


_RANKS: dict[str, tuple[int, int]] = {}


def state_key(state: str, at: float | None) -> tuple[int, float, float, str]:
    """The order in which states win (see module docstring)."""
    tier_rank = _RANKS.get(state)
    if tier_rank is None:
        tier_rank = _RANKS[state] = _rank(state)
    tier, rank = tier_rank
    stamp = at or 0.0
    if tier == 2:
        return (2, rank, stamp, state)
    return (tier, stamp, rank, state)


class TaskRow:
    """A task as merged so far; times are UTC epoch seconds rounded to microseconds.

    Fields an event does not carry keep their class-level default (no per-instance
    storage), which makes the one-event rows built for every event cheap.
    """

    FIELDS = (
        "task_id", "name", "state", "state_changed_at", "queue", "routing_key", "exchange",
        "worker", "args", "kwargs", "args_incomplete", "result", "exception", "traceback",
        "retries", "eta", "expires", "parent_id", "root_id", "first_seen_at", "sent_at",
        "received_at", "started_at", "retried_at", "finished_at", "reported_runtime",
        "lost_reason", "group_id", "attempts",
    )  # fmt: skip
    # fields that travel with the winning state
    STATE_FIELDS = ("worker", "result", "exception", "traceback", "finished_at",
                    "reported_runtime", "lost_reason")  # fmt: skip

    name: str | None = None
    queue: str | None = None
    routing_key: str | None = None
    exchange: str | None = None
    worker: str | None = None
    args: str | None = None
    kwargs: str | None = None
    args_incomplete: bool = False
    result: str | None = None
    exception: str | None = None
    traceback: str | None = None
    retries: int = 0
    eta: float | None = None
    expires: float | None = None
    parent_id: str | None = None
    root_id: str | None = None
    sent_at: float | None = None
    received_at: float | None = None
    started_at: float | None = None
    retried_at: float | None = None
    finished_at: float | None = None
    reported_runtime: float | None = None
    lost_reason: str | None = None
    # the attempts record and the canvas group (events/attempts.py; issue 16.7, 20.3)
    group_id: str | None = None
    attempts: attempts_record.Entries | None = None

    def __init__(self, task_id: str, state: str, at: float) -> None:
        self.task_id = task_id
        self.state = state
        self.state_changed_at: float | None = at
        self.first_seen_at: float = at

    def key(self) -> tuple[int, float, float, str]:
        return state_key(self.state, self.state_changed_at)

    @property
    def runtime(self) -> float | None:
        if self.state == states.SUCCESS:
            return self.reported_runtime
        if self.finished_at is not None and self.started_at is not None:
            return round(max(0.0, self.finished_at - self.started_at), 6)
        return None

    @property
    def queue_wait(self) -> float | None:
        published = self.sent_at if self.sent_at is not None else self.received_at
        if self.started_at is None or published is None:
            return None
        return round(max(0.0, self.started_at - published), 6)

    def merge(self, other: TaskRow) -> TaskRow:
        """Fold `other` into this row (in place) and return it."""
        mine = state_key(self.state, self.state_changed_at)
        theirs = state_key(other.state, other.state_changed_at)
        if theirs > mine:
            self.state = other.state
            self.state_changed_at = other.state_changed_at
            self.worker = other.worker
            self.result = other.result
            self.exception = other.exception
            self.traceback = other.traceback
            self.finished_at = other.finished_at
            self.reported_runtime = other.reported_runtime
            self.lost_reason = other.lost_reason
        elif theirs == mine:
            for name in TaskRow.STATE_FIELDS:
                _keep_max(self, other, name)
        # descriptive fields (spelled out: this runs for every event)
        value: Any = other.name
        if value is not None and (self.name is None or value > self.name):
            self.name = value
        value = other.args
        if value is not None and (self.args is None or value > self.args):
            self.args = value
        value = other.kwargs
        if value is not None and (self.kwargs is None or value > self.kwargs):
            self.kwargs = value
        if other.queue is not None or other.routing_key is not None or other.exchange is not None:
            for name in ("queue", "routing_key", "exchange"):
                _keep_max(self, other, name)
        if other.eta is not None or other.expires is not None:
            _keep_max(self, other, "eta")
            _keep_max(self, other, "expires")
        if other.parent_id is not None or other.root_id is not None:
            _keep_max(self, other, "parent_id")
            _keep_max(self, other, "root_id")
        if other.group_id is not None:
            _keep_max(self, other, "group_id")
        incoming = other.attempts
        if incoming is not None:
            known = self.attempts
            if known is None:
                self.attempts = incoming
            elif known[-1] < incoming[0] and len(known) + len(incoming) <= attempts_record.CAP:
                self.attempts = known + incoming  # in order: attempts.merge's fast path, inline
            else:
                self.attempts = attempts_record.merge(known, incoming)
        if other.args_incomplete:
            self.args_incomplete = True
        if other.retries > self.retries:
            self.retries = other.retries
        if other.first_seen_at < self.first_seen_at:
            self.first_seen_at = other.first_seen_at
        value = other.sent_at
        if value is not None and (self.sent_at is None or value < self.sent_at):
            self.sent_at = value
        value = other.received_at
        if value is not None and (self.received_at is None or value < self.received_at):
            self.received_at = value
        value = other.started_at
        if value is not None and (self.started_at is None or value < self.started_at):
            self.started_at = value
        value = other.retried_at
        if value is not None and (self.retried_at is None or value > self.retried_at):
            self.retried_at = value
        return self

    def as_tuple(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in TaskRow.FIELDS)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TaskRow) and self.as_tuple() == other.as_tuple()

    def __repr__(self) -> str:
        return f"TaskRow({self.task_id!r}, {self.state!r}, worker={self.worker!r})"


def _keep_max(row: Any, other: Any, name: str) -> None:
    value = getattr(other, name)
    if value is None:
        return
    current = getattr(row, name)
    if current is None or value > current:
        setattr(row, name, value)


class WorkerRow:
    """A worker as seen through worker-online/-heartbeat/-offline (and heartbeat expiry)."""

    __slots__ = (
        "hostname", "status", "status_at", "last_heartbeat", "online_at", "offline_at",
        "active", "processed", "loadavg", "software", "pid", "freq",
    )  # fmt: skip
    STATUS_RANK = {"online": 0, "lost": 1, "offline": 2}

    def __init__(self, hostname: str, status: str, at: float) -> None:
        self.hostname = hostname
        self.status = status
        self.status_at = at
        self.last_heartbeat: float | None = None
        self.online_at: float | None = None
        self.offline_at: float | None = None
        self.active: int | None = None
        self.processed: int | None = None
        self.loadavg: str | None = None
        self.software: str | None = None
        self.pid: int | None = None
        self.freq: float | None = None

    def key(self) -> tuple[float, int]:
        return (self.status_at, WorkerRow.STATUS_RANK.get(self.status, 0))

    def merge(self, other: WorkerRow) -> WorkerRow:
        if other.key() > self.key():
            self.status, self.status_at = other.status, other.status_at
            if other.active is not None:  # heartbeat data travels with the newest event
                for name in ("active", "processed", "loadavg", "software", "pid", "freq"):
                    setattr(self, name, getattr(other, name))
        for name in ("last_heartbeat", "online_at", "offline_at"):
            _keep_max(self, other, name)
        return self
