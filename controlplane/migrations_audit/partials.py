"""Whether a ``partial(...)`` a function builds is ever used.

``partial(crunch.delay, pk)`` enqueues only when it is called: handed to ``on_commit`` or
another call, called, or returned. A partial built into a local that nothing calls, passes
on or returns is dead code, not a dispatch. The extractor renders a local by what it was
assigned, so a use of ``job = partial(...)`` shows as ``functools.partial()``.
"""

from __future__ import annotations

from .facts import CallSite

PARTIAL_NAMES = frozenset({"functools.partial", "partial"})


def idle_partials(calls: list[CallSite], returns: list[str]) -> set[int]:
    """Indexes of the ``partial(...)`` calls whose result nothing calls, passes or returns."""
    built = [i for i, call in enumerate(calls) if call.name in PARTIAL_NAMES]
    if not built:
        return set()
    used: set[str] = set(returns)
    for call in calls:
        used.add(call.name)
        used.update(value for _, value in call.args if type(value) is str)
    idle = set()
    for index in built:
        call = calls[index]
        if call.parent >= 0 or f"{call.name}()" in used:
            continue
        idle.add(index)
    return idle
