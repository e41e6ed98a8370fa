"""what the playbook last said of each account (profile, let-go, tier, score, at-risk, fit
verdict, open deals) and under which playbook version and day, so lists read them with SQL

Revision ID: 0010
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

def _columns() -> list:
    return [
        sa.Column("assessed_profile", sa.String(length=20), nullable=True),
        sa.Column("assessed_let_go", sa.Boolean(), nullable=True),
        sa.Column("assessed_tier", sa.Integer(), nullable=True),
        sa.Column("assessed_score", sa.Float(), nullable=True),
        sa.Column("assessed_at_risk", sa.Boolean(), nullable=True),
        sa.Column("assessed_verdict", sa.String(length=10), nullable=True),
        sa.Column("assessed_open_deals", sa.Integer(), nullable=True),
        # Empty: every account is assessed at the first list read (or by `gare reassess`).
        sa.Column("assessed_with", sa.String(length=40), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("account") as batch:
        for column in _columns():
            batch.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("account") as batch:
        for column in reversed(_columns()):
            batch.drop_column(column.name)
