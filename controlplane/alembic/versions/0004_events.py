"""event ingestion: the time a task entered its state, and the ingesters that ran

Revision ID: 0004_events
Revises: 0003_auditweb
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_events"
down_revision = "0003_auditweb"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The event time that set `state`: merging needs it to order RECEIVED/STARTED/RETRY cycles.
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state_changed_at", sa.DateTime(timezone=True)))
    op.create_table(
        "ingesters",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("alive_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("events_per_s", sa.Float(), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ingesters", schema=None) as batch_op:
        batch_op.create_index("ix_ingesters_alive_at", ["alive_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ingesters", schema=None) as batch_op:
        batch_op.drop_index("ix_ingesters_alive_at")
    op.drop_table("ingesters")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("state_changed_at")
