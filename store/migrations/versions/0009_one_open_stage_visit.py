"""at most one open stage visit per deal: duplicates left by concurrent stage moves are closed
(the latest stays open), then a unique partial index makes the database refuse a second one

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

INDEX = "uq_stage_visit_one_open"


def upgrade() -> None:
    # Close every open visit but the latest of its deal (by entry time, then id), at the moment
    # the next one opened: that is when the deal really left it.
    op.execute(sa.text("""
        UPDATE stage_visit SET left_at = (
            SELECT MIN(later.entered_at) FROM stage_visit AS later
            WHERE later.deal_id = stage_visit.deal_id AND later.left_at IS NULL
              AND (later.entered_at > stage_visit.entered_at
                   OR (later.entered_at = stage_visit.entered_at AND later.id > stage_visit.id)))
        WHERE left_at IS NULL AND EXISTS (
            SELECT 1 FROM stage_visit AS later
            WHERE later.deal_id = stage_visit.deal_id AND later.left_at IS NULL
              AND (later.entered_at > stage_visit.entered_at
                   OR (later.entered_at = stage_visit.entered_at AND later.id > stage_visit.id)))
    """))
    op.create_index(INDEX, "stage_visit", ["deal_id"], unique=True,
                    postgresql_where=sa.text("left_at IS NULL"), sqlite_where=sa.text("left_at IS NULL"))


def downgrade() -> None:
    op.drop_index(INDEX, table_name="stage_visit")
