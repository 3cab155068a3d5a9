"""The rules of merge.py as one PostgreSQL statement: a batch merged into `tasks` set-based.

On PostgreSQL a batch is COPYed (binary) into a temporary staging table and folded into
`tasks` by one INSERT ... SELECT ... ON CONFLICT DO UPDATE whose SET clause is merge.py's
`TaskRow.merge` written in SQL: no read of the stored rows into Python, one round trip for
the whole batch, and no lock beyond the rows it touches. Rows go in task_id order, so two
ingesters writing overlapping batches lock rows in the same order and never deadlock; the
merge commutes, so whichever commits first, both end in the same row.

Times travel as epoch seconds (float8, already rounded to microseconds: `to_timestamp` of
such a value is exact) and `runtime` / `queue_wait` are computed here from the merged times,
so every row on PostgreSQL gets them from one formula. tests/events/test_events_merge_sql.py
checks this statement against `TaskRow.merge` on random event streams.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery import states

from controlplane.events import attempts
from controlplane.events.merge import TERMINAL_STATES, TaskRow, _rank

STAGING = "tasks_incoming"

# (column, staging type): the one-event-folded rows of a batch, as TaskRow holds them
STAGING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("task_id", "text"), ("name", "text"), ("state", "text"), ("state_changed_at", "float8"),
    ("queue", "text"), ("routing_key", "text"), ("exchange", "text"), ("worker", "text"),
    ("args", "text"), ("kwargs", "text"), ("args_incomplete", "bool"), ("result", "text"),
    ("exception", "text"), ("traceback", "text"), ("retries", "int4"), ("eta", "float8"),
    ("expires", "float8"), ("parent_id", "text"), ("root_id", "text"),
    ("first_seen_at", "float8"), ("sent_at", "float8"), ("received_at", "float8"),
    ("started_at", "float8"), ("retried_at", "float8"), ("finished_at", "float8"),
    ("reported_runtime", "float8"), ("lost_reason", "text"), ("group_id", "text"),
    ("attempts", "text"),
)  # fmt: skip
_TIMES = frozenset(name for name, kind in STAGING_COLUMNS if kind == "float8") - {
    "reported_runtime"
}
COPY_TYPES = [kind for _, kind in STAGING_COLUMNS]

CREATE_STAGING = (
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING} ("
    + ", ".join(f"{name} {kind}" for name, kind in STAGING_COLUMNS)
    + ") ON COMMIT DELETE ROWS"
)
CLEAR_STAGING = f"DELETE FROM {STAGING}"  # noqa: S608 (our constant)
COPY_STAGING = (
    f"COPY {STAGING} ({', '.join(name for name, _ in STAGING_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
)


def staging_tuple(row: TaskRow) -> tuple[Any, ...]:
    """A TaskRow as one COPY row (this runs once per row of every batch)."""
    return (
        row.task_id, row.name, row.state, row.state_changed_at, row.queue, row.routing_key,
        row.exchange, row.worker, row.args, row.kwargs, row.args_incomplete, row.result,
        row.exception, row.traceback, row.retries, row.eta, row.expires, row.parent_id,
        row.root_id, row.first_seen_at, row.sent_at, row.received_at, row.started_at,
        row.retried_at, row.finished_at, row.reported_runtime, row.lost_reason, row.group_id,
        attempts.encode(row.attempts),
    )  # fmt: skip


# ---- the state order of merge.state_key, in SQL ----------------------------------------------


def _state_case(state: str, pick: int) -> str:
    """CASE over the known states giving component `pick` of merge._rank (tier, rank)."""
    known = [s for s in states.PRECEDENCE if s is not None]
    whens = " ".join(f"WHEN '{s}' THEN {_rank(s)[pick]}" for s in known)
    unknown = _rank("\x00unknown")[pick]  # any state Celery does not know: LOST, UNKNOWN
    return f"(CASE {state} {whens} ELSE {unknown} END)"


def _state_key(table: str) -> str:
    """merge.state_key(state, state_changed_at) as a row value that compares the same way.

    Python's key is (2, rank, stamp, state) for terminal states and (tier, stamp, rank,
    state) otherwise; (tier, rank-if-terminal-else-0, stamp, rank, state) orders alike.
    """
    state = f"{table}.state"
    tier = _state_case(state, 0)
    rank = _state_case(state, 1)
    terminal = ", ".join(f"'{s}'" for s in sorted(TERMINAL_STATES))
    stamp = f"coalesce({table}.state_changed_at, 'epoch'::timestamptz)"
    return (
        f"ROW({tier}, CASE WHEN {state} IN ({terminal}) THEN {rank} ELSE 0 END, {stamp}, "
        f'{rank}, {state} COLLATE "C")'
    )


# ---- the merged columns ------------------------------------------------------------------------

_WINS = f"({_state_key('excluded')} > {_state_key('tasks')})"
_TIES = f"({_state_key('excluded')} = {_state_key('tasks')})"
_TEXT = frozenset(name for name, kind in STAGING_COLUMNS if kind == "text")


def _greatest(name: str) -> str:
    collate = ' COLLATE "C"' if name in _TEXT else ""
    return f"GREATEST(tasks.{name}{collate}, excluded.{name})"


def _least(name: str) -> str:
    return f"LEAST(tasks.{name}, excluded.{name})"


def _with_state(name: str, stored: str | None = None, incoming: str | None = None) -> str:
    """A field that travels with the winning state; on a tie of keys, the greatest value."""
    mine = stored or f"tasks.{name}"
    theirs = incoming or f"excluded.{name}"
    collate = ' COLLATE "C"' if name in _TEXT else ""
    return (
        f"(CASE WHEN {_WINS} THEN {theirs} WHEN {_TIES} THEN GREATEST({mine}{collate}, {theirs}) "
        f"ELSE {mine} END)"
    )


def _attempts_union() -> str:
    """attempts.merge in SQL: the union of the two JSON records, deduplicated, in the order of
    the Python tuples (C collation is code point order), the middle cut past attempts.CAP.
    On PostgreSQL the stored text is always jsonb's (see _FROM_STAGING), so equal records
    are equal text."""
    keys = (
        '(e->>0)::float8 AS k0, (e->>1) COLLATE "C" AS k1, (e->>2) COLLATE "C" AS k2, '
        '(e->>3)::int8 AS k3, (e->>4)::int8 AS k4, (e->>5) COLLATE "C" AS k5'
    )
    order = "k0, k1, k2, k3, k4, k5"
    tail = attempts.CAP - attempts.KEEP_FIRST
    union = (
        f"(SELECT jsonb_agg(e ORDER BY {order})::text FROM ("  # noqa: S608 (our constants)
        f"SELECT *, row_number() OVER (ORDER BY {order}) AS n, count(*) OVER () AS c FROM ("
        f"SELECT DISTINCT e, {keys} FROM jsonb_array_elements("
        f"tasks.attempts::jsonb || excluded.attempts::jsonb) AS e) AS d) AS x "
        f"WHERE n <= {attempts.KEEP_FIRST} OR n > c - {tail})"
    )
    return (
        "(CASE WHEN tasks.attempts IS NULL THEN excluded.attempts "
        f"WHEN excluded.attempts IS NULL THEN tasks.attempts ELSE {union} END)"
    )


MERGED: dict[str, str] = {
    "name": _greatest("name"),
    "state": f"(CASE WHEN {_WINS} THEN excluded.state ELSE tasks.state END)",
    "state_changed_at": (
        f"(CASE WHEN {_WINS} THEN excluded.state_changed_at ELSE tasks.state_changed_at END)"
    ),
    **{n: _greatest(n) for n in ("queue", "routing_key", "exchange", "args", "kwargs")},
    **{n: _with_state(n) for n in ("worker", "result", "exception", "traceback")},
    "args_incomplete": (
        "(coalesce(tasks.args_incomplete, false) OR coalesce(excluded.args_incomplete, false))"
    ),
    "retries": _greatest("retries"),
    **{n: _greatest(n) for n in ("eta", "expires", "parent_id", "root_id")},
    **{n: _least(n) for n in ("first_seen_at", "sent_at", "received_at", "started_at")},
    "retried_at": _greatest("retried_at"),
    "finished_at": _with_state("finished_at"),
    "lost_reason": _with_state("lost_reason"),
    "group_id": _greatest("group_id"),
    "attempts": _attempts_union(),
    # the stored runtime of a SUCCESS row is the runtime its worker reported
    "reported_runtime": _with_state(
        "reported_runtime",
        "(CASE WHEN tasks.state = 'SUCCESS' THEN tasks.runtime END)",
        "(CASE WHEN excluded.state = 'SUCCESS' THEN excluded.runtime END)",
    ),
}


def _seconds(later: str, earlier: str) -> str:
    """max(0, later - earlier) in seconds, exact to the microsecond, as float8."""
    return (
        f"(CASE WHEN {later} IS NOT NULL AND {earlier} IS NOT NULL THEN "
        f"GREATEST(extract(epoch FROM {later} - {earlier}), 0)::float8 END)"
    )


def runtime_sql(get: dict[str, str]) -> str:
    """TaskRow.runtime over the columns named in `get`."""
    return (
        f"(CASE WHEN {get['state']} = 'SUCCESS' THEN {get['reported_runtime']} "
        f"ELSE {_seconds(get['finished_at'], get['started_at'])} END)"
    )


def queue_wait_sql(get: dict[str, str]) -> str:
    """TaskRow.queue_wait over the columns named in `get`."""
    published = f"coalesce({get['sent_at']}, {get['received_at']})"
    return _seconds(get["started_at"], published)


_TASK_COLUMNS = [name for name, _ in STAGING_COLUMNS if name != "reported_runtime"]
_FROM_STAGING = {
    name: (f"to_timestamp(s.{name})" if name in _TIMES else f"s.{name}")
    for name, _ in STAGING_COLUMNS
}
# stored as jsonb writes it, whether a row was merged here or not: one text per record
_FROM_STAGING["attempts"] = "s.attempts::jsonb::text"
_SELECT = [_FROM_STAGING[name] for name in _TASK_COLUMNS]
_SET = [f"{name} = {MERGED[name]}" for name in _TASK_COLUMNS if name != "task_id"]

UPSERT = (
    f"INSERT INTO tasks ({', '.join(_TASK_COLUMNS)}, runtime, queue_wait, updated_at) "  # noqa: S608
    f"SELECT {', '.join(_SELECT)}, {runtime_sql(_FROM_STAGING)}, "
    f'{queue_wait_sql(_FROM_STAGING)}, %(now)s FROM {STAGING} s ORDER BY s.task_id COLLATE "C" '
    f"ON CONFLICT (task_id) DO UPDATE SET {', '.join(_SET)}, "
    f"runtime = {runtime_sql(MERGED)}, queue_wait = {queue_wait_sql(MERGED)}, "
    "updated_at = excluded.updated_at"
)


def write_rows(cursor: Any, rows: Sequence[TaskRow], now: Any) -> None:
    """COPY `rows` into the staging table and merge them into `tasks` (same transaction)."""
    cursor.execute(CREATE_STAGING)
    with cursor.copy(COPY_STAGING) as copy:
        copy.set_types(COPY_TYPES)
        for row in rows:
            copy.write_row(staging_tuple(row))
    cursor.execute(UPSERT, {"now": now})
    cursor.execute(CLEAR_STAGING)  # a second merge in this transaction starts empty
