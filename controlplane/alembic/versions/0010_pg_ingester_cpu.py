"""CPU seconds each ingester run spent decoding and writing events

Revision ID: 0010_pg_ingester_cpu
Revises: 0009_console_worker_tasks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_pg_ingester_cpu"
down_revision = "0009_console_worker_tasks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ingesters") as batch_op:
        batch_op.add_column(sa.Column("decode_cpu_s", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("write_cpu_s", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ingesters") as batch_op:
        batch_op.drop_column("write_cpu_s")
        batch_op.drop_column("decode_cpu_s")
