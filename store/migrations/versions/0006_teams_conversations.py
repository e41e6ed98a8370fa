"""Microsoft Teams: the conversations Gare may write to on its own (personal chats, channels),
and each person's chosen platform for the weekly nudges

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams_conversation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=400), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("service_url", sa.String(length=300), nullable=False),
        sa.Column("aad_object_id", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.String(length=200), nullable=True),
        sa.Column("team_id", sa.String(length=200), nullable=True),
        sa.Column("reference", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id"),
    )
    op.create_index("ix_teams_conversation_aad_object_id", "teams_conversation", ["aad_object_id"])
    with op.batch_alter_table("rep_setting") as batch:
        batch.add_column(sa.Column("platform", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rep_setting") as batch:
        batch.drop_column("platform")
    op.drop_index("ix_teams_conversation_aad_object_id", table_name="teams_conversation")
    op.drop_table("teams_conversation")
