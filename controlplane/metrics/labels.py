"""Which label values a scrape may show: a bounded set, whatever the events say.

Task names, queues and exception names arrive in events from any client, so they are
untrusted and unbounded: a name becomes a series only when a worker registered the task
(or `task_allowlist` names it), a queue only when it is sampled, configured or consumed, an
exception type only among the most frequent. The rest is counted under "other". Hostnames
churn with Kubernetes pods: `metrics_collapse_hostnames` folds them all into "generic", and
the series of a worker offline longer than `metrics_offline_worker_seconds` are dropped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from controlplane.config import Settings
from controlplane.fleet.health import WorkerHealth

OTHER = "other"
GENERIC_HOSTNAME = "generic"
MAX_UNREGISTERED_NAMES = 500  # task names shown while no worker has reported its tasks
MAX_EXCEPTIONS = 50  # exception types shown per scrape; the rarer ones are "other"
MAX_LABEL_CHARS = 200

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
        sampled_queues: Iterable[str],
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
        queues = set(sampled_queues).union(settings.queues, *(w.queues for w in workers))
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


def top_exceptions(counts: Counter[str], limit: int = MAX_EXCEPTIONS) -> frozenset[str]:
    """The `limit` most frequent exception types (ties broken by name, so scrapes agree)."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return frozenset(name for name, _ in ranked[:limit])


def bounded(value: str) -> str:
    return value if len(value) <= MAX_LABEL_CHARS else value[:MAX_LABEL_CHARS]
