"""acknowledged alert instances (who and when), cleared when the alert stops firing

Revision ID: 0008_console_alert_acks
Revises: 0007_fleetctl_controls
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_console_alert_acks"
down_revision = "0007_fleetctl_controls"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_acks",
        sa.Column("alert", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(255), primary_key=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("alert_acks")
