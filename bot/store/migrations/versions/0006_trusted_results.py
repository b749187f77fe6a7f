"""Trusted results: respondent links, self-assessments with consent and adoption, hashed assessment tokens, the event log.

Existing assessments become `legacy` (they were the organisations' checklists: a completed
one keeps being the record, `recorded_at` = its completion); their tokens are replaced by
SHA-256 hashes, so links already handed out keep working.

Revision ID: 0006
Revises: 0005
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add respondent_link, event, the organisation's public_widget setting and the assessment's provenance columns."""
    op.create_table(
        "respondent_link",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisation.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("label", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("manager.id", ondelete="SET NULL", name="fk_respondent_link_created_by"), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True, index=True),
        sa.Column("organisation_slug", sa.String(64), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("action", sa.String(48), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("address", sa.String(64), nullable=True),
    )
    with op.batch_alter_table("organisation") as batch:
        batch.add_column(sa.Column("public_widget", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("assessment") as batch:
        batch.add_column(sa.Column("token_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("started_via", sa.String(16), nullable=False, server_default="legacy"))
        batch.add_column(sa.Column("respondent_link_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("consented_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("contact_email", sa.String(254), nullable=True))
        batch.add_column(sa.Column("adopted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("adopted_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=True))
    connection = op.get_bind()
    assessment = sa.table("assessment", sa.column("id", sa.Integer()), sa.column("token", sa.String()), sa.column("token_hash", sa.String()))
    for row_id, token in connection.execute(sa.select(assessment.c.id, assessment.c.token)).all():
        digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
        connection.execute(sa.update(assessment).where(assessment.c.id == row_id).values(token_hash=digest))
    connection.execute(sa.text("UPDATE assessment SET recorded_at = completed_at WHERE completed_at IS NOT NULL"))
    with op.batch_alter_table("assessment") as batch:
        batch.alter_column("token_hash", existing_type=sa.String(64), nullable=False)
        batch.create_unique_constraint("uq_assessment_token_hash", ["token_hash"])
        batch.drop_column("token")
        batch.create_foreign_key("fk_assessment_respondent_link", "respondent_link", ["respondent_link_id"], ["id"], ondelete="SET NULL")
        batch.create_foreign_key("fk_assessment_adopted_by", "manager", ["adopted_by"], ["id"], ondelete="SET NULL")
        batch.create_index("ix_assessment_org_recorded", ["organisation_id", "recorded_at"])


def downgrade() -> None:
    """Back to 0005's schema. Lossy by necessity: the raw tokens are gone, so each assessment's `token` becomes its hash
    (links handed out stop opening it), and respondent links, the event log and the provenance columns are dropped."""
    with op.batch_alter_table("assessment") as batch:
        batch.add_column(sa.Column("token", sa.String(64), nullable=True))
    op.get_bind().execute(sa.text("UPDATE assessment SET token = token_hash"))
    with op.batch_alter_table("assessment") as batch:
        batch.drop_index("ix_assessment_org_recorded")
        batch.drop_constraint("fk_assessment_adopted_by", type_="foreignkey")
        batch.drop_constraint("fk_assessment_respondent_link", type_="foreignkey")
        batch.drop_constraint("uq_assessment_token_hash", type_="unique")
        added = ("dismissed_at", "adopted_by", "adopted_at", "contact_email", "consented_at", "recorded_at", "respondent_link_id", "started_via")
        for column in (*added, "token_hash"):
            batch.drop_column(column)
        batch.alter_column("token", existing_type=sa.String(64), nullable=False)
        batch.create_unique_constraint("uq_assessment_token", ["token"])
    with op.batch_alter_table("organisation") as batch:
        batch.drop_column("public_widget")
    op.drop_table("event")
    op.drop_table("respondent_link")
