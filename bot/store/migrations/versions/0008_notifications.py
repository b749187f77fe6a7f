"""Notifications: each manager's mail language and settings, notices (the sent-log), the outbox of mails and webhook
deliveries, webhook endpoints and the runs of the periodic jobs.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add manager.locale, notification_setting, notice, webhook_endpoint, outbox_message and job_run."""
    with op.batch_alter_table("manager") as batch:
        batch.add_column(sa.Column("locale", sa.String(5), nullable=False, server_default="de"))
    op.create_table(
        "notification_setting",
        sa.Column("manager_id", sa.Integer(), sa.ForeignKey("manager.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("cadence", sa.String(16), nullable=False),
    )
    op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("manager_id", sa.Integer(), sa.ForeignKey("manager.id", ondelete="CASCADE"), nullable=False),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisation.id", ondelete="CASCADE"), nullable=True, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("topic", sa.String(32), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("manager_id", "key", name="uq_notice_key"),
    )
    op.create_index("ix_notice_unmailed", "notice", ["manager_id", "mailed_at"])
    op.create_table(
        "webhook_endpoint",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisation.id", ondelete="CASCADE"), nullable=True, index=True),
        sa.Column("webhook_id", sa.Integer(), sa.ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), nullable=True, index=True),
        sa.Column("event", sa.String(48), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=True),
        sa.Column("locale", sa.String(5), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_response_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_outbox_due", "outbox_message", ["status", "next_attempt_at"])
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.UniqueConstraint("name", "period", name="uq_job_run_period"),
    )


def downgrade() -> None:
    """Back to 0007's schema. Lossy: settings, notices, unsent mails and webhook deliveries, webhooks and job runs are dropped."""
    op.drop_table("job_run")
    op.drop_index("ix_outbox_due", table_name="outbox_message")
    op.drop_table("outbox_message")
    op.drop_table("webhook_endpoint")
    op.drop_index("ix_notice_unmailed", table_name="notice")
    op.drop_table("notice")
    op.drop_table("notification_setting")
    with op.batch_alter_table("manager") as batch:
        batch.drop_column("locale")
