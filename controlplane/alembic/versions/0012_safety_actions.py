"""Operator safety (issue 15): the workers' routing settings, asked by the scheduler

Revision ID: 0012_safety_actions
Revises: 0011_safety_accounts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_safety_actions"
down_revision = "0011_safety_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workers") as batch_op:
        batch_op.add_column(sa.Column("routing", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workers") as batch_op:
        batch_op.drop_column("routing")
