"""Jinja filters for times, durations and task states, and what every printed value passes
through (bidi controls made visible)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

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


def json_items(text: str | None, limit: int = 12) -> list[tuple[str, str]]:
    """An action's JSON parameters as (key, value) pairs for a small key/value list."""
    try:
        value = json.loads(text or "")
    except ValueError:
        return [("", (text or "")[:200])] if text else []
    if not isinstance(value, dict):
        return [("", json.dumps(value)[:200])]
    return [
        (str(key)[:60], (item if isinstance(item, str) else json.dumps(item))[:200])
        for key, item in list(value.items())[:limit]
        if item not in (None, "", [], {})
    ]


# Characters that reorder the text around them: "invoice\u202egpj.exe" shows as
# "invoiceexe.jpg". Names, queues, hostnames and exceptions come from the fleet, so every
# value a template prints shows them as their code point instead.
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def show_bidi(value: Any) -> Any:
    """Jinja's `finalize`: a printed string's bidi controls as visible [U+202E] marks."""
    if isinstance(value, str) and BIDI_CONTROLS.search(value):
        # str.replace, which markup (an SVG chart) overrides to stay markup
        for char in set(BIDI_CONTROLS.findall(value)):
            value = value.replace(char, f"[U+{ord(char):04X}]")
    return value


def state_class(state: str | None) -> str:
    return STATE_CLASSES.get(state or "", "muted")


def init_app(app: Flask) -> None:
    app.jinja_env.finalize = show_bidi
    app.jinja_env.filters.update(
        when=when, ago=ago, seconds=seconds, state_class=state_class, json_items=json_items
    )
    app.jinja_env.globals.update(between=between)
