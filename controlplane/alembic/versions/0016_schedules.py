"""schedules: periodic tasks watched for missed runs (from the fleet's app or inferred)

Revision ID: 0016_schedules
Revises: 0015_alerting
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_schedules"
down_revision = "0015_alerting"
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = sa.DateTime(timezone=True)
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(300), nullable=False, unique=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("task", sa.String(255), nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("args", sa.Text),
        sa.Column("kwargs", sa.Text),
        sa.Column("options", sa.Text),
        sa.Column("args_complete", sa.Boolean, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("first_seen_at", when, nullable=False),
        sa.Column("seen_at", when, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("next_due_at", when),
        sa.Column("last_run_task_id", sa.String(155)),
        sa.Column("last_run_at", when),
        sa.Column("last_success_at", when),
        sa.Column("missed_runs", sa.BigInteger, nullable=False),
        sa.Column("missed_due_at", when),
        sa.Column("missed_since", when),
        sa.Column("checked_at", when),
    )


def downgrade() -> None:
    op.drop_table("schedules")
