"""Replay arrival traces against autoscaling policies in a discrete-event simulation.

    .venv/bin/python bench/autoscale_sim.py [--seed N] [--runs K] [--traces steady,spike,...]

Traces (after a ten-minute warm-up at the opening rate that the figures leave out): steady,
diurnal, bursty, spike, slow_drain, prefetch_heavy; see each function's docstring.

Policies:
- `controlplane`: controlplane.autoscale.policy with the settings' defaults (arrival and completion
  rates, mean runtime, ready + reserved backlog, concurrency);
- `list_length`: KEDA's Redis-list scaler, ceil(LLEN / listLength). It sees only the list:
  tasks that workers have prefetched are gone from it. listLength is tuned per trace and seed
  to the loosest value whose p95 wait still meets the target (a binary search over 1, 2, 3,
  4, 5, 6, 7, 9, 12, ... assuming the p95 grows with listLength): the best an operator could do
  knowing the traffic in advance. When no value meets it, listLength 1 is shown;
- `fixed`: a fixed fleet, the smallest that meets the target (the same search).

The world, the same for every policy:
- A worker has `concurrency` slots and prefetches `multiplier * concurrency` messages beyond
  those it runs (Celery's default early ack: a message is acknowledged when its task starts).
  Redis hands a message to the worker that has waited longest in BRPOP among those with
  prefetch room, whether or not it has a free slot, so a task can wait behind a busy worker's
  running tasks while another worker idles. A worker scaled down stops fetching, returns its
  prefetched messages to the head of the list and exits once its running tasks finish.
- A new worker is billed from the moment it is asked for and consumes after `startup` s.
- Every `tick` s (KEDA's polling interval) a policy sees the list length, the reserved count,
  arrival and completion rates over the last 30 s and the mean runtime over the last five
  minutes. Its answer goes through the HPA: 10% tolerance, a scale-down window (the highest
  answer of the window), scale-up by at most max(SCALE_UP_PODS, +100%) per 15 s, [min, max].
  Ours has its own window plus the HPA's short one (as deploy/k8s ships it); the list-length
  policy's HPA window is the sum of the two, so both hold a peak equally long.

Arrivals and service times are drawn once per trace and seed, so every policy serves exactly
the same tasks. Prints JSON lines: case `<trace>/<policy>` and its `seed`, metrics
`p95_wait_s`, `max_wait_s`, `mean_wait_s`, `worker_seconds`, and the tuned `list_length` or
`workers`. Waits are from sending to starting; worker-seconds count from the end of warm-up.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import random
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from controlplane.autoscale.manifests import (
    HPA_SCALE_DOWN_WINDOW_SECONDS,
    SCALE_UP_PODS,
)
from controlplane.autoscale.policy import Autoscaler, QueueLoad, ScaleDownWindow, targets_for
from controlplane.config import load_settings

# ---- traces -------------------------------------------------------------------------------------

# Every trace starts with ten minutes at its opening rate, left out of the figures, so that no
# policy is judged on a cold start that a real fleet, running for days, never has.
WARMUP = 600.0


@dataclass(frozen=True)
class Trace:
    """Tasks to replay: arrival times (sorted) and service times, plus the fleet's shape."""

    name: str
    duration: float
    arrivals: Sequence[float]
    services: Sequence[float]
    concurrency: int = 4
    prefetch_multiplier: int = 4
    warmup: float = WARMUP  # figures count from here: the fleet has found its feet by then


def _poisson(
    rng: random.Random, rate: Callable[[float], float], peak: float, start: float, end: float
) -> list[float]:
    """Arrival times of a Poisson process with rate(t) <= peak on [start, end) (thinning)."""
    times = []
    t = start
    while True:
        t += rng.expovariate(peak)
        if t >= end:
            return times
        if rng.random() * peak < rate(t):
            times.append(t)


def _exponential(mean: float) -> Callable[[random.Random], float]:
    return lambda rng: rng.expovariate(1.0 / mean)


def _lognormal(mean: float, sigma: float) -> Callable[[random.Random], float]:
    mu = math.log(mean) - sigma * sigma / 2
    return lambda rng: rng.lognormvariate(mu, sigma)


def _trace(
    name: str,
    rng: random.Random,
    scale: float,
    duration: float,
    rate: Callable[[float], float],
    peak: float,
    service: Callable[[random.Random], float],
    **shape: int,
) -> Trace:
    """Draw the trace: a warm-up at the opening rate, then `rate(t)` for `duration` s."""
    warmup = WARMUP * scale
    arrivals = _poisson(rng, lambda t: rate(max(0.0, t - warmup)), peak, 0.0, warmup + duration)
    return Trace(
        name, warmup + duration, arrivals, [service(rng) for _ in arrivals], warmup=warmup, **shape
    )


def steady(rng: random.Random, scale: float = 1.0) -> Trace:
    """20 tasks/s of 1.5 s tasks (exponential) for 30 minutes: about 8 busy workers."""
    return _trace("steady", rng, scale, 1800 * scale, lambda t: 20.0, 20.0, _exponential(1.5))


def diurnal(rng: random.Random, scale: float = 1.0) -> Trace:
    """A day squeezed into an hour: 2 to 22 tasks/s, lognormal 1.5 s tasks."""
    duration = 3600 * scale

    def rate(t: float) -> float:
        return 12.0 - 10.0 * math.cos(2 * math.pi * t / duration)

    return _trace("diurnal", rng, scale, duration, rate, 22.0, _lognormal(1.5, 0.8))


def bursty(rng: random.Random, scale: float = 1.0) -> Trace:
    """4 tasks/s with bursts of +20/s lasting 30-120 s, about every four minutes."""
    duration = 3600 * scale
    bursts = []
    t = rng.expovariate(1 / 240)
    while t < duration:
        length = rng.uniform(30, 120)
        bursts.append((t, t + length))
        t += length + rng.expovariate(1 / 240)

    def rate(t: float) -> float:
        return 4.0 + (20.0 if any(a <= t < b for a, b in bursts) else 0.0)

    return _trace("bursty", rng, scale, duration, rate, 24.0, _exponential(1.0))


def spike(rng: random.Random, scale: float = 1.0) -> Trace:
    """6 tasks/s, then 30/s for two minutes half-way through: a fan-out or a retry storm."""
    duration = 1800 * scale
    start, end = duration / 2, duration / 2 + 120 * scale

    def rate(t: float) -> float:
        return 30.0 if start <= t < end else 6.0

    return _trace("spike", rng, scale, duration, rate, 30.0, _exponential(1.0))


def slow_drain(rng: random.Random, scale: float = 1.0) -> Trace:
    """Long tasks (lognormal, mean 40 s): 1.2/s for 20 minutes, then 0.2/s for 40.

    Prefetch multiplier 1, as Celery's docs advise for long tasks: each worker still holds
    `concurrency` messages beyond the ones it runs.
    """
    turn = 1200 * scale

    def rate(t: float) -> float:
        return 1.2 if t < turn else 0.2

    return _trace(
        "slow_drain",
        rng,
        scale,
        3600 * scale,
        rate,
        1.2,
        _lognormal(40.0, 0.6),
        prefetch_multiplier=1,
    )


def prefetch_heavy(rng: random.Random, scale: float = 1.0) -> Trace:
    """Slow I/O-bound tasks (lognormal, mean 20 s) on gevent-style workers: concurrency 16 and
    Celery's default prefetch multiplier 4, so each worker takes 64 messages off the list
    beyond the 16 it runs. 0.5/s, then 3/s for 20 minutes, then 0.5/s again.

    The list reads short while workers hold hundreds (the documented case had 612-728 per
    worker): a list-length scaler asks for too few workers, and the tasks they hold wait
    behind slow ones.
    """
    start, end = 600 * scale, 1800 * scale

    def rate(t: float) -> float:
        return 3.0 if start <= t < end else 0.5

    return _trace(
        "prefetch_heavy",
        rng,
        scale,
        3000 * scale,
        rate,
        3.0,
        _lognormal(20.0, 0.5),
        concurrency=16,
        prefetch_multiplier=4,
    )


TRACES: dict[str, Callable[[random.Random, float], Trace]] = {
    "steady": steady,
    "diurnal": diurnal,
    "bursty": bursty,
    "spike": spike,
    "slow_drain": slow_drain,
    "prefetch_heavy": prefetch_heavy,
}


def make_trace(name: str, seed: int, scale: float = 1.0) -> Trace:
    """The trace `name` drawn from `seed` (a string seed: the same on every Python run)."""
    return TRACES[name](random.Random(f"{seed}:{name}"), scale)


# ---- policies -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    """What a policy can read at a tick: the broker's view and the measured rates."""

    now: float
    ready: int  # in the broker's list
    reserved: int  # prefetched by workers, not started
    arrival_rate: float
    completion_rate: float
    service_time: float | None
    concurrency: int
    replicas: int


@dataclass(frozen=True)
class Policy:
    """A replica count per observation, and the HPA scale-down window in front of it."""

    decide: Callable[[Observation], int]
    hpa_window: float


def controlplane_policy(min_workers: int, max_workers: int, **settings_: object) -> Policy:
    """Ours, deployed as deploy/k8s does it: the gauge holds its own scale-down window, so
    the HPA in front of it keeps only a short one."""
    settings = load_settings(
        {}, autoscale_min_workers=min_workers, autoscale_max_workers=max_workers, **settings_
    )
    autoscaler = Autoscaler(
        lambda queue: targets_for(settings, queue), settings.autoscale_scale_down_window_seconds
    )

    def decide(obs: Observation) -> int:
        load = QueueLoad(
            arrival_rate=obs.arrival_rate,
            service_time=obs.service_time,
            backlog=obs.ready + obs.reserved,
            concurrency=obs.concurrency,
            completion_rate=obs.completion_rate,
        )
        return autoscaler.recommend("q", load, obs.now).workers

    return Policy(decide, HPA_SCALE_DOWN_WINDOW_SECONDS)


def list_length_policy(list_length: int, hpa_window: float) -> Policy:
    """KEDA's Redis-list trigger behind an HPA holding its highest answer for `hpa_window`."""
    return Policy(lambda obs: math.ceil(obs.ready / list_length), hpa_window)


def fixed_policy(workers: int) -> Policy:
    return Policy(lambda obs: workers, 0.0)


# ---- the simulation -----------------------------------------------------------------------------


@dataclass
class World:
    """The knobs every policy shares."""

    tick: float = 15.0
    startup: float = 30.0
    min_workers: int = 1
    max_workers: int = 50
    tolerance: float = 0.1
    scale_up_pods: int = SCALE_UP_PODS  # HPA: at most max(this many, +100%) more per 15 s
    rate_window: float = 30.0
    service_window: float = 300.0


@dataclass(eq=False)
class Worker:
    created: float
    free: int
    ready_at: float
    consuming: bool = False
    stopping: bool = False
    exited_at: float | None = None
    in_line: bool = False  # blocked in BRPOP, waiting for a message
    buffer: deque[int] = field(default_factory=deque)


@dataclass(frozen=True)
class Result:
    p95_wait: float
    max_wait: float
    mean_wait: float
    worker_seconds: float


_READY, _DONE, _TICK = 0, 1, 2


def simulate(trace: Trace, policy: Policy, world: World) -> Result:
    """Run `trace` under `policy` until every task has finished."""
    arrivals, services = trace.arrivals, trace.services
    concurrency = trace.concurrency
    prefetch = trace.prefetch_multiplier * concurrency
    total = len(arrivals)
    waits = [0.0] * total
    events: list[tuple[float, int, int, object, int]] = []
    seq = 0
    listed: deque[int] = deque()
    line: deque[Worker] = deque()  # workers in BRPOP, longest waiting first
    workers: list[Worker] = []
    reserved = 0
    done = 0
    runtime_sum = 0.0
    history: deque[tuple[float, int, int, float]] = deque()  # (t, arrived, done, runtime_sum)
    last_service: float | None = None
    window = ScaleDownWindow(policy.hpa_window)
    replicas = 0
    now = 0.0

    def push(when: float, kind: int, worker: object, task: int) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (when, seq, kind, worker, task))

    def start(worker: Worker, task: int) -> None:
        worker.free -= 1
        waits[task] = now - arrivals[task]
        push(now + services[task], _DONE, worker, task)

    def join_line(worker: Worker) -> None:
        if worker.consuming and not worker.in_line and len(worker.buffer) < prefetch:
            worker.in_line = True
            line.append(worker)

    def pump() -> None:
        nonlocal reserved
        while listed and line:
            worker = line.popleft()
            worker.in_line = False
            if not worker.consuming:
                continue
            task = listed.popleft()
            if worker.free:
                start(worker, task)
            else:
                worker.buffer.append(task)
                reserved += 1
            join_line(worker)

    def add_worker() -> None:
        worker = Worker(created=now, free=concurrency, ready_at=now + world.startup)
        workers.append(worker)
        push(worker.ready_at, _READY, worker, 0)

    def remove_worker() -> None:
        nonlocal reserved
        alive = [w for w in workers if not w.stopping]
        # Kubernetes deletes pods that are not ready first, then the youngest.
        victim = max(alive, key=lambda w: (not w.consuming, w.ready_at))
        victim.stopping = True
        victim.consuming = False
        listed.extendleft(reversed(victim.buffer))
        reserved -= len(victim.buffer)
        victim.buffer.clear()
        if victim.free == concurrency:
            victim.exited_at = now

    def observe() -> Observation:
        nonlocal last_service
        arrived = next_arrival
        history.append((now, arrived, done, runtime_sum))
        while history and history[0][0] < now - world.service_window:
            history.popleft()
        rate_since = max(0.0, now - world.rate_window)
        then = next(h for h in history if h[0] >= rate_since)
        span = now - then[0] if now > then[0] else 0.0
        rate = (arrived - then[1]) / span if span else 0.0
        completion_rate = (done - then[2]) / span if span else 0.0
        oldest = history[0]
        if done > oldest[2]:
            last_service = (runtime_sum - oldest[3]) / (done - oldest[2])
        return Observation(
            now, len(listed), reserved, rate, completion_rate, last_service, concurrency, replicas
        )

    def hpa(desired: int) -> int:
        if replicas and abs(desired / replicas - 1.0) <= world.tolerance:
            desired = replicas
        desired = window.apply("q", now, desired)
        desired = min(desired, max(replicas + world.scale_up_pods, 2 * replicas))
        return min(max(desired, world.min_workers), world.max_workers)

    replicas = hpa(policy.decide(Observation(0.0, 0, 0, 0.0, 0.0, None, concurrency, 0)))
    for _ in range(replicas):
        add_worker()
    for worker in workers:  # the starting fleet is already up
        worker.ready_at = 0.0
    events.clear()
    for worker in workers:
        worker.consuming = True
        join_line(worker)
    push(world.tick, _TICK, None, 0)

    next_arrival = 0
    while done < total:
        if next_arrival < total and (not events or arrivals[next_arrival] <= events[0][0]):
            now = arrivals[next_arrival]
            listed.append(next_arrival)
            next_arrival += 1
            pump()
            continue
        if not events:
            break
        now, _, kind, payload, task = heapq.heappop(events)
        if kind == _DONE:
            worker = payload
            assert isinstance(worker, Worker)
            worker.free += 1
            done += 1
            runtime_sum += services[task]
            if worker.buffer:
                reserved -= 1
                start(worker, worker.buffer.popleft())
            if worker.stopping:
                if worker.free == concurrency:
                    worker.exited_at = now
            else:
                join_line(worker)
                pump()
        elif kind == _READY:
            worker = payload
            assert isinstance(worker, Worker)
            if not worker.stopping:
                worker.consuming = True
                join_line(worker)
                pump()
        else:
            target = hpa(policy.decide(observe()))
            while replicas < target:
                add_worker()
                replicas += 1
            while replicas > target:
                remove_worker()
                replicas -= 1
            pump()
            push(now + world.tick, _TICK, None, 0)

    end = max(trace.duration, now)
    since = trace.warmup
    worker_seconds = sum(
        max(0.0, (w.exited_at if w.exited_at is not None else end) - max(w.created, since))
        for w in workers
    )
    counted = sorted(
        wait for wait, arrived in zip(waits, arrivals, strict=True) if arrived >= since
    )
    p95 = counted[max(0, math.ceil(0.95 * len(counted)) - 1)] if counted else 0.0
    return Result(
        p95_wait=p95,
        max_wait=counted[-1] if counted else 0.0,
        mean_wait=sum(counted) / len(counted) if counted else 0.0,
        worker_seconds=worker_seconds,
    )


# ---- tuning and output --------------------------------------------------------------------------


def loosest(candidates: Sequence[int], meets: Callable[[int], bool]) -> int | None:
    """The largest candidate that meets the target, if meeting it only gets harder upwards."""
    low, high, best = 0, len(candidates) - 1, None
    while low <= high:
        middle = (low + high) // 2
        if meets(candidates[middle]):
            best = candidates[middle]
            low = middle + 1
        else:
            high = middle - 1
    return best


LIST_LENGTHS = sorted({max(1, round(1.25**i)) for i in range(40)})  # 1, 2, 3, 4, 5, 6, 7, 9 ...


def run(trace: Trace, world: World, target_wait: float) -> list[tuple[str, dict[str, float]]]:
    """Figures per policy for one trace: ours, the tuned list-length policy, a tuned fleet."""
    settings = load_settings({})
    # The list-length policy gets the same total scale-down hold as ours (its HPA's window
    # alone), so that neither wins by keeping workers for less time.
    hold = settings.autoscale_scale_down_window_seconds + HPA_SCALE_DOWN_WINDOW_SECONDS
    results: dict[tuple[str, int], Result] = {}

    def tried(kind: str, n: int) -> Result:
        if (kind, n) not in results:
            policy = list_length_policy(n, hold) if kind == "list" else fixed_policy(n)
            results[kind, n] = simulate(trace, policy, world)
        return results[kind, n]

    def figures(result: Result) -> dict[str, float]:
        return {
            "p95_wait_s": result.p95_wait,
            "max_wait_s": result.max_wait,
            "mean_wait_s": result.mean_wait,
            "worker_seconds": result.worker_seconds,
        }

    ours = simulate(trace, controlplane_policy(world.min_workers, world.max_workers), world)
    length = loosest(LIST_LENGTHS, lambda n: tried("list", n).p95_wait <= target_wait) or 1
    fleets = list(range(world.max_workers, world.min_workers - 1, -1))  # largest first
    fleet = loosest(fleets, lambda n: tried("fixed", n).p95_wait <= target_wait)
    fleet = fleet or world.max_workers
    return [
        ("controlplane", figures(ours)),
        ("list_length", {**figures(tried("list", length)), "list_length": length}),
        ("fixed", {**figures(tried("fixed", fleet)), "workers": fleet}),
    ]


UNITS = {
    "p95_wait_s": "s",
    "max_wait_s": "s",
    "mean_wait_s": "s",
    "worker_seconds": "s",
    "list_length": "tasks",
    "workers": "workers",
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1, help="the first seed")
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="seeds to run: --seed, --seed + 1, ...; each line names its seed",
    )
    parser.add_argument(
        "--traces", default=",".join(TRACES), help=f"comma-separated, of {', '.join(TRACES)}"
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="stretch or shrink every trace's duration"
    )
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.traces.split(",") if name.strip()]
    unknown = [name for name in names if name not in TRACES]
    if unknown:
        parser.error(f"unknown traces: {', '.join(unknown)}")
    target_wait = load_settings({}).autoscale_target_wait_seconds
    world = World()
    for seed in range(args.seed, args.seed + args.runs):
        for name in names:
            trace = make_trace(name, seed, args.scale)
            started = time.perf_counter()
            for policy, figures in run(trace, world, target_wait):
                for metric, value in figures.items():
                    print(
                        json.dumps(
                            {
                                "bench": "autoscale_sim",
                                "case": f"{name}/{policy}",
                                "seed": seed,
                                "metric": metric,
                                "value": round(value, 3),
                                "unit": UNITS[metric],
                            }
                        ),
                        flush=True,
                    )
            print(
                f"# seed {seed} {name}: {len(trace.arrivals)} tasks, "
                f"{time.perf_counter() - started:.1f} s",
                file=sys.stderr,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
