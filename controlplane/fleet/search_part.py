"""Which part of a search the PostgreSQL trigram index looks up (the rest is rechecked).

A GIN trigram index answers `ILIKE '%needle%'` by reading the posting list of every trigram of
the needle. In `customer-4242@example` most trigrams ("cus", "exa", ...) are in nearly every
task, so the lookup reads most of the index to find a hundred rows (100 ms at 1M tasks), while
the part `-4242@` alone finds a few hundred candidates in a tenth of that. So the index is
asked for the needle's rarest word, and the rows it finds are checked for the whole needle.

How rare a trigram is comes from a sample of recent tasks (`frequencies`), counted as pg_trgm
counts them: lower-cased runs of letters and digits ("words"), each padded with two blanks in
front and one behind. In a LIKE pattern a word touching the pattern's `%` is not padded on that
side, so a word is looked up with the separator characters around it in the needle.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

WORD = re.compile(r"[^\W_]+")  # pg_trgm's word characters: letters and digits
COMMON = 0.5  # a part whose every trigram is in half the sample is no better than the needle


@dataclass(frozen=True)
class Part:
    """A piece of the needle: `text` as looked up, its pg_trgm `trigrams`."""

    text: str
    trigrams: frozenset[str]


def word_trigrams(word: str, pad_left: bool = True, pad_right: bool = True) -> set[str]:
    """pg_trgm's trigrams of one word (lower case), padded on the sides it is bounded."""
    padded = ("  " if pad_left else "") + word.lower() + (" " if pad_right else "")
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def document_trigrams(text: str) -> set[str]:
    """Every trigram pg_trgm indexes for `text`."""
    found: set[str] = set()
    for word in WORD.findall(text):
        found |= word_trigrams(word)
    return found


def parts(needle: str) -> list[Part]:
    """Each word of the needle with the separators around it, as a LIKE pattern sees it."""
    found = []
    for match in WORD.finditer(needle):
        start, end = match.start(), match.end()
        left, right = start > 0, end < len(needle)  # bounded by a separator in the needle
        trigrams = word_trigrams(match.group(), pad_left=left, pad_right=right)
        if trigrams:
            text = needle[start - left : end + right]
            found.append(Part(text, frozenset(trigrams)))
    return found


def frequencies(documents: Iterable[str]) -> dict[str, float]:
    """The share of `documents` holding each trigram."""
    counts: Counter[str] = Counter()
    total = 0
    for document in documents:
        counts.update(document_trigrams(document))
        total += 1
    return {trigram: count / total for trigram, count in counts.items()} if total else {}


def rarest_part(needle: str, shares: dict[str, float]) -> str | None:
    """The part of `needle` the index should look up, or None to look up the whole needle.

    A part costs the sum of its trigrams' shares (the posting lists read); a trigram missing
    from the sample counts as rare. None when the needle is one part, when no part has a
    trigram outside the common ones, or without a sample.
    """
    if not shares:
        return None
    candidates = parts(needle)
    if len(candidates) < 2:
        return None
    best = min(candidates, key=lambda part: sum(shares.get(t, 0.0) for t in part.trigrams))
    if min(shares.get(t, 0.0) for t in best.trigrams) >= COMMON:
        return None
    return best.text
