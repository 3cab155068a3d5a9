"""Flower, the peer bench/ingest.py compares with, run the same way every time.

The version is pinned in the `bench` extra (`pip install -e '.[bench]'`) and checked here;
the command line is FLOWER_ARGS plus the broker, port and address. Flower counts what it
received in `flower_events_total{type=...}`, which is what is read while it runs.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import redis

from controlplane.broker.embedded import EmbeddedRedis, free_port

FLOWER_VERSION = "2.2.0"  # keep equal to the pin in pyproject.toml's `bench` extra
FLOWER_ARGS = ("--logging=warning",)  # defaults otherwise: in-memory state, max_tasks 100,000
_METRIC = re.compile(r"^flower_events_total\{([^}]*)\}\s+([0-9.e+]+)$", re.M)


def flower_problem() -> str | None:
    """Why Flower cannot be compared with here, or None when the pinned version is installed."""
    try:
        installed = importlib.metadata.version("flower")
    except importlib.metadata.PackageNotFoundError:
        return "flower is not installed (pip install -e '.[bench]')"
    if installed != FLOWER_VERSION:
        return f"flower {installed} is installed, the bench compares with {FLOWER_VERSION}"
    return None


def flower_counts(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as response:
        body = response.read().decode()
    counts: dict[str, float] = {}
    for labels, value in _METRIC.findall(body):
        kind = re.search(r'type="([^"]+)"', labels)
        if kind:
            counts[kind.group(1)] = counts.get(kind.group(1), 0.0) + float(value)
    return counts


def run_flower(
    tasks: int,
    kinds: str,
    redis_args: tuple[str, ...],
    publish: Callable[[str, str], dict[str, Any]],
    watch: Callable[[Callable[[], int], int, float], tuple[int, float]],
    sampler: Callable[[int], Any],
) -> dict[str, float]:
    """Flower on a private redis-server while `publish(url, prefix)` sends the events."""
    kind_list = kinds.split(",")
    port = free_port()
    with EmbeddedRedis(extra_args=redis_args) as broker, tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONTROLPLANE_")}
        env["HOME"] = home
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "--broker", broker.url, "flower",
             f"--port={port}", "--address=127.0.0.1", *FLOWER_ARGS],
            env=env, cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(broker.url)
        try:
            deadline = time.time() + 60
            while client.execute_command("PUBSUB", "NUMPAT") < 1:
                if time.time() > deadline or process.poll() is not None:
                    raise RuntimeError("flower did not subscribe")
                time.sleep(0.1)
            time.sleep(0.5)
            events = tasks * len(kind_list)

            def seen_events() -> int:
                return int(sum(flower_counts(port).values()))

            with sampler(process.pid) as rss:
                idle = rss.peak
                published = publish(broker.url, kinds)
                total, reached = watch(seen_events, events, published["started"])
            counts = flower_counts(port)
            last = kind_list[-1]
            tasks_seen = int(counts.get(f"task-{last}", 0))
            if last == "succeeded":
                tasks_seen += int(counts.get("task-failed", 0))
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
            client.close()
    elapsed = max(reached - published["started"], 1e-6)
    return {
        "events_per_s": total / elapsed,
        "lag_s": max(0.0, reached - published["ended"]),
        "peak_rss_mb": rss.peak / 2**20,
        "rss_growth_mb": (rss.peak - idle) / 2**20,
        "tasks_seen": tasks_seen,
        "gaps": 0,  # Flower records none, whatever it lost
        "cpu_us_per_event": rss.cpu_used * 1e6 / max(1, total),
    }
