"""Reading task history: filters, keyset pagination, and one task with its relatives.

Keyset pagination on (first_seen_at, task_id) uses the `ix_tasks_*_time` indexes, so page 1000 of
a million rows costs what page 1 does (no OFFSET).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, tuple_
from sqlalchemy.orm import Session

from controlplane.clock import as_utc
from controlplane.errors import ControlplaneError
from controlplane.models import Action, Revocation, Task

TERMINAL_STATES = ("SUCCESS", "FAILURE", "REVOKED", "REJECTED", "LOST", "IGNORED")
RETRYABLE_STATES = ("FAILURE", "REVOKED", "SUCCESS", "LOST", "REJECTED")
ALL_STATES = ("PENDING", "RECEIVED", "STARTED", "PROGRESS", "RETRY", *TERMINAL_STATES)


MAX_IDS = 1000


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
    text: str | None = None  # task id prefix, or a substring of args/kwargs
    ids: tuple[str, ...] | None = None  # exactly these tasks (rows an operator selected)

    @classmethod
    def from_mapping(cls, data: Any) -> TaskFilter:
        """Build from query parameters or a JSON object, refusing unknown or malformed fields."""
        if data is None:
            return cls()
        if not hasattr(data, "get") or not hasattr(data, "keys"):
            raise BadFilter("filter: expected an object")
        known = {f.name for f in fields(cls)} | {"q", "cursor", "limit"}
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
        values["since"] = parse_time(data.get("since"), "since")
        values["until"] = parse_time(data.get("until"), "until")
        text = data.get("text") or data.get("q")
        if text:
            if not isinstance(text, str) or len(text) > 200:
                raise BadFilter("text: expected a string of at most 200 characters")
            values["text"] = text.strip()
        return cls(**values)

    def as_params(self) -> dict[str, str]:
        """Non-empty fields as strings (for links, forms and the action log)."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, tuple):
                out[f.name] = ",".join(value)
            else:
                out[f.name] = value.isoformat() if isinstance(value, datetime) else str(value)
        return out

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.ids is not None:
            query = query.where(Task.task_id.in_(self.ids))
        if self.state:
            query = query.where(Task.state == self.state)
        if self.name:
            query = query.where(Task.name == self.name)
        if self.queue:
            query = query.where(Task.queue == self.queue)
        if self.worker:
            query = query.where(Task.worker == self.worker)
        if self.since:
            query = query.where(Task.first_seen_at >= self.since)
        if self.until:
            query = query.where(Task.first_seen_at < self.until)
        if self.text:
            escaped = self.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(
                or_(
                    Task.task_id.like(f"{escaped}%", escape="\\"),
                    Task.args.like(f"%{escaped}%", escape="\\"),
                    Task.kwargs.like(f"%{escaped}%", escape="\\"),
                )
            )
        return query


def encode_cursor(task: Task) -> str:
    stamp = as_utc(task.first_seen_at)
    assert stamp is not None
    raw = f"{stamp.isoformat()}|{task.task_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, task_id = base64.urlsafe_b64decode(padded).decode().split("|", 1)
        return datetime.fromisoformat(stamp), task_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadFilter("cursor: not a cursor this server gave out") from None


@dataclass
class TaskPage:
    tasks: list[Task]
    next_cursor: str | None


def list_tasks(
    session: Session, task_filter: TaskFilter, cursor: str | None = None, limit: int = 50
) -> TaskPage:
    """Newest first; `next_cursor` continues after the last row."""
    limit = max(1, min(limit, 500))
    query = task_filter.apply(select(Task))
    if cursor:
        stamp, task_id = decode_cursor(cursor)
        # A row-value comparison lets both SQLite and PostgreSQL seek the index directly.
        query = query.where(tuple_(Task.first_seen_at, Task.task_id) < tuple_(stamp, task_id))
    query = query.order_by(Task.first_seen_at.desc(), Task.task_id.desc()).limit(limit + 1)
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return TaskPage(rows, encode_cursor(rows[-1]) if more and rows else None)


def count_tasks(session: Session, task_filter: TaskFilter) -> int:
    query = task_filter.apply(select(func.count()).select_from(Task))
    return int(session.scalar(query) or 0)


def select_task_ids(session: Session, task_filter: TaskFilter, limit: int) -> list[str]:
    query = task_filter.apply(select(Task.task_id))
    query = query.order_by(Task.first_seen_at.desc(), Task.task_id.desc()).limit(limit)
    return list(session.scalars(query))


def get_task(session: Session, task_id: str) -> Task | None:
    return session.get(Task, task_id)


@dataclass
class TaskRelatives:
    parent: Task | None
    children: list[Task]
    retry_of: Task | None
    retried_as: list[Task]
    actions: list[Action]
    revocation: Revocation | None = None  # a revoke sent, until the worker confirms it


def _linked(session: Session, column: Any, task_id: str, limit: int) -> list[Task]:
    """Tasks whose `column` (parent_id, retry_of) names `task_id`, oldest first."""
    query = select(Task).where(column == task_id).order_by(Task.first_seen_at).limit(limit)
    return list(session.scalars(query))


def relatives(session: Session, task: Task, limit: int = 50) -> TaskRelatives:
    """Parent, children, the task it retries, its retries, and the actions taken on it."""
    parent = session.get(Task, task.parent_id) if task.parent_id else None
    retry_of = session.get(Task, task.retry_of) if task.retry_of else None
    children = _linked(session, Task.parent_id, task.task_id, limit)
    retried_as = _linked(session, Task.retry_of, task.task_id, limit)
    actions = list(
        session.scalars(
            select(Action)
            .where(Action.target == task.task_id)
            .order_by(Action.at.desc())
            .limit(limit)
        )
    )
    revocation = session.get(Revocation, task.task_id)
    return TaskRelatives(parent, children, retry_of, retried_as, actions, revocation)


def task_as_dict(task: Task) -> dict[str, Any]:
    """The API's view of a task row."""
    out: dict[str, Any] = {}
    for column in Task.__table__.columns:
        value = getattr(task, column.key)
        if isinstance(value, datetime):
            value = as_utc(value).isoformat()  # type: ignore[union-attr]
        out[column.key] = value
    return out
