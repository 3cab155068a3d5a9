"""Revocations that survive worker restarts: stored, and sent again to workers coming online."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from controlplane.clock import utcnow
from controlplane.models import Revocation
from controlplane.services import Services

log = logging.getLogger(__name__)


def remember(
    session: Session,
    services: Services,
    task_ids: list[str],
    actor: str,
    terminate: bool,
    signal: str | None,
) -> None:
    now = utcnow()
    expires = now + timedelta(hours=services.settings.revocation_ttl_hours)
    for task_id in task_ids:
        row = session.get(Revocation, task_id)
        if row is None:
            row = Revocation(task_id=task_id)
            session.add(row)
        row.revoked_at = now
        row.expires_at = expires
        row.terminate = terminate
        row.signal = signal
        row.actor = actor


def active_revocations(session: Session) -> list[str]:
    now = utcnow()
    return list(session.scalars(select(Revocation.task_id).where(Revocation.expires_at > now)))


def revocations_for_worker(services: Services) -> list[str]:
    """Unexpired revoked ids, for a worker asking as it starts (worker_hook): it adds them to
    its revoked set before its consumer takes a message (FAULTS.md row 3)."""
    with services.transaction() as session:
        return active_revocations(session)


def resend_revocations(services: Services, hostname: str | None = None) -> int:
    """Send every unexpired revocation again (to `hostname` only when given); drop expired ones.

    Workers keep revoked ids in memory, so a restarted worker would run a revoked ETA task it
    gets back from the broker. The event ingester calls this on every worker-online event.
    """
    with services.transaction() as session:
        session.execute(delete(Revocation).where(Revocation.expires_at <= utcnow()))
        task_ids = active_revocations(session)
    if not task_ids:
        return 0
    destination = [hostname] if hostname else None
    for start in range(0, len(task_ids), 1000):
        services.celery.control.revoke(task_ids[start : start + 1000], destination=destination)
    log.info("re-sent %d revocation(s) to %s", len(task_ids), hostname or "all workers")
    return len(task_ids)


# A worker sends worker-online before it listens to broadcast commands, so a revoke sent at once
# can miss it. Send again once it surely listens; repeats are harmless (revoking is idempotent).
RESEND_DELAYS = (0.0, 2.0, 6.0)


def revocation_resender(services: Services) -> Callable[[str], None]:
    """The ingester's worker-online hook: re-send stored revocations to that worker, three times."""

    def resend(hostname: str) -> None:
        try:
            resend_revocations(services, hostname)
        except Exception as exc:
            log.warning("could not re-send revocations to %s: %s", hostname, exc)

    def on_worker_online(hostname: str) -> None:
        for delay in RESEND_DELAYS:
            timer = threading.Timer(delay, resend, args=(hostname,))
            timer.daemon = True
            timer.start()

    return on_worker_online
