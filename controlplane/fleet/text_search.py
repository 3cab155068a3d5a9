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
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, bindparam, literal_column, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

MIN_LENGTH = 3
FEW = 1000  # SQLite: a search matching at most this many tasks reads them by rowid
COLUMNS = ("task_id", "name", "args", "kwargs", "exception", "result")

# The indexed expression: the query must spell it exactly so (the planner matches it to the
# index). A newline between columns, so a search does not match across two of them.
DOCUMENT = " || E'\\n' || ".join(f"coalesce(tasks.{column}, '')" for column in COLUMNS)


def like_pattern(needle: str) -> str:
    """`%needle%` with LIKE's wildcards escaped (the escape character is a backslash)."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def fts_phrase(needle: str) -> str:
    """The needle as one FTS5 string (a phrase: no operators, quotes doubled)."""
    return '"' + needle.replace('"', '""') + '"'


class TextMatch(ColumnElement[bool]):
    """True for tasks whose indexed text contains `needle`; compiled per store below."""

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [
        ("pattern", InternalTraversal.dp_clauseelement),
        ("phrase", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, needle: str) -> None:
        self.pattern: BindParameter[str] = bindparam(None, like_pattern(needle), unique=True)
        self.phrase: BindParameter[str] = bindparam(None, fts_phrase(needle), unique=True)


@compiles(TextMatch, "postgresql")
def _postgresql(element: TextMatch, compiler: Any, **kw: Any) -> str:
    return f"({DOCUMENT}) ILIKE {compiler.process(element.pattern, **kw)} ESCAPE '\\'"


@compiles(TextMatch, "sqlite")
def _sqlite(element: TextMatch, compiler: Any, **kw: Any) -> str:
    phrase = compiler.process(element.phrase, **kw)  # a bound parameter
    return f"tasks.rowid IN (SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH {phrase})"  # noqa: S608


def sqlite_matches(session: Session, needle: str) -> list[int] | None:
    """On SQLite, the rowids of the tasks matching `needle` when they are `FEW` or fewer.

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
