"""whether each deal's stage history shows a stage cut short or jumped over, and under which
playbook version that was judged, so `deals skipped` counts and pages them with SQL

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite has it): a batch would rebuild the table and lose the expression
    # index on lower(owner), which SQLite's reflection cannot see.
    op.add_column("deal", sa.Column("assessed_skipped", sa.Boolean(), nullable=True))
    # Empty: every deal is judged at the first `deals skipped` (or by `gare reassess`).
    op.add_column("deal", sa.Column("assessed_with", sa.String(length=40), nullable=True))
    op.create_index("ix_deal_skipped_list", "deal", [sa.text("lower(owner)"), "name_key"],
                    postgresql_where=sa.text("status = 'open' AND assessed_skipped"),
                    sqlite_where=sa.text("status = 'open' AND assessed_skipped = 1"))
    op.create_index("ix_deal_assessed_with", "deal", ["assessed_with"])


def downgrade() -> None:
    op.drop_index("ix_deal_assessed_with", table_name="deal")
    op.drop_index("ix_deal_skipped_list", table_name="deal")
    # SQLite drops a column by rebuilding the table, without the expression index it cannot
    # reflect: it is made again after.
    op.drop_index("ix_deal_owner_folded", table_name="deal")
    with op.batch_alter_table("deal") as batch:
        batch.drop_column("assessed_with")
        batch.drop_column("assessed_skipped")
    op.create_index("ix_deal_owner_folded", "deal", [sa.text("lower(owner)")])
