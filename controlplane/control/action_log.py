"""The action log: who did what, with which parameters, and how it went; written and read here.

`run_action` wraps every operator action. It writes the intent first (a "pending" row, in its
own transaction), then performs the action, then writes the outcome in the same transaction as
the action's own rows, before the answer goes back. A database that cannot take the intent
means nothing is sent (503); a crash or outage after the publish leaves the row "pending", a
visible trace, never a published task nobody can see. With an Idempotency-Key the pending row
is the key's claim, so a double click or a client retry publishes once and gets the first
answer again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from controlplane.clock import as_utc, utcnow
from controlplane.errors import ActionError, ActionFailed, Conflict
from controlplane.fleet.task_history import parse_time
from controlplane.models import Action
from controlplane.services import Services

log = logging.getLogger(__name__)
MAX_KEY_LENGTH = 128
_ACTIONS = cast(Table, Action.__table__)
_INSERT_ACTION = insert(_ACTIONS).returning(_ACTIONS.c.id)


@dataclass(frozen=True)
class ActionResult:
    """What the caller shows: an HTTP status and a JSON-able body (with `error` on failure)."""

    status: int
    body: dict[str, Any]
    action_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status < 400


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str, separators=(",", ":"))[:20000]


def run_action(
    services: Services,
    actor: str,
    action: str,
    target: str | None,
    params: dict[str, Any],
    perform: Callable[[Session], tuple[int, dict[str, Any]]],
    idempotency_key: str | None = None,
    target_of: Callable[[dict[str, Any]], str | None] | None = None,
) -> ActionResult:
    """Run `perform(session)` and log it; ActionError becomes a refusal, anything else an error.

    `target_of(body)` names the target once it exists (a trigger's new task id).
    """
    if idempotency_key is not None:
        if not idempotency_key or len(idempotency_key) > MAX_KEY_LENGTH:
            return _refuse_without_key(services, actor, action, target, params)
        replay = _claim_key(services, actor, action, target, params, idempotency_key)
        if replay is not None:
            return replay
        intent = _ACTIONS.c.idempotency_key == idempotency_key
    else:
        intent = _ACTIONS.c.id == _write_intent(services, actor, action, target, params)

    status: int
    body: dict[str, Any]
    with services.transaction() as session:
        try:
            status, body = perform(session)
            outcome, error = "ok", None
            if target_of is not None:
                target = (target_of(body) or target or "")[:255] or None
        except ActionError as exc:
            session.rollback()
            status, body = exc.status, {"error": str(exc)}
            outcome = "error" if isinstance(exc, ActionFailed) else "refused"
            error = str(exc)
        except Exception as exc:
            session.rollback()
            log.warning("%s on %s failed: %r", action, target, exc)
            message = f"{action} failed: {type(exc).__name__}: {exc}"[:1000]
            status, body, outcome, error = 503, {"error": message}, "error", message

        values = {
            "target": target,
            "params": _dumps(params),
            "outcome": outcome,
            "error": error,
            "result": _dumps({"status": status, "body": body}),
        }
        action_id = (
            session.connection()
            .execute(update(_ACTIONS).where(intent).values(**values).returning(_ACTIONS.c.id))
            .scalar()
        )
    return ActionResult(status, body, action_id)


def _write_intent(
    services: Services, actor: str, action: str, target: str | None, params: dict[str, Any]
) -> int:
    """The action's row, "pending", committed before anything is sent; its id."""
    row = {"at": utcnow(), "actor": actor, "action": action, "target": target,
           "params": _dumps(params), "outcome": "pending"}  # fmt: skip
    with services.transaction() as session:  # the API's hot path: a prebuilt Core INSERT
        action_id: int = session.connection().execute(_INSERT_ACTION, row).scalar_one()
    return action_id


def refuse(
    services: Services, actor: str, action: str, target: str | None, params: Any, error: ActionError
) -> ActionResult:
    """Write down a request refused before it could be acted on, and the answer to give."""

    def perform(_session: Session) -> tuple[int, dict[str, Any]]:
        raise error

    return run_action(services, actor, action, target, params, perform)


def log_refusal(services: Services, actor: str, route: str, reason: str) -> None:
    """Write down a request refused for its role (403): who, which route, why.

    Best effort: a database that cannot take the row must not turn the 403 into a 500.
    """
    row = {"at": utcnow(), "actor": actor[:64], "action": "forbidden", "target": route[:255],
           "params": None, "outcome": "refused", "error": reason[:1000]}  # fmt: skip
    try:
        with services.transaction() as session:
            session.connection().execute(_INSERT_ACTION, row)
    except Exception as exc:
        log.warning("could not log the refusal of %s for %s: %s", route, actor, exc)


def _refuse_without_key(
    services: Services, actor: str, action: str, target: str | None, params: dict[str, Any]
) -> ActionResult:
    def refuse(_session: Session) -> tuple[int, dict[str, Any]]:
        raise ActionError(f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} characters")

    return run_action(services, actor, action, target, params, refuse)


def _claim_key(
    services: Services,
    actor: str,
    action: str,
    target: str | None,
    params: dict[str, Any],
    key: str,
) -> ActionResult | None:
    """Insert a pending row holding `key`; if someone holds it already, their answer (or 409)."""
    try:
        with services.transaction() as session:
            session.add(
                Action(
                    at=utcnow(),
                    actor=actor,
                    action=action,
                    target=target,
                    params=_dumps(params),
                    outcome="pending",
                    idempotency_key=key,
                )
            )
        return None
    except IntegrityError:
        pass
    with services.transaction() as session:
        row = session.scalar(select(Action).where(Action.idempotency_key == key))
        if row is None:  # the holder's row vanished (retention); treat as a conflict
            raise_conflict = "Idempotency-Key is being reused; try another key"
            return ActionResult(409, {"error": raise_conflict})
        if row.actor != actor or row.action != action:
            error = Conflict("this Idempotency-Key was already used for another request")
            return ActionResult(error.status, {"error": str(error)})
        if row.outcome == "pending" or not row.result:
            return ActionResult(409, {"error": "the first request with this key is still running"})
        stored = json.loads(row.result)
        body = dict(stored["body"])
        body["idempotent_replay"] = True
        return ActionResult(int(stored["status"]), body, row.id)


# ---- reading ---------------------------------------------------------------------------------

FILTERS = ("actor", "action", "target", "outcome")


@dataclass(frozen=True)
class ActionRecord:
    """One row of the action log, as pages and the API show it."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    params: str | None  # JSON
    outcome: str
    error: str | None

    @classmethod
    def of(cls, row: Action) -> ActionRecord:
        values = {f.name: getattr(row, f.name) for f in fields(cls)}
        values["at"] = as_utc(row.at)
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "params": json.loads(self.params) if self.params else None,
            "outcome": self.outcome,
            "error": self.error,
        }


@dataclass(frozen=True)
class ActionPage:
    rows: list[ActionRecord]
    next_cursor: str | None


def list_actions(services: Services, args: Mapping[str, str], limit: int = 50) -> ActionPage:
    """Actions matching `args` (actor, action, target, outcome, since, until, cursor)."""
    query = select(Action)
    for key in FILTERS:
        value = args.get(key)
        if value:
            query = query.where(getattr(Action, key) == value[:255])
    since = parse_time(args.get("since"), "since")
    until = parse_time(args.get("until"), "until")
    if since:
        query = query.where(Action.at >= since)
    if until:
        query = query.where(Action.at < until)
    cursor = args.get("cursor")
    if cursor:
        if not cursor.isdigit():
            raise ValueError("cursor: not a cursor this server gave out")
        query = query.where(Action.id < int(cursor))
    # "pending" rows are shown: an action in flight, or the trace of one whose outcome was
    # never written (the database failed after the publish).
    query = query.order_by(Action.id.desc()).limit(limit + 1)
    with services.transaction() as session:
        rows = [ActionRecord.of(row) for row in session.scalars(query)]
    more = len(rows) > limit
    rows = rows[:limit]
    return ActionPage(rows, str(rows[-1].id) if more and rows else None)


def actions_on(services: Services, target: str, limit: int = 50) -> list[ActionRecord]:
    """The actions taken on one task, queue or worker, newest first."""
    query = select(Action).where(Action.target == target).order_by(Action.at.desc()).limit(limit)
    with services.transaction() as session:
        return [ActionRecord.of(row) for row in session.scalars(query)]
