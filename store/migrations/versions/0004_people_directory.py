"""people directory; audit records say from which platform and platform user

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=120), nullable=False),
        sa.Column("owner_key", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("team", sa.String(length=120), nullable=True),
        sa.Column("manager", sa.String(length=120), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("slack_id", sa.String(length=40), nullable=True),
        sa.Column("teams_id", sa.String(length=64), nullable=True),
        sa.Column("upn", sa.String(length=254), nullable=True),
        sa.Column("crm_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner_key"),
        sa.UniqueConstraint("email"),
        sa.UniqueConstraint("slack_id"),
        sa.UniqueConstraint("teams_id"),
        sa.UniqueConstraint("crm_id"),
    )
    # Who a chat user is now lives in the directory; the chat_user cache keeps what the platform said.
    with op.batch_alter_table("chat_user") as batch:
        batch.drop_index("ix_chat_user_owner")
        batch.drop_column("owner")
        batch.add_column(sa.Column("flags", sa.String(length=40), nullable=True))
    with op.batch_alter_table("audit_record") as batch:
        batch.add_column(sa.Column("platform", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("platform_user_id", sa.String(length=64), nullable=True))
        batch.create_index("ix_audit_record_entity_id", ["entity_id"])


def downgrade() -> None:
    with op.batch_alter_table("audit_record") as batch:
        batch.drop_index("ix_audit_record_entity_id")
        batch.drop_column("platform_user_id")
        batch.drop_column("platform")
    with op.batch_alter_table("chat_user") as batch:
        batch.drop_column("flags")
        batch.add_column(sa.Column("owner", sa.String(length=120), nullable=True))
        batch.create_index("ix_chat_user_owner", ["owner"])
    op.drop_table("person")
