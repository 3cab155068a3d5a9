"""Reserved: attempts record (issue 16.7, 17.7, 20.3): deliveries, retries, group ids

Revision ID: 0014_attempts
Revises: 0013_faults

Empty until that work lands, so work on several branches keeps one linear chain.
"""

from __future__ import annotations

revision = "0014_attempts"
down_revision = "0013_faults"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
