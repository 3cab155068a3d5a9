"""A schedule as data (kept in the database), evaluated with Celery's own classes.

Beat's entries hold `celery.schedules.schedule` (every N seconds), `crontab` or `solar`
objects. They are stored as their fields and rebuilt with a clock we pass in, so "when is the
next run due after t" is Celery's answer, not a re-implementation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from celery.schedules import crontab, schedule, solar
from cron_descriptor import ExpressionDescriptor, Options

MAX_SLOTS = 500  # due times walked at most per question (a week of 20-minute runs)


class UnsupportedSchedule(ValueError):
    pass


@dataclass(frozen=True)
class Spec:
    kind: str  # interval | crontab | solar
    fields: dict[str, Any]
    tz: str = "UTC"

    def to_json(self) -> str:
        return json.dumps({"kind": self.kind, "tz": self.tz, **self.fields}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Spec:
        data = json.loads(text)
        kind, tz = data.pop("kind"), data.pop("tz", "UTC")
        return cls(kind, data, tz)


def from_celery(value: Any, tz: str = "UTC") -> Spec:
    """A beat_schedule entry's `schedule` (a number of seconds, a timedelta or a Celery
    schedule object) as a Spec."""
    if isinstance(value, (int, float)):
        return Spec("interval", {"every": float(value)}, tz)
    if isinstance(value, timedelta):
        return Spec("interval", {"every": value.total_seconds()}, tz)
    if isinstance(value, crontab):
        return Spec("crontab", {
            "minute": str(value._orig_minute), "hour": str(value._orig_hour),
            "day_of_week": str(value._orig_day_of_week),
            "day_of_month": str(value._orig_day_of_month),
            "month_of_year": str(value._orig_month_of_year),
        }, tz)  # fmt: skip
    if isinstance(value, solar):
        return Spec("solar", {"event": value.event, "lat": value.lat, "lon": value.lon}, tz)
    if isinstance(value, schedule):
        return Spec("interval", {"every": value.run_every.total_seconds()}, tz)
    raise UnsupportedSchedule(f"unsupported schedule type {type(value).__name__}")


def build(spec: Spec, now: datetime) -> Any:
    """The Celery schedule object for `spec`, whose clock says `now`."""
    zone = ZoneInfo(spec.tz)

    def nowfun() -> datetime:
        return now.astimezone(zone)

    if spec.kind == "interval":
        return schedule(timedelta(seconds=spec.fields["every"]), nowfun=nowfun)
    if spec.kind == "crontab":
        zoned: Any = crontab(nowfun=nowfun, **spec.fields)
    elif spec.kind == "solar":
        zoned = solar(spec.fields["event"], spec.fields["lat"], spec.fields["lon"], nowfun=nowfun)
    else:
        raise UnsupportedSchedule(f"unknown schedule kind {spec.kind!r}")
    # Celery reads a crontab in its app's zone (`tz`, a cached property): the entry's own
    zoned.tz = zone
    return zoned


def next_due(spec: Spec, after: datetime) -> datetime:
    """When beat runs the entry next if it last ran at `after` (Celery's remaining_estimate,
    asked at `after` itself so the answer does not depend on the time of the question)."""
    celery_schedule = build(spec, after)
    remaining = celery_schedule.remaining_estimate(after.astimezone(ZoneInfo(spec.tz)))
    return (after + max(remaining, timedelta(0))).astimezone(UTC)


def interval_around(spec: Spec, at: datetime) -> float:
    """Seconds between the run due after `at` and the one after it: the period there."""
    if spec.kind == "interval":
        return float(spec.fields["every"])
    first = next_due(spec, at)
    second = next_due(spec, first + timedelta(seconds=1))
    return max(1.0, (second - first).total_seconds())


def in_words(spec: Spec) -> str:
    """ "every 5 minutes", "At 03:00 AM (UTC)", "at sunset (51.5, -0.1)"."""
    if spec.kind == "interval":
        return "every " + _duration(spec.fields["every"])
    if spec.kind == "crontab":
        f = spec.fields
        expression = " ".join(
            (f["minute"], f["hour"], f["day_of_month"], f["month_of_year"], f["day_of_week"])
        )
        try:
            options = Options()
            options.use_24hour_time_format = True
            return f"{ExpressionDescriptor(expression, options).get_description()} ({spec.tz})"
        except Exception:  # cron_descriptor refuses some of Celery's forms; show them as written
            return f"cron {expression} ({spec.tz})"
    if spec.kind == "solar":
        return f"at {spec.fields['event']} ({spec.fields['lat']}, {spec.fields['lon']})"
    return spec.kind


def _duration(seconds: float) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}" + ("s" if count != 1 else "") if count != 1 else unit
    if seconds == int(seconds):
        return f"{int(seconds)} seconds" if seconds != 1 else "second"
    return f"{seconds:g} seconds"
