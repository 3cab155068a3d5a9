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

from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, bindparam, literal_column, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from controlplane.fleet import search_part

if TYPE_CHECKING:
    from controlplane.services import Services

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
    """True for tasks whose indexed text contains `needle`; compiled per store below.

    `lookup`: on PostgreSQL, the part of the needle the index is asked for (search_part.py);
    the rows it finds are then checked for the whole needle by an expression the index does
    not answer (were it the same ILIKE, the index would look up every trigram again).
    """

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [
        ("pattern", InternalTraversal.dp_clauseelement),
        ("phrase", InternalTraversal.dp_clauseelement),
        ("rechecked", InternalTraversal.dp_boolean),  # part of the SQL, so of its cache key
        ("needle", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, needle: str, lookup: str | None = None) -> None:
        part = lookup if lookup and lookup != needle else None
        looked_up = like_pattern(part or needle)
        self.pattern: BindParameter[str] = bindparam(None, looked_up, unique=True)
        self.phrase: BindParameter[str] = bindparam(None, fts_phrase(needle), unique=True)
        # the whole needle, rechecked, when the index looks up a part only
        self.rechecked = part is not None
        self.needle: BindParameter[str] = bindparam(None, needle, unique=True)


@compiles(TextMatch, "postgresql")
def _postgresql(element: TextMatch, compiler: Any, **kw: Any) -> str:
    indexed = f"({DOCUMENT}) ILIKE {compiler.process(element.pattern, **kw)} ESCAPE '\\'"
    if not element.rechecked:
        return indexed
    needle = compiler.process(element.needle, **kw)
    return f"({indexed} AND strpos(lower({DOCUMENT}), lower({needle})) > 0)"


@compiles(TextMatch, "sqlite")
def _sqlite(element: TextMatch, compiler: Any, **kw: Any) -> str:
    phrase = compiler.process(element.phrase, **kw)  # a bound parameter
    return f"tasks.rowid IN (SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH {phrase})"  # noqa: S608


def sqlite_matches(services: Services, session: Session, needle: str) -> list[int] | None:
    """On SQLite, the rowids of the tasks matching `needle` when they are `FEW` or fewer.

    SQLite cannot tell how many rows an FTS match finds, so it picks one plan for every search:
    walking the newest tasks and probing the matches, which reads the whole history when a
    search finds one task. Asking first costs one more look at the index and lets a rare search
    read just its rows; a common one still walks, and stops early. The look asks for the
    needle's rarest few characters (search_part.rarest_window) when it has some, and the rows
    found are checked for the whole needle: the common trigrams' doclists are never read.
    """
    if session.get_bind().dialect.name != "sqlite":
        return None
    window = search_part.rarest_window(needle, trigram_shares(services, session, "fts5"))
    if window is not None:
        candidates = _fts_rowids(session, fts_phrase(window))
        if len(candidates) <= FEW:
            return _containing(session, candidates, needle)
    found = _fts_rowids(session, fts_phrase(needle))
    return found if len(found) <= FEW else None


def _fts_rowids(session: Session, phrase: str) -> list[int]:
    """Up to FEW + 1 rowids matching `phrase`."""
    query = text("SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH :phrase LIMIT :most")
    return list(session.scalars(query, {"phrase": phrase, "most": FEW + 1}))


def _containing(session: Session, rowids: list[int], needle: str) -> list[int]:
    """Those of `rowids` with a column containing `needle` (ASCII, any case)."""
    if not rowids:
        return []
    within = " OR ".join(f"instr(lower({column}), :needle) > 0" for column in COLUMNS)
    query = text(f"SELECT rowid FROM tasks WHERE rowid IN :rowids AND ({within})").bindparams(  # noqa: S608
        bindparam("rowids", expanding=True)
    )
    return list(session.scalars(query, {"rowids": rowids, "needle": needle.lower()}))


SAMPLE_ROWS = 2000  # recent tasks whose trigrams tell which are common (search_part.py)


def lookup_part(services: Services, session: Session, needle: str) -> str | None:
    """On PostgreSQL, the part of `needle` the trigram index should look up (None: all of
    it); the trigrams' shares come from the newest tasks, sampled every few minutes."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    return search_part.rarest_part(needle, trigram_shares(services, session, "pg_trgm"))


def trigram_shares(services: Services, session: Session, how: str) -> dict[str, float]:
    """How common each trigram is among the newest SAMPLE_ROWS tasks, counted as `how`
    ("pg_trgm" or "fts5") counts them; sampled every few minutes per process."""

    def sample() -> dict[str, float]:
        if how == "fts5" and not _fts_has_trigrams(session):
            return {}  # word tokens (an old SQLite): a window of characters is no phrase
        listed = ", ".join(f"tasks.{column}" for column in COLUMNS)
        rows = session.execute(
            text(f"SELECT {listed} FROM tasks ORDER BY first_seen_at DESC LIMIT :rows"),  # noqa: S608
            {"rows": SAMPLE_ROWS},
        ).all()
        if how == "fts5":
            return search_part.fts5_frequencies(rows)
        return search_part.frequencies("\n".join(column or "" for column in row) for row in rows)

    return services.state.trigram_shares.get(sample, key=how)


def _fts_has_trigrams(session: Session) -> bool:
    schema = session.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'tasks_fts'"))
    return "trigram" in (schema or "")


def rowid_in(rowids: list[int]) -> ColumnElement[bool]:
    """The condition `sqlite_matches` found: these rows and no others."""
    return literal_column("tasks.rowid").in_(rowids)
