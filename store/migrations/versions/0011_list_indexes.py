"""indexes the lists read at a large org's size: accounts in list order, at risk, by folded owner,
accounts whose stored assessment is out of date, open deals by close date and by folded owner,
and the open stage stays by stage and entry, all and those whose start is estimated (what
`deals frozen` ranges over)

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

OPEN = sa.text("left_at IS NULL")


def upgrade() -> None:
    op.create_index("ix_account_listing", "account", ["assessed_tier", sa.text("assessed_score DESC")])
    op.create_index("ix_account_at_risk", "account", [sa.text("assessed_score DESC")],
                    postgresql_where=sa.text("assessed_at_risk"), sqlite_where=sa.text("assessed_at_risk = 1"))
    op.create_index("ix_account_owner_folded", "account", [sa.text("lower(owner)")])
    op.create_index("ix_account_assessed_with", "account", ["assessed_with"])
    op.create_index("ix_deal_status_close_date", "deal", ["status", "close_date"])
    op.create_index("ix_deal_owner_folded", "deal", [sa.text("lower(owner)")])
    op.create_index("ix_stage_visit_open_stage", "stage_visit", ["stage", "entered_at"],
                    postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_index("ix_stage_visit_open_estimated", "stage_visit", ["stage", "entered_at"],
                    postgresql_where=sa.text("left_at IS NULL AND estimated"),
                    sqlite_where=sa.text("left_at IS NULL AND estimated = 1"))


def downgrade() -> None:
    op.drop_index("ix_stage_visit_open_estimated", table_name="stage_visit")
    op.drop_index("ix_stage_visit_open_stage", table_name="stage_visit")
    op.drop_index("ix_deal_owner_folded", table_name="deal")
    op.drop_index("ix_deal_status_close_date", table_name="deal")
    op.drop_index("ix_account_assessed_with", table_name="account")
    op.drop_index("ix_account_owner_folded", table_name="account")
    op.drop_index("ix_account_at_risk", table_name="account")
    op.drop_index("ix_account_listing", table_name="account")
