"""What the scheduler asks the workers: who is alive, what they consume, what they hold with an ETA.

Broadcasts cost a round trip per worker plus, without `limit=`, the whole timeout (Flower's
refresh takes a second that way). We ping once with the timeout to learn who is there, then send
every other inspection to exactly those hosts with `limit=` their number, so it returns as soon
as all have answered (each on a connection of its own: broker.replies). The scheduler calls
this module, and an admin's action on one worker (`refresh_worker`), never a page view or a
scrape.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from celery import Celery
from sqlalchemy import case, update
from sqlalchemy.orm import Session

from controlplane.broker.replies import ask
from controlplane.clock import utcnow
from controlplane.fleet.health import MAX_LISTED
from controlplane.models import Worker, registered_digest
from controlplane.services import Services
from controlplane.worker_hook import HOOK_ATTRIBUTE

log = logging.getLogger(__name__)

Route = tuple[str, str]  # (exchange, routing key)
HELD_LISTED = 20  # task ids kept per worker and kind (active, reserved, scheduled)
# registered() lists a task as "name [rate_limit=10/m time_limit=60]" when asked for these.
LIMIT_ATTRIBUTES = ("rate_limit", "time_limit", "soft_time_limit")
ASKED_ATTRIBUTES = (*LIMIT_ATTRIBUTES, HOOK_ATTRIBUTE)
ROUTING_KEYS = ("task_routes", "task_default_queue")  # what control.registry resolves with
MAX_ROUTING_CHARS = 64_000
_ATTRIBUTE = re.compile(r"(\w+)=([^\s\]]*)")


@dataclass(frozen=True)
class WorkerReport:
    """One worker's answers to stats(), active_queues(), registered(), active(), reserved()
    and scheduled()."""

    hostname: str
    concurrency: int | None = None  # pool processes now (after pool_grow/shrink)
    processed: int | None = None
    active: int | None = None
    pid: int | None = None
    queues: tuple[str, ...] = ()
    routes: dict[Route, str] = field(default_factory=dict)  # (exchange, rk) -> queue
    registered: tuple[str, ...] = ()
    limits: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> limits it has
    prefetch_count: int | None = None  # messages it may hold unacknowledged
    answered: bool = True  # False: no reply to any of the calls
    reserved: int | None = None
    scheduled: int | None = None
    uptime: float | None = None  # seconds since the worker booted
    held: dict[str, list[list[str]]] = field(default_factory=dict)  # kind -> [[id, name]...]
    # conf()'s task_routes and task_default_queue (JSON): where the trigger sends a task name
    routing: str | None = None


def ping(celery: Celery, timeout: float) -> list[str]:
    """Hostnames that answered a broadcast ping within `timeout` (waits it out: anyone new?)."""
    return sorted(ask(celery, None, timeout, "ping"))


def inspect_workers(celery: Celery, hostnames: list[str], timeout: float) -> list[WorkerReport]:
    """What `hostnames` run, consume and know: each broadcast ends at the last reply."""
    if not hostnames:
        return []
    stats = ask(celery, hostnames, timeout, "stats")
    active_queues = ask(celery, hostnames, timeout, "active_queues")
    registered = ask(celery, hostnames, timeout, "registered", taskinfoitems=ASKED_ATTRIBUTES)
    active = ask(celery, hostnames, timeout, "active")
    reserved = ask(celery, hostnames, timeout, "reserved")
    scheduled = ask(celery, hostnames, timeout, "scheduled")
    conf = ask(celery, hostnames, timeout, "conf", with_defaults=False)
    return [
        _with_routing(
            _with_held(
                _report(
                    host, stats.get(host), active_queues.get(host), registered.get(host),
                    active.get(host),
                ),
                active.get(host), reserved.get(host), scheduled.get(host),
            ),
            conf.get(host),
        )
        for host in hostnames
    ]  # fmt: skip


def _with_routing(report: WorkerReport, conf: Any) -> WorkerReport:
    """The report with the worker's routing settings, when it told them."""
    if not isinstance(conf, dict):
        return report
    routing = {key: conf[key] for key in ROUTING_KEYS if key in conf}
    try:
        text = json.dumps(routing)
    except (TypeError, ValueError):  # a router object the worker could not serialise
        return report
    return report if len(text) > MAX_ROUTING_CHARS else replace(report, routing=text)


def _with_held(report: WorkerReport, active: Any, reserved: Any, scheduled: Any) -> WorkerReport:
    """The report with what the worker holds: counts, and a few task ids of each kind."""
    if not report.answered:
        return report
    held = {
        "active": _task_refs(active),
        "reserved": _task_refs(reserved),
        # scheduled() wraps each request: {"eta": ..., "request": {...}}
        "scheduled": _task_refs(
            [e.get("request") for e in scheduled if isinstance(e, dict)]
            if isinstance(scheduled, list)
            else None
        ),
    }
    return replace(
        report,
        reserved=len(reserved) if isinstance(reserved, list) else None,
        scheduled=len(scheduled) if isinstance(scheduled, list) else None,
        held=held,
    )


def _task_refs(requests: Any) -> list[list[str]]:
    refs = []
    for request in requests if isinstance(requests, list) else []:
        if isinstance(request, dict) and isinstance(request.get("id"), str):
            refs.append([request["id"][:155], str(request.get("name") or "")[:255]])
        if len(refs) >= HELD_LISTED:
            break
    return refs


def refresh_worker(services: Services, hostname: str) -> WorkerReport | None:
    """Inspect one worker now and record what it says, so the Workers page shows the effect of
    an admin's change (consumers, or where a pool starts) without waiting for the next round."""
    [report] = inspect_workers(services.celery, [hostname], services.settings.inspect_timeout)
    if not report.answered:
        return None
    with services.transaction() as session:
        record_reports(session, [report], utcnow())
    return report


def record_pool_size(services: Services, hostname: str, processes: int) -> None:
    """The pool size an admin just set. A prefork pool starts (or stops) the process a few
    seconds later, so stats() would still say the old size: the next round confirms it."""
    with services.transaction() as session:
        session.execute(
            update(Worker).where(Worker.hostname == hostname).values(concurrency=processes)
        )


def scheduled_by_queue(
    celery: Celery, hostnames: list[str], timeout: float, routes: Mapping[Route, str]
) -> dict[str, int]:
    """ETA/countdown tasks the workers hold, per queue (the route decides the queue)."""
    if not hostnames:
        return {}
    replies = ask(celery, hostnames, timeout, "scheduled")
    counts: Counter[str] = Counter()
    for entries in replies.values():
        for entry in entries if isinstance(entries, list) else []:
            request = entry.get("request") if isinstance(entry, dict) else None
            info = request.get("delivery_info") if isinstance(request, dict) else None
            if not isinstance(info, dict):
                continue
            exchange = str(info.get("exchange") or "")
            routing_key = str(info.get("routing_key") or "")
            counts[routes.get((exchange, routing_key)) or routing_key] += 1
    return dict(counts)


def parse_registered(entries: Any) -> tuple[tuple[str, ...], dict[str, dict[str, str]]]:
    """registered()'s strings -> (task names, {name: {attribute: value}} for those with any)."""
    names: set[str] = set()
    limits: dict[str, dict[str, str]] = {}
    for entry in entries[:MAX_LISTED] if isinstance(entries, list) else []:
        if not isinstance(entry, str):
            continue
        name, _, rest = entry.partition(" ")
        name = name[:255]
        names.add(name)
        found = {
            key: value[:32] for key, value in _ATTRIBUTE.findall(rest) if key in LIMIT_ATTRIBUTES
        }
        if found:
            limits[name] = found
    return tuple(sorted(names)), limits


def has_hook(entries: Any) -> bool:
    """Whether registered()'s answer says the worker runs controlplane.worker_hook."""
    marker = f"{HOOK_ATTRIBUTE}="
    return isinstance(entries, list) and any(
        isinstance(entry, str) and marker in entry for entry in entries[:MAX_LISTED]
    )


def record_reports(session: Session, reports: Iterable[WorkerReport], now: datetime) -> None:
    """Upsert what inspection learned into `workers`, leaving the ingester's columns alone.

    `processed` and `active` are taken from inspection only while the worker has never sent a
    heartbeat: with events on, the ingester's heartbeat counts are the fresher ones.
    """
    insert = _insert_for(session)
    for report in reports:
        values: dict[str, Any] = {
            "hostname": report.hostname[:255],
            "status": "online",
            "inspected_at": now,
            "updated_at": now,
            "queues": json.dumps(list(report.queues)),
            "registered": json.dumps(list(report.registered)),
            "limits": json.dumps(report.limits) if report.limits else None,
        }
        values["registered_digest"] = registered_digest(values["registered"])
        if report.concurrency is not None:
            values["concurrency"] = report.concurrency
        if report.pid is not None:
            values["pid"] = report.pid
        if report.reserved is not None:
            values["reserved"] = report.reserved
        if report.scheduled is not None:
            values["scheduled"] = report.scheduled
        if report.held:
            values["held_tasks"] = json.dumps(report.held)
        if report.uptime is not None:
            values["booted_at"] = now - timedelta(seconds=report.uptime)
        if report.prefetch_count is not None:
            values["prefetch_count"] = report.prefetch_count
        if report.routing is not None:
            values["routing"] = report.routing
        statement = insert(Worker).values(
            **values, active=report.active or 0, processed=report.processed or 0
        )
        update = {k: statement.excluded[k] for k in values if k != "hostname"}
        for counter in ("processed", "active"):
            if getattr(report, counter) is not None:
                update[counter] = case(
                    (Worker.last_heartbeat.is_(None), statement.excluded[counter]),
                    else_=getattr(Worker, counter),
                )
        session.execute(statement.on_conflict_do_update(index_elements=["hostname"], set_=update))


def routes_of(reports: Iterable[WorkerReport]) -> dict[Route, str]:
    merged: dict[Route, str] = {}
    for report in reports:
        merged.update(report.routes)
    return merged


def _report(
    host: str, stats: Any, active_queues: Any, registered: Any, active: Any = None
) -> WorkerReport:
    if stats is None and active_queues is None and registered is None and active is None:
        return WorkerReport(hostname=host, answered=False)
    concurrency = processed = pid = prefetch = None
    uptime: float | None = None
    if isinstance(stats, dict):
        if isinstance(stats.get("prefetch_count"), int):
            prefetch = stats["prefetch_count"]
        pool = stats.get("pool")
        if isinstance(pool, dict) and isinstance(pool.get("max-concurrency"), int):
            concurrency = pool["max-concurrency"]
        # prefork keeps max-concurrency at its start value: pool_grow/shrink show in processes
        if isinstance(pool, dict) and isinstance(pool.get("processes"), list):
            concurrency = len(pool["processes"]) or concurrency
        if isinstance(stats.get("uptime"), int | float) and stats["uptime"] >= 0:
            uptime = float(stats["uptime"])
        total = stats.get("total")
        if isinstance(total, dict):
            processed = sum(v for v in total.values() if isinstance(v, int))
        if isinstance(stats.get("pid"), int):
            pid = stats["pid"]
    queues: list[str] = []
    routes: dict[Route, str] = {}
    for queue in active_queues if isinstance(active_queues, list) else []:
        if not isinstance(queue, dict) or not isinstance(queue.get("name"), str):
            continue
        name = queue["name"][:255]
        queues.append(name)
        exchange = queue.get("exchange")
        exchange_name = exchange.get("name") if isinstance(exchange, dict) else None
        if isinstance(exchange_name, str) and isinstance(queue.get("routing_key"), str):
            routes[(exchange_name, queue["routing_key"])] = name
    tasks, limits = parse_registered(registered)
    return WorkerReport(
        hostname=host,
        concurrency=concurrency,
        processed=processed,
        active=len(active) if isinstance(active, list) else None,
        pid=pid,
        queues=tuple(queues[:MAX_LISTED]),
        routes=routes,
        registered=tasks,
        uptime=uptime,
        limits=limits,
        prefetch_count=prefetch,
    )


def _insert_for(session: Session) -> Any:
    """The dialect's INSERT with ON CONFLICT (SQLite and PostgreSQL both have it)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert
