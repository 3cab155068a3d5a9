"""Broker calls on a request path, bounded: past `broker_deadline` the answer is 503.

kombu's publish retries and a stalled socket can hold a publish for half a minute, long after
the client gave up; an operator who tries again would then run the task twice. The call runs
in a thread and the request waits at most `broker_deadline` seconds. Past it the request
answers 503 naming the broker, and since the publish may still land when the broker wakes,
the task id is revoked first: persisted (re-sent to every worker that starts or comes online)
and, if the late publish does land, broadcast at once, so the late arrival never runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from controlplane.control.revocations import remember
from controlplane.errors import ActionFailed
from controlplane.services import Services

log = logging.getLogger(__name__)


def publish_within(
    services: Services,
    actor: str,
    task_id: str,
    send: Callable[[], Any],
    probe: Callable[[], Any] | None = None,
) -> None:
    """Run `send()` (publishing `task_id`) within the deadline, or revoke it and raise.

    `probe` (a PING) goes first: a stalled broker then never receives the message, since the
    publish is skipped once the request gave up; only a stall that begins between the two
    leaves a late message (kombu's quick retries, kept because they reconnect after a dropped
    connection, may queue copies of it), and the revocation by id stops every copy.
    """
    deadline = services.settings.broker_deadline
    lock = threading.Lock()
    finished = threading.Event()
    abandoned = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            if probe is not None:
                probe()  # a broker that does not answer never gets the message at all
            with lock:
                gave_up = abandoned.is_set()
            if not gave_up:
                send()
        except BaseException as exc:  # handed to the waiting request
            failure.append(exc)
        with lock:
            finished.set()
            late = abandoned.is_set()
        if late and not failure:  # it landed after the request gave up: stop it now
            log.warning("task %s was published after its deadline; revoking it", task_id)
            _revoke(services, task_id)

    threading.Thread(target=run, name=f"publish-{task_id[:8]}", daemon=True).start()
    finished.wait(deadline)
    with lock:
        in_time = finished.is_set()
        if not in_time:
            abandoned.set()
    if in_time:
        if failure:
            raise failure[0]
        return
    with services.transaction() as session:  # its own transaction: the action's rolls back
        remember(session, services, [task_id], actor, False, "SIGTERM")
    # Queued now behind the stalled broker, so that it reaches the workers as early as the
    # late message can; sent again once that message has landed (above).
    threading.Thread(target=_revoke, args=(services, task_id), daemon=True).start()
    raise ActionFailed(
        f"the broker did not answer within {deadline:g} s: not published (task {task_id} is "
        "revoked, so a late delivery never runs); try again when the broker answers"
    )


def _revoke(services: Services, task_id: str) -> None:
    try:
        services.celery.control.revoke(task_id)
    except Exception as exc:
        log.warning("could not broadcast the revocation of %s: %s", task_id, exc)
