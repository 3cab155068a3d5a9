"""issue 18 part 1: alert rules, channels, alert states, notifications and attempts, silences

Revision ID: 0015_alerting
Revises: 0014_attempts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_alerting"
down_revision = "0014_attempts"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("condition", sa.String(64), nullable=False),
        sa.Column("queues", sa.String(255), nullable=False),
        sa.Column("tasks", sa.String(255), nullable=False),
        sa.Column("severity", sa.String(16)),
        sa.Column("for_seconds", sa.Float, nullable=False),
        sa.Column("repeat_seconds", sa.Float, nullable=False),
        sa.Column("thresholds", sa.Text, nullable=False),
        sa.Column("channels", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "notification_channels",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("options", sa.Text, nullable=False),
        sa.Column("secret", sa.Text),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "alert_states",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("alert", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("link", sa.String(1024), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("fired_at", TZ),
        sa.Column("resolved_at", TZ),
        sa.Column("notified_at", TZ),
        sa.Column("last_seen_at", TZ, nullable=False),
    )
    op.create_index("ix_alert_states_open", "alert_states", ["state", "rule", "alert", "subject"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "alert_state_id", sa.Integer, sa.ForeignKey("alert_states.id", ondelete="CASCADE")
        ),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("delivered_at", TZ),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("ix_notifications_alert_state_id", "notifications", ["alert_state_id"])
    op.create_index("ix_notifications_due", "notifications", ["status", "next_attempt_at"])
    op.create_table(
        "notification_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "notification_id",
            sa.String(36),
            sa.ForeignKey("notifications.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_notification_attempts_notification_id", "notification_attempts", ["notification_id"]
    )
    op.create_table(
        "silences",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("alert", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("ends_at", TZ, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_silences_ends_at", "silences", ["ends_at"])


def downgrade() -> None:
    op.drop_table("silences")
    op.drop_table("notification_attempts")
    op.drop_table("notifications")
    op.drop_table("alert_states")
    op.drop_table("notification_channels")
    op.drop_table("alert_rules")
