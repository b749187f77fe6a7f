"""Manager accounts: roles per membership, the operator role, two-factor login, invitations, password resets, audit paging.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Roles move onto memberships (the global "admin" becomes "operator"; each organisation's earliest member its admin); add the account tables."""
    with op.batch_alter_table("membership") as batch:
        batch.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="member"))
    with op.batch_alter_table("organisation") as batch:
        batch.add_column(sa.Column("mfa_required", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("manager") as batch:
        batch.add_column(sa.Column("totp_secret", sa.String(255), nullable=True))
        batch.add_column(sa.Column("totp_enabled_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
    op.execute("UPDATE manager SET role = 'operator' WHERE role = 'admin'")
    # Someone must be able to invite and manage people in each organisation: its earliest member (by joining, then id).
    op.execute(
        "UPDATE membership SET role = 'admin' WHERE NOT EXISTS ("
        " SELECT 1 FROM membership AS earlier WHERE earlier.organisation_id = membership.organisation_id"
        " AND (earlier.created_at < membership.created_at"
        " OR (earlier.created_at = membership.created_at AND earlier.manager_id < membership.manager_id)))"
    )
    op.create_index("ix_event_created_at", "event", ["created_at"])
    op.create_index("ix_event_org_id", "event", ["organisation_id", "id"])
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("manager_id", sa.Integer(), sa.ForeignKey("manager.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "invitation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("invited_by", sa.String(254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "password_reset",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("manager_id", sa.Integer(), sa.ForeignKey("manager.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    """Back to 0009 (lossy): operators become global admins again, organisation admins plain members; two-factor login, invitations and resets go."""
    op.drop_table("password_reset")
    op.drop_table("invitation")
    op.drop_table("recovery_code")
    op.drop_index("ix_event_org_id", "event")
    op.drop_index("ix_event_created_at", "event")
    op.execute("UPDATE manager SET role = 'admin' WHERE role = 'operator'")
    with op.batch_alter_table("manager") as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_enabled_at")
        batch.drop_column("totp_secret")
    with op.batch_alter_table("organisation") as batch:
        batch.drop_column("mfa_required")
    with op.batch_alter_table("membership") as batch:
        batch.drop_column("role")
