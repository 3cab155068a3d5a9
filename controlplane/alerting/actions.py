"""Operator actions on notified alerts: acknowledge one by its id (the existing acks of
control/alerts.py), and send a test notification through one channel."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy.orm import Session

from controlplane.alerting import messages
from controlplane.alerting.channels import DeliveryError, send
from controlplane.alerting.history import get_state
from controlplane.alerting.store import load_channels
from controlplane.clock import utcnow
from controlplane.control.action_log import ActionResult, run_action
from controlplane.control.alerts import acknowledge_alert
from controlplane.errors import NotFound
from controlplane.models import Notification, NotificationAttempt
from controlplane.services import Services


def acknowledge_by_id(
    services: Services, actor: str, state_id: int, idempotency_key: str | None = None
) -> ActionResult:
    """Acknowledge the alert behind an alert state: no more repeats while it holds."""
    state = get_state(services, state_id)
    if state is None:

        def missing(_session: Session) -> tuple[int, dict[str, Any]]:
            raise NotFound(f"no alert with id {state_id}")

        return run_action(services, actor, "alert_ack", str(state_id), {"id": state_id},
                          missing)  # fmt: skip
    result = acknowledge_alert(services, actor, state.alert, state.subject, idempotency_key)
    if result.ok:
        result.body["id"] = state_id
    return result


def send_test(services: Services, actor: str, channel_name: str) -> ActionResult:
    """Send one "test" notification now (one attempt, recorded like any other)."""

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        channel = load_channels(services, session).get(channel_name)
        if channel is None:
            raise NotFound(f"no channel named {channel_name!r}")
        now = utcnow()
        notification_id = str(uuid.uuid4())
        facts = messages.AlertFacts(
            id=None, rule="(test)", condition="test", title="Test notification",
            severity="info", subject=channel_name, value=0, unit="", state="test",
            message=f"A test notification from controlplane, sent by {actor}.",
            link="/alerts", started_at=now, fired_at=None, resolved_at=None,
        )  # fmt: skip
        public_url = services.settings.alerts.public_url
        body = messages.body(notification_id, "test", facts, channel_name, now, public_url)
        try:
            detail = send(channel, body, services.settings.alerts.delivery_timeout_seconds)
            ok = True
        except DeliveryError as exc:
            detail, ok = str(exc), False
        session.add(
            Notification(id=notification_id, alert_state_id=None, channel=channel_name,
                         event="test", payload=json.dumps(body),
                         status="delivered" if ok else "failed", attempts=1,
                         next_attempt_at=now, created_at=now,
                         delivered_at=now if ok else None, last_error=None if ok else detail)
        )  # fmt: skip
        session.flush()
        session.add(NotificationAttempt(notification_id=notification_id, number=1, at=now,
                                        ok=ok, detail=detail[:500]))  # fmt: skip
        answer = {"id": notification_id, "channel": channel_name, "delivered": ok,
                  "detail": detail}  # fmt: skip
        return (200 if ok else 502), answer

    return run_action(services, actor, "channel_test", channel_name[:255], {}, perform)
