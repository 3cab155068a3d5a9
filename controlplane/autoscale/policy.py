"""Recommended workers per queue: how many Celery workers a queue needs now, and why.

The model, written down so that it can be argued with. For one queue, let

    lambda  arrival rate (tasks/s over the last 30 s; bench/autoscale_sim.py assumes that)
    mu      completion rate (tasks/s over the same window), when known
    S       mean service time (s per task, from the runtime histogram)
    B       backlog: tasks not started yet (ready in the broker + reserved by workers
            (prefetched, or ETA tasks that are due) + scheduled tasks whose time has come)
    c       concurrency of one worker (pool processes/threads: slots)
    W       wait target: a task should start within W seconds (at the `wait_quantile`, p95)
    T       drain target: a backlog should be gone within T seconds
    L       start-up time: from asking for a worker to its first task

1. Steady state. The offered load is a = lambda * S busy slots on average (Little's law).
   A fleet of k slots fed by one FIFO queue with Poisson arrivals is an M/M/k queue; Erlang's
   C formula gives the chance that a task waits at all, C(k, a), and the wait tail
   P(wait > W) = C(k, a) * exp(-(k - a) * W / S). The steady slots are the smallest k with
   P(wait > W) <= 1 - wait_quantile, and at least a / target_utilisation so that the fleet
   keeps some headroom for the time a new worker takes to start (the M/M/k answer alone runs
   a busy fleet at nearly 100% when W is long compared with S).
2. Backlog. Workers asked for now help only after L seconds, and meanwhile a backlog that
   grows (lambda > mu) keeps growing: B' = B + max(0, lambda - mu) * L. That work is B' * S
   slot-seconds; clearing it within T while new work keeps arriving needs a + B' * S / T
   slots. (Reserved tasks count: a list-length autoscaler cannot see them.)
3. Slots needed = max(steady, drain); workers = ceil(slots / c), clamped to [min, max].

No traffic and no backlog gives `min_workers` (0 lets KEDA scale the deployment to zero).
Work but no measured service time yet (nothing has completed) assumes S =
`default_service_seconds` (a setting) and says so in the reason, so that a backlog is still
covered within T rather than left to one worker. Measurements that are NaN, infinite or negative
are treated as unknown rather than crashing a scrape; configuration that makes no sense
(concurrency 0, min > max) raises `AutoscaleError`.

`recommend` is pure. `Autoscaler` adds the only state: a scale-down stabilization window, as
Kubernetes' HPA does it, holding the highest recommendation of the last `window` seconds so
that a queue that empties for one sample does not lose its workers (and flap back).
"""

from __future__ import annotations

import functools
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from controlplane.clock import duration
from controlplane.errors import AutoscaleError

if TYPE_CHECKING:
    from controlplane.config import Settings


@dataclass(frozen=True)
class Targets:
    """What one queue should achieve, and the bounds on its fleet."""

    drain_seconds: float = 30.0
    target_wait_seconds: float = 30.0
    target_utilisation: float = 0.9
    wait_quantile: float = 0.95
    min_workers: int = 1
    max_workers: int = 50
    startup_seconds: float = 30.0  # from asking for a worker to its first task
    default_service_seconds: float = 10.0  # S assumed until a task of the queue finished

    def __post_init__(self) -> None:
        for name in ("drain_seconds", "target_wait_seconds", "default_service_seconds"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise AutoscaleError(f"{name} must be a positive number, got {value!r}")
        if not (math.isfinite(self.startup_seconds) and self.startup_seconds >= 0):
            raise AutoscaleError(f"startup_seconds must be >= 0, got {self.startup_seconds!r}")
        if not (0 < self.target_utilisation <= 1):
            raise AutoscaleError(
                f"target_utilisation must be in (0, 1], got {self.target_utilisation!r}"
            )
        if not (0 < self.wait_quantile < 1):
            raise AutoscaleError(f"wait_quantile must be in (0, 1), got {self.wait_quantile!r}")
        if not (0 <= self.min_workers <= self.max_workers) or self.max_workers < 1:
            raise AutoscaleError(
                f"need 0 <= min_workers <= max_workers and max_workers >= 1, "
                f"got {self.min_workers!r}..{self.max_workers!r}"
            )


@dataclass(frozen=True)
class QueueLoad:
    """What was measured about one queue. Measurements may be missing (None) or garbage."""

    arrival_rate: float | None  # tasks/s
    service_time: float | None  # mean seconds per task; None until something completed
    backlog: float | None  # ready + reserved + scheduled-due
    concurrency: int  # slots per worker
    completion_rate: float | None = None  # tasks/s finished; below arrivals: backlog grows


@dataclass(frozen=True)
class Recommendation:
    """A worker count and the sentence that explains it.

    The sentence is written when `reason` is first read: a scrape of 500 queues reads only
    the counts; the Queues page and the API read both. Equal counts are equal
    recommendations, whatever their sentences.
    """

    workers: int
    explain: Callable[[], str] = field(repr=False, compare=False)
    unclamped: int  # before [min, max] and the stabilization window
    slots: float  # concurrency slots the model asked for

    @functools.cached_property
    def reason(self) -> str:
        return self.explain()


def recommend(load: QueueLoad, targets: Targets) -> Recommendation:
    """Workers this queue needs now, with the reason in words (pure: no clock, no state)."""
    return recommend_figures(
        load.arrival_rate, load.service_time, load.backlog, load.concurrency,
        load.completion_rate, targets,
    )  # fmt: skip


def recommend_figures(
    arrival_rate: float | None,
    service_time: float | None,
    backlog_figure: float | None,
    concurrency: int,
    completion_rate: float | None,
    targets: Targets,
) -> Recommendation:
    """`recommend` for a `QueueLoad`'s fields, without the record."""
    workers, unclamped, slots, figures = _size(
        arrival_rate, service_time, backlog_figure, concurrency, completion_rate, targets
    )
    explain = partial(_reason, partial(_facts, *figures), workers, unclamped)
    return Recommendation(workers=workers, explain=explain, unclamped=unclamped, slots=slots)


def workers_for_figures(
    arrival_rate: float | None,
    service_time: float | None,
    backlog_figure: float | None,
    concurrency: int,
    completion_rate: float | None,
    targets: Targets,
) -> int:
    """`recommend_figures(...).workers` without its sentence: a scrape shows only the count,
    for 500 queues, most of them with figures not seen before."""
    return _size(arrival_rate, service_time, backlog_figure, concurrency, completion_rate, targets)[
        0
    ]


_Figures = tuple[float | None, float | None, float, bool, float | None, float, int]


def _size(
    arrival_rate: float | None,
    service_time: float | None,
    backlog_figure: float | None,
    concurrency: int,
    completion_rate: float | None,
    targets: Targets,
) -> tuple[int, int, float, _Figures]:
    """(workers, unclamped, slots, the figures the sentence is written from)."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise AutoscaleError(f"concurrency must be an integer >= 1, got {concurrency!r}")
    rate = _measured(arrival_rate)
    service = _measured(service_time)
    backlog = _measured(backlog_figure)
    completed = _measured(completion_rate)
    if service is not None and service <= 0:
        service = None
    growth = max(0.0, rate - completed) if rate is not None and completed is not None else 0.0
    projected = (backlog or 0.0) + growth * targets.startup_seconds
    assumed = service is None
    per_task = targets.default_service_seconds if service is None else service

    if not rate and not backlog:
        slots = 0.0
    else:
        offered = (rate or 0.0) * per_task
        limit = targets.max_workers * concurrency
        steady = max(
            float(
                wait_target_slots(
                    offered, per_task, targets.target_wait_seconds, targets.wait_quantile, limit
                )
            ),
            offered / targets.target_utilisation,
        )
        drain = offered + projected * per_task / targets.drain_seconds
        slots = max(steady, drain)

    unclamped = math.ceil(slots / concurrency - 1e-9)
    workers = min(max(unclamped, targets.min_workers), targets.max_workers)
    return (
        workers, unclamped, slots,
        (rate, completed, per_task, assumed, backlog, projected, concurrency),
    )  # fmt: skip


def _reason(facts: Callable[[], str], workers: int, unclamped: int) -> str:
    reason = f"{facts()} -> {_plural(workers, 'worker')}"
    if workers > unclamped:
        reason += f" (the minimum; the load needs {unclamped})"
    elif workers < unclamped:
        reason += f" (the maximum; the load needs {_count(unclamped)})"
    return reason


def wait_target_slots(
    offered: float, service_time: float, wait: float, quantile: float, limit: int
) -> int:
    """Smallest k with P(wait > `wait`) <= 1 - quantile in an M/M/k queue; limit + 1 if none.

    Erlang B by its stable recurrence B(k) = a B(k-1) / (k + a B(k-1)), then
    C = k B / (k - a (1 - B)). The loop stops at `limit`, so a huge load costs no more
    than the largest fleet we may recommend.
    """
    if offered <= 0:
        return 0
    tail = 1.0 - quantile
    erlang_b = 1.0
    for k in range(1, limit + 1):
        erlang_b = offered * erlang_b / (k + offered * erlang_b)
        if k <= offered:
            continue
        erlang_c = k * erlang_b / (k - offered * (1.0 - erlang_b))
        if erlang_c * math.exp(-(k - offered) * wait / service_time) <= tail:
            return k
    return limit + 1


def _measured(value: float | None) -> float | None:
    """A measurement we can use, or None (NaN, infinite, negative, not a number)."""
    if value.__class__ is float:  # the usual case, first (a scrape asks 2,000 times)
        return value if 0.0 <= value < math.inf else None  # NaN compares False
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return float(value)


def _facts(
    rate: float | None,
    completed: float | None,
    service: float,
    assumed: bool,
    backlog: float | None,
    projected: float,
    concurrency: int,
) -> str:
    """The inputs in the Queues page's own units: rates per minute with one decimal, as its
    In /min and Out /min columns show them; durations in the unit that reads best."""
    backlog_text = f"backlog {_count(backlog)}" if backlog is not None else "backlog unknown"
    if projected > (backlog or 0.0) + 0.5:
        backlog_text += f" (about {_count(projected)} by the time new workers start)"
    if assumed:
        per_task = f"no runtime measured yet, assuming {duration(service)} per task"
    else:
        per_task = f"{duration(service)} per task"
    parts = [
        backlog_text,
        f"{_per_minute(rate)} in" if rate is not None else "arrival rate unknown",
        *([f"{_per_minute(completed)} done"] if completed is not None else []),
        per_task,
        f"concurrency {concurrency}",
    ]
    return ", ".join(parts)


def _count(value: float | None) -> str:
    return f"{math.ceil((value or 0) - 1e-9):,}"


def _per_minute(per_second: float | None) -> str:
    return f"{(per_second or 0.0) * 60:.1f}/min"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


# `recommend` is pure and most queues of a large fleet share the same load (idle, or the same
# few figures): a scrape of 500 queues computes each distinct answer once.
_recommend_once = functools.lru_cache(maxsize=4096)(recommend)
MAX_REMEMBERED = 8192  # loads one Autoscaler keeps answers for
_T = TypeVar("_T")


def _held(fresh: Recommendation, held: int, window_seconds: float) -> Recommendation:
    """`fresh` with the higher count the scale-down window holds, and why."""
    explain = partial(_held_reason, fresh, held, window_seconds)
    return Recommendation(
        workers=held, explain=explain, unclamped=fresh.unclamped, slots=fresh.slots
    )


def _held_reason(fresh: Recommendation, held: int, window_seconds: float) -> str:
    return (
        f"{fresh.reason}; holding {_plural(held, 'worker')} for the "
        f"{window_seconds:g} s scale-down window"
    )


class ScaleDownWindow:
    """Hold the highest recommendation seen in the last `seconds` (the HPA's scale-down rule).

    Scaling up is immediate; scaling down waits until every higher recommendation is older
    than the window. A sliding-window maximum per queue: memory is bounded by the number of
    samples in one window.
    """

    def __init__(self, seconds: float) -> None:
        if not (math.isfinite(seconds) and seconds >= 0):
            raise AutoscaleError(f"window seconds must be >= 0, got {seconds!r}")
        self.seconds = seconds
        self._peaks: dict[str, deque[tuple[float, int]]] = {}

    def apply(self, queue: str, now: float, workers: int) -> int:
        """Record `workers` at `now` (a monotonic clock) and return the count to run."""
        peaks = self._peaks.get(queue)
        if peaks is None:  # not setdefault: that builds a deque per call (500 a scrape)
            peaks = self._peaks[queue] = deque()
        while peaks and peaks[0][0] < now - self.seconds:
            peaks.popleft()
        while peaks and peaks[-1][1] <= workers:
            peaks.pop()
        peaks.append((now, workers))
        return peaks[0][1]

    def forget(self, queue: str) -> None:
        self._peaks.pop(queue, None)


class Autoscaler:
    """`recommend` per queue, with each queue's targets and the scale-down window applied."""

    def __init__(self, targets_for: Callable[[str], Targets], window_seconds: float) -> None:
        self._targets_for = targets_for
        self.window = ScaleDownWindow(window_seconds)
        # (the targets' id, the load's fields) -> (the targets, recommend's answer)
        self._fresh: dict[tuple[object, ...], tuple[Targets, Recommendation]] = {}
        self._held: dict[str, tuple[Recommendation, int, Recommendation]] = {}  # per queue
        # the same key -> (the targets, the fresh count), for `workers_measured`
        self._counts: dict[tuple[object, ...], tuple[Targets, int]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Autoscaler:
        return cls(
            lambda queue: targets_for(settings, queue), settings.autoscale_scale_down_window_seconds
        )

    def recommend(self, queue: str, load: QueueLoad, now: float) -> Recommendation:
        fresh = _recommend_once(load, self._targets_for(queue))
        return self._hold(queue, fresh, now)

    def recommend_measured(
        self,
        queue: str,
        now: float,
        arrival_rate: float | None,
        service_time: float | None,
        backlog: float | None,
        concurrency: int,
        completion_rate: float | None,
    ) -> Recommendation:
        """`recommend` for the fields of a `QueueLoad`, built only for figures not seen before
        with the same targets: a scrape asks for every queue, and many loads repeat."""
        figures = (arrival_rate, service_time, backlog, concurrency, completion_rate)
        fresh = _remembered(self._fresh, self._targets_for(queue), figures, recommend_figures)
        return self._hold(queue, fresh, now)

    def workers_measured(
        self,
        queue: str,
        now: float,
        arrival_rate: float | None,
        service_time: float | None,
        backlog: float | None,
        concurrency: int,
        completion_rate: float | None,
    ) -> int:
        """`recommend_measured(...).workers`: the same count, held by the same window, without
        the sentences (fresh or held) that only pages read."""
        figures = (arrival_rate, service_time, backlog, concurrency, completion_rate)
        fresh = _remembered(self._counts, self._targets_for(queue), figures, workers_for_figures)
        return self.window.apply(queue, now, fresh)

    def _hold(self, queue: str, fresh: Recommendation, now: float) -> Recommendation:
        held = self.window.apply(queue, now, fresh.workers)
        if held == fresh.workers:
            return fresh
        kept = self._held.get(queue)  # the window often holds the same count for a while
        if kept is not None and kept[0] is fresh and kept[1] == held:
            return kept[2]
        holding = _held(fresh, held, self.window.seconds)
        self._held[queue] = (fresh, held, holding)
        return holding


def _remembered(
    memo: dict[tuple[object, ...], tuple[Targets, _T]],
    targets: Targets,
    figures: tuple[float | None, float | None, float | None, int, float | None],
    compute: Callable[..., _T],
) -> _T:
    """``compute(*figures, targets)``, kept per (targets, figures): a scrape asks for every
    queue, and many loads repeat. Queues share their targets (unless overridden), so the key
    is the very Targets object's id, held in the value, so an id reused after it was dropped
    never matches; loads drift, so a full memo starts afresh instead of growing."""
    key = (id(targets), *figures)
    hit = memo.get(key)
    if hit is not None and hit[0] is targets:
        return hit[1]
    if len(memo) >= MAX_REMEMBERED:
        memo.clear()
    value = compute(*figures, targets)
    memo[key] = (targets, value)
    return value


def targets_for(settings: Settings, queue: str) -> Targets:
    """The global autoscale_* settings with the queue's overrides (autoscale_queues) applied."""
    targets = Targets(
        drain_seconds=settings.autoscale_drain_seconds,
        target_wait_seconds=settings.autoscale_target_wait_seconds,
        target_utilisation=settings.autoscale_target_utilisation,
        min_workers=settings.autoscale_min_workers,
        max_workers=settings.autoscale_max_workers,
        startup_seconds=settings.autoscale_startup_seconds,
        default_service_seconds=settings.autoscale_default_service_seconds,
    )
    override = settings.autoscale_override(queue)
    if override is None:
        return targets
    changes = {
        name: getattr(override, name)
        for name in ("drain_seconds", "target_wait_seconds", "min_workers", "max_workers")
        if getattr(override, name) is not None
    }
    return replace(targets, **changes)


def concurrency_for(settings: Settings, queue: str, measured: int | None) -> int:
    """Slots per worker: the queue's override, else what the fleet reports, else the setting."""
    override = settings.autoscale_override(queue)
    if override is not None and override.concurrency is not None:
        return override.concurrency
    if measured is not None and measured >= 1:
        return measured
    return settings.autoscale_concurrency
