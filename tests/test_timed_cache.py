"""The per-process cache of figures: one thread refreshes an expired value, others keep it."""

from __future__ import annotations

import threading
import time

from controlplane.services import TimedCache


def expire(cache: TimedCache[str]) -> None:
    time.sleep(cache.ttl * 2)


def test_an_expired_figure_is_recomputed_once_while_others_read_the_last_one() -> None:
    cache: TimedCache[str] = TimedCache(0.01, serve_stale=True)
    assert cache.get(lambda: "first") == "first"
    expire(cache)
    started, release = threading.Event(), threading.Event()
    computed: list[str] = []

    def slow() -> str:
        computed.append("second")
        started.set()
        release.wait(5)
        return "second"

    def fast() -> str:
        computed.append("third")
        return "third"

    refresher = threading.Thread(target=lambda: cache.get(slow))
    refresher.start()
    assert started.wait(5)
    assert cache.get(fast) == "first"
    release.set()
    refresher.join(5)
    assert computed == ["second"]
    assert cache.get(lambda: "fourth") == "second"


def test_without_serve_stale_every_caller_of_an_expired_value_computes() -> None:
    cache: TimedCache[str] = TimedCache(0.01)
    cache.get(lambda: "first")
    expire(cache)
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(5)
        return "second"

    refresher = threading.Thread(target=lambda: cache.get(slow))
    refresher.start()
    assert started.wait(5)
    assert cache.get(lambda: "third") == "third"
    release.set()
    refresher.join(5)


def test_the_first_value_and_a_refresh_are_always_computed() -> None:
    cache: TimedCache[str] = TimedCache(60.0, serve_stale=True)
    assert cache.get(lambda: "first") == "first"
    assert cache.get(lambda: "again") == "first"
    assert cache.get(lambda: "refreshed", refresh=True) == "refreshed"
