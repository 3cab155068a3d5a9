"""Reserved: issue 19 phase 2: indexed text search

Revision ID: 0018_text_search
Revises: 0017_failure_groups

Empty until that work lands, so work on several branches keeps one linear chain.
"""

from __future__ import annotations

revision = "0018_text_search"
down_revision = "0017_failure_groups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
