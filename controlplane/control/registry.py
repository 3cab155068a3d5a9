"""Which task names an operator may trigger, and which queue a task is routed to."""

from __future__ import annotations

import json
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from controlplane.clock import utcnow
from controlplane.models import Task, Worker
from controlplane.services import Services

log = logging.getLogger(__name__)


def known_task_names(services: Services, refresh: bool = False) -> list[str]:
    """Tasks the workers report as registered, plus the allow-list in settings.

    The worker inspection job keeps `workers.registered` current; when nothing is there yet (a
    fresh console), ask the workers once and remember their answer.
    """

    def compute() -> list[str]:
        with services.transaction() as session:
            names = _registered_in_db(session)
        if not names or refresh:
            names |= _ask_workers(services)
        names |= set(services.settings.task_allowlist)
        return sorted(name for name in names if not name.startswith("celery."))

    return list(services.state.registered_tasks.get(compute, refresh=refresh))


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
    try:
        replies = (
            services.celery.control.inspect(timeout=services.settings.inspect_timeout).registered()
            or {}
        )
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


def routed_queues(services: Services, names: list[str]) -> dict[str, str]:
    """For the trigger form: the queue each task name would go to (see `routed_queue`)."""
    default = services.settings.queues[0]
    with services.transaction() as session:
        return {name: routed_queue(session, name, default) for name in names}


def routed_queue(session: Session, task_name: str, default: str) -> str:
    """The queue this task name was last seen on, else `default`."""
    query = (
        select(Task.queue)
        .where(Task.name == task_name, Task.queue.is_not(None))
        .order_by(Task.first_seen_at.desc())
        .limit(1)
    )
    return session.scalar(query) or default
