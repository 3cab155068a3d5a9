"""Jinja filters for times, durations and task states."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from controlplane.clock import as_utc, utcnow

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
    if value is None:
        return "—"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 120:
        return f"{value:.1f} s"
    if value < 7200:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


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
