"""Tracing the endpoints on every core: forked workers each trace a slice of them.

An endpoint's trace is a function of the project's facts alone: the memo tables it fills
(summaries, resolutions, MROs) only save work, and the reports are the same whatever order
the endpoints are traced in. So a worker forked after route discovery, holding a copy of
everything built so far, computes for its slice what this process would, with its own memo
tables. Fork is needed (a spawned worker would have to rebuild the project); a process with
other threads (a web server) traces alone, as forking it could deadlock the child.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Generic, TypeVar

from .report import Endpoint
from .source_lines import SourceLines

PARALLEL_MIN_ENDPOINTS = 300  # below this, forking and warming a worker's memos costs more
SLICES_PER_WORKER = 4  # contiguous slices keep a module's endpoints (and helpers) together

Item = TypeVar("Item")
Quoted = dict[str, dict[int, str]]


class _Work(Generic[Item]):
    """What a forked worker inherits: the items and how to trace one."""

    def __init__(
        self, items: Sequence[Item], trace: Callable[[Item], Endpoint], lines: SourceLines
    ) -> None:
        self.items = items
        self.trace = trace
        self.lines = lines


_INHERITED: _Work | None = None  # set in the parent just before the workers fork


def _trace_slice(start: int, stop: int) -> tuple[list[Endpoint], Quoted]:
    work = _INHERITED
    assert work is not None, "a trace worker must be forked from trace_all"
    found = [work.trace(item) for item in work.items[start:stop]]
    return found, work.lines.quoted


def can_fork() -> bool:
    return threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


def trace_all(
    items: Sequence[Item],
    trace: Callable[[Item], Endpoint],
    lines: SourceLines,
    jobs: int,
    min_items: int | None = None,
) -> list[Endpoint]:
    """``trace(item)`` for every item, in order; in ``jobs`` forked workers when there are
    at least ``min_items`` (default ``PARALLEL_MIN_ENDPOINTS``). The lines the workers
    quoted are added to ``lines.quoted`` (the run cache checks them). A slice whose worker
    dies is traced here."""
    least = PARALLEL_MIN_ENDPOINTS if min_items is None else min_items
    if jobs <= 1 or len(items) < least or not can_fork():
        return [trace(item) for item in items]
    global _INHERITED
    count = jobs * SLICES_PER_WORKER
    bounds = [(len(items) * i // count, len(items) * (i + 1) // count) for i in range(count)]
    found: list[Endpoint] = []
    _INHERITED = _Work(items, trace, lines)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = [pool.submit(_trace_slice, start, stop) for start, stop in bounds]
            for (start, stop), future in zip(bounds, futures, strict=True):
                try:
                    endpoints, quoted = future.result()
                except BrokenProcessPool:
                    endpoints, quoted = [trace(item) for item in items[start:stop]], {}
                found.extend(endpoints)
                for relpath, numbered in quoted.items():
                    lines.quoted.setdefault(relpath, {}).update(numbered)
    finally:
        _INHERITED = None
    return found
