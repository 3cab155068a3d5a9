"""UTC time for the database: SQLite hands datetimes back naive, and naive means UTC here."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """`value` with tzinfo=UTC (a naive value from SQLite is taken to be UTC already)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def age_seconds(value: datetime | None, now: datetime) -> float | None:
    """Seconds from `value` to `now`, or None when `value` is unknown."""
    moment = as_utc(value)
    return None if moment is None else (now - moment).total_seconds()
