"""Rate and time limits per task name, changed at runtime and kept across worker restarts.

Celery's `rate_limit` and `time_limit` control commands change a task's limits in the workers'
memory only: a restarted worker runs at the code's values again. Here each change is a row
(`task_limits`), sent to every worker that registers the task, and sent again to each worker
that comes online (control.worker_online). The values the code had before the first change are
read from the workers (`registered()` with those attributes) and kept, so that a reset sends
them back. Operators change rate limits; time limits, which kill tasks, are for admins.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from controlplane.clock import as_utc, utcnow
from controlplane.control.action_log import ActionResult, run_action
from controlplane.control.everyone import ask, ask_everyone
from controlplane.control.registry import known_task_names
from controlplane.errors import ActionError, NotFound
from controlplane.fleet.inspection import ASKED_ATTRIBUTES, has_hook, parse_registered
from controlplane.models import TaskLimit, Worker
from controlplane.services import Services
from controlplane.worker_hook import REFRESH_COMMAND

# Celery's rate strings: "10", "10/s", "100/m", "0.5/h"; "" or None turns the limit off.
RATE = re.compile(r"\d{1,9}(\.\d{1,6})?(/[smh])?")
MAX_SECONDS = 7 * 24 * 3600.0


@dataclass(frozen=True)
class LimitRecord:
    """A task name's runtime limits as pages and the API show them."""

    task_name: str
    rate_limit: str | None
    rate_set: bool
    rate_set_by: str | None
    rate_set_at: datetime | None
    soft_time_limit: float | None
    time_limit: float | None
    time_set: bool
    time_set_by: str | None
    time_set_at: datetime | None
    code_rate_limit: str | None
    code_soft_time_limit: float | None
    code_time_limit: float | None
    code_known: bool

    @classmethod
    def of(cls, row: TaskLimit) -> LimitRecord:
        return cls(
            row.task_name, row.rate_limit, row.rate_set, row.rate_set_by,
            as_utc(row.rate_set_at), row.soft_time_limit, row.time_limit, row.time_set,
            row.time_set_by, as_utc(row.time_set_at), row.code_rate_limit,
            row.code_soft_time_limit, row.code_time_limit, row.code_known,
        )  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "task_name": self.task_name,
            "rate_limit": {"value": self.rate_limit, "set_by": self.rate_set_by,
                           "set_at": iso(self.rate_set_at)} if self.rate_set else None,
            "time_limit": {"soft": self.soft_time_limit, "hard": self.time_limit,
                           "set_by": self.time_set_by, "set_at": iso(self.time_set_at)}
            if self.time_set else None,
            "code": {"rate_limit": self.code_rate_limit, "soft": self.code_soft_time_limit,
                     "hard": self.code_time_limit} if self.code_known else None,
        }  # fmt: skip


def limits(services: Services) -> dict[str, LimitRecord]:
    """Every task name with a runtime limit in force, by name."""
    with services.transaction() as session:
        rows = session.scalars(select(TaskLimit).order_by(TaskLimit.task_name))
        return {row.task_name: LimitRecord.of(row) for row in rows if row.rate_set or row.time_set}


# ---- validation ------------------------------------------------------------------------------


def _check_name(services: Services, task_name: Any) -> str:
    if not isinstance(task_name, str) or not task_name or len(task_name) > 255:
        raise ActionError("task_name: expected a task name")
    # an action: a name not stored yet (a fresh console, a new deploy) is asked of the workers
    if task_name not in known_task_names(services) and task_name not in known_task_names(
        services, refresh=True
    ):
        raise NotFound(f"no worker registers a task called {task_name!r}")
    return task_name


def _check_rate(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ActionError("rate_limit: expected a rate such as 10/s, 100/m or 5/h")
    text = str(value).strip()
    if not RATE.fullmatch(text):
        raise ActionError("rate_limit: expected a rate such as 10/s, 100/m or 5/h")
    return text


def _check_seconds(value: Any, field: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ActionError(f"{field}: expected seconds") from None
    if isinstance(value, bool) or not math.isfinite(seconds) or not 0 < seconds <= MAX_SECONDS:
        raise ActionError(f"{field}: expected seconds between 0 and {MAX_SECONDS:g}")
    return seconds


# ---- talking to the workers ------------------------------------------------------------------


def _registered_now(services: Services, task_name: str) -> dict[str, dict[str, str]]:
    """{host: the task's limit attributes} for the workers that register `task_name` now.

    A worker running controlplane.worker_hook gets the extra key "hook".
    """
    replies = ask_everyone(services, "registered", taskinfoitems=ASKED_ATTRIBUTES)
    found: dict[str, dict[str, str]] = {}
    for host, entries in replies.items():
        names, attributes = parse_registered(entries)
        if task_name in names:
            found[str(host)[:255]] = dict(attributes.get(task_name, {}))
            if has_hook(entries):
                found[str(host)[:255]]["hook"] = "1"
    return found


def _remember_code_values(row: TaskLimit, reported: dict[str, dict[str, str]]) -> None:
    """What the code says, read before our first change (any worker's answer will do)."""
    if row.code_known or not reported:
        return
    values = next(iter(reported.values()))
    values = {k: v for k, v in values.items() if k != "hook"}
    row.code_rate_limit = values.get("rate_limit")
    row.code_soft_time_limit = _float(values.get("soft_time_limit"))
    row.code_time_limit = _float(values.get("time_limit"))
    row.code_known = True


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "", "None") else None
    except ValueError:
        return None


def _send_rate(services: Services, hosts: list[str], name: str, rate: str | None) -> dict[str, Any]:
    return ask(services, hosts, "rate_limit", task_name=name, rate_limit=rate)


def _send_time(
    services: Services, hosts: list[str], name: str, soft: float | None, hard: float | None
) -> dict[str, Any]:
    return ask(services, hosts, "time_limit", task_name=name, soft=soft, hard=hard)


def _refresh(services: Services, hosts: list[str]) -> list[str]:
    """Make hooked workers rebuild their request classes: a new time limit takes effect."""
    answers = ask(services, hosts, REFRESH_COMMAND)
    return sorted(h for h, a in answers.items() if isinstance(a, dict) and "ok" in a)


def _time_outcome(
    services: Services, reported: dict[str, dict[str, str]], answers: dict[str, Any]
) -> dict[str, Any]:
    """Celery's time_limit changes only an attribute: it takes effect where the hook rebuilds
    the request classes; elsewhere not before the worker restarts with the hook installed."""
    hooked = [h for h, values in reported.items() if "hook" in values and h in answers]
    refreshed = _refresh(services, sorted(hooked))
    return {
        "in_effect_on": refreshed,
        "not_in_effect_on": sorted(h for h in answers if h not in refreshed),
    }


def _record_on_workers(
    session: Session, name: str, answers: dict[str, Any], values: dict[str, Any]
) -> None:
    """Write what the workers that said ok run with now (the next inspection confirms it)."""
    for host, answer in answers.items():
        if not (isinstance(answer, dict) and "ok" in answer):
            continue
        row = session.get(Worker, host)
        if row is None:
            continue
        try:
            current = json.loads(row.limits or "{}")
        except ValueError:
            current = {}
        entry = {k: v for k, v in {**current.get(name, {}), **values}.items() if v is not None}
        current[name] = entry
        row.limits = json.dumps({k: v for k, v in current.items() if v})


def _outcome(hosts: list[str], answers: dict[str, Any]) -> dict[str, Any]:
    applied = sorted(h for h in hosts if isinstance(answers.get(h), dict) and "ok" in answers[h])
    refused = {h: str(answers[h].get("error"))[:200] for h in hosts
               if isinstance(answers.get(h), dict) and "error" in answers[h]}  # fmt: skip
    silent = sorted(h for h in hosts if h not in answers)
    return {"applied_on": applied, "refused_by": refused, "not_answered": silent}


def _row(session: Session, name: str) -> TaskLimit:
    row = session.get(TaskLimit, name)
    if row is None:
        row = TaskLimit(task_name=name, rate_set=False, time_set=False, code_known=False)
        session.add(row)
    return row


# ---- the actions -----------------------------------------------------------------------------


def set_rate_limit(
    services: Services, actor: str, task_name: Any, rate_limit: Any,
    idempotency_key: str | None = None,
) -> ActionResult:  # fmt: skip
    """Change `task_name`'s rate limit on every worker, now and on every restart (operator)."""

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        name = _check_name(services, task_name)
        rate = _check_rate(rate_limit)
        reported = _registered_now(services, name)
        with services.transaction() as own:  # kept before any worker is told
            row = _row(own, name)
            _remember_code_values(row, reported)
            row.rate_limit, row.rate_set = rate, True
            row.rate_set_by, row.rate_set_at = actor[:64], utcnow()
        hosts = sorted(reported)
        answers = _send_rate(services, hosts, name, rate)
        _record_on_workers(session, name, answers, {"rate_limit": rate})
        return 200, {"task_name": name, "rate_limit": rate, **_outcome(hosts, answers)}

    target = str(task_name)[:255]
    return run_action(services, actor, "set_rate_limit", target, {"rate_limit": rate_limit},
                      perform, idempotency_key)  # fmt: skip


def set_time_limit(
    services: Services, actor: str, task_name: Any, soft: Any, hard: Any,
    idempotency_key: str | None = None,
) -> ActionResult:  # fmt: skip
    """Change `task_name`'s soft and hard time limits everywhere, kept across restarts (admin)."""

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        name = _check_name(services, task_name)
        soft_s = _check_seconds(soft, "soft")
        hard_s = _check_seconds(hard, "hard")
        if soft_s is None and hard_s is None:
            raise ActionError("give a soft or a hard time limit (seconds), or reset them")
        if soft_s is not None and hard_s is not None and soft_s > hard_s:
            raise ActionError("soft: the soft limit must not be above the hard one")
        reported = _registered_now(services, name)
        with services.transaction() as own:  # kept before any worker is told
            row = _row(own, name)
            _remember_code_values(row, reported)
            row.soft_time_limit, row.time_limit, row.time_set = soft_s, hard_s, True
            row.time_set_by, row.time_set_at = actor[:64], utcnow()
        hosts = sorted(reported)
        answers = _send_time(services, hosts, name, soft_s, hard_s)
        effect = _time_outcome(services, reported, answers)
        values = {"soft_time_limit": soft_s, "time_limit": hard_s}
        _record_on_workers(session, name, answers, values)
        body = {"task_name": name, "soft": soft_s, "hard": hard_s, **effect}
        return 200, {**body, **_outcome(hosts, answers)}

    target = str(task_name)[:255]
    return run_action(services, actor, "set_time_limit", target, {"soft": soft, "hard": hard},
                      perform, idempotency_key)  # fmt: skip


def reset_limit(
    services: Services, actor: str, task_name: Any, which: str,
    idempotency_key: str | None = None,
) -> ActionResult:  # fmt: skip
    """Send the code's value back (`which`: "rate" or "time") and stop re-applying ours."""

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        if which not in ("rate", "time"):
            raise ActionError("which: expected rate or time")
        if not isinstance(task_name, str) or not task_name:
            raise ActionError("task_name: expected a task name")
        with services.transaction() as own:  # forgotten before any worker is told
            row = own.get(TaskLimit, task_name)
            if row is None or not (row.rate_set if which == "rate" else row.time_set):
                raise NotFound(f"no runtime {which} limit is set for {task_name!r}")
            code = LimitRecord.of(row)
            if which == "rate":
                row.rate_limit = row.rate_set_by = row.rate_set_at = None
                row.rate_set = False
            else:
                row.soft_time_limit = row.time_limit = row.time_set_by = row.time_set_at = None
                row.time_set = False
            if not row.rate_set and not row.time_set:
                own.delete(row)
        reported = _registered_now(services, task_name)
        hosts = sorted(reported)
        body: dict[str, Any] = {"task_name": task_name, "reset": which}
        values: dict[str, Any]
        if which == "rate":
            rate = code.code_rate_limit if code.code_known else None
            answers = _send_rate(services, hosts, task_name, rate)
            values = {"rate_limit": rate}
            body["rate_limit"] = rate
        else:
            soft = code.code_soft_time_limit if code.code_known else None
            hard = code.code_time_limit if code.code_known else None
            answers = _send_time(services, hosts, task_name, soft, hard)
            body.update(soft=soft, hard=hard, **_time_outcome(services, reported, answers))
            values = {"soft_time_limit": soft, "time_limit": hard}
        if not code.code_known:
            body["note"] = "the code's value was never read (no worker answered): limits removed"
        _record_on_workers(session, task_name, answers, values)
        return 200, {**body, **_outcome(hosts, answers)}

    target = str(task_name)[:255]
    return run_action(services, actor, f"reset_{which}_limit"[:32], target, {}, perform,
                      idempotency_key)  # fmt: skip


def reapply_limits(services: Services, hostname: str) -> int:
    """Send every runtime limit to `hostname` (a worker that came online); how many were sent.

    Only names the worker registers: any other would make it log an "unknown task" error.
    """
    records = limits(services)
    if not records:
        return 0
    entries = ask(services, [hostname], "registered", taskinfoitems=ASKED_ATTRIBUTES).get(hostname)
    if entries is None:
        return 0  # not listening yet: the next try, a few seconds later, reaches it
    names, _ = parse_registered(entries)
    sent, refresh = 0, False
    # Read again now: a reset made while we waited for the worker must not be undone.
    for name, record in limits(services).items():
        if name not in names:
            continue
        if record.rate_set:
            _send_rate(services, [hostname], name, record.rate_limit)
        if record.time_set:
            _send_time(services, [hostname], name, record.soft_time_limit, record.time_limit)
            refresh = True
        sent += 1
    if refresh and has_hook(entries):
        _refresh(services, [hostname])
    return sent


def limits_for_worker(services: Services) -> dict[str, dict[str, Any]]:
    """The runtime limits a starting worker sets on its tasks (controlplane.worker_hook)."""
    found: dict[str, dict[str, Any]] = {}
    for name, record in limits(services).items():
        entry: dict[str, Any] = {}
        if record.rate_set:
            entry["rate_limit"] = record.rate_limit
        if record.time_set:
            entry["soft_time_limit"] = record.soft_time_limit
            entry["time_limit"] = record.time_limit
        found[name] = entry
    return found
