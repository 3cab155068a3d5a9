"""django-celery-beat's schedules, read from its tables in the fleet's database (read-only).

Each enabled, repeating `django_celery_beat_periodictask` row with an interval, crontab or
solar schedule becomes an entry (clocked one-off tasks have no period to miss). The console
connects with the URL it is given (`django_beat_url`, best a read-only role) and reads with
a deadline, so a slow fleet database delays one watch pass, not the console.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from controlplane.periodic.sources import Entry
from controlplane.periodic.spec import Spec

log = logging.getLogger(__name__)
TIMEOUT = 5  # seconds to connect and to run the query
PERIOD_SECONDS = {"days": 86400.0, "hours": 3600.0, "minutes": 60.0, "seconds": 1.0,
                  "microseconds": 1e-6}  # fmt: skip
QUERY = text("""
    SELECT pt.name, pt.task, pt.args, pt.kwargs, pt.queue, pt.exchange, pt.routing_key,
           pt.priority, i.every, i.period, c.minute, c.hour, c.day_of_week, c.day_of_month,
           c.month_of_year, c.timezone, s.event, s.latitude, s.longitude
    FROM django_celery_beat_periodictask pt
    LEFT JOIN django_celery_beat_intervalschedule i ON pt.interval_id = i.id
    LEFT JOIN django_celery_beat_crontabschedule c ON pt.crontab_id = c.id
    LEFT JOIN django_celery_beat_solarschedule s ON pt.solar_id = s.id
    WHERE pt.enabled AND NOT pt.one_off
    ORDER BY pt.name
    LIMIT 1000
""")


DISABLED_QUERY = text("""
    SELECT name FROM django_celery_beat_periodictask
    WHERE NOT enabled AND NOT one_off ORDER BY name LIMIT 200
""")


def connect_args(url: str) -> dict[str, Any]:
    """The deadline; on PostgreSQL added to the URL's own `options` (a search_path), not over it."""
    if url.startswith("postgresql"):
        given = make_url(url).query.get("options") or ""
        given = " ".join(given) if isinstance(given, tuple) else given
        options = f"{given} -c statement_timeout={TIMEOUT * 1000}".strip()
        return {"connect_timeout": TIMEOUT, "options": options}
    if url.startswith("sqlite"):
        return {"timeout": TIMEOUT}
    return {}


def _spec(row: Any) -> Spec | None:
    if row.every is not None and row.period in PERIOD_SECONDS:
        return Spec("interval", {"every": float(row.every) * PERIOD_SECONDS[row.period]})
    if row.minute is not None:
        fields = {"minute": row.minute, "hour": row.hour, "day_of_week": row.day_of_week,
                  "day_of_month": row.day_of_month, "month_of_year": row.month_of_year}  # fmt: skip
        return Spec("crontab", {k: str(v) for k, v in fields.items()}, str(row.timezone or "UTC"))
    if row.event is not None:
        return Spec("solar", {"event": row.event, "lat": float(row.latitude),
                              "lon": float(row.longitude)})  # fmt: skip
    return None


def _json(value: str | None, empty: Any) -> tuple[Any, bool]:
    """django-celery-beat keeps args/kwargs as JSON text; (value, parsed whole)."""
    try:
        return (json.loads(value) if value else empty), True
    except ValueError:
        return empty, False


def from_django_beat(url: str) -> list[Entry]:
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_args(url))
    try:
        with engine.connect() as connection:
            rows = connection.execute(QUERY).all()
    finally:
        engine.dispose()
    entries = []
    for row in rows:
        spec = _spec(row)
        if spec is None:
            continue
        args, args_ok = _json(row.args, [])
        kwargs, kwargs_ok = _json(row.kwargs, {})
        options = {key: value for key in ("queue", "exchange", "routing_key", "priority")
                   if (value := getattr(row, key)) not in (None, "")}  # fmt: skip
        entries.append(Entry(
            "django_celery_beat", str(row.name)[:255], str(row.task)[:255], spec,
            list(args) if isinstance(args, list) else None,
            dict(kwargs) if isinstance(kwargs, dict) else None, options,
            args_complete=args_ok and kwargs_ok,
        ))  # fmt: skip
    return entries


def disabled_names(url: str) -> list[str]:
    """The disabled, repeating entries' names: not watched, but an admin may enable them."""
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_args(url))
    try:
        with engine.connect() as connection:
            return [str(name) for name in connection.execute(DISABLED_QUERY).scalars()]
    finally:
        engine.dispose()
