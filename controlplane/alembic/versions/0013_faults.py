"""Issue 16 (faults): broker restarts, seen by the sampler

Revision ID: 0013_faults
Revises: 0012_safety_actions

fleet_status keeps the broker's run id (Redis INFO run_id), so a restart that emptied the
queues is noticed, counted, and said with how many messages were waiting.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_faults"
down_revision = "0012_safety_actions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("fleet_status") as batch_op:
        batch_op.add_column(sa.Column("broker_run_id", sa.String(64), nullable=True))
        batch_op.add_column(
            sa.Column("broker_restarts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("broker_restarted_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("broker_restart_waiting", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fleet_status") as batch_op:
        batch_op.drop_column("broker_restart_waiting")
        batch_op.drop_column("broker_restarted_at")
        batch_op.drop_column("broker_restarts")
        batch_op.drop_column("broker_run_id")
