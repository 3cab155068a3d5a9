"""Jinja filters for times, durations and task states."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from controlplane.clock import as_utc, duration, utcnow

STATE_CLASSES = {
    "SUCCESS": "ok",
    "FAILURE": "bad",
    "LOST": "bad",
    "REJECTED": "bad",
    "REVOKED": "muted",
    "RETRY": "warn",
    "STARTED": "live",
    "PROGRESS": "live",
    "RECEIVED": "live",
    "PENDING": "muted",
}


def when(value: datetime | None) -> str:
    stamp = as_utc(value)
    return stamp.strftime("%Y-%m-%d %H:%M:%S") if stamp else "—"


def ago(value: datetime | None) -> str:
    stamp = as_utc(value)
    if stamp is None:
        return "—"
    return seconds((utcnow() - stamp).total_seconds()) + " ago"


def seconds(value: float | None) -> str:
    """A duration as the recommendation's reason writes it too: 0.2 ms, 35 ms, 2.5 s."""
    return "—" if value is None else duration(max(0.0, value))


def between(start: datetime | None, end: datetime | None) -> str:
    a, b = as_utc(start), as_utc(end)
    if a is None or b is None:
        return ""
    return seconds(max(0.0, (b - a).total_seconds()))


def state_class(state: str | None) -> str:
    return STATE_CLASSES.get(state or "", "muted")


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(when=when, ago=ago, seconds=seconds, state_class=state_class)
    app.jinja_env.globals.update(between=between)
