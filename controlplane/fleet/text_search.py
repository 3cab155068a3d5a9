"""The task list's text search, answered from an index on both stores.

A search matches tasks whose id, name, args, kwargs, exception or result contains the text
(case-insensitive; a substring, so an order number, an email or a piece of an id is found).
Both stores index 3-character sequences, so the text must be at least `MIN_LENGTH` long:

- PostgreSQL: a pg_trgm GIN index over one expression joining the six columns (`DOCUMENT`);
  the condition is `DOCUMENT ILIKE '%text%'`, which the index answers and rechecks.
- SQLite: an FTS5 table `tasks_fts` (trigram tokenizer; external content kept by triggers);
  the condition is a quoted phrase, which the trigram tokenizer matches as a substring. A
  SQLite built without the trigram tokenizer (before 3.34) gets word tokens: whole words.

The index is made by revision 0018_text_search; `TextMatch` is the one condition that uses it.

A needle of several words (an email, `ORD-1234'`) is looked up by its rarest word only, with
the separators around it, and the whole needle is checked on the rows that part finds. The
index answers a lookup by reading the list of rows of every 3-character sequence of the
pattern, so `customer-4242@example` read the lists of `cus`, `exa`, `amp`... (every row has
them: 0.4 s at 1M rows) where `-4242@` reads a few hundred entries (4 ms). Which word is
rarest comes from a sample of the newest rows (`rarest_part`), kept for `SAMPLE_SECONDS`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Boolean, and_, bindparam, literal_column, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

MIN_LENGTH = 3
FEW = 1000  # SQLite: a search matching at most this many tasks reads them by rowid
COLUMNS = ("task_id", "name", "args", "kwargs", "exception", "result")
SAMPLE_ROWS = 2000  # the newest rows whose words tell which word of a needle is rare
SAMPLE_SECONDS = 600.0
MAX_WORDS = 8  # words of a needle weighed against the sample; the rest are only rechecked
# What both indexes cut words at: letters and digits (pg_trgm's word characters).
_WORD = re.compile(r"[^\W_]+")

# The indexed expression: the query must spell it exactly so (the planner matches it to the
# index). A newline between columns, so a search does not match across two of them.
DOCUMENT = " || E'\\n' || ".join(f"coalesce(tasks.{column}, '')" for column in COLUMNS)
SQLITE_DOCUMENT = " || char(10) || ".join(f"coalesce(tasks.{column}, '')" for column in COLUMNS)


def like_pattern(needle: str) -> str:
    """`%needle%` with LIKE's wildcards escaped (the escape character is a backslash)."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def fts_phrase(needle: str) -> str:
    """The needle as one FTS5 string (a phrase: no operators, quotes doubled)."""
    return '"' + needle.replace('"', '""') + '"'


def rarest_part(needle: str, sample: Sequence[str]) -> str:
    """The part of `needle` the index should look up: the word found in the fewest `sample`
    documents (lower-cased), the longest of equals, with the character on each side of it (so
    both indexes see where the word starts and ends). The needle itself when it is one word,
    or when that part would be shorter than `MIN_LENGTH`."""
    spans = [match.span() for match in _WORD.finditer(needle)][:MAX_WORDS]
    if len(spans) < 2 or not sample:
        return needle

    def weight(span: tuple[int, int]) -> tuple[int, int]:
        word = needle[span[0] : span[1]].lower()
        return sum(1 for document in sample if word in document), span[0] - span[1]

    start, end = min(spans, key=weight)
    part = needle[max(0, start - 1) : end + 1]
    return part if len(part) >= MIN_LENGTH else needle


def sample_documents(session: Session) -> tuple[str, ...]:
    """The indexed text of the newest `SAMPLE_ROWS` tasks, lower-cased (for `rarest_part`)."""
    columns = ", ".join(f"tasks.{column}" for column in COLUMNS)
    rows = session.execute(
        text(f"SELECT {columns} FROM tasks ORDER BY first_seen_at DESC LIMIT :most"),  # noqa: S608
        {"most": SAMPLE_ROWS},
    )
    return tuple("\n".join(value or "" for value in row).lower() for row in rows)


class IndexLookup(ColumnElement[bool]):
    """True for tasks whose indexed text contains `needle`, answered by the index (per store
    below). Pass the rarest part of a needle and check the whole with `Contains`."""

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [
        ("pattern", InternalTraversal.dp_clauseelement),
        ("phrase", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, needle: str) -> None:
        self.pattern: BindParameter[str] = bindparam(None, like_pattern(needle), unique=True)
        self.phrase: BindParameter[str] = bindparam(None, fts_phrase(needle), unique=True)


@compiles(IndexLookup, "postgresql")
def _lookup_postgresql(element: IndexLookup, compiler: Any, **kw: Any) -> str:
    return f"({DOCUMENT}) ILIKE {compiler.process(element.pattern, **kw)} ESCAPE '\\'"


@compiles(IndexLookup, "sqlite")
def _lookup_sqlite(element: IndexLookup, compiler: Any, **kw: Any) -> str:
    phrase = compiler.process(element.phrase, **kw)  # a bound parameter
    return f"tasks.rowid IN (SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH {phrase})"  # noqa: S608


class Contains(ColumnElement[bool]):
    """The same test as `IndexLookup`, row by row: on the rows an index lookup found."""

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [("pattern", InternalTraversal.dp_clauseelement)]

    def __init__(self, needle: str) -> None:
        self.pattern: BindParameter[str] = bindparam(None, like_pattern(needle), unique=True)


@compiles(Contains, "postgresql")
def _contains_postgresql(element: Contains, compiler: Any, **kw: Any) -> str:
    # `|| ''`: an expression the index does not hold, so the planner cannot look the whole
    # needle up (the slow lookup the rarest part avoids).
    return f"(({DOCUMENT}) || '') ILIKE {compiler.process(element.pattern, **kw)} ESCAPE '\\'"


@compiles(Contains, "sqlite")
def _contains_sqlite(element: Contains, compiler: Any, **kw: Any) -> str:
    # LIKE folds ASCII letters only; the trigram index folds every letter (both find what a
    # user types for ids, emails and order numbers).
    return f"({SQLITE_DOCUMENT}) LIKE {compiler.process(element.pattern, **kw)} ESCAPE '\\'"


def matches(needle: str, part: str) -> ColumnElement[bool]:
    """Tasks whose text contains `needle`, looked up in the index by `part` (a substring)."""
    if part == needle or part.lower() not in needle.lower():
        return IndexLookup(needle)
    return and_(IndexLookup(part), Contains(needle))


def sqlite_matches(session: Session, needle: str) -> list[int] | None:
    """On SQLite, the rowids of the tasks matching `needle` when they are `FEW` or fewer (given
    the rarest part of a search, candidates: the caller checks the whole with `Contains`).

    SQLite cannot tell how many rows an FTS match finds, so it picks one plan for every search:
    walking the newest tasks and probing the matches, which reads the whole history when a
    search finds one task. Asking first costs one more look at the index (the same doclists)
    and lets a rare search read just its rows; a common one still walks, and stops early.
    """
    if session.get_bind().dialect.name != "sqlite":
        return None
    found = session.scalars(
        text("SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH :phrase LIMIT :most"),
        {"phrase": fts_phrase(needle), "most": FEW + 1},
    ).all()
    return list(found) if len(found) <= FEW else None


def rowid_in(rowids: list[int]) -> ColumnElement[bool]:
    """The condition `sqlite_matches` found: these rows and no others."""
    return literal_column("tasks.rowid").in_(rowids)
