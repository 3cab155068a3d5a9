"""audit runs in the console: progress, tree size, skipped files, owner, one run per project

Revision ID: 0003_auditweb
Revises: 0002_fleet
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_auditweb"
down_revision = "0002_fleet"
branch_labels = None
depends_on = None

RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    with op.batch_alter_table("audit_runs") as batch_op:
        for name in ("files", "files_done", "lines", "skipped_files"):
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("skipped", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("owner", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("analyser_version", sa.String(length=32), nullable=True))
    op.create_index(
        "ux_audit_runs_one_running",
        "audit_runs",
        ["project"],
        unique=True,
        sqlite_where=RUNNING,
        postgresql_where=RUNNING,
    )


def downgrade() -> None:
    op.drop_index("ux_audit_runs_one_running", table_name="audit_runs")
    with op.batch_alter_table("audit_runs") as batch_op:
        for name in (
            "analyser_version",
            "owner",
            "skipped",
            "skipped_files",
            "lines",
            "files_done",
            "files",
        ):
            batch_op.drop_column(name)
