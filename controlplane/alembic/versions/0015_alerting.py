"""Reserved: issue 18 part 1: alert rules, channels, notifications, silences

Revision ID: 0015_alerting
Revises: 0014_attempts

Empty until that work lands, so work on several branches keeps one linear chain.
"""

from __future__ import annotations

revision = "0015_alerting"
down_revision = "0014_attempts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
