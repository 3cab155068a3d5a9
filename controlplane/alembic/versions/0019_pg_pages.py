"""issue 19 phase 3: indexes for the pages at 10 million tasks

Revision ID: 0019_pg_pages
Revises: 0018_text_search

`ix_tasks_stuck`: tasks STARTED, by start time, and nothing else. The dashboard and the
"task stuck" alert ask for the oldest STARTED tasks on every view; through
`ix_tasks_state_time` that read every STARTED row of the history and sorted them (100,000 rows,
0.3 s at 10M tasks). Partial, so it holds only the tasks running now (and those whose end was
never seen): small, and cheap for the ingester to keep. `state` leads although it is constant:
SQLite, which has no statistics here, then sees the equality and the order served by one index
and prefers it to ix_tasks_state_time and a sort.

On PostgreSQL a table with more than `ONLINE_ABOVE_ROWS` rows is indexed CONCURRENTLY, outside
the migration's transaction (as 0018_text_search does), so a large database upgrades while
ingest and the console keep writing; an invalid index a failed build left is built again.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Connection, text

revision = "0019_pg_pages"
down_revision = "0018_text_search"
branch_labels = None
depends_on = None

ONLINE_ABOVE_ROWS = 100_000
# name -> (columns, predicate); copied here on purpose (a revision does not change with models.py)
INDEXES = {
    "ix_tasks_stuck": ("state, started_at", "state = 'STARTED'"),
}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        for name, (columns, where) in INDEXES.items():
            op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON tasks ({columns}) WHERE {where}")
        return
    online = _rows(bind) > ONLINE_ABOVE_ROWS
    for name, (columns, where) in INDEXES.items():
        if _invalid(bind, name):
            op.execute(f"DROP INDEX IF EXISTS {name}")
        create = f"CREATE INDEX {{how}} IF NOT EXISTS {name} ON tasks ({columns}) WHERE {where}"
        if online:
            with op.get_context().autocommit_block():
                op.execute(create.format(how="CONCURRENTLY"))
        else:
            op.execute(create.format(how=""))


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")


def _rows(bind: Connection) -> float:
    return float(
        bind.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = 'tasks'::regclass")
        ).scalar_one()
    )


def _invalid(bind: Connection, name: str) -> bool:
    """An index a failed CONCURRENTLY build left behind (invalid: never used, still written)."""
    found = bind.execute(
        text(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = :name AND c.relnamespace = current_schema()::regnamespace "
            "AND NOT i.indisvalid"
        ),
        {"name": name},
    ).first()
    return found is not None
