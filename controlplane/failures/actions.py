"""What operators do to a failure group: resolve, ignore, reopen, retry its failures.

Each is an action in the action log (who, when, outcome). "Retry group" sends again the
group's failed tasks that have no console retry yet (a `tasks.retry_of` child), through
control/'s bulk retry; its dry run only counts them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from controlplane.clock import utcnow
from controlplane.control.action_log import ActionResult, run_action
from controlplane.control.bulk import retry_tasks
from controlplane.errors import ActionError, NotFound
from controlplane.failures.groups import count_not_retried, not_retried_ids
from controlplane.models import FailureGroup
from controlplane.services import Services

STATUS_ACTIONS = {"resolve": "resolved", "ignore": "ignored", "reopen": "open"}


def _group(session: Session, group_id: int) -> FailureGroup:
    row = session.get(FailureGroup, group_id)
    if row is None:
        raise NotFound(f"no failure group {group_id}")
    return row


def set_status(services: Services, actor: str, group_id: int, action: str) -> ActionResult:
    """Resolve, ignore or reopen a group, recording who and when on it and in the log."""

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        if action not in STATUS_ACTIONS:
            raise ActionError(f"action: expected one of {', '.join(STATUS_ACTIONS)}")
        row = _group(session, group_id)
        row.status = STATUS_ACTIONS[action]
        row.status_by, row.status_at = actor[:64], utcnow()
        if action == "reopen":
            row.regressed_at = None
        return 200, {"id": group_id, "status": row.status, "by": row.status_by}

    return run_action(
        services, actor, f"failure_group_{action}"[:32], f"group:{group_id}", {}, perform
    )


def retry_group(
    services: Services,
    actor: str,
    group_id: int,
    dry_run: bool,
    idempotency_key: str | None = None,
) -> ActionResult:
    """Retry the group's failures that were not retried yet (at most `bulk_max`)."""
    cap = services.settings.bulk_max

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        if not isinstance(dry_run, bool):
            raise ActionError("dry_run: expected true or false")
        _group(session, group_id)
        matched = count_not_retried(session, group_id)
        summary: dict[str, Any] = {
            "group": group_id, "matched": matched, "cap": cap,
            "would_act_on": min(matched, cap), "dry_run": dry_run,
        }  # fmt: skip
        if dry_run:
            return 200, summary
        summary.update(
            retry_tasks(services, session, actor, not_retried_ids(session, group_id, cap))
        )
        return 202, summary

    return run_action(
        services, actor, "failure_group_retry", f"group:{group_id}",
        {"dry_run": dry_run}, perform, idempotency_key,
    )  # fmt: skip
