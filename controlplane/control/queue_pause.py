"""Pause and resume a queue across the whole fleet: the one service for queue consumers.

Celery has no pause. A paused queue is one whose consumer every worker has cancelled
(`cancel_consumer`); resuming adds it back (`add_consumer`) on each of those workers with the
declaration it used (exchange, routing key, queue arguments such as `x-queue-type: quorum`),
recorded from `active_queues()` when it was cancelled. The pause is a row in the database, so
it outlives workers:

- a worker that comes online is asked what it consumes and told to cancel paused queues (the
  event ingester's worker-online hook, control.worker_online);
- the scheduler does the same for any worker its inspection finds consuming a paused queue
  (a missed online event, a worker the pause's broadcast did not reach);
- a worker whose app installs `controlplane.worker_hook` asks before it starts consuming
  (control.mailbox answers), so a restart never starts a task of a paused queue.

Tasks a worker prefetched before the pause stay with it and run when a slot frees: Celery
cannot take them back. The Queues page shows them as held by that worker (fleet.pauses).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from controlplane.broker.queue_names import check_queue_name
from controlplane.clock import as_utc, utcnow
from controlplane.control.action_log import ActionResult, run_action
from controlplane.control.everyone import ask, ask_everyone
from controlplane.db import dialect_insert
from controlplane.errors import Conflict
from controlplane.fleet.health import load_workers
from controlplane.models import QueuePause, QueuePauseConsumer, Worker
from controlplane.services import Services

log = logging.getLogger(__name__)

MAX_DECLARATION_CHARS = 8000
# Queue options add_consumer passes on to kombu's Queue.from_dict, from kombu's as_dict().
QUEUE_OPTIONS = (
    "queue_arguments", "binding_arguments", "consumer_arguments", "durable", "exclusive",
    "auto_delete", "no_ack", "expires", "message_ttl", "max_length", "max_length_bytes",
    "max_priority",
)  # fmt: skip


def _check_queue(services: Services, queue: str) -> None:
    check_queue_name(queue, services.settings)


def _alive_hosts(services: Services) -> list[str]:
    with services.transaction() as session:
        workers = load_workers(session, utcnow(), services.settings.inspect_interval)
    return [w.hostname for w in workers if w.alive]


def _declarations(
    services: Services, queues: set[str], hostnames: list[str] | None
) -> dict[str, dict[str, dict[str, Any]]]:
    """{host: {queue: declaration}} for the hosts consuming any of `queues` now.

    With `hostnames` None the question goes to every worker and waits out the timeout: a
    worker the console has not seen yet still answers.
    """
    if hostnames is None:
        replies = ask_everyone(services, "active_queues")
    else:
        replies = ask(services, hostnames, "active_queues")
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for host, consumed in replies.items():
        for declaration in consumed if isinstance(consumed, list) else []:
            name = declaration.get("name") if isinstance(declaration, dict) else None
            if name in queues:
                found.setdefault(str(host)[:255], {})[name] = declaration
    return found


def consume_options(queue: str, declaration: Mapping[str, Any] | None) -> dict[str, Any]:
    """add_consumer's arguments that re-create `declaration` (a kombu Queue.as_dict())."""
    options: dict[str, Any] = {"queue": queue}
    if not declaration:
        return options
    exchange = declaration.get("exchange")
    if isinstance(exchange, dict):
        if isinstance(exchange.get("name"), str):
            options["exchange"] = exchange["name"]
        if isinstance(exchange.get("type"), str):
            options["exchange_type"] = exchange["type"]
        for key in ("durable", "auto_delete"):
            if isinstance(exchange.get(key), bool):
                options[f"exchange_{key}"] = exchange[key]
        if isinstance(exchange.get("arguments"), dict):
            options["exchange_arguments"] = exchange["arguments"]
    if isinstance(declaration.get("routing_key"), str):
        options["routing_key"] = declaration["routing_key"]
    for key in QUEUE_OPTIONS:
        if declaration.get(key) is not None:
            options[key] = declaration[key]
    return options


def _record_consumers(
    session: Session, queue: str, consumers: Mapping[str, Mapping[str, Any] | None]
) -> None:
    """Upsert who consumed `queue` with which declaration (a known declaration is kept)."""
    now = utcnow()
    insert = dialect_insert(session, QueuePauseConsumer)
    for host, declaration in consumers.items():
        text = json.dumps(declaration, default=str) if declaration else None
        if text and len(text) > MAX_DECLARATION_CHARS:
            text = None  # untrusted and oversized: resume falls back to the queue's name
        statement = insert.values(queue=queue, hostname=host[:255], declaration=text,
                                  recorded_at=now)  # fmt: skip
        update = {"recorded_at": now}
        if text:
            update["declaration"] = statement.excluded.declaration
        session.execute(
            statement.on_conflict_do_update(index_elements=["queue", "hostname"], set_=update)
        )


def _set_worker_queues(
    session: Session, host: str, add: Iterable[str], remove: Iterable[str]
) -> None:
    """Keep the worker row's consumed queues right until the next inspection rewrites them."""
    row = session.get(Worker, host)
    if row is None:
        return
    try:
        queues = [q for q in json.loads(row.queues or "[]") if isinstance(q, str)]
    except ValueError:
        queues = []
    gone = set(remove)
    queues = [q for q in queues if q not in gone]
    queues += [q for q in add if q not in queues]
    row.queues = json.dumps(queues)


def cancel_consumers(services: Services, hosts: list[str], queue: str) -> dict[str, Any]:
    """cancel_consumer on exactly `hosts`; their answers (also the console's Cancel button)."""
    return ask(services, hosts, "cancel_consumer", queue=queue)


def add_consumer_on(
    services: Services, host: str, queue: str, declaration: Mapping[str, Any] | None = None
) -> Any:
    """add_consumer on exactly `host` (with the declaration it used, when known); its answer,
    None when it did not answer (also the console's Add consumer button)."""
    return ask(services, [host], "add_consumer", **consume_options(queue, declaration)).get(host)


def _held_now(services: Services, hosts: list[str], queue: str) -> dict[str, int]:
    """Tasks each host has reserved (prefetched, not started) from `queue` right now."""
    if not hosts:
        return {}
    held: dict[str, int] = {}
    for host, requests in ask(services, hosts, "reserved").items():
        count = 0
        for request in requests if isinstance(requests, list) else []:
            info = request.get("delivery_info") if isinstance(request, dict) else None
            if isinstance(info, dict) and info.get("routing_key") == queue:
                count += 1
        if count:
            held[host] = count
    return held


# ---- pause and resume ----------------------------------------------------------------------


def pause_queue(
    services: Services, actor: str, queue: str, idempotency_key: str | None = None
) -> ActionResult:
    """Stop every worker consuming `queue`, and keep it stopped until resumed (admin)."""

    def perform(_session: Session) -> tuple[int, dict[str, Any]]:
        _check_queue(services, queue)
        with services.transaction() as session:
            existing = session.get(QueuePause, queue)
            if existing is not None:
                since = as_utc(existing.paused_at)
                raise Conflict(
                    f"{queue} is already paused (by {existing.paused_by} since "
                    f"{since.isoformat() if since else '?'})"
                )
        consumers = {h: d[queue] for h, d in _declarations(services, {queue}, None).items()}
        now = utcnow()
        try:  # persisted before any worker is told: an online hook from now on enforces it
            with services.transaction() as session:
                session.add(QueuePause(queue=queue, paused_by=actor[:64], paused_at=now))
                session.flush()
                _record_consumers(session, queue, consumers)
        except IntegrityError:
            raise Conflict(f"{queue} was paused by someone else just now") from None
        hosts = sorted(consumers)
        held = _held_now(services, hosts, queue)
        answers = cancel_consumers(services, hosts, queue)
        confirmed = sorted(h for h, a in answers.items() if h in consumers and "ok" in (a or {}))
        with services.transaction() as session:
            row = session.get(QueuePause, queue)
            if row is not None:
                row.held_at_pause = json.dumps(held)
            for host in confirmed:
                _set_worker_queues(session, host, add=(), remove=(queue,))
        return 200, {
            "queue": queue,
            "paused": True,
            "paused_by": actor,
            "paused_at": now.isoformat(),
            "cancelled_on": confirmed,
            "not_answered": [h for h in hosts if h not in confirmed],
            "held_by_workers": held,
        }

    return run_action(services, actor, "pause_queue", queue[:255], {}, perform, idempotency_key)


def resume_queue(
    services: Services, actor: str, queue: str, idempotency_key: str | None = None
) -> ActionResult:
    """Add the queue back on every worker that consumed it, with its own declaration."""

    def perform(_session: Session) -> tuple[int, dict[str, Any]]:
        _check_queue(services, queue)
        with services.transaction() as session:
            pause = session.get(QueuePause, queue)
            if pause is None:
                raise Conflict(f"{queue} is not paused")
            rows = session.scalars(
                select(QueuePauseConsumer).where(QueuePauseConsumer.queue == queue)
            ).all()
            consumers = {row.hostname: _loads(row.declaration) for row in rows}
            paused_by = pause.paused_by
            # Deleted first: from now on no hook cancels the queue again.
            session.execute(delete(QueuePauseConsumer).where(QueuePauseConsumer.queue == queue))
            session.delete(pause)
        alive = set(_alive_hosts(services))
        resumed: list[str] = []
        unanswered: list[str] = []
        for host, declaration in sorted(consumers.items()):
            if host not in alive:
                unanswered.append(host)  # it consumes the queue again when it starts
                continue
            answer = add_consumer_on(services, host, queue, declaration)
            (resumed if isinstance(answer, dict) and "ok" in answer else unanswered).append(host)
        with services.transaction() as session:
            for host in resumed:
                _set_worker_queues(session, host, add=(queue,), remove=())
        return 200, {
            "queue": queue,
            "paused": False,
            "was_paused_by": paused_by,
            "resumed_on": resumed,
            "not_answered": unanswered,
        }

    return run_action(services, actor, "resume_queue", queue[:255], {}, perform, idempotency_key)


def _loads(text: str | None) -> dict[str, Any] | None:
    try:
        value = json.loads(text) if text else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


# ---- keeping paused queues paused ----------------------------------------------------------


def paused_queue_names(services: Services) -> set[str]:
    with services.transaction() as session:
        return set(session.scalars(select(QueuePause.queue)))


def enforce_pauses(services: Services, hostnames: list[str] | None = None) -> dict[str, list[str]]:
    """Cancel paused queues on `hostnames` (every worker when None) that consume them again.

    Returns {host: [queues cancelled]}. Costs nothing while no queue is paused.
    """
    paused = paused_queue_names(services)
    if not paused:
        return {}
    found = _declarations(services, paused, hostnames)
    if not found:
        return {}
    with services.transaction() as session:
        for host, declarations in found.items():
            for queue, declaration in declarations.items():
                _record_consumers(session, queue, {host: declaration})
    cancelled: dict[str, list[str]] = {}
    for host, declarations in found.items():
        for queue in sorted(declarations):
            if "ok" in (cancel_consumers(services, [host], queue).get(host) or {}):
                cancelled.setdefault(host, []).append(queue)
    with services.transaction() as session:
        for host, queues in cancelled.items():
            _set_worker_queues(session, host, add=(), remove=queues)
    for host, queues in cancelled.items():
        log.info("%s consumed paused queue(s) %s again: cancelled", host, ", ".join(queues))
    return cancelled


def offending_workers(services: Services) -> list[str]:
    """Alive workers whose last inspection says they consume a paused queue."""
    paused = paused_queue_names(services)
    if not paused:
        return []
    with services.transaction() as session:
        workers = load_workers(session, utcnow(), services.settings.inspect_interval)
    return [w.hostname for w in workers if w.alive and paused.intersection(w.queues)]


def paused_for_worker(
    services: Services, hostname: str, declarations: Mapping[str, Any]
) -> list[str]:
    """The answer to a starting worker (controlplane.worker_hook): which of the queues it is
    about to consume are paused. Its declarations are recorded so that resume adds them."""
    paused = paused_queue_names(services)
    wanted = {
        str(name)[:255]: value if isinstance(value, dict) else None
        for name, value in list(declarations.items())[:2000]
    }
    hits = sorted(paused.intersection(wanted))
    if hits:
        with services.transaction() as session:
            for queue in hits:
                _record_consumers(session, queue, {hostname[:255]: wanted[queue]})
    return hits
