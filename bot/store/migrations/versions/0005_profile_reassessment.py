"""Organisation profiles (for the documents of flow version 2) and re-assessments with migrated answers.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PROFILE_FIELDS = {  # as bot.store.models.PROFILE_FIELDS when this revision was written
    "representative": 200,
    "register_court": 200,
    "register_number": 100,
    "vat_id": 20,
    "business_id": 30,
    "phone": 40,
    "dpo_contact": 300,
    "chamber": 300,
    "professional_title": 200,
    "professional_rules_url": 500,
}


def upgrade() -> None:
    """Add organisation_profile, assessment.reassessment_of and the source of migrated answer revisions."""
    op.create_table(
        "organisation_profile",
        sa.Column("organisation_id", sa.Integer(), sa.ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True),
        *[sa.Column(name, sa.String(length), nullable=True) for name, length in PROFILE_FIELDS.items()],
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("assessment") as batch:
        batch.add_column(sa.Column("reassessment_of", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_assessment_reassessment_of", "assessment", ["reassessment_of"], ["id"], ondelete="SET NULL")
    with op.batch_alter_table("answer_revision") as batch:
        batch.add_column(sa.Column("migrated_from", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("migrated_from_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Drop what upgrade added."""
    with op.batch_alter_table("answer_revision") as batch:
        batch.drop_column("migrated_from_version")
        batch.drop_column("migrated_from")
    with op.batch_alter_table("assessment") as batch:
        batch.drop_constraint("fk_assessment_reassessment_of", type_="foreignkey")
        batch.drop_column("reassessment_of")
    op.drop_table("organisation_profile")
