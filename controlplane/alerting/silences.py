"""Silences: no notification for the alerts they match until their end time, with a reason.

A silenced alert still shows as firing on the pages; when the silence ends and the alert
still holds, its firing notification goes out then (unless it was acknowledged).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from controlplane.clock import as_utc, utcnow
from controlplane.control.action_log import ActionResult, run_action
from controlplane.errors import ActionError
from controlplane.models import Silence
from controlplane.services import Services

REASON_MAX = 1000
LONGEST = timedelta(days=366)


@dataclass(frozen=True)
class SilenceView:
    id: int
    alert: str  # condition name glob
    subject: str  # subject glob
    ends_at: datetime
    reason: str
    created_by: str
    created_at: datetime

    def matches(self, alert: str, subject: str) -> bool:
        return fnmatchcase(alert, self.alert) and fnmatchcase(subject, self.subject)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "alert": self.alert, "subject": self.subject,
                "ends_at": self.ends_at.isoformat(), "reason": self.reason,
                "created_by": self.created_by,
                "created_at": self.created_at.isoformat()}  # fmt: skip


def active_silences(session: Session, now: datetime) -> list[SilenceView]:
    rows = session.scalars(select(Silence).where(Silence.ends_at > now).order_by(Silence.ends_at))
    return [_view(row) for row in rows]


def list_silences(services: Services) -> list[SilenceView]:
    with services.transaction() as session:
        return active_silences(session, utcnow())


def create_silence(
    services: Services, actor: str, body: Any, idempotency_key: str | None = None
) -> ActionResult:
    """Silence alerts matching `alert` and `subject` (globs, default "*") until `ends_at` (ISO
    8601) or for `minutes`; a reason is required."""
    fields = body if isinstance(body, dict) else {}

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        if not isinstance(body, dict):
            raise ActionError("expected a JSON object")
        now = utcnow()
        alert = _glob(fields.get("alert") or "*", "alert", 64)
        subject = _glob(fields.get("subject") or "*", "subject", 255)
        reason = fields.get("reason")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > REASON_MAX:
            raise ActionError(f"reason: expected 1-{REASON_MAX} characters")
        ends_at = _ends_at(fields, now)
        row = Silence(alert=alert, subject=subject, ends_at=ends_at, reason=reason.strip(),
                      created_by=actor, created_at=now)  # fmt: skip
        session.add(row)
        session.flush()
        return 201, {"silence": _view(row).as_dict()}

    params = {k: str(v)[:300] for k, v in list(fields.items())[:10] if k != "csrf_token"}
    return run_action(services, actor, "silence_create", None, params, perform, idempotency_key)


def _ends_at(fields: dict[str, Any], now: datetime) -> datetime:
    raw_end, minutes = fields.get("ends_at"), fields.get("minutes")
    if raw_end:
        try:
            ends_at = as_utc(datetime.fromisoformat(str(raw_end)))
        except ValueError:
            raise ActionError("ends_at: expected an ISO 8601 time") from None
        assert ends_at is not None
    else:
        try:
            ends_at = now + timedelta(minutes=float(minutes))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ActionError("give ends_at (ISO 8601) or minutes") from None
    if ends_at <= now or ends_at - now > LONGEST:
        raise ActionError("ends_at: expected a time in the future, within a year")
    return ends_at


def _glob(value: Any, name: str, longest: int) -> str:
    if not isinstance(value, str) or len(value) > longest:
        raise ActionError(f"{name}: expected a glob of 1-{longest} characters")
    return value.strip() or "*"


def _view(row: Silence) -> SilenceView:
    ends_at, created_at = as_utc(row.ends_at), as_utc(row.created_at)
    assert ends_at is not None and created_at is not None
    return SilenceView(row.id, row.alert, row.subject, ends_at, row.reason, row.created_by,
                       created_at)  # fmt: skip
