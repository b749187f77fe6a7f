"""Manager sessions kept on the server (logout, "end this session" and a new password end them at once).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add manager_session."""
    op.create_table(
        "manager_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("manager_id", sa.Integer(), sa.ForeignKey("manager.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("device", sa.String(200), nullable=False),
        sa.Column("address", sa.String(64), nullable=True),
    )


def downgrade() -> None:
    """Back to 0008: every manager is logged out (the sessions go; the cookies of 0008 were never stored)."""
    op.drop_table("manager_session")
