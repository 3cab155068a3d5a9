"""Attempts record (issue 16.7, 17.7, 20.3): each task's attempts as JSON, its group id

Revision ID: 0014_attempts
Revises: 0013_faults
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_attempts"
down_revision = "0013_faults"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("group_id", sa.String(length=155), nullable=True))
    op.create_index(
        "ix_tasks_group",
        "tasks",
        ["group_id"],
        sqlite_where=sa.text("group_id IS NOT NULL"),
        postgresql_where=sa.text("group_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_group", table_name="tasks")
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.drop_column("group_id")
        batch_op.drop_column("attempts")
