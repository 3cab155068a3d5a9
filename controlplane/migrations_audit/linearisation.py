"""Python's C3 method resolution order, over any hashable class entries."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TypeVar

Entry = TypeVar("Entry", bound=Hashable)


def c3(sequences: list[list[Entry]]) -> list[Entry] | None:
    """Merge base linearisations the way Python builds an MRO; None when inconsistent."""
    pending = [list(seq) for seq in sequences if seq]
    out: list[Entry] = []
    while pending:
        head = next(
            (s[0] for s in pending if not any(s[0] in other[1:] for other in pending)), None
        )
        if head is None:
            return None
        out.append(head)
        pending = [[c for c in s if c != head] for s in pending]
        pending = [s for s in pending if s]
    return out
