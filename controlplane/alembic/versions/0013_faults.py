"""Reserved: issue 16 (faults): broker restarts, action intent, readiness

Revision ID: 0013_faults
Revises: 0012_safety_actions

Empty until that work lands, so work on several branches keeps one linear chain.
"""

from __future__ import annotations

revision = "0013_faults"
down_revision = "0012_safety_actions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
