"""Each organisation records the flow it uses: the flow id and a pinned version (null: the latest).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add organisation.flow_id (existing rows: whatsapp_gdpr) and organisation.flow_version (null: follow the latest)."""
    with op.batch_alter_table("organisation") as batch:
        batch.add_column(sa.Column("flow_id", sa.String(64), nullable=False, server_default="whatsapp_gdpr"))
        batch.add_column(sa.Column("flow_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Drop organisation.flow_id and organisation.flow_version."""
    with op.batch_alter_table("organisation") as batch:
        batch.drop_column("flow_version")
        batch.drop_column("flow_id")
