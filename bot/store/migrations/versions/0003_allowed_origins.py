"""Per-organisation origin allow-list for the chat widget.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add organisation.allowed_origins (space-separated origins; empty: any origin)."""
    with op.batch_alter_table("organisation") as batch:
        batch.add_column(sa.Column("allowed_origins", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    """Drop organisation.allowed_origins."""
    with op.batch_alter_table("organisation") as batch:
        batch.drop_column("allowed_origins")
