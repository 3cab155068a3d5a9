"""fleet view: worker inspection time, sample rates, fleet status, task indexes

Revision ID: 0002_fleet
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_fleet"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workers") as batch_op:
        batch_op.add_column(sa.Column("inspected_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("queue_samples") as batch_op:
        batch_op.add_column(sa.Column("rate_in", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("rate_out", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("oldest_waiting_at", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.drop_index("ix_tasks_queue_state")
        batch_op.create_index("ix_tasks_queue_state", ["queue", "state", "first_seen_at"])
        batch_op.create_index("ix_tasks_finished", ["finished_at"])
    op.create_table(
        "fleet_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sampler", sa.String(length=255), nullable=True),
        sa.Column("last_sample_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("broker_error", sa.Text(), nullable=True),
        sa.Column("broker_down_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("fleet_status")
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.drop_index("ix_tasks_finished")
        batch_op.drop_index("ix_tasks_queue_state")
        batch_op.create_index("ix_tasks_queue_state", ["queue", "state"])
    with op.batch_alter_table("queue_samples") as batch_op:
        batch_op.drop_column("oldest_waiting_at")
        batch_op.drop_column("rate_out")
        batch_op.drop_column("rate_in")
    with op.batch_alter_table("workers") as batch_op:
        batch_op.drop_column("inspected_at")
