"""Reading task history: filters, keyset pagination, and one task with its relatives.

Service functions return `TaskRecord`s (plain data, UTC times), never ORM rows.

Keyset pagination on (first_seen_at, task_id) uses the `ix_tasks_*_time` indexes, so page 1000 of
a million rows costs what page 1 does (no OFFSET).
"""

from __future__ import annotations

import ast
import base64
import binascii
import json
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, exists, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from controlplane.clock import as_utc
from controlplane.errors import ControlplaneError
from controlplane.events import attempts as attempts_record
from controlplane.fleet import text_search
from controlplane.models import Revocation, Task

if TYPE_CHECKING:
    from controlplane.services import Services

TERMINAL_STATES = ("SUCCESS", "FAILURE", "REVOKED", "REJECTED", "LOST", "IGNORED")
RETRYABLE_STATES = ("FAILURE", "REVOKED", "SUCCESS", "LOST", "REJECTED")
ALL_STATES = ("PENDING", "RECEIVED", "STARTED", "PROGRESS", "RETRY", *TERMINAL_STATES)


MAX_IDS = 1000
_RETRY = aliased(Task, name="console_retry")  # a task's console retry (retry_of names it)


class BadFilter(ControlplaneError):
    """A filter value we cannot use; the message names the field."""


def parse_time(text: str | None, field: str) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadFilter(f"{field}: expected an ISO 8601 time, got {text[:40]!r}") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class TaskFilter:
    """What the task list, the API and bulk actions select by. Empty fields match everything."""

    state: str | None = None
    name: str | None = None
    queue: str | None = None
    worker: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None  # a substring of id, name, args, kwargs, exception or result
    ids: tuple[str, ...] | None = None  # exactly these tasks (rows an operator selected)
    roots: bool = False  # only tasks that start a workflow (no root, or their own root)
    not_retried: bool = False  # only tasks with no console retry yet (issue 15 item 3)

    @classmethod
    def from_mapping(cls, data: Any) -> TaskFilter:
        """Build from query parameters or a JSON object, refusing unknown or malformed fields."""
        if data is None:
            return cls()
        if not hasattr(data, "get") or not hasattr(data, "keys"):
            raise BadFilter("filter: expected an object")
        known = {f.name for f in fields(cls)} | {"q", "cursor", "limit", "sort", "fragment"}
        if hasattr(data, "getlist"):  # query/form parameters: ids may repeat
            data = {key: data.getlist(key) if key == "ids" else data.get(key) for key in data}
        unknown = sorted(set(data.keys()) - known)
        if unknown:
            raise BadFilter(f"filter: unknown field(s) {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for key in ("state", "name", "queue", "worker"):
            value = data.get(key)
            if value in (None, ""):
                continue
            if not isinstance(value, str) or len(value) > 255:
                raise BadFilter(f"{key}: expected a string of at most 255 characters")
            values[key] = value.strip()
        if "state" in values:
            values["state"] = values["state"].upper()
            if values["state"] not in ALL_STATES:
                raise BadFilter(f"state: expected one of {', '.join(ALL_STATES)}")
        ids = data.get("ids")
        if ids not in (None, "", []):
            if isinstance(ids, str):
                ids = ids.split(",")
            if (
                not isinstance(ids, list)
                or len(ids) > MAX_IDS
                or not all(isinstance(item, str) and 0 < len(item) <= 155 for item in ids)
            ):
                raise BadFilter(f"ids: expected a list of at most {MAX_IDS} task ids")
            values["ids"] = tuple(ids)
        roots = data.get("roots")
        if roots not in (None, "", False):
            if roots not in (True, "1", "true", "on"):
                raise BadFilter("roots: expected true or 1")
            values["roots"] = True
        not_retried = data.get("not_retried")
        if not_retried not in (None, "", False, "0", "false"):
            if not_retried not in (True, "1", "true", "on"):
                raise BadFilter("not_retried: expected true or 1")
            values["not_retried"] = True
        values["since"] = parse_time(data.get("since"), "since")
        values["until"] = parse_time(data.get("until"), "until")
        text = data.get("text") or data.get("q")
        if text:
            if not isinstance(text, str) or len(text) > 200:
                raise BadFilter("text: expected a string of at most 200 characters")
            if len(text.strip()) < text_search.MIN_LENGTH:
                raise BadFilter(f"text: search for at least {text_search.MIN_LENGTH} characters")
            values["text"] = text.strip()
        return cls(**values)

    def as_params(self) -> dict[str, str]:
        """Non-empty fields as strings (for links, forms and the action log)."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or value is False:
                continue
            if value is True:
                out[f.name] = "1"
            elif isinstance(value, tuple):
                out[f.name] = ",".join(value)
            else:
                out[f.name] = value.isoformat() if isinstance(value, datetime) else str(value)
        return out

    def apply(
        self,
        query: Select[Any],
        text_rowids: list[int] | None = None,
        text_part: str | None = None,
    ) -> Select[Any]:
        """`query` narrowed to the filter. `text_part`: the part of the text search the index
        looks up (text_search.rarest_part; the whole text by default); `text_rowids`: the rows
        that part matches, when they were looked up first (text_search.sqlite_matches)."""
        if self.ids is not None:
            query = query.where(Task.task_id.in_(self.ids))
        if self.roots:
            query = query.where(or_(Task.root_id.is_(None), Task.root_id == Task.task_id))
        if self.not_retried:
            query = query.where(~exists().where(_RETRY.retry_of == Task.task_id))
        if self.state:
            query = query.where(Task.state == self.state)
        if self.name:  # a substring: `always_fails` finds `worker_tasks.tasks.always_fails`
            query = query.where(Task.name.like(f"%{_escape_like(self.name)}%", escape="\\"))
        if self.queue:
            query = query.where(Task.queue == self.queue)
        if self.worker:
            query = query.where(Task.worker == self.worker)
        if self.since:
            query = query.where(Task.first_seen_at >= self.since)
        if self.until:
            query = query.where(Task.first_seen_at < self.until)
        if self.text:  # indexed on both stores (text_search.py)
            part = text_part or self.text
            if text_rowids is None:
                query = query.where(text_search.matches(self.text, part))
            else:
                query = query.where(text_search.rowid_in(text_rowids))
                if part != self.text:
                    query = query.where(text_search.Contains(self.text))
        return query


def json_or_text(text: str | None) -> Any:
    """A stored repr as the JSON value it spells ("(1, 'a')" -> [1, "a"]), or the text itself
    when it is not a plain literal (truncated, redacted objects, custom reprs)."""
    if not text:
        return text
    try:
        value = ast.literal_eval(text)
        json.dumps(value, allow_nan=False)
    # SystemError: CPython 3.11's AST constructor can trip its recursion check when threads
    # parse at once ("recursion depth mismatch"); the stored text is then shown as it is.
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError, SystemError):
        return text
    return list(value) if isinstance(value, tuple) else value


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class TaskRecord:
    """One task row as pages and the API read it: plain data, times in UTC.

    The fields are the `tasks` table's columns (a test keeps the two equal).
    """

    task_id: str
    name: str | None
    state: str
    queue: str | None
    routing_key: str | None
    exchange: str | None
    worker: str | None
    args: str | None
    kwargs: str | None
    args_incomplete: bool
    result: str | None
    exception: str | None
    traceback: str | None
    retries: int
    eta: datetime | None
    expires: datetime | None
    parent_id: str | None
    root_id: str | None
    retry_of: str | None
    first_seen_at: datetime
    sent_at: datetime | None
    received_at: datetime | None
    started_at: datetime | None
    retried_at: datetime | None
    finished_at: datetime | None
    runtime: float | None
    queue_wait: float | None
    lost_reason: str | None
    state_changed_at: datetime | None
    updated_at: datetime
    attempts: str | None  # JSON: read it through `attempt_summary`
    group_id: str | None

    @cached_property
    def attempt_summary(self) -> attempts_record.AttemptSummary:
        """Its receive/start/retry/end history, deliveries and duplicate flag."""
        return attempts_record.summary(attempts_record.decode(self.attempts))

    @classmethod
    def of(cls, row: Task) -> TaskRecord:
        return cls(**{f.name: _utc(getattr(row, f.name)) for f in fields(cls)})

    def as_dict(self) -> dict[str, Any]:
        """The API's view of a task: args and kwargs as JSON when their repr was a literal
        (Celery's events carry reprs), else the stored text."""
        body = {
            f.name: value.isoformat() if isinstance(value, datetime) else value
            for f in fields(self)
            for value in (getattr(self, f.name),)
        }
        body["args"] = json_or_text(self.args)
        body["kwargs"] = json_or_text(self.kwargs)
        record = self.attempt_summary
        body["attempts"] = [attempt.as_dict() for attempt in record.attempts]
        body["deliveries"] = record.deliveries
        body["duplicate"] = record.duplicate
        return body


@dataclass(frozen=True)
class PendingRevoke:
    """A revoke sent for a task, until a worker confirms it."""

    revoked_at: datetime
    terminate: bool
    signal: str | None
    actor: str


def _utc(value: Any) -> Any:
    return as_utc(value) if isinstance(value, datetime) else value


# How the list may be ordered: sort name -> (column, newest/largest first). Keyset pages
# continue after (column, task_id) of the last row; runtime orders leave out unfinished tasks.
SORTS: dict[str, tuple[str, bool]] = {
    "newest": ("first_seen_at", True),
    "oldest": ("first_seen_at", False),
    "slowest": ("runtime", True),
    "fastest": ("runtime", False),
}
DEFAULT_SORT = "newest"


def encode_cursor(task: TaskRecord, sort: str = DEFAULT_SORT) -> str:
    column, _ = SORTS[sort]
    value = getattr(task, column)
    text = value.isoformat() if isinstance(value, datetime) else repr(float(value))
    raw = f"{text}|{task.task_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str = DEFAULT_SORT) -> tuple[Any, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, task_id = base64.urlsafe_b64decode(padded).decode().split("|", 1)
        if SORTS[sort][0] == "runtime":
            return float(stamp), task_id
        return datetime.fromisoformat(stamp), task_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadFilter("cursor: not a cursor this server gave out") from None


def parse_sort(text: str | None) -> str:
    if not text:
        return DEFAULT_SORT
    if text not in SORTS:
        raise BadFilter(f"sort: expected one of {', '.join(SORTS)}")
    return text


@dataclass(frozen=True)
class TaskPage:
    tasks: list[TaskRecord]
    next_cursor: str | None


def retried_among(services: Services, task_ids: list[str]) -> set[str]:
    """Which of these tasks have a console retry (a task whose retry_of names them)."""
    if not task_ids:
        return set()
    query = select(Task.retry_of).where(Task.retry_of.in_(task_ids)).distinct()
    with services.transaction() as session:
        return {task_id for task_id in session.scalars(query) if task_id}


def list_tasks(
    services: Services,
    task_filter: TaskFilter,
    cursor: str | None = None,
    limit: int = 50,
    sort: str = DEFAULT_SORT,
) -> TaskPage:
    """A page in `sort` order (newest first by default); `next_cursor` continues after it."""
    limit = max(1, min(limit, 500))
    name, descending = SORTS[parse_sort(sort)]
    column = getattr(Task, name)
    with services.transaction() as session:
        part = rare = None
        if task_filter.text:
            sample = services.state.text_sample.get(lambda: text_search.sample_documents(session))
            part = text_search.rarest_part(task_filter.text, sample)
            rare = text_search.sqlite_matches(session, part)
        query = task_filter.apply(select(Task), text_rowids=rare, text_part=part)
        if name == "runtime":
            query = query.where(Task.runtime.is_not(None))
        if cursor:
            value, task_id = decode_cursor(cursor, sort)
            # A row-value comparison lets both SQLite and PostgreSQL seek the index directly.
            after = tuple_(column, Task.task_id)
            query = query.where(
                after < tuple_(value, task_id) if descending else after > tuple_(value, task_id)
            )
        if descending:
            query = query.order_by(column.desc(), Task.task_id.desc())
        else:
            query = query.order_by(column.asc(), Task.task_id.asc())
        rows = [TaskRecord.of(row) for row in session.scalars(query.limit(limit + 1))]
    more = len(rows) > limit
    rows = rows[:limit]
    return TaskPage(rows, encode_cursor(rows[-1], sort) if more and rows else None)


def get_task(services: Services, task_id: str) -> TaskRecord | None:
    with services.transaction() as session:
        row = session.get(Task, task_id)
        return None if row is None else TaskRecord.of(row)


@dataclass(frozen=True)
class TaskDetail:
    """A task with its relatives: parent, children, the task it retries, its retries, and a
    revoke sent for it that no worker has confirmed yet."""

    task: TaskRecord
    parent: TaskRecord | None
    children: list[TaskRecord]
    retry_of: TaskRecord | None
    retried_as: list[TaskRecord]
    revocation: PendingRevoke | None = None


def task_detail(services: Services, task_id: str, limit: int = 50) -> TaskDetail | None:
    with services.transaction() as session:
        row = session.get(Task, task_id)
        if row is None:
            return None
        task = TaskRecord.of(row)
        revocation = session.get(Revocation, task_id)
        # Celery's autoretry sends the same id again with itself as parent: not a relative.
        parent_id = task.parent_id if task.parent_id != task_id else None
        return TaskDetail(
            task=task,
            parent=_one(session, parent_id),
            children=[
                c for c in _linked(session, Task.parent_id, task_id, limit) if c.task_id != task_id
            ],  # fmt: skip
            retry_of=_one(session, task.retry_of),
            retried_as=_linked(session, Task.retry_of, task_id, limit),
            revocation=None
            if revocation is None
            else PendingRevoke(
                as_utc(revocation.revoked_at) or revocation.revoked_at,
                revocation.terminate,
                revocation.signal,
                revocation.actor,
            ),
        )


def _one(session: Session, task_id: str | None) -> TaskRecord | None:
    row = session.get(Task, task_id) if task_id else None
    return None if row is None else TaskRecord.of(row)


def _linked(session: Session, column: Any, task_id: str, limit: int) -> list[TaskRecord]:
    """Tasks whose `column` (parent_id, retry_of) names `task_id`, oldest first."""
    query = select(Task).where(column == task_id).order_by(Task.first_seen_at).limit(limit)
    return [TaskRecord.of(row) for row in session.scalars(query)]
