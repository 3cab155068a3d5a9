"""Delivering what is owed: each due notification is claimed, sent, and its attempt recorded.

A claim pushes the notification's next attempt past the time one send can take (a lease) and
is committed before the send, so another scheduler that takes over meanwhile leaves it alone
until the lease runs out; if this one died in the middle, the new leader sends it again,
with the same id (at-least-once; receivers deduplicate on the id). A failed attempt is
retried after a backoff that doubles each time; after `delivery_attempts` tries the
notification is "failed", and the Alerts page lists it as undeliverable.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from controlplane.alerting.channels import DeliveryError, send
from controlplane.alerting.config import Channel
from controlplane.alerting.store import load_channels
from controlplane.clock import utcnow
from controlplane.models import Notification, NotificationAttempt
from controlplane.services import Services

log = logging.getLogger(__name__)

BACKOFF_CAP = 3600.0  # seconds: the longest wait between two attempts
PER_TURN = 100  # notifications one turn sends at most; the rest wait for the next turn


def deliver_due(services: Services, leading: Callable[[], bool] = lambda: True) -> int:
    """Send every due notification while this process leads; return how many were sent."""
    sent = 0
    for _ in range(PER_TURN):
        if not leading():
            break
        claimed = _claim(services, utcnow())
        if claimed is None:
            break
        notification_id, channel, payload, number = claimed
        ok, detail = _attempt(services, channel, payload)
        _record(services, notification_id, number, ok, detail)
        sent += ok
    return sent


def _claim(
    services: Services, now: datetime
) -> tuple[str, Channel | None, dict[str, object], int] | None:
    settings = services.settings.alerts
    lease = timedelta(seconds=max(1.0, settings.delivery_timeout_seconds * 3))
    with services.transaction() as session:
        query = (
            select(Notification)
            .where(Notification.status == "pending", Notification.next_attempt_at <= now)
            .order_by(Notification.next_attempt_at, Notification.created_at)
            .limit(1)
        )
        if not services.settings.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        row = session.scalars(query).first()
        if row is None:
            return None
        row.attempts += 1
        row.next_attempt_at = now + lease
        channel = load_channels(services, session).get(row.channel)
        return row.id, channel, json.loads(row.payload), row.attempts


def _attempt(
    services: Services, channel: Channel | None, payload: dict[str, object]
) -> tuple[bool, str]:
    if channel is None:
        return False, "the channel no longer exists"
    if not channel.enabled:
        return False, "the channel is disabled"
    try:
        return True, send(channel, payload, services.settings.alerts.delivery_timeout_seconds)
    except DeliveryError as exc:
        log.warning("notification %s to %s: %s", payload.get("id"), channel.name, exc)
        return False, str(exc)
    except Exception as exc:  # a bug must not stop the other notifications
        log.exception("notification %s to %s failed", payload.get("id"), channel.name)
        return False, f"{type(exc).__name__}"


def _record(services: Services, notification_id: str, number: int, ok: bool, detail: str) -> None:
    settings = services.settings.alerts
    now = utcnow()
    with services.transaction() as session:
        row = session.get(Notification, notification_id)
        if row is None:
            return
        session.add(NotificationAttempt(notification_id=notification_id, number=number,
                                        at=now, ok=ok, detail=detail[:500]))  # fmt: skip
        if ok:
            row.status, row.delivered_at, row.last_error = "delivered", now, None
        elif row.attempts >= settings.delivery_attempts:
            row.status, row.last_error = "failed", detail[:500]
        else:
            wait = min(BACKOFF_CAP, settings.delivery_backoff_seconds * 2 ** (row.attempts - 1))
            row.next_attempt_at, row.last_error = now + timedelta(seconds=wait), detail[:500]
