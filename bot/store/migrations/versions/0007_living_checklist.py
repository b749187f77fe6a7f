"""The living checklist: item tracking (owner, due date, workflow, risk acceptance), comments, evidence, progress snapshots,
and who made an amendment of the checklist of record.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add item_tracking, item_comment, evidence, evidence_item, progress_snapshot and the revision's actor."""
    op.create_table(
        "item_tracking",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False),
        sa.Column("item_id", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("manager.id", ondelete="SET NULL", name="fk_item_tracking_owner"), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("workflow", sa.String(16), nullable=False, server_default="todo"),
        sa.Column("risk_reason", sa.Text(), nullable=True),
        sa.Column("risk_by", sa.String(254), nullable=True),
        sa.Column("risk_until", sa.Date(), nullable=True),
        sa.Column("risk_accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("organisation_id", "item_id", name="uq_item_tracking_item"),
    )
    op.create_table(
        "item_comment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False),
        sa.Column("item_id", sa.String(16), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(254), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_item_comment_item", "item_comment", ["organisation_id", "item_id"])
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("url", sa.String(2000), nullable=True),
        sa.Column("media_type", sa.String(100), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("effective", sa.Date(), nullable=True),
        sa.Column("expires", sa.Date(), nullable=True),
        sa.Column("uploaded_by", sa.String(254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "evidence_item",
        sa.Column("evidence_id", sa.Integer(), sa.ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("item_id", sa.String(16), primary_key=True),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_evidence_item_org_item", "evidence_item", ["organisation_id", "item_id"])
    op.create_table(
        "progress_snapshot",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("organisation_id", "day", name="uq_progress_snapshot_day"),
    )
    with op.batch_alter_table("answer_revision") as batch:
        batch.add_column(sa.Column("actor_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("actor", sa.String(254), nullable=True))


def downgrade() -> None:
    """Back to 0006's schema. Lossy: tracking, comments, evidence (with its files) and progress are dropped;
    amendments stay as revisions, without who made them."""
    with op.batch_alter_table("answer_revision") as batch:
        batch.drop_column("actor")
        batch.drop_column("actor_id")
    op.drop_table("progress_snapshot")
    op.drop_index("ix_evidence_item_org_item", table_name="evidence_item")
    op.drop_table("evidence_item")
    op.drop_table("evidence")
    op.drop_index("ix_item_comment_item", table_name="item_comment")
    op.drop_table("item_comment")
    op.drop_table("item_tracking")
