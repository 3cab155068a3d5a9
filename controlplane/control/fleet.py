"""Admin actions on queues and workers: purge, pool size, consumers, shutdown."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from controlplane.broker.queue_names import check_queue_name
from controlplane.control.action_log import ActionResult, run_action
from controlplane.control.everyone import ask
from controlplane.control.fleet_queues import check_fleet_queue
from controlplane.control.queue_pause import add_consumer_on, cancel_consumers
from controlplane.errors import ActionError, ActionFailed, Conflict, NotFound
from controlplane.fleet.pauses import paused_names
from controlplane.models import Worker
from controlplane.services import Services

HOSTNAME_MAX = 255


def _check_queue(services: Services, queue: str) -> None:
    check_queue_name(queue, services.settings)


def _known_worker(session: Session, hostname: str) -> None:
    """NotFound unless the console knows a worker by this name: nothing is broadcast to a
    name that no worker answers to (a shutdown to a typo used to answer 202)."""
    if not hostname or len(hostname) > HOSTNAME_MAX or any(c.isspace() for c in hostname):
        raise ActionError("hostname: expected a worker name such as celery@host")
    if session.get(Worker, hostname) is None:
        raise NotFound(f"no worker named {hostname!r} is known to the console")


def _answer_of(services: Services, hostname: str, answer: Any) -> Any:
    """The worker's own answer, or ActionFailed naming who did not answer or what it said."""
    if answer is None:
        raise ActionFailed(
            f"{hostname} did not answer within {services.settings.inspect_timeout:g} s "
            "(is it online?)"
        )
    if isinstance(answer, dict) and "error" in answer:
        raise ActionFailed(f"{hostname} refused: {answer['error']}")
    return answer


def purge_queue(
    services: Services,
    actor: str,
    queue: str,
    confirm: str | None,
    idempotency_key: str | None = None,
) -> ActionResult:
    """Delete every waiting message of a queue; the operator types the queue name to confirm."""

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        _check_queue(services, queue)
        if confirm != queue:
            raise ActionError(f"type the queue name {queue!r} to confirm the purge")
        check_fleet_queue(services, session, queue)  # before anything is deleted
        with services.celery.connection_for_write() as connection:
            purged = connection.default_channel.queue_purge(queue) or 0
        return 200, {"queue": queue, "purged": int(purged)}

    return run_action(services, actor, "purge_queue", queue[:255], {"confirm": confirm}, perform,
                      idempotency_key)  # fmt: skip


def pool_resize(
    services: Services, actor: str, hostname: str, delta: Any, idempotency_key: str | None = None
) -> ActionResult:
    """Grow (delta > 0) or shrink (delta < 0) a worker's pool."""

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        _known_worker(session, hostname)
        if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0 or abs(delta) > 64:
            raise ActionError("delta: expected a non-zero integer between -64 and 64")
        command = "pool_grow" if delta > 0 else "pool_shrink"
        replies = ask(services, [hostname], command, n=abs(delta))
        answer = _answer_of(services, hostname, replies.get(hostname))
        return 200, {"hostname": hostname, "delta": delta, "reply": answer}

    return run_action(services, actor, "pool_resize", hostname[:255], {"delta": delta}, perform,
                      idempotency_key)  # fmt: skip


def add_consumer(
    services: Services, actor: str, hostname: str, queue: str, idempotency_key: str | None = None
) -> ActionResult:
    """Make a worker start consuming from `queue` (not while it is paused fleet-wide)."""

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        _check_queue(services, queue)
        _known_worker(session, hostname)
        if queue in paused_names(session):
            raise Conflict(f"{queue} is paused on every worker: resume it (control.queue_pause)")
        answer = _answer_of(services, hostname, add_consumer_on(services, hostname, queue))
        return 200, {"hostname": hostname, "queue": queue, "reply": answer}

    return run_action(services, actor, "add_consumer", hostname[:255], {"queue": queue}, perform,
                      idempotency_key)  # fmt: skip


def cancel_consumer(
    services: Services, actor: str, hostname: str, queue: str, idempotency_key: str | None = None
) -> ActionResult:
    """Make a worker stop consuming from `queue`."""

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        _check_queue(services, queue)
        _known_worker(session, hostname)
        answers = cancel_consumers(services, [hostname], queue)
        answer = _answer_of(services, hostname, answers.get(hostname))
        return 200, {"hostname": hostname, "queue": queue, "reply": answer}

    return run_action(services, actor, "cancel_consumer", hostname[:255], {"queue": queue},
                      perform, idempotency_key)  # fmt: skip


def shutdown_worker(
    services: Services, actor: str, hostname: str, idempotency_key: str | None = None
) -> ActionResult:
    """Ask a worker to shut down (warm: it finishes its running tasks first)."""

    def perform(session: Session) -> tuple[int, dict[str, Any]]:
        _known_worker(session, hostname)
        services.celery.control.shutdown(destination=[hostname])
        return 202, {"hostname": hostname, "shutdown": "requested"}

    return run_action(services, actor, "shutdown_worker", hostname[:255], {}, perform,
                      idempotency_key)  # fmt: skip
