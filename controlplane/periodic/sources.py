"""Where schedules come from, each read-only and optional.

- The fleet's own Celery app (`celery_app = "module:attr"`): its `beat_schedule`, exactly as
  beat reads it. Importing the app runs its module's code, so it is opt-in.
- History: a task name sent at a regular interval by something that is not another task
  (no parent, not a console retry) is an "observed schedule". Recognised when its last
  `schedule_infer_min_runs` sends are evenly spaced: every gap within 10% (at least 0.25 s)
  of their median, at least 1 s. Its arguments are the latest run's, when they were stored
  complete.
"""

from __future__ import annotations

import importlib
import json
import logging
import statistics
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from controlplane.clock import as_utc
from controlplane.config import Settings
from controlplane.control.tasks import stored_arguments
from controlplane.errors import ActionError
from controlplane.fleet.health import json_names
from controlplane.models import Task, Worker
from controlplane.periodic.spec import Spec, UnsupportedSchedule, from_celery

log = logging.getLogger(__name__)
INFER_RUNS_READ = 40  # the latest rows of a name read to find its regular sends
RECENT_NAMES = 2000  # names of the newest tasks considered, besides the registered ones
_OPTION_KEYS = ("queue", "exchange", "routing_key", "priority", "expires", "headers")


@dataclass(frozen=True)
class Entry:
    source: str
    name: str
    task: str
    spec: Spec
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    args_complete: bool = True
    reason: str | None = None

    @property
    def key(self) -> str:
        return f"{self.source}:{self.name}"[:300]


def load_celery_app(path: str) -> Any:
    module_name, _, attribute = path.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute or "app")


def plain_options(options: Any) -> dict[str, Any]:
    """The options Run now sends again (JSON-safe; kombu Queue objects by their name)."""
    found: dict[str, Any] = {}
    for key in _OPTION_KEYS:
        value = (options or {}).get(key)
        if value is None:
            continue
        if hasattr(value, "name"):
            value = value.name
        if isinstance(value, (str, int, float, bool, dict)):
            found[key] = value
    return found


def from_celery_app(path: str) -> list[Entry]:
    """The entries of the app's beat_schedule (an entry beat could not run either is logged)."""
    app = load_celery_app(path)
    tz = str(app.conf.timezone or "UTC")  # crontab and solar are read in the app's zone
    entries = []
    for name, item in (app.conf.beat_schedule or {}).items():
        try:
            spec = from_celery(item["schedule"], tz)
            args, kwargs = list(item.get("args") or ()), dict(item.get("kwargs") or {})
            json.dumps([args, kwargs])
        except (UnsupportedSchedule, KeyError, TypeError, ValueError) as exc:
            log.warning("beat_schedule entry %r skipped: %s", name, exc)
            continue
        entries.append(Entry(
            "celery_app", str(name)[:255], str(item["task"])[:255], spec, args, kwargs,
            plain_options(item.get("options")),
        ))  # fmt: skip
    return entries


def _candidate_names(session: Session) -> set[str]:
    names: set[str] = set()
    for text in session.scalars(select(Worker.registered).where(Worker.registered.is_not(None))):
        names.update(json_names(text))
    recent = select(Task.name).order_by(Task.first_seen_at.desc()).limit(RECENT_NAMES)
    names.update(name for name in session.scalars(recent) if name)
    return names


def infer(
    session: Session, settings: Settings, known_tasks: set[str], now: datetime
) -> list[Entry]:
    """Observed schedules: names (not already scheduled by a source) sent at a regular pace.

    One whose last send is older than ten periods (and a day) is no longer recognised: the
    watch forgets it a day later, instead of alerting forever on something that stopped.
    """
    wanted = settings.schedule_infer_min_runs
    found = []
    for name in sorted(_candidate_names(session) - known_tasks):
        rows = list(session.scalars(
            select(Task).where(Task.name == name)
            .order_by(Task.first_seen_at.desc()).limit(INFER_RUNS_READ)
        ))  # fmt: skip
        roots = [row for row in rows if row.parent_id is None and row.retry_of is None][:wanted]
        if len(roots) < wanted:
            continue
        times = sorted(t for t in (as_utc(row.first_seen_at) for row in roots) if t is not None)
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
        median = statistics.median(gaps)
        spread = max(abs(gap - median) for gap in gaps)
        if median < 1.0 or spread > max(0.1 * median, 0.25):
            continue
        if (now - times[-1]).total_seconds() > max(86400.0, 10 * median):
            continue
        every = round(median) if median >= 10 else round(median, 1)
        latest = roots[0]
        try:
            args, kwargs = stored_arguments(latest)
            complete = True
            json.dumps([args, kwargs])
        except (ActionError, TypeError, ValueError):
            args, kwargs, complete = None, None, False
        reason = (
            f"its last {len(roots)} sends came every {median:.1f} s (each gap within "
            f"{spread:.2f} s of that), none by a parent task: treated as periodic"
        )
        options = {"queue": latest.queue} if latest.queue else {}
        found.append(Entry("inferred", name, name, Spec("interval", {"every": every}), args,
                           kwargs, options, complete, reason))  # fmt: skip
    return found
