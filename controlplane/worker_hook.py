"""For the fleet's Celery app: restarts keep paused queues paused and runtime limits in force.

    from controlplane.worker_hook import install
    install(app)          # in the module that creates the fleet's Celery app

Without it, pauses and limits still reach a worker that comes online (the console sends them
on its worker-online event), but only once it listens to broadcasts: a worker restarted with a
backlog waiting may start a few tasks of a paused queue (its prefetch) first. And Celery's
`time_limit` command only changes the task's attribute: a prefork worker keeps the limits its
request classes were built with at start-up, so a runtime time limit never takes effect there.

With it, a starting worker asks the console before its consumer starts (`celeryd_after_setup`,
after `-Q` is applied): it leaves paused queues out, sets the runtime limits on its tasks, so
they are built in, and adds the stored revocations to its revoked set, so a task revoked
while no worker ran is discarded, not run. It also adds the control command
`controlplane_refresh_limits`, which rebuilds the request classes after a runtime change, and
follows each received task of a group or chord with a `controlplane-task-group` event naming
its group id (Celery's own task events do not carry it), which the workflow graph reads before
the result backend. If no console answers within `timeout`, the worker starts as configured
and says so in its log.

For Jobs (deploy/k8s/keda-scaledjob.yaml) it also ends the worker: CONTROLPLANE_EXIT_AFTER_TASKS
(after that many tasks finished, per pool process) and CONTROLPLANE_EXIT_WHEN_IDLE (seconds
without receiving a task) each send the worker a warm shutdown, so a Job completes.

This module imports only Celery: it runs inside the fleet's workers.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import Any

from celery import Celery, signals

COMMAND = "controlplane_worker_starting"
# Celery's task events carry no group id (only the message headers do): the hook says it in an
# event of its own, which the ingester stores as the task's group (events/validate.py).
GROUP_EVENT = "controlplane-task-group"
REFRESH_COMMAND = "controlplane_refresh_limits"
# A task attribute the console asks `registered()` for: its presence says the hook is installed.
HOOK_ATTRIBUTE = "controlplane_hook"
NODE_PREFIX = "controlplane@"  # the console's mailbox nodes (control/mailbox.py)

log = logging.getLogger(__name__)


def ask_console(
    app: Celery, hostname: str, declarations: dict[str, Any], timeout: float = 1.0
) -> dict[str, Any] | None:
    """The console's answer ({"paused": [...], "limits": {...}}); None without one."""
    replies = app.control.broadcast(
        COMMAND,
        arguments={"hostname": hostname, "queues": declarations},
        reply=True,
        timeout=timeout,
        limit=1,
        pattern=f"{NODE_PREFIX}*",
        matcher="glob",
    )
    for reply in replies or []:
        for answer in reply.values() if isinstance(reply, dict) else ():
            if isinstance(answer, dict) and isinstance(answer.get("paused"), list):
                return answer
    return None


def apply_limits(app: Celery, limits: Any) -> list[str]:
    """Set the runtime limits on the app's tasks (before the worker builds its request classes)."""
    applied = []
    for name, entry in limits.items() if isinstance(limits, dict) else ():
        task = app.tasks.get(name)
        if task is None or not isinstance(entry, dict):
            continue
        if "rate_limit" in entry:
            task.rate_limit = entry["rate_limit"]
        if "time_limit" in entry or "soft_time_limit" in entry:
            task.time_limit = entry.get("time_limit")
            task.soft_time_limit = entry.get("soft_time_limit")
        applied.append(name)
    return applied


def apply_revocations(task_ids: Any) -> int:
    """Add the console's revoked ids to this worker's revoked set, before it consumes: a task
    revoked while no worker ran is discarded on receipt, not run."""
    if not isinstance(task_ids, list):
        return 0
    from celery.worker import state

    ids = [task_id for task_id in task_ids if isinstance(task_id, str)]
    for task_id in ids:
        state.revoked.add(task_id)
    return len(ids)


def _announce_group(app: Celery) -> Any:
    """A task_received handler: a task of a group or chord is followed by a GROUP_EVENT."""

    def announce(sender: Any = None, request: Any = None, **_: Any) -> None:
        group = getattr(request, "group", None)
        dispatcher = getattr(sender, "event_dispatcher", None)
        if not group or dispatcher is None or getattr(sender, "app", None) is not app:
            return
        if not dispatcher.enabled:
            return
        try:
            dispatcher.send(
                GROUP_EVENT, uuid=request.id, group=str(group),
                group_index=getattr(request, "group_index", None),
            )  # fmt: skip
        except Exception as exc:  # never in the way of the task itself
            log.debug("controlplane: group event not sent: %s", exc)

    return announce


def _register_refresh_command() -> None:
    from celery.worker.control import control_command

    @control_command(name=REFRESH_COMMAND)
    def refresh(state: Any, **_: Any) -> dict[str, str]:
        """Rebuild the request classes, so that changed time limits take effect."""
        state.consumer.update_strategies()
        return {"ok": "limits refreshed"}


def _env_number(name: str) -> float:
    try:
        return max(0.0, float(os.environ.get(name) or 0))
    except ValueError:
        log.warning("controlplane: %s is not a number; ignored", name)
        return 0.0


def _exit_when_done(exit_after: float, exit_when_idle: float) -> None:
    """Warm-shut the worker after `exit_after` tasks or `exit_when_idle` s without one."""
    main_pid = os.getpid()  # the app module is imported before the pool forks
    received = {"count": 0}

    def stop(why: str) -> None:
        log.warning("controlplane: %s: shutting the worker down", why)
        os.kill(main_pid, signal.SIGTERM)  # warm: the running task finishes first

    if exit_after:
        done = {"count": 0}

        def after_task(**_: Any) -> None:  # in the process that ran the task
            done["count"] += 1
            if done["count"] >= exit_after:
                stop(f"{done['count']} task(s) done (CONTROLPLANE_EXIT_AFTER_TASKS)")

        signals.task_postrun.connect(after_task, weak=False)

    if exit_when_idle:

        def on_received(**_: Any) -> None:  # in the main process
            received["count"] += 1

        def watch(**_: Any) -> None:
            started = time.monotonic()

            def idle() -> None:
                while received["count"] == 0:
                    if time.monotonic() - started >= exit_when_idle:
                        stop(f"no task within {exit_when_idle:g} s (CONTROLPLANE_EXIT_WHEN_IDLE)")
                        return
                    time.sleep(0.5)

            threading.Thread(target=idle, name="controlplane-idle-exit", daemon=True).start()

        signals.task_received.connect(on_received, weak=False)
        signals.worker_ready.connect(watch, weak=False)


def install(app: Celery, timeout: float = 1.0) -> None:
    """Make `app`'s workers ask the console before consuming; add the refresh command; end
    the worker after its tasks or when idle if the environment asks (Jobs)."""
    _register_refresh_command()
    exit_after = _env_number("CONTROLPLANE_EXIT_AFTER_TASKS")
    exit_when_idle = _env_number("CONTROLPLANE_EXIT_WHEN_IDLE")
    if exit_after or exit_when_idle:
        _exit_when_done(exit_after, exit_when_idle)
    setattr(app.Task, HOOK_ATTRIBUTE, "1")  # every task of the app inherits it
    signals.task_received.connect(_announce_group(app), weak=False)

    def before_consuming(sender: Any = None, instance: Any = None, **_: Any) -> None:
        if instance is None or instance.app is not app:
            return
        queues = instance.app.amqp.queues
        selected = dict(queues.consume_from)
        declarations = {name: queue.as_dict(recurse=True) for name, queue in selected.items()}
        try:
            answer = ask_console(app, str(sender), declarations, timeout)
        except Exception as exc:
            log.warning("controlplane: could not ask the console: %s", exc)
            return
        if answer is None:
            log.warning(
                "controlplane: no console answered within %.1f s; consuming every queue at the "
                "code's limits (the console tells this worker once it sees it)",
                timeout,
            )
            return
        for name in answer["paused"]:
            if isinstance(name, str):
                queues.deselect(name)
        if answer["paused"]:
            log.warning(
                "controlplane: not consuming paused queue(s): %s", ", ".join(answer["paused"])
            )
        revoked = apply_revocations(answer.get("revoked"))
        if revoked:
            log.warning("controlplane: %d revoked task id(s) will not run", revoked)
        applied = apply_limits(app, answer.get("limits"))
        if applied:
            log.warning("controlplane: runtime limits for %s", ", ".join(sorted(applied)))

    signals.celeryd_after_setup.connect(before_consuming, weak=False)
