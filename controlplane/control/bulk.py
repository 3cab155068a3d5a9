"""Bulk retry and revoke, on exactly what the operator chose.

Two explicit scopes: `selected` acts on the ticked rows (`ids`; an empty selection is refused)
and `filter` on every task a filter matches. A request without a scope is refused: guessing one
turned "two rows ticked" into "every task in history". A dry run is the confirmation: it says
which scope, how many, and the first ids and names. A bulk retry leaves out, unless told
otherwise, failures that already have a console retry, so pressing it twice does not double
the work.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from controlplane.clock import utcnow
from controlplane.control.action_log import ActionResult, run_action
from controlplane.control.registry import known_task_names
from controlplane.control.revocations import remember
from controlplane.control.tasks import retry_one
from controlplane.errors import ActionError
from controlplane.fleet.task_history import MAX_IDS, RETRYABLE_STATES, BadFilter, TaskFilter
from controlplane.models import Action, Task
from controlplane.services import Services

ACTIONS = ("retry", "revoke")
SCOPES = ("selected", "filter")
REVOCABLE_STATES = ("PENDING", "RECEIVED", "STARTED", "PROGRESS", "RETRY")
PREVIEW = 10  # the confirmation lists this many tasks by id and name
FIELDS = {"action", "scope", "ids", "filter", "dry_run", "not_retried", "queue"}


@dataclass(frozen=True)
class BulkRequest:
    """A checked bulk request: what to do, to which tasks."""

    action: str
    scope: str
    task_filter: TaskFilter
    dry_run: bool
    queue: str | None = None  # retry only: a queue the operator typed (else each task's route)

    @property
    def states(self) -> tuple[str, ...]:
        eligible = RETRYABLE_STATES if self.action == "retry" else REVOCABLE_STATES
        state = self.task_filter.state
        if state and state not in eligible:
            raise ActionError(f"cannot {self.action} tasks in state {state}")
        return (state,) if state else eligible


def parse_bulk(body: Any) -> BulkRequest:
    """A BulkRequest from the API's JSON object (or the console's form, made into one)."""
    if not isinstance(body, Mapping):
        raise ActionError("the request body must be a JSON object")
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise ActionError(f"unknown field(s): {', '.join(unknown)}")
    action = body.get("action")
    if action not in ACTIONS:
        raise ActionError(f"action: expected one of {', '.join(ACTIONS)}")
    scope = body.get("scope")
    if scope not in SCOPES:
        raise ActionError(
            "scope: expected 'selected' (with ids: the ticked rows) or 'filter' (every task "
            "the filter matches); nothing is assumed"
        )
    dry_run = body.get("dry_run", True)
    if not isinstance(dry_run, bool):
        raise ActionError("dry_run: expected true or false")
    filter_data = body.get("filter") or {}
    if not isinstance(filter_data, Mapping):
        raise ActionError("filter: expected an object")
    ids = body.get("ids")
    if scope == "selected":
        if filter_data:
            raise ActionError("filter: not used with scope 'selected' (it acts on the ids)")
        if not isinstance(ids, list) or not ids:
            raise ActionError("ids: select at least one task (scope 'selected')")
        if len(ids) > MAX_IDS:
            raise ActionError(f"ids: at most {MAX_IDS} tasks at once")
        filter_data = {"ids": ids}
    elif ids is not None or "ids" in filter_data:
        raise ActionError("ids: only with scope 'selected'")
    try:
        task_filter = TaskFilter.from_mapping(filter_data)
    except BadFilter as exc:
        raise ActionError(str(exc)) from None
    not_retried = body.get("not_retried", action == "retry")
    if not isinstance(not_retried, bool):
        raise ActionError("not_retried: expected true or false")
    if action == "retry" and not_retried:
        task_filter = dataclasses.replace(task_filter, not_retried=True)
    queue = body.get("queue") or None
    if queue is not None and action != "retry":
        raise ActionError("queue: only a retry is sent to a queue")
    return BulkRequest(action, scope, task_filter, dry_run, queue)


def bulk(
    services: Services, actor: str, body: Any, idempotency_key: str | None = None
) -> ActionResult:
    """Retry or revoke the selected tasks, or every task a filter matches (at most `bulk_max`);
    a dry run only says what would be acted on."""
    params = dict(body) if isinstance(body, Mapping) else {"body": str(body)[:200]}
    action = body.get("action") if isinstance(body, Mapping) else None
    name = f"bulk_{action}" if action in ACTIONS else "bulk"
    cap = services.settings.bulk_max

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        request = parse_bulk(body)
        states = request.states
        matched = sum(_count(session, _in_state(request.task_filter, s)) for s in states)
        summary: dict[str, Any] = {
            "action": request.action,
            "scope": request.scope,
            "matched": matched,
            "cap": cap,
            "would_act_on": min(matched, cap),
            "dry_run": request.dry_run,
            "not_retried": request.task_filter.not_retried,
        }
        if request.scope == "selected":
            summary["selected"] = len(request.task_filter.ids or ())
        if request.task_filter.not_retried:
            everything = dataclasses.replace(request.task_filter, not_retried=False)
            total = sum(_count(session, _in_state(everything, s)) for s in states)
            summary["already_retried"] = total - matched
        if request.dry_run:
            summary["preview"] = _preview(session, request.task_filter, states)
            return 200, summary
        ids = _ids(session, request.task_filter, states, cap)
        if request.action == "retry":
            summary.update(_retry_all(services, session, actor, ids, request.queue))
        else:
            summary.update(_revoke_all(services, session, actor, ids))
        return 202, summary

    return run_action(services, actor, name, None, params, perform, idempotency_key)


def _in_state(task_filter: TaskFilter, state: str) -> TaskFilter:
    return dataclasses.replace(task_filter, state=state)


def _count(session: Session, task_filter: TaskFilter) -> int:
    query = task_filter.apply(select(func.count()).select_from(Task))
    return int(session.scalar(query) or 0)


def _newest_first(session: Session, task_filter: TaskFilter, limit: int) -> list[Any]:
    columns = cast("Select[Any]", select(Task.task_id, Task.name))
    query = task_filter.apply(columns)
    query = query.order_by(Task.first_seen_at.desc(), Task.task_id.desc()).limit(limit)
    return list(session.execute(query))


def _ids(session: Session, task_filter: TaskFilter, states: tuple[str, ...], cap: int) -> list[str]:
    ids: list[str] = []
    for state in states:
        if len(ids) >= cap:
            break
        rows = _newest_first(session, _in_state(task_filter, state), cap - len(ids))
        ids.extend(row.task_id for row in rows)
    return ids


def _preview(
    session: Session, task_filter: TaskFilter, states: tuple[str, ...]
) -> list[dict[str, str | None]]:
    """The first tasks the action would take, in the order it takes them."""
    rows: list[Any] = []
    for state in states:
        if len(rows) >= PREVIEW:
            break
        rows.extend(_newest_first(session, _in_state(task_filter, state), PREVIEW - len(rows)))
    return [{"task_id": row.task_id, "name": row.name} for row in rows]


def _retry_all(
    services: Services, session: Session, actor: str, ids: list[str], queue: str | None
) -> dict[str, Any]:
    sent: list[str] = []
    skipped: dict[str, str] = {}
    if ids:
        known_task_names(services, refresh=True)  # once for all: retry_one does not ask again
    for task_id in ids:
        try:
            result = retry_one(services, session, task_id, queue, may_ask=False, actor=actor)
        except ActionError as exc:
            skipped[task_id] = str(exc)
            continue
        sent.append(result["task_id"])
        session.add(
            Action(
                at=utcnow(), actor=actor, action="retry", target=task_id,
                params=json.dumps({"bulk": True}), outcome="ok",
                result=json.dumps({"status": 202, "body": result}),
            )
        )  # fmt: skip
    return {"acted_on": len(sent), "new_task_ids": sent[:1000], "skipped": _bounded(skipped)}


def _revoke_all(services: Services, session: Session, actor: str, ids: list[str]) -> dict[str, Any]:
    for start in range(0, len(ids), 1000):
        services.celery.control.revoke(ids[start : start + 1000])
    remember(session, services, ids, actor, False, None)
    for task_id in ids:
        session.add(
            Action(at=utcnow(), actor=actor, action="revoke", target=task_id,
                   params=json.dumps({"bulk": True}), outcome="ok")
        )  # fmt: skip
    return {"acted_on": len(ids), "skipped": {}}


def _bounded(skipped: dict[str, str], limit: int = 50) -> dict[str, str]:
    return dict(list(skipped.items())[:limit])


def retry_tasks(services: Services, session: Session, actor: str, ids: list[str]) -> dict[str, Any]:
    """Bulk retry of given task ids inside the caller's action (failure groups' "Retry
    group"), each one logged as bulk retries are, at most `bulk_max`, to each task's route."""
    return _retry_all(services, session, actor, ids[: services.settings.bulk_max], None)
