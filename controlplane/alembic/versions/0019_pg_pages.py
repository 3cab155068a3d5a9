"""issue 19 phase 3: indexes for the task pages at 10 million rows (reserved, filled by its branch)

Revision ID: 0019_pg_pages
Revises: 0018_text_search
"""

from __future__ import annotations

revision = "0019_pg_pages"
down_revision = "0018_text_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
