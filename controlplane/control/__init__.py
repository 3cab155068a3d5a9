"""Operator actions: trigger, retry, revoke, bulk, and queue/worker control.

The console, the JSON API and the CLI all call these functions; every call is written to the
action log (`actions`) before its answer is returned, refusals and failures included.
"""

from controlplane.control.action_log import (
    ActionResult,
    actions_on,
    list_actions,
    log_refusal,
    refuse,
    run_action,
)
from controlplane.control.bulk import bulk
from controlplane.control.fleet import (
    add_consumer,
    cancel_consumer,
    pool_resize,
    purge_queue,
    shutdown_worker,
)
from controlplane.control.registry import (
    NOT_REPORTED,
    TaskNames,
    known_task_names,
    routed_queues,
    routing_source,
    task_names,
)
from controlplane.control.revocations import resend_revocations
from controlplane.control.tasks import retry, revoke, trigger
from controlplane.control.validate import TriggerRequest, parse_trigger

__all__ = [
    "NOT_REPORTED",
    "ActionResult",
    "TaskNames",
    "TriggerRequest",
    "actions_on",
    "add_consumer",
    "bulk",
    "cancel_consumer",
    "known_task_names",
    "list_actions",
    "log_refusal",
    "parse_trigger",
    "pool_resize",
    "purge_queue",
    "resend_revocations",
    "refuse",
    "retry",
    "revoke",
    "routed_queues",
    "task_names",
    "routing_source",
    "run_action",
    "shutdown_worker",
    "trigger",
]
