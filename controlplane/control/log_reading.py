"""Reading the action log: filters and keyset pages, newest first."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from controlplane.clock import as_utc
from controlplane.db import session_scope
from controlplane.fleet.task_history import parse_time
from controlplane.models import Action
from controlplane.services import Services

FILTERS = ("actor", "action", "target", "outcome")


@dataclass
class ActionPage:
    rows: list[Action]
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
    query = query.where(Action.outcome != "pending").order_by(Action.id.desc()).limit(limit + 1)
    with session_scope(services.sessions) as session:
        rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return ActionPage(rows, str(rows[-1].id) if more and rows else None)


def action_as_dict(row: Action) -> dict[str, Any]:
    stamp = as_utc(row.at)
    return {
        "id": row.id,
        "at": stamp.isoformat() if stamp else None,
        "actor": row.actor,
        "action": row.action,
        "target": row.target,
        "params": json.loads(row.params) if row.params else None,
        "outcome": row.outcome,
        "error": row.error,
    }
