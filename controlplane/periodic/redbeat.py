"""RedBeat's schedule entries, read from its Redis without importing RedBeat (read-only).

RedBeat keeps each entry as a hash `<prefix><name>` whose `definition` field is JSON (name,
task, args, kwargs, options, enabled, and the schedule encoded as {"__type__": "interval",
"every": s} or {"__type__": "crontab", minute, hour, ...}); the sorted set `<prefix>:schedule`
lists the entries' keys by due time. Entries with other schedule types (rrule) are skipped.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import redis

from controlplane.periodic.sources import Entry, plain_options
from controlplane.periodic.spec import Spec

log = logging.getLogger(__name__)
MAX_ENTRIES = 1000
TIMEOUT = 2.0  # seconds: a watch pass never hangs on RedBeat's Redis


def _spec(encoded: Any) -> Spec | None:
    if not isinstance(encoded, dict):
        return None
    kind = encoded.get("__type__")
    if kind == "interval":
        return Spec("interval", {"every": float(encoded["every"])})
    if kind == "crontab":
        fields = ("minute", "hour", "day_of_week", "day_of_month", "month_of_year")
        return Spec("crontab", {name: str(encoded.get(name, "*")) for name in fields})
    return None


def from_redbeat(url: str, prefix: str = "redbeat:") -> list[Entry]:
    client = redis.Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
    try:
        keys = client.zrange(f"{prefix}:schedule", 0, MAX_ENTRIES - 1)
        if not keys:
            return []
        with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hget(key, "definition")
            definitions = pipe.execute()
    finally:
        client.close()
    entries = []
    for key, raw in zip(keys, definitions, strict=True):
        try:
            definition = json.loads(raw) if raw else {}
            spec = _spec(definition.get("schedule")) if isinstance(definition, dict) else None
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("RedBeat entry %r skipped: %s", key, exc)
            continue
        if spec is None or "task" not in definition or not definition.get("enabled", True):
            continue
        args, kwargs = definition.get("args") or [], definition.get("kwargs") or {}
        entries.append(Entry(
            "redbeat", str(definition.get("name") or key)[:255], str(definition["task"])[:255],
            spec, list(args), dict(kwargs), plain_options(definition.get("options")),
        ))  # fmt: skip
    return entries
