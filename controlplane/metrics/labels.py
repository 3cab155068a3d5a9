"""Which label values a scrape may show: a bounded set, whatever the events say.

Task names, queues and exception names arrive in events from any client, so they are
untrusted and unbounded: a name becomes a series only when a worker registered the task
(or `task_allowlist` names it), a queue only when it is configured, consumed by a worker, or
holds messages in the broker (at most `MAX_DISCOVERED_QUEUES` of those, never a broker key;
a queue sampled only because events named it is not enough), an exception type only among
the most frequent. The rest is counted under "other". Hostnames
churn with Kubernetes pods: `metrics_collapse_hostnames` folds them all into "generic", and
the series of a worker offline longer than `metrics_offline_worker_seconds` are dropped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from controlplane.broker.base import QueueState
from controlplane.broker.queue_names import QUEUE_NAME, reserved_reason
from controlplane.config import Settings
from controlplane.fleet.health import WorkerHealth

OTHER = "other"
GENERIC_HOSTNAME = "generic"
MAX_UNREGISTERED_NAMES = 500  # task names shown while no worker has reported its tasks
MAX_EXCEPTIONS = 50  # exception types shown per scrape; the rarer ones are "other"
MAX_LABEL_CHARS = 200
MAX_DISCOVERED_QUEUES = 100  # queues shown that are neither configured nor consumed

TaskLabels = tuple[str, str, str]  # name, hostname, queue_name


@dataclass(frozen=True)
class LabelPolicy:
    task_names: frozenset[str]
    queues: frozenset[str]
    collapse_hostnames: bool
    dropped_hosts: frozenset[str]  # workers offline for longer than the setting

    @classmethod
    def build(
        cls,
        settings: Settings,
        workers: Iterable[WorkerHealth],
        sampled_queues: Mapping[str, QueueState],
        seen_names: Collection[str],
        registered: Collection[str] = (),
    ) -> LabelPolicy:
        """`registered`: the task names workers registered (else those in `workers`)."""
        workers = list(workers)
        registered = set(registered) or set().union(*(w.registered for w in workers))
        if registered:
            names = registered | set(settings.task_allowlist)
        else:
            # Nobody told us what the fleet runs (no inspection yet): keep what was seen, capped
            # and in a stable order so that consecutive scrapes agree.
            seen = sorted(n for n in seen_names if n)[:MAX_UNREGISTERED_NAMES]
            names = set(seen) | set(settings.task_allowlist)
        queues = set(settings.queues).union(*(w.queues for w in workers))
        queues |= _holding_messages(settings, sampled_queues, queues)
        gone_after = settings.metrics_offline_worker_seconds
        dropped = {
            w.hostname
            for w in workers
            if w.status == "offline" and (w.heartbeat_age is None or w.heartbeat_age > gone_after)
        }
        return cls(
            task_names=frozenset(names),
            queues=frozenset(queues),
            collapse_hostnames=settings.metrics_collapse_hostnames,
            dropped_hosts=frozenset(dropped),
        )

    def hostname(self, hostname: str) -> str | None:
        """The label for `hostname`, or None when its series are dropped."""
        if self.collapse_hostnames:
            return GENERIC_HOSTNAME
        if hostname in self.dropped_hosts:
            return None
        return bounded(hostname)

    def task(self, labels: TaskLabels) -> TaskLabels | None:
        name, hostname, queue = labels
        host = self.hostname(hostname)
        if host is None:
            return None
        name = name if not name or name in self.task_names else OTHER
        queue = queue if not queue or queue in self.queues else OTHER
        return bounded(name), host, bounded(queue)


def _holding_messages(
    settings: Settings, sampled: Mapping[str, QueueState], known: set[str]
) -> set[str]:
    """Sampled queues nobody configured or consumes that hold messages (an orphan backlog is
    worth a series), the fullest first, never a broker key."""
    options = settings.broker_transport_options
    found = [
        (-(state.ready + (state.reserved or 0)), name)
        for name, state in sampled.items()
        if name not in known
        and state.ready + (state.reserved or 0) > 0
        and QUEUE_NAME.fullmatch(name)
        and not reserved_reason(name, options)
    ]
    return {name for _, name in sorted(found)[:MAX_DISCOVERED_QUEUES]}


def top_exceptions(counts: Counter[str], limit: int = MAX_EXCEPTIONS) -> frozenset[str]:
    """The `limit` most frequent exception types (ties broken by name, so scrapes agree)."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return frozenset(name for name, _ in ranked[:limit])


def bounded(value: str) -> str:
    return value if len(value) <= MAX_LABEL_CHARS else value[:MAX_LABEL_CHARS]
