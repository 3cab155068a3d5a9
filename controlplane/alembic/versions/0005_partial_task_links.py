"""partial indexes for task links (parent, retry_of): usable after ANALYZE on SQLite

Revision ID: 0005_partial_task_links
Revises: 0004_events
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_partial_task_links"
down_revision = "0004_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_tasks_parent_id", table_name="tasks")
    op.drop_index("ix_tasks_retry_of", table_name="tasks")
    for name, column in (("ix_tasks_parent", "parent_id"), ("ix_tasks_retry_of", "retry_of")):
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, "tasks", [column], sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    op.drop_index("ix_tasks_parent", table_name="tasks")
    op.drop_index("ix_tasks_retry_of", table_name="tasks")
    op.create_index("ix_tasks_parent_id", "tasks", ["parent_id"])
    op.create_index("ix_tasks_retry_of", "tasks", ["retry_of"])
