"""events each ingester run wrote, for controlplane_events_ingested_total in `serve`

Revision ID: 0006_ingester_events
Revises: 0005_partial_task_links
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_ingester_events"
down_revision = "0005_partial_task_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ingesters") as batch_op:
        batch_op.add_column(sa.Column("events_ingested", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ingesters") as batch_op:
        batch_op.drop_column("events_ingested")
