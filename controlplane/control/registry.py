"""Which task names an operator may trigger, and which queue a task is routed to."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from celery.app.routes import MapRoute
from sqlalchemy import select
from sqlalchemy.orm import Session

from controlplane.clock import utcnow
from controlplane.control.everyone import ask, ask_everyone
from controlplane.models import Worker
from controlplane.services import Services

log = logging.getLogger(__name__)


NOT_REPORTED = "no worker has reported its tasks yet"


@dataclass(frozen=True)
class TaskNames:
    """What an operator may trigger, and whether any worker has told the console its tasks."""

    names: tuple[str, ...]
    reported: bool  # False: only the allow-list (say NOT_REPORTED)


def task_names(services: Services, refresh: bool = False) -> TaskNames:
    """Tasks the workers registered, as the scheduler's inspection stored them, plus the
    allow-list in settings.

    Reading never asks the workers: a page or an API GET that broadcast could hang on the
    broker and loads the whole fleet. `refresh=True` is for actions only (a trigger's POST of a
    name not stored yet): every worker is asked once, within the inspect timeout.
    """

    def compute() -> tuple[tuple[str, ...], bool]:
        with services.transaction() as session:
            names = _registered_in_db(session)
        if refresh:
            names |= _ask_workers(services)
        reported = bool(names)
        names |= set(services.settings.task_allowlist)
        return tuple(sorted(name for name in names if not name.startswith("celery."))), reported

    cache = services.state.registered_tasks
    kept = cache.peek()
    # Until a worker has reported, read again (one query): the scheduler may have stored them.
    names, reported = cache.get(compute, refresh=refresh or (kept is not None and not kept[1]))
    return TaskNames(names, reported)


def known_task_names(services: Services, refresh: bool = False) -> list[str]:
    """`task_names(...).names` as a list (see there: only `refresh=True` asks the workers)."""
    return list(task_names(services, refresh).names)


def _registered_in_db(session: Session) -> set[str]:
    names: set[str] = set()
    query = select(Worker.registered).where(Worker.registered.is_not(None))
    for registered in session.scalars(query.where(Worker.status != "offline")):
        try:
            values = json.loads(registered or "[]")
        except (TypeError, ValueError):
            continue
        names.update(str(value).split(" ", 1)[0] for value in values if isinstance(value, str))
    return names


def _ask_workers(services: Services) -> set[str]:
    """registered() from every worker (an action's refresh), stored on their rows."""
    try:
        replies = ask_everyone(services, "registered")
    except Exception as exc:
        log.warning("cannot ask workers for registered tasks: %s", exc)
        return set()
    names: set[str] = set()
    now = utcnow()
    with services.transaction() as session:
        for hostname, registered in replies.items():
            clean = sorted({str(item).split(" ", 1)[0] for item in registered or []})
            names.update(clean)
            worker = session.get(Worker, hostname)
            if worker is None:
                worker = Worker(hostname=hostname, status="online", updated_at=now)
                session.add(worker)
            worker.registered = json.dumps(clean)
    return names


# ---- routing --------------------------------------------------------------------------------

CELERY_DEFAULT_QUEUE = "celery"  # Celery's task_default_queue when an app sets none
NOT_ASKED = "nobody yet: the workers are asked when you trigger"


@dataclass(frozen=True)
class FleetRouting:
    """The fleet app's routing: its task_routes (mappings only) and task_default_queue."""

    routes: tuple[Mapping[str, Any], ...] = ()
    default_queue: str | None = None  # None: nobody said
    source: str = "nobody"  # "the workers", "settings", "nobody" or NOT_ASKED
    opaque_routers: int = 0  # router functions we cannot evaluate (named by a string)


@dataclass(frozen=True)
class Route:
    """Where a task name goes, and why: what the trigger form shows beside the queue field."""

    queue: str
    reason: str  # "task_routes", "default" or "typed"
    explanation: str

    def as_dict(self) -> dict[str, str]:
        return {"queue": self.queue, "reason": self.reason, "explanation": self.explanation}


def fleet_routing(services: Services, refresh: bool = False, ask: bool = True) -> FleetRouting:
    """The routing table configured in settings, else the workers' own task_routes and
    task_default_queue (conf(), cached).

    `ask=False` is for pages: a GET never publishes to the broker, so it shows what the last
    trigger learned (or "not asked yet"), and the trigger itself asks.
    """
    settings = services.settings
    if settings.task_routes or settings.task_default_queue:
        table = dict(entry.split("=", 1) for entry in settings.task_routes)
        return FleetRouting((table,), settings.task_default_queue, "settings")
    stored = _stored_routing(services)
    if stored is not None:
        return stored
    if not ask:
        return services.state.routing.peek() or FleetRouting(source=NOT_ASKED)
    return services.state.routing.get(
        lambda: _ask_routing(services) or FleetRouting(), refresh=refresh
    )


def _stored_routing(services: Services) -> FleetRouting | None:
    """What the scheduler's inspection last heard from a live worker (fleet.inspection)."""
    with services.transaction() as session:
        text = session.scalar(
            select(Worker.routing)
            .where(Worker.status != "offline", Worker.routing.is_not(None))
            .order_by(Worker.inspected_at.desc())
            .limit(1)
        )
    try:
        conf = json.loads(text) if text else None
    except ValueError:
        return None
    return _routing_of(conf) if isinstance(conf, dict) else None


def _ask_routing(services: Services) -> FleetRouting | None:
    """conf() of the workers the console knows (or anyone, when it knows none); None: no answer."""
    with services.transaction() as session:
        hosts = list(
            session.scalars(select(Worker.hostname).where(Worker.status != "offline").limit(50))
        )
    try:
        replies = (ask(services, hosts, "conf", with_defaults=False) if hosts
                   else ask_everyone(services, "conf", with_defaults=False))  # fmt: skip
    except Exception as exc:
        log.warning("cannot ask workers for their routing: %s", exc)
        return None
    for hostname in sorted(replies):
        conf = replies[hostname]
        if isinstance(conf, dict):
            return _routing_of(conf)
    return None


def _routing_of(conf: Mapping[str, Any]) -> FleetRouting:
    """One worker's conf() answer (defaults left out) as FleetRouting."""
    raw = conf.get("task_routes") or ()
    entries = [raw] if isinstance(raw, (dict, str)) else list(raw) if isinstance(raw, list) else []
    routes = tuple(entry for entry in entries if isinstance(entry, dict))
    default = conf.get("task_default_queue")
    return FleetRouting(
        routes=routes,
        default_queue=default if isinstance(default, str) and default else CELERY_DEFAULT_QUEUE,
        source="the workers",
        opaque_routers=len(entries) - len(routes),
    )


def resolve_route(routing: FleetRouting, task_name: str, typed: str | None = None) -> Route:
    """The queue Celery would send `task_name` to in the fleet's app; a typed queue wins."""
    if typed:
        return Route(typed, "typed", f"{typed}: the queue you typed")
    for table in routing.routes:
        try:
            route = MapRoute(table)(task_name)
        except (TypeError, ValueError, re.error):
            continue
        queue = route.get("queue") if route else None
        if isinstance(queue, str) and queue:
            return Route(queue, "task_routes", f"{queue}: routed by the fleet's task_routes")
    default = routing.default_queue or CELERY_DEFAULT_QUEUE
    why = (
        f"{default}: no task_routes entry matches, so the fleet app's task_default_queue"
        if routing.source not in ("nobody", NOT_ASKED)
        else f"{default}: no worker reported its routing, so Celery's default queue"
    )
    if routing.source == NOT_ASKED:
        why = f"resolved when you trigger (the workers' task_routes are asked then); else {why}"
    if routing.opaque_routers:
        why += " (the fleet also has a router function the console cannot evaluate)"
    return Route(default, "default", why)


def routed_queues(services: Services, names: list[str], ask: bool = True) -> dict[str, Route]:
    """For the trigger form: where each task name would go (see `resolve_route`)."""
    routing = fleet_routing(services, ask=ask)
    return {name: resolve_route(routing, name) for name in names}


def routing_source(services: Services, ask: bool = True) -> str:
    """Who told the console how the fleet routes: "the workers", "settings" or "nobody"."""
    return fleet_routing(services, ask=ask).source
