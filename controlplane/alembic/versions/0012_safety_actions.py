"""Reserved: issue 15 (operator safety): action targets, retry links, routing

Revision ID: 0012_safety_actions
Revises: 0011_safety_accounts

Empty until that work lands, so work on several branches keeps one linear chain.
"""

from __future__ import annotations

revision = "0012_safety_actions"
down_revision = "0011_safety_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
