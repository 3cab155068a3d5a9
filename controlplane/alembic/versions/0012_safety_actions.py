"""issue 15 (operator safety): the fleet's routing as each worker reports it (conf():
task_routes and task_default_queue), so pages show a task's route without asking the workers

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
    with op.batch_alter_table("workers") as batch:
        batch.add_column(sa.Column("routing", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workers") as batch:
        batch.drop_column("routing")
