"""Managers, memberships, assessments and answer revisions.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the manager, membership, assessment and answer_revision tables."""
    op.create_table(
        "manager",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("api_token_hash", sa.String(64), nullable=True, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_table(
        "membership",
        sa.Column("manager_id", sa.Integer(), sa.ForeignKey("manager.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_membership_organisation_id", "membership", ["organisation_id"])
    op.create_table(
        "assessment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token", sa.String(64), nullable=False, unique=True),
        sa.Column("flow_id", sa.String(64), nullable=False),
        sa.Column("flow_version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("locale", sa.String(5), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("completed_at", TIMESTAMP, nullable=True),
        sa.Column("completed_answers", sa.JSON(), nullable=True),
    )
    op.create_index("ix_assessment_org_completed", "assessment", ["organisation_id", "completed_at"])
    op.create_index("ix_assessment_org_updated", "assessment", ["organisation_id", "updated_at"])
    op.create_table(
        "answer_revision",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("assessment_id", sa.Integer(), sa.ForeignKey("assessment.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("assessment_id", "seq", name="uq_answer_revision_seq"),
    )


def downgrade() -> None:
    """Drop the tables of this revision."""
    op.drop_table("answer_revision")
    op.drop_index("ix_assessment_org_updated", "assessment")
    op.drop_index("ix_assessment_org_completed", "assessment")
    op.drop_table("assessment")
    op.drop_index("ix_membership_organisation_id", "membership")
    op.drop_table("membership")
    op.drop_table("manager")
