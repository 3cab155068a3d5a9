"""Operator actions on alerts: acknowledge an instance, forget a lost worker.

Both go through `run_action`, so the action log says who did it and when; the console's
buttons and the JSON API call these same functions.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from controlplane.clock import utcnow
from controlplane.control.action_log import ActionResult, run_action
from controlplane.errors import ActionError, NotFound
from controlplane.fleet.alerts import BY_NAME
from controlplane.fleet.health import worker_health
from controlplane.models import AlertAck, Worker
from controlplane.services import Services

SUBJECT_MAX = 255


def acknowledge_alert(
    services: Services, actor: str, alert: Any, subject: Any, idempotency_key: str | None = None
) -> ActionResult:
    """Mark one firing instance as seen: it stays listed, muted, until it stops firing."""
    name = alert if isinstance(alert, str) else ""
    about = subject if isinstance(subject, str) else ""

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        if name not in BY_NAME:
            raise ActionError(f"alert: expected one of {', '.join(BY_NAME)}")
        if not about or len(about) > SUBJECT_MAX:
            raise ActionError(f"subject: expected 1-{SUBJECT_MAX} characters")
        now = utcnow()
        row = session.get(AlertAck, (name, about))
        if row is None:
            session.add(AlertAck(alert=name, subject=about, actor=actor, at=now))
        else:
            row.actor, row.at = actor, now
        return 200, {"alert": name, "subject": about, "acknowledged_by": actor,
                     "acknowledged_at": now.isoformat()}  # fmt: skip

    target = f"{name}:{about}"[:255]
    return run_action(services, actor, "alert_ack", target, {"alert": alert, "subject": subject},
                      perform, idempotency_key)  # fmt: skip


def forget_worker(
    services: Services, actor: str, hostname: str, idempotency_key: str | None = None
) -> ActionResult:
    """Remove an offline worker from the fleet view (it comes back if it sends events again)."""

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        row = session.get(Worker, hostname)
        if row is None:
            raise NotFound(f"no worker named {hostname!r}")
        health = worker_health(row, utcnow(), services.settings.inspect_interval)
        if health.status != "offline":
            raise ActionError(
                f"{hostname} is {health.status}: only an offline worker can be forgotten"
            )
        session.delete(row)
        session.execute(
            delete(AlertAck).where(
                AlertAck.subject == hostname, AlertAck.alert.in_(("worker_offline", "worker_late"))
            )
        )
        return 200, {"hostname": hostname, "forgotten": True}

    return run_action(services, actor, "forget_worker", hostname[:255], {}, perform,
                      idempotency_key)  # fmt: skip
