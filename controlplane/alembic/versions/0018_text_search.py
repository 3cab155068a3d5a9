"""issue 19 phase 2: indexed text search over task id, name, args, kwargs, exception, result

Revision ID: 0018_text_search
Revises: 0017_failure_groups

PostgreSQL: the pg_trgm extension (where it already lives, else in `public` when we may create
there, else in the current schema) and a GIN trigram index over one expression. A table with
more than `ONLINE_ABOVE_ROWS` rows is indexed CONCURRENTLY, outside the migration's
transaction, so a large database upgrades while ingest and the console keep writing; a small
one is indexed inside it (CONCURRENTLY waits for every older transaction in the database).

SQLite: an FTS5 table with external content (`tasks`, by rowid) kept by three triggers, filled
from the existing rows. A later batch_alter_table of `tasks` recreates the table and drops the
triggers: such a revision must create them again (`sqlite_triggers` below).

The expression and names are copied here on purpose (a revision does not change when the code
does); tests/fleet/test_text_search.py checks the query still uses this index.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

revision = "0018_text_search"
down_revision = "0017_failure_groups"
branch_labels = None
depends_on = None

ONLINE_ABOVE_ROWS = 100_000
COLUMNS = ("task_id", "name", "args", "kwargs", "exception", "result")
DOCUMENT = " || E'\\n' || ".join(f"coalesce(tasks.{column}, '')" for column in COLUMNS)
PG_INDEX = "ix_tasks_text_trgm"
FTS_TABLE = "tasks_fts"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _upgrade_postgresql(bind)
    else:
        _upgrade_sqlite(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{name}")
        op.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")


# ---- PostgreSQL -----------------------------------------------------------------------------


def _upgrade_postgresql(bind: Connection) -> None:
    schema = _trgm_schema(bind)
    # An index a failed CONCURRENTLY build left behind is invalid: build it again.
    invalid = bind.execute(
        text(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = :name AND c.relnamespace = current_schema()::regnamespace "
            "AND NOT i.indisvalid"
        ),
        {"name": PG_INDEX},
    ).first()
    if invalid:
        op.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
    rows = bind.execute(
        text("SELECT reltuples FROM pg_class WHERE oid = 'tasks'::regclass")
    ).scalar_one()
    create = (
        f"CREATE INDEX {{how}} IF NOT EXISTS {PG_INDEX} ON tasks "
        f'USING gin (({DOCUMENT}) "{schema}".gin_trgm_ops)'
    )
    if rows > ONLINE_ABOVE_ROWS:
        with op.get_context().autocommit_block():
            op.execute(create.format(how="CONCURRENTLY"))
    else:
        op.execute(create.format(how=""))


def _trgm_schema(bind: Connection) -> str:
    """Where pg_trgm lives, creating it if needed; two upgrades at once may race to create it."""
    for _ in range(3):
        found = bind.execute(
            text(
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
            )
        ).scalar()
        if found:
            return str(found)
        public = bind.execute(
            text(
                "SELECT has_schema_privilege(oid, 'CREATE') FROM pg_namespace "
                "WHERE nspname = 'public'"
            )
        ).scalar()
        schema = "public" if public else bind.execute(text("SELECT current_schema()")).scalar()
        try:
            with bind.begin_nested():
                bind.execute(text(f'CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA "{schema}"'))
        except DBAPIError:
            continue  # someone else created it meanwhile: read where
    raise RuntimeError("could not create the pg_trgm extension (CREATE on the database needed)")


# ---- SQLite -----------------------------------------------------------------------------------


def _upgrade_sqlite(bind: Connection) -> None:
    listed = ", ".join(COLUMNS)
    tokenizer = "trigram" if _sqlite_has_trigram(bind) else "unicode61"
    op.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5({listed}, "
        f"content='tasks', tokenize='{tokenizer}')"
    )
    for statement in sqlite_triggers():
        op.execute(statement)
    op.execute("INSERT INTO tasks_fts(tasks_fts) VALUES ('rebuild')")


def sqlite_triggers() -> list[str]:
    """The triggers that keep the FTS table in step with `tasks` (a row's text written once,
    and again only when one of the indexed columns changed)."""
    listed = ", ".join(COLUMNS)
    new = ", ".join(f"new.{column}" for column in COLUMNS)
    old = ", ".join(f"old.{column}" for column in COLUMNS)
    changed = " OR ".join(f"old.{column} IS NOT new.{column}" for column in COLUMNS)
    # every name interpolated below is one of this file's constants
    add = f"INSERT INTO tasks_fts(rowid, {listed}) VALUES (new.rowid, {new});"  # noqa: S608
    remove = (
        f"INSERT INTO tasks_fts(tasks_fts, rowid, {listed}) "  # noqa: S608
        f"VALUES ('delete', old.rowid, {old});"
    )
    return [
        f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_insert AFTER INSERT ON tasks BEGIN {add} END",
        f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_delete AFTER DELETE ON tasks BEGIN {remove} END",
        f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_update AFTER UPDATE ON tasks "
        f"WHEN {changed} BEGIN {remove} {add} END",
    ]


def _sqlite_has_trigram(bind: Connection) -> bool:
    try:
        bind.execute(text("CREATE VIRTUAL TABLE temp.cp_probe USING fts5(a, tokenize='trigram')"))
    except DBAPIError:
        return False
    bind.execute(text("DROP TABLE temp.cp_probe"))
    return True
