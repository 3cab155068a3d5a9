"""Where a bounded call search stopped, so an endpoint never reads as fully seen when it was not.

The trace from a handler is bounded (``max_depth`` calls, a node budget per endpoint). When a
budget stops it before a function that does something was read, and no dispatch was found
before the cut, the report says where it stopped instead of calling the endpoint ``certain``
(issue 14: never guess a status to fill a gap).
"""

from __future__ import annotations

from dataclasses import dataclass

SEARCH_CUT = "search_cut"  # a site kind: the call the walk did not follow
STOPPED = "search stopped"  # how every such reason begins


@dataclass(frozen=True, slots=True)
class Cut:
    """Which budget stopped the walk: ``depth`` (calls from the handler) or ``nodes``."""

    budget: str
    limit: int

    def describe(self) -> str:
        if self.budget == "depth":
            return f"at depth {self.limit}"
        return f"after {self.limit} functions"


def stop_reason(note: str, file: str, line: int, call: str) -> str:
    """What the report says of a cut: where, and the call not followed."""
    where = f"{file}:{line}" if line else file
    return f"{STOPPED} {note} at {where} (call {call})"
