"""Reserved: issue 18 part 3: failure groups

Revision ID: 0017_failure_groups
Revises: 0016_schedules

Empty until that work lands, so work on several branches keeps one linear chain.
"""

from __future__ import annotations

revision = "0017_failure_groups"
down_revision = "0016_schedules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
