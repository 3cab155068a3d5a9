"""The read side: alert states (what fires now, the history), notifications and their
attempts, and the undeliverable ones, as plain records for the Alerts page and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select

from controlplane.clock import as_utc
from controlplane.models import AlertState, Notification, NotificationAttempt
from controlplane.services import Services

STATES = ("pending", "firing", "resolved")
PAGE = 200


@dataclass(frozen=True)
class AlertStateView:
    id: int
    rule: str
    alert: str
    subject: str
    state: str
    severity: str
    title: str
    message: str
    value: float
    unit: str
    link: str
    started_at: datetime | None
    fired_at: datetime | None
    resolved_at: datetime | None
    notified_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "rule": self.rule, "alert": self.alert, "subject": self.subject,
            "state": self.state, "severity": self.severity, "title": self.title,
            "message": self.message, "value": round(self.value, 3), "unit": self.unit,
            "link": self.link, "started_at": _iso(self.started_at),
            "fired_at": _iso(self.fired_at), "resolved_at": _iso(self.resolved_at),
            "notified_at": _iso(self.notified_at),
        }  # fmt: skip


@dataclass(frozen=True)
class NotificationView:
    id: str
    alert_state_id: int | None
    channel: str
    event: str
    status: str  # pending, delivered, failed
    attempts: int
    created_at: datetime | None
    delivered_at: datetime | None
    last_error: str | None
    subject: str  # the alert's subject, from the stored body

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "alert_id": self.alert_state_id, "channel": self.channel,
            "event": self.event, "status": self.status, "attempts": self.attempts,
            "created_at": _iso(self.created_at), "delivered_at": _iso(self.delivered_at),
            "last_error": self.last_error, "subject": self.subject,
        }  # fmt: skip


@dataclass(frozen=True)
class AttemptView:
    notification_id: str
    number: int
    at: datetime | None
    ok: bool
    detail: str


def list_states(
    services: Services, state: str | None = None, limit: int = PAGE
) -> list[AlertStateView]:
    """Open states (pending and firing) by default; `state` one of STATES, or "all"."""
    query = select(AlertState).order_by(AlertState.id.desc()).limit(max(1, min(limit, 1000)))
    if state is None:
        query = query.where(AlertState.state.in_(("pending", "firing")))
    elif state != "all":
        query = query.where(AlertState.state == state)
    with services.transaction() as session:
        return [_state(row) for row in session.scalars(query)]


def get_state(services: Services, state_id: int) -> AlertStateView | None:
    with services.transaction() as session:
        row = session.get(AlertState, state_id)
        return None if row is None else _state(row)


def list_notifications(
    services: Services, status: str | None = None, limit: int = 50
) -> list[NotificationView]:
    query = select(Notification, AlertState.subject).outerjoin(
        AlertState, AlertState.id == Notification.alert_state_id
    )
    if status is not None:
        query = query.where(Notification.status == status)
    query = query.order_by(Notification.created_at.desc()).limit(limit)
    with services.transaction() as session:
        return [_notification(row, subject) for row, subject in session.execute(query)]


def attempts_of(services: Services, notification_id: str) -> list[AttemptView]:
    query = (
        select(NotificationAttempt)
        .where(NotificationAttempt.notification_id == notification_id)
        .order_by(NotificationAttempt.number)
    )
    with services.transaction() as session:
        return [AttemptView(a.notification_id, a.number, as_utc(a.at), a.ok, a.detail)
                for a in session.scalars(query)]  # fmt: skip


def delivery_counts(services: Services) -> dict[str, int]:
    """Notifications per status (pending, delivered, failed)."""
    query = select(Notification.status, func.count()).group_by(Notification.status)
    with services.transaction() as session:
        found = {status: int(n) for status, n in session.execute(query)}
    return {status: found.get(status, 0) for status in ("pending", "delivered", "failed")}


def _state(row: AlertState) -> AlertStateView:
    return AlertStateView(
        row.id, row.rule, row.alert, row.subject, row.state, row.severity, row.title,
        row.message, row.value, row.unit, row.link, as_utc(row.started_at),
        as_utc(row.fired_at), as_utc(row.resolved_at), as_utc(row.notified_at),
    )  # fmt: skip


def _notification(row: Notification, subject: str | None) -> NotificationView:
    return NotificationView(
        row.id, row.alert_state_id, row.channel, row.event, row.status, row.attempts,
        as_utc(row.created_at), as_utc(row.delivered_at), row.last_error,
        subject or "(test)",
    )  # fmt: skip


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def purge_history(services: Services, cutoff: datetime) -> int:
    """Resolved alerts resolved before `cutoff` go, with their notifications and attempts, and
    test notifications older than it (the retention job: the same RETENTION_DAYS)."""
    with services.transaction() as session:
        old = select(AlertState.id).where(
            AlertState.state == "resolved", AlertState.resolved_at < cutoff
        )
        gone = [
            n for (n,) in session.execute(
                select(Notification.id).where(
                    Notification.alert_state_id.in_(old)
                    | (Notification.alert_state_id.is_(None) & (Notification.created_at < cutoff))
                )
            )
        ]  # fmt: skip
        if gone:
            session.execute(
                delete(NotificationAttempt).where(NotificationAttempt.notification_id.in_(gone))
            )
            session.execute(delete(Notification).where(Notification.id.in_(gone)))
        result = session.execute(delete(AlertState).where(AlertState.id.in_(old)))
        return int(getattr(result, "rowcount", 0) or 0)
