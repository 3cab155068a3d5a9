"""Reserved: issue 15 (operator safety): users, sessions, tokens, login throttle

Revision ID: 0011_safety_accounts
Revises: 0010_pg_ingester_cpu

Empty until that work lands, so work on several branches keeps one linear chain.
"""

from __future__ import annotations

revision = "0011_safety_accounts"
down_revision = "0010_pg_ingester_cpu"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
