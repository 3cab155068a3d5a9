"""What a worker coming online is told at once: revocations, paused queues, runtime limits.

Workers keep all three in memory only, so a restarted worker or a new pod would forget them:
it would run a revoked ETA task, consume a paused queue, and run at the code's limits. The
event ingester calls this hook on every worker-online event.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from controlplane.control.queue_pause import enforce_pauses
from controlplane.control.revocations import RESEND_DELAYS, resend_revocations
from controlplane.control.task_limits import reapply_limits
from controlplane.services import Services

log = logging.getLogger(__name__)


def _pauses(services: Services, hostname: str) -> None:
    enforce_pauses(services, [hostname])


STEPS: tuple[tuple[str, Callable[[Services, str], object]], ...] = (
    ("revocations", resend_revocations),
    ("paused queues", _pauses),
    ("runtime limits", reapply_limits),
)


def tell_worker(services: Services, hostname: str) -> None:
    """Each step on its own: one failing does not keep the others from the worker."""
    for what, step in STEPS:
        try:
            step(services, hostname)
        except Exception as exc:
            log.warning("could not re-send %s to %s: %s", what, hostname, exc)


def worker_online_hook(services: Services) -> Callable[[str], None]:
    """The ingester's worker-online hook: tell that worker, at RESEND_DELAYS after the event.

    A worker sends worker-online before it listens to broadcasts, so the first try may miss
    it; every step is idempotent, so repeating is harmless.
    """

    def on_worker_online(hostname: str) -> None:
        for delay in RESEND_DELAYS:
            timer = threading.Timer(delay, tell_worker, args=(services, hostname))
            timer.daemon = True
            timer.start()

    return on_worker_online
