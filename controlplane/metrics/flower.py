"""Flower's metric names, for dashboards and agents built on Flower's /metrics (optional).

Datadog's Celery check (Agent 7.66+) and many Grafana boards scrape Flower 2.x. With
METRICS_FLOWER_NAMES on, /metrics also carries Flower's families, with Flower's label names
(`worker`, `task`), computed from the same reading as everything else:

- flower_events_total{worker, type, task}: task events by type ("task-succeeded"...), from
  the task counters. Flower also counts worker-* events under task=""; we do not keep those
  per worker, so they are not here.
- flower_task_runtime_seconds{worker, task}: the runtime histogram at Flower's default bounds
  that controlplane keeps (0.005 .. 10 s and +Inf, without 0.075, 0.75 and 7.5).
- flower_task_prefetch_time_seconds{worker, task}: how long the latest running task of that
  name waited at the worker between received and started (ETA tasks left out).
- flower_worker_prefetched_tasks{worker, task}: tasks received and not started.
- flower_worker_online{worker}, flower_worker_number_of_currently_executing_tasks{worker}.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import accumulate

from controlplane.events.stats import BUCKETS, Histogram
from controlplane.metrics.families import CounterFamily, Family, GaugeFamily, HistogramFamily
from controlplane.metrics.labels import OTHER, LabelPolicy, bounded

# prometheus_client's default buckets (Flower's), those of them controlplane keeps.
FLOWER_RUNTIME_BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, float("inf"),
)  # fmt: skip
WORKER_TASK = ("worker", "task")


@dataclass(frozen=True)
class FlowerFigures:
    """What only Flower's names need, read with the scrape (when the setting is on)."""

    prefetched: dict[tuple[str, str], int] = field(default_factory=dict)
    prefetch_time: dict[tuple[str, str], float] = field(default_factory=dict)


def _pair(policy: LabelPolicy, worker: str, task: str) -> tuple[str, str] | None:
    host = policy.hostname(worker)
    if host is None:
        return None
    return host, bounded(task if not task or task in policy.task_names else OTHER)


def flower_families(
    policy: LabelPolicy,
    task_events: Mapping[tuple[str, str, str], Mapping[str, int]],
    runtime: Mapping[tuple[str, str, str], Histogram],
    workers: list[tuple[str, bool, int]],
    figures: FlowerFigures,
) -> Iterator[Family]:
    """The families; `workers` is (hostname, alive, tasks running) per worker."""
    events: Counter[tuple[str, str, str]] = Counter()
    for (name, host, _queue), kinds in task_events.items():
        pair = _pair(policy, host, name)
        if pair is not None:
            for kind, count in kinds.items():
                events[(pair[0], f"task-{kind}", pair[1])] += count
    family = CounterFamily("flower_events", "Number of events", ("worker", "type", "task"))
    family.rows = [(key, events[key]) for key in sorted(events)]
    yield family

    merged: dict[tuple[str, str], list[Histogram]] = {}
    for (name, host, _queue), histogram in runtime.items():
        pair = _pair(policy, host, name)
        if pair is not None and histogram.count:
            merged.setdefault(pair, []).append(histogram)
    at = [BUCKETS.index(bound) for bound in FLOWER_RUNTIME_BUCKETS]
    runtimes = HistogramFamily(
        "flower_task_runtime_seconds", "Task runtime", WORKER_TASK, FLOWER_RUNTIME_BUCKETS
    )
    for pair in sorted(merged):
        parts = merged[pair]
        cumulative = list(
            accumulate(sum(column) for column in zip(*(h.counts for h in parts), strict=True))
        )
        runtimes.add(pair, [cumulative[i] for i in at], sum(h.sum for h in parts))
    yield runtimes

    for name, doc, table in (
        ("flower_task_prefetch_time_seconds",
         "The time the task spent waiting at the celery worker to be executed.",
         figures.prefetch_time),
        ("flower_worker_prefetched_tasks",
         "Number of tasks of given type prefetched at a worker", figures.prefetched),
    ):  # fmt: skip
        gauge = GaugeFamily(name, doc, WORKER_TASK)
        merged_values: dict[tuple[str, str], float] = {}
        for (worker, task), value in table.items():
            pair = _pair(policy, worker, task)
            if pair is None:
                continue
            before = merged_values.get(pair, 0.0)
            # the longest wait stands for a merged series; counts add up
            merged_values[pair] = max(before, value) if "time" in name else before + value
        for pair in sorted(merged_values):
            gauge.add(pair, merged_values[pair])
        yield gauge

    online = GaugeFamily("flower_worker_online", "Worker online status", ("worker",))
    running = GaugeFamily(
        "flower_worker_number_of_currently_executing_tasks",
        "Number of tasks currently executing at a worker",
        ("worker",),
    )
    up: Counter[str] = Counter()
    busy: Counter[str] = Counter()
    for hostname, alive, active in workers:
        label = policy.hostname(hostname)
        if label is not None:
            up[label] += 1 if alive else 0
            busy[label] += active if alive else 0
    for label in sorted(up):
        online.add((label,), up[label])
        running.add((label,), busy[label])
    yield online
    yield running
