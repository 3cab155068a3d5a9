"""The action log: who did what, with which parameters, and how it went.

`run_action` wraps every operator action. It writes the outcome in the same transaction as the
action's own rows, before the answer goes back. With an Idempotency-Key it claims the key first,
so a double click or a client retry publishes once and gets the first answer again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from controlplane.db import session_scope
from controlplane.errors import ActionError, ActionFailed, Conflict
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


def _now() -> datetime:
    return datetime.now(UTC)


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
) -> ActionResult:
    """Run `perform(session)` and log it; ActionError becomes a refusal, anything else an error."""
    if idempotency_key is not None:
        if not idempotency_key or len(idempotency_key) > MAX_KEY_LENGTH:
            return _refuse_without_key(services, actor, action, target, params)
        replay = _claim_key(services, actor, action, target, params, idempotency_key)
        if replay is not None:
            return replay

    status: int
    body: dict[str, Any]
    with session_scope(services.sessions) as session:
        try:
            status, body = perform(session)
            outcome, error = "ok", None
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
            "params": _dumps(params),
            "outcome": outcome,
            "error": error,
            "result": _dumps({"status": status, "body": body}),
        }
        if idempotency_key is not None:
            action_id = session.scalar(
                update(Action)
                .where(Action.idempotency_key == idempotency_key)
                .values(**values)
                .returning(Action.id)
            )
        else:  # the API's hot path: a prebuilt Core INSERT, no ORM bookkeeping
            row = dict(values, at=_now(), actor=actor, action=action, target=target)
            action_id = session.connection().execute(_INSERT_ACTION, row).scalar_one()
    return ActionResult(status, body, action_id)


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
        with session_scope(services.sessions) as session:
            session.add(
                Action(
                    at=_now(),
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
    with session_scope(services.sessions) as session:
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
