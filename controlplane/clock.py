"""UTC time for the database (SQLite hands datetimes back naive, and naive means UTC here),
and durations as people read them."""

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


def duration(seconds: float) -> str:
    """0.2 ms, 35 ms, 2.5 s, 4.2 min: how a person reads a task's runtime."""
    if seconds < 0.001:
        return f"{seconds * 1000:.1g} ms" if seconds > 0 else "0 ms"
    if seconds < 0.01:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 10:
        return f"{seconds:.2g} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
