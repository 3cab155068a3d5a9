"""failure groups: final failures grouped by cause, counted as they are ingested

Revision ID: 0017_failure_groups
Revises: 0016_schedules
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_failure_groups"
down_revision = "0016_schedules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = sa.DateTime(timezone=True)
    op.create_table(
        "failure_groups",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),
        sa.Column("task_name", sa.String(255), nullable=False),
        sa.Column("exception_type", sa.String(255), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("frame", sa.String(512)),
        sa.Column("failures", sa.BigInteger, nullable=False),
        sa.Column("tasks", sa.BigInteger, nullable=False),
        sa.Column("first_seen_at", when, nullable=False),
        sa.Column("last_seen_at", when, nullable=False),
        sa.Column("sample_task_id", sa.String(155)),
        sa.Column("sample_exception", sa.Text),
        sa.Column("sample_traceback", sa.Text),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_by", sa.String(64)),
        sa.Column("status_at", when),
        sa.Column("regressed_at", when),
    )
    op.create_index("ix_failure_groups_last_seen", "failure_groups", ["last_seen_at"])
    op.create_table(
        "failure_members",
        sa.Column("task_id", sa.String(155), primary_key=True),
        sa.Column(
            "group_id",
            sa.Integer,
            sa.ForeignKey("failure_groups.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("failed_at", when, nullable=False),
    )
    op.create_index("ix_failure_members_group_time", "failure_members", ["group_id", "failed_at"])
    op.create_table(
        "failure_group_hours",
        sa.Column(
            "group_id",
            sa.Integer,
            sa.ForeignKey("failure_groups.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("hour", when, primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
    )
    op.create_table(
        "failure_group_workers",
        sa.Column(
            "group_id",
            sa.Integer,
            sa.ForeignKey("failure_groups.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("worker", sa.String(255), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_seen_at", when, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("failure_group_workers")
    op.drop_table("failure_group_hours")
    op.drop_index("ix_failure_members_failed_at", table_name="failure_members")
    op.drop_index("ix_failure_members_group_time", table_name="failure_members")
    op.drop_table("failure_members")
    op.drop_index("ix_failure_groups_last_seen", table_name="failure_groups")
    op.drop_table("failure_groups")
