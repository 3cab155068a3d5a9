"""Reserved: issue 18 part 2: periodic schedules and runs

Revision ID: 0016_schedules
Revises: 0015_alerting

Empty until that work lands, so work on several branches keeps one linear chain.
"""

from __future__ import annotations

revision = "0016_schedules"
down_revision = "0015_alerting"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
