"""what each worker holds (reserved, scheduled, their task ids) and when it booted

Revision ID: 0009_console_worker_tasks
Revises: 0008_console_alert_acks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_console_worker_tasks"
down_revision = "0008_console_alert_acks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workers") as batch_op:
        batch_op.add_column(sa.Column("reserved", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("scheduled", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("booted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("held_tasks", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workers") as batch_op:
        batch_op.drop_column("held_tasks")
        batch_op.drop_column("booted_at")
        batch_op.drop_column("scheduled")
        batch_op.drop_column("reserved")
