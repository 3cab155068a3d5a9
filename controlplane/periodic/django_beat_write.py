"""Enable or disable a django-celery-beat entry by writing its tables (when the admin allows it).

DatabaseScheduler reloads its schedule only when `django_celery_beat_periodictasks.last_update`
(the single row `ident=1`) moves forward, which is what django-celery-beat's own model save
does (`PeriodicTasks.update_changed`); so the flag and that stamp change in one transaction,
with the same deadline as the read. Like the model's save, disabling clears `last_run_at`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from controlplane.control.action_log import ActionResult, run_action
from controlplane.errors import Conflict, NotFound
from controlplane.models import Schedule
from controlplane.periodic.django_beat import connect_args
from controlplane.services import Services

SOURCE = "django_celery_beat"
SET_ENABLED = text("""
    UPDATE django_celery_beat_periodictask
    SET enabled = :enabled, date_changed = :now,
        last_run_at = CASE WHEN :enabled THEN last_run_at ELSE NULL END
    WHERE name = :name
""")
BUMP = text("UPDATE django_celery_beat_periodictasks SET last_update = :now WHERE ident = 1")
FIRST_BUMP = text("INSERT INTO django_celery_beat_periodictasks (ident, last_update) "
                  "VALUES (1, :now)")  # fmt: skip


def _stamp(url: str) -> Any:
    """Now in UTC as Django stores it: aware for PostgreSQL, naive UTC text on SQLite."""
    now = datetime.now(UTC)
    if url.startswith("sqlite"):
        return now.replace(tzinfo=None).isoformat(" ")
    return now


def write_enabled(url: str, name: str, enabled: bool) -> bool:
    """Set the entry's `enabled` and tell DatabaseScheduler; False when no entry has that name."""
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_args(url))
    try:
        with engine.begin() as connection:
            now = _stamp(url)
            found = connection.execute(SET_ENABLED, {"enabled": enabled, "now": now,
                                                     "name": name})  # fmt: skip
            if found.rowcount == 0:
                return False
            if connection.execute(BUMP, {"now": now}).rowcount == 0:
                connection.execute(FIRST_BUMP, {"now": now})
    finally:
        engine.dispose()
    return True


def _check_writable(services: Services) -> str:
    settings = services.settings
    if not settings.django_beat_writable or not settings.django_beat_url:
        raise Conflict(
            "django-celery-beat entries are read-only here: the admin turns on "
            "CONTROLPLANE_DJANGO_BEAT_WRITABLE (with CONTROLPLANE_DJANGO_BEAT_URL) to allow it"
        )
    return settings.django_beat_url


def _write(url: str, name: str, enabled: bool) -> tuple[int, dict[str, Any]]:
    if not write_enabled(url, name, enabled):
        raise NotFound(f"django-celery-beat has no periodic task named {name!r}")
    return 200, {"schedule": name, "enabled": enabled}


def set_enabled(services: Services, actor: str, schedule_id: int, enabled: bool) -> ActionResult:
    """The admin's Enable/Disable of a watched django-celery-beat entry, in the action log."""

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        url = _check_writable(services)
        row = session.get(Schedule, schedule_id)
        if row is None:
            raise NotFound(f"no schedule {schedule_id}")
        if row.source != SOURCE:
            raise Conflict(f"schedule {row.name!r} is not a django-celery-beat entry")
        return _write(url, row.name, enabled)

    return run_action(services, actor, _action(enabled), f"schedule:{schedule_id}", {}, perform)


def set_enabled_by_name(services: Services, actor: str, name: str, enabled: bool) -> ActionResult:
    """The same by django-celery-beat's name: a disabled entry is not watched, so has no id."""

    def perform(_session: Session) -> tuple[int, dict[str, Any]]:
        return _write(_check_writable(services), name, enabled)

    target = f"{SOURCE}:{name}"[:255]
    return run_action(services, actor, _action(enabled), target, {}, perform)


def _action(enabled: bool) -> str:
    return "schedule_enable" if enabled else "schedule_disable"
