"""indexes on the folded owner of accounts and deals: lists, nudges and digests look an owner's
records up by lower(owner) (any spelling), which the plain owner index cannot serve

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_account_owner_folded", "account", [sa.text("lower(owner)")])
    op.create_index("ix_deal_owner_folded", "deal", [sa.text("lower(owner)")])


def downgrade() -> None:
    op.drop_index("ix_deal_owner_folded", table_name="deal")
    op.drop_index("ix_account_owner_folded", table_name="account")
