"""Failure groups as the Failures page, the API, /metrics and the alert condition read them.

The page reads only the group rows (one index walk by last seen), their hourly counts and
their workers: never the failed tasks themselves, so it stays fast with millions of them.
A group's state is what operators set (resolved, ignored) or, while open, what its times say:
"regression" when it came back after being resolved, "new" when first seen within
`failure_group_new_hours`, otherwise "ongoing".
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, and_, bindparam, exists, func, select
from sqlalchemy.orm import Session

from controlplane.clock import as_utc, utcnow
from controlplane.failures.ingest import hour_floor
from controlplane.models import (
    FailureGroup,
    FailureGroupHour,
    FailureGroupWorker,
    FailureMember,
    Task,
)
from controlplane.services import Services

STATES = ("new", "regression", "ongoing", "resolved", "ignored")
SPARK_HOURS = 24
MAX_LIMIT = 200


class BadGroupFilter(ValueError):
    pass


@dataclass(frozen=True)
class GroupRecord:
    id: int
    task_name: str
    exception_type: str
    message: str
    frame: str | None
    failures: int
    tasks_affected: int
    first_seen_at: datetime
    last_seen_at: datetime
    state: str
    status_by: str | None
    status_at: datetime | None
    regressed_at: datetime | None
    sample_task_id: str | None
    sample_exception: str | None
    sample_traceback: str | None
    hourly: tuple[int, ...] = ()  # the last 24 hours, oldest first
    workers: tuple[tuple[str, int], ...] = ()  # (hostname, failures), most first

    def as_dict(self, with_sample: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id, "task_name": self.task_name, "exception_type": self.exception_type,
            "message": self.message, "frame": self.frame, "count": self.failures,
            "tasks_affected": self.tasks_affected, "state": self.state,
            "first_seen": _iso(self.first_seen_at), "last_seen": _iso(self.last_seen_at),
            "status_by": self.status_by, "status_at": _iso(self.status_at),
            "regressed_at": _iso(self.regressed_at), "last_24h": list(self.hourly),
            "workers": [{"worker": w, "count": n} for w, n in self.workers],
            "sample_task_id": self.sample_task_id,
        }  # fmt: skip
        if with_sample:
            data["sample_exception"] = self.sample_exception
            data["sample_traceback"] = self.sample_traceback
        return data


@dataclass(frozen=True)
class GroupDetail:
    group: GroupRecord
    recent: tuple[tuple[str, datetime, bool], ...] = ()  # (task id, failed at, retried)
    not_retried: int = 0  # counted up to `bulk_max`, what one Retry group sends at most
    not_retried_more: bool = False  # and there are more


def _iso(moment: datetime | None) -> str | None:
    value = as_utc(moment)
    return value.isoformat() if value else None


def _state_filter(state: str, new_since: Any) -> Any:
    """`new_since`: a datetime, or the bound parameter of a statement built once."""
    g = FailureGroup
    if state in ("resolved", "ignored"):
        return g.status == state
    open_ = g.status == "open"
    if state == "regression":
        return and_(open_, g.regressed_at.is_not(None))
    fresh = g.first_seen_at >= new_since
    if state == "new":
        return and_(open_, g.regressed_at.is_(None), fresh)
    return and_(open_, g.regressed_at.is_(None), ~fresh)


def state_of(row: FailureGroup, new_since: datetime) -> str:
    return _state(row.status, row.regressed_at, row.first_seen_at, new_since)


def _state(
    status: str, regressed_at: datetime | None, first_seen_at: datetime | None, new_since: datetime
) -> str:
    if status in ("resolved", "ignored"):
        return status
    if regressed_at is not None:
        return "regression"
    first = as_utc(first_seen_at)
    return "new" if first is not None and first >= new_since else "ongoing"


def _new_since(services: Services, now: datetime) -> datetime:
    return now - timedelta(hours=services.settings.failure_group_new_hours)


def _record(
    row: FailureGroup,
    new_since: datetime,
    hourly: tuple[int, ...] = (),
    workers: tuple[tuple[str, int], ...] = (),
) -> GroupRecord:
    first, last = as_utc(row.first_seen_at), as_utc(row.last_seen_at)
    assert first is not None and last is not None
    return GroupRecord(
        id=row.id, task_name=row.task_name, exception_type=row.exception_type,
        message=row.message, frame=row.frame, failures=int(row.failures),
        tasks_affected=int(row.tasks), first_seen_at=first, last_seen_at=last,
        state=state_of(row, new_since), status_by=row.status_by,
        status_at=as_utc(row.status_at), regressed_at=as_utc(row.regressed_at),
        sample_task_id=row.sample_task_id, sample_exception=row.sample_exception,
        sample_traceback=row.sample_traceback, hourly=hourly, workers=workers,
    )  # fmt: skip


def _hourly(session: Session, ids: list[int], now: datetime) -> dict[int, tuple[int, ...]]:
    start = hour_floor(now) - timedelta(hours=SPARK_HOURS - 1)
    counts: dict[int, list[int]] = {gid: [0] * SPARK_HOURS for gid in ids}
    if not ids:
        return {}
    query = select(FailureGroupHour.group_id, FailureGroupHour.hour, FailureGroupHour.failures)
    query = query.where(FailureGroupHour.group_id.in_(ids), FailureGroupHour.hour >= start)
    for gid, hour, n in session.execute(query):
        at = as_utc(hour)
        assert at is not None
        slot = int((at - start).total_seconds() // 3600)
        if 0 <= slot < SPARK_HOURS:
            counts[gid][slot] += int(n)
    return {gid: tuple(values) for gid, values in counts.items()}


def _workers(
    session: Session, ids: list[int], top: int = 5
) -> dict[int, tuple[tuple[str, int], ...]]:
    found: dict[int, list[tuple[str, int]]] = defaultdict(list)
    if not ids:
        return {}
    query = select(
        FailureGroupWorker.group_id, FailureGroupWorker.worker, FailureGroupWorker.failures
    )
    query = query.where(FailureGroupWorker.group_id.in_(ids))
    for gid, worker, n in session.execute(query):
        found[gid].append((worker, int(n)))
    return {
        gid: tuple(sorted(rows, key=lambda r: (-r[1], r[0]))[:top]) for gid, rows in found.items()
    }


def list_groups(
    services: Services, state: str | None = None, limit: int = 50, now: datetime | None = None
) -> list[GroupRecord]:
    """Groups by last seen, newest first, with their sparkline and workers."""
    if state is not None and state not in STATES:
        raise BadGroupFilter(f"state: expected one of {', '.join(STATES)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise BadGroupFilter(f"limit: expected 1 to {MAX_LIMIT}")
    now = now or utcnow()
    new_since = _new_since(services, now)
    with services.transaction() as session:
        query = select(FailureGroup).order_by(
            FailureGroup.last_seen_at.desc(), FailureGroup.id.desc()
        )
        if state is not None:
            query = query.where(_state_filter(state, new_since))
        rows = list(session.scalars(query.limit(limit)))
        ids = [row.id for row in rows]
        hourly, workers = _hourly(session, ids, now), _workers(session, ids)
        return [_record(r, new_since, hourly.get(r.id, ()), workers.get(r.id, ())) for r in rows]


def _not_retried(group_id: int) -> Any:
    retried = exists().where(Task.retry_of == FailureMember.task_id)
    return and_(FailureMember.group_id == group_id, ~retried)


def not_retried_ids(session: Session, group_id: int, limit: int) -> list[str]:
    """The group's failed tasks that have no console retry yet, newest first."""
    query = (
        select(FailureMember.task_id)
        .where(_not_retried(group_id))
        .order_by(FailureMember.failed_at.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def count_not_retried(session: Session, group_id: int, up_to: int | None = None) -> int:
    """How many of the group's failures have no console retry (counting stops at `up_to`:
    a page shows "1,000+" rather than walking a huge group on every view)."""
    inner = select(FailureMember.task_id).where(_not_retried(group_id))
    if up_to is not None:
        inner = inner.limit(up_to + 1)
    query = select(func.count()).select_from(inner.subquery())
    return int(session.scalar(query) or 0)


def get_group(services: Services, group_id: int, recent: int = 20) -> GroupDetail | None:
    now = utcnow()
    new_since = _new_since(services, now)
    with services.transaction() as session:
        row = session.get(FailureGroup, group_id)
        if row is None:
            return None
        hourly, workers = _hourly(session, [group_id], now), _workers(session, [group_id], 20)
        members = session.execute(
            select(FailureMember.task_id, FailureMember.failed_at,
                   exists().where(Task.retry_of == FailureMember.task_id))
            .where(FailureMember.group_id == group_id)
            .order_by(FailureMember.failed_at.desc())
            .limit(recent)
        ).all()  # fmt: skip
        cap = services.settings.bulk_max
        waiting = count_not_retried(session, group_id, cap)
        return GroupDetail(
            group=_record(row, new_since, hourly.get(group_id, ()), workers.get(group_id, ())),
            recent=tuple((m[0], as_utc(m[1]) or now, bool(m[2])) for m in members),
            not_retried=min(waiting, cap),
            not_retried_more=waiting > cap,
        )


_REGRESSED = FailureGroup.regressed_at.is_not(None)
_FRESH = FailureGroup.first_seen_at >= bindparam("new_since")
# One grouped query (a scrape reads it); each group's state as _state_filter has it. Built
# once: a statement built per call costs SQLAlchemy its cache key each time.
STATE_COUNTS = select(FailureGroup.status, _REGRESSED, _FRESH, func.count()).group_by(
    FailureGroup.status, _REGRESSED, _FRESH
)


def state_counts(
    services: Services, now: datetime | None = None, session: Session | None = None
) -> dict[str, int]:
    """Groups per state, every state present (controlplane_failure_groups{state=}); read in
    `session` when given (a scrape reads everything in one transaction)."""
    now = now or utcnow()
    counts = dict.fromkeys(STATES, 0)
    params = {"new_since": _new_since(services, now)}
    if session is not None:
        rows = session.connection().execute(STATE_COUNTS, params).all()
    else:
        with services.transaction() as own:
            rows = own.connection().execute(STATE_COUNTS, params).all()
    for status, was_regressed, is_fresh, count in rows:
        if status in ("resolved", "ignored"):
            state = status
        elif status != "open":
            continue
        elif was_regressed:
            state = "regression"
        elif is_fresh is None:  # no first_seen_at: neither new nor ongoing
            continue
        else:
            state = "new" if is_fresh else "ongoing"
        counts[state] += int(count)
    return counts


@dataclass(frozen=True)
class AlertingGroup:
    """A group the "new failure group" condition reports: new, or back after being resolved."""

    id: int
    task_name: str
    exception_type: str
    message: str
    failures: int
    state: str
    since: datetime


@functools.lru_cache(maxsize=8)
def _alerting_query(limit: int) -> Any:
    """Built once per limit, the time a parameter (a scrape reads it: no cache key per call).
    Columns through Core, not the entity: no ORM loading per call."""
    g = FailureGroup
    new_since: BindParameter[datetime] = bindparam("new_since")
    return (
        select(g.id, g.task_name, g.exception_type, g.message, g.failures, g.status,
               g.regressed_at, g.first_seen_at)
        .where(
            _state_filter("new", new_since) | _state_filter("regression", new_since),
            g.last_seen_at >= new_since,
        )
        .order_by(g.last_seen_at.desc())
        .limit(limit)
    )  # fmt: skip


def alerting_groups(
    session: Session, now: datetime, hours: float, limit: int = 20
) -> list[AlertingGroup]:
    """Open groups that are new or regressed, seen within `hours` (fleet/alerts reads these)."""
    new_since = now - timedelta(hours=hours)
    found = []
    query = _alerting_query(limit)
    for row in session.connection().execute(query, {"new_since": new_since}).all():
        state = _state(row.status, row.regressed_at, row.first_seen_at, new_since)
        since = as_utc(row.regressed_at if state == "regression" else row.first_seen_at) or now
        found.append(AlertingGroup(row.id, row.task_name, row.exception_type, row.message,
                                   int(row.failures), state, since))  # fmt: skip
    return found
