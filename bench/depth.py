"""Queue depth of N Redis queues (with priority sub-queues): our one-call sample vs an LLEN loop.

Starts a private redis-server, fills N queues the way Celery's Redis transport does (a base list
and priority sub-lists "<queue>\\x06\\x16<p>", plus reserved messages in the `unacked` hash),
then times `RedisBroker.depths()` over all queues beside a loop of one LLEN per key, in the
same run, and prints the medians as JSON lines.

    .venv/bin/python bench/depth.py --queues 1000
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import redis

from controlplane.broker.embedded import EmbeddedRedis
from controlplane.broker.redis import PRIORITY_SEP, UNACKED_KEY, RedisBroker

PRIORITY_STEPS = (3, 6, 9)  # kombu's defaults beside priority 0


def fill(client: redis.Redis, queues: list[str]) -> list[str]:
    """Messages in every queue and its priority lists; return every list key that exists."""
    keys: list[str] = []
    pipe = client.pipeline(transaction=False)
    body = json.dumps({"body": "e30=", "headers": {}, "properties": {"priority": 0}})
    for index, queue in enumerate(queues):
        for step in (0, *PRIORITY_STEPS):
            key = queue if step == 0 else f"{queue}{PRIORITY_SEP}{step}"
            pipe.rpush(key, *([body] * (1 + (index + step) % 3)))
            keys.append(key)
        if index % 10 == 0:  # some queues have reserved messages too
            pipe.hset(UNACKED_KEY, f"tag-{index}", json.dumps([{"body": "e30="}, "", queue]))
    pipe.execute()
    return keys


def median_ms(function: Any, repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queues", type=int, default=1000, help="number of queues")
    parser.add_argument("--repeat", type=int, default=50, help="timed calls per case")
    options = parser.parse_args()

    with EmbeddedRedis() as server:
        client = redis.Redis.from_url(server.url)
        queues = [f"bench-queue-{i}" for i in range(options.queues)]
        keys = fill(client, queues)
        broker = RedisBroker(server.url)

        expected = sum(client.llen(key) for key in keys)
        depths = broker.depths(queues)
        assert sum(d.ready for d in depths.values()) == expected, "depths disagree with LLEN"

        def llen_loop() -> int:
            return sum(client.llen(key) for key in keys)

        broker.depths(queues)  # warm: script loaded, connection open
        ours = median_ms(lambda: broker.depths(queues), options.repeat)
        loop = median_ms(llen_loop, max(5, options.repeat // 5))
        for case, value in (("controlplane", ours), ("llen_loop", loop)):
            print(json.dumps({
                "bench": "depth", "case": case, "metric": "median_ms",
                "value": round(value, 3), "unit": "ms", "queues": options.queues,
            }))  # fmt: skip
        print(json.dumps({
            "bench": "depth", "case": "controlplane", "metric": "speedup_vs_llen_loop",
            "value": round(loop / ours, 1), "unit": "x", "queues": options.queues,
        }))  # fmt: skip
        broker.close()
        client.close()


if __name__ == "__main__":
    main()
