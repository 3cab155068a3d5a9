"""fleet controls: paused queues and consumers, runtime task limits, prefetch, workflow roots

Revision ID: 0007_fleetctl_controls
Revises: 0006_ingester_events
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_fleetctl_controls"
down_revision = "0006_ingester_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queue_pauses",
        sa.Column("queue", sa.String(255), primary_key=True),
        sa.Column("paused_by", sa.String(64), nullable=False),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("held_at_pause", sa.Text(), nullable=True),
    )
    op.create_table(
        "queue_pause_consumers",
        sa.Column(
            "queue",
            sa.String(255),
            sa.ForeignKey("queue_pauses.queue", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("hostname", sa.String(255), primary_key=True),
        sa.Column("declaration", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "task_limits",
        sa.Column("task_name", sa.String(255), primary_key=True),
        sa.Column("rate_limit", sa.String(32), nullable=True),
        sa.Column("rate_set", sa.Boolean(), nullable=False),
        sa.Column("rate_set_by", sa.String(64), nullable=True),
        sa.Column("rate_set_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("soft_time_limit", sa.Float(), nullable=True),
        sa.Column("time_limit", sa.Float(), nullable=True),
        sa.Column("time_set", sa.Boolean(), nullable=False),
        sa.Column("time_set_by", sa.String(64), nullable=True),
        sa.Column("time_set_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_rate_limit", sa.String(32), nullable=True),
        sa.Column("code_soft_time_limit", sa.Float(), nullable=True),
        sa.Column("code_time_limit", sa.Float(), nullable=True),
        sa.Column("code_known", sa.Boolean(), nullable=False),
    )
    with op.batch_alter_table("workers") as batch_op:
        batch_op.add_column(sa.Column("limits", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("prefetch_count", sa.Integer(), nullable=True))
    with op.batch_alter_table("fleet_status") as batch_op:
        batch_op.add_column(sa.Column("delayed_messages", sa.Integer(), nullable=True))
    where = sa.text("root_id IS NOT NULL")
    if op.get_bind().dialect.name == "postgresql":
        # A large tasks table stays writable while the index builds.
        with op.get_context().autocommit_block():
            op.create_index("ix_tasks_root", "tasks", ["root_id"], postgresql_where=where,
                            postgresql_concurrently=True, if_not_exists=True)  # fmt: skip
    else:
        op.create_index("ix_tasks_root", "tasks", ["root_id"], sqlite_where=where)


def downgrade() -> None:
    op.drop_index("ix_tasks_root", table_name="tasks", if_exists=True)
    with op.batch_alter_table("fleet_status") as batch_op:
        batch_op.drop_column("delayed_messages")
    with op.batch_alter_table("workers") as batch_op:
        batch_op.drop_column("prefetch_count")
        batch_op.drop_column("limits")
    op.drop_table("task_limits")
    op.drop_table("queue_pause_consumers")
    op.drop_table("queue_pauses")
