"""weekly nudges and digests: send ledger, actions done, rep settings, weekly snapshots

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nudge_send",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("claimed_by", sa.String(length=120), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel", sa.String(length=40), nullable=True),
        sa.Column("ts", sa.String(length=40), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "period", "recipient", name="uq_nudge_send"),
    )
    op.create_index("ix_nudge_send_period", "nudge_send", ["period"])
    op.create_table(
        "action_done",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("account.id"), nullable=False),
        sa.Column("action_id", sa.String(length=40), nullable=False),
        sa.Column("done_by", sa.String(length=120), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_action_done_account_id", "action_done", ["account_id"])
    op.create_index("ix_action_done_done_at", "action_done", ["done_at"])
    op.create_table(
        "rep_setting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=120), nullable=False),
        sa.Column("nudge_day", sa.Integer(), nullable=True),
        sa.Column("muted", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner"),
    )
    op.create_table(
        "weekly_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=120), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope", "period", name="uq_weekly_snapshot"),
    )


def downgrade() -> None:
    op.drop_table("weekly_snapshot")
    op.drop_table("rep_setting")
    op.drop_index("ix_action_done_done_at", "action_done")
    op.drop_index("ix_action_done_account_id", "action_done")
    op.drop_table("action_done")
    op.drop_index("ix_nudge_send_period", "nudge_send")
    op.drop_table("nudge_send")
