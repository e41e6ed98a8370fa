"""account plans: plans with their history, discovery answers, stakeholders, white space,
rivals, five forces, KPI targets and values, tasks and reviews

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

PLAN_CHILDREN = ("plan_task", "plan_answer", "plan_stakeholder", "plan_white_space", "plan_rival", "plan_force",
                 "plan_kpi_target")


def _plan_id() -> sa.Column:
    return sa.Column("plan_id", sa.Integer(), sa.ForeignKey("account_plan.id"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "account_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("account.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=True),
        sa.Column("goal", sa.String(length=500), nullable=True),
        sa.Column("goal_target", sa.String(length=60), nullable=True),
        sa.Column("goal_date", sa.Date(), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "number", name="uq_account_plan_number"),
        sa.UniqueConstraint("account_id", "current", name="uq_account_plan_current"),
    )
    op.create_index("ix_account_plan_account_id", "account_plan", ["account_id"])
    op.create_table(
        "plan_task",
        sa.Column("id", sa.Integer(), nullable=False),
        _plan_id(),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=True),
        sa.Column("owner_kind", sa.String(length=10), nullable=False),
        sa.Column("owner_name", sa.String(length=200), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=120), nullable=True),
        sa.Column("kpi_id", sa.String(length=60), nullable=True),
        sa.Column("kpi_target", sa.Float(), nullable=True),
        sa.Column("kpi_latest", sa.Float(), nullable=True),
        sa.Column("carried_from", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "number", name="uq_plan_task_number"),
    )
    op.create_table(
        "plan_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        _plan_id(),
        sa.Column("question_id", sa.String(length=40), nullable=False),
        sa.Column("answer", sa.String(length=2000), nullable=False),
        sa.Column("answered_by", sa.String(length=120), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "question_id", name="uq_plan_answer"),
    )
    op.create_table(
        "plan_stakeholder",
        sa.Column("id", sa.Integer(), nullable=False),
        _plan_id(),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=120), nullable=True),
        sa.Column("department", sa.String(length=120), nullable=True),
        sa.Column("attitude", sa.String(length=10), nullable=True),
        sa.Column("needs", sa.String(length=500), nullable=True),
        sa.Column("last_contact", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "name_key", name="uq_plan_stakeholder"),
    )
    op.create_table(
        "plan_white_space",
        sa.Column("id", sa.Integer(), nullable=False),
        _plan_id(),
        sa.Column("department", sa.String(length=120), nullable=False),
        sa.Column("use_case", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "plan_rival",
        sa.Column("id", sa.Integer(), nullable=False),
        _plan_id(),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.String(length=1000), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "name_key", name="uq_plan_rival"),
    )
    op.create_table(
        "plan_force",
        sa.Column("id", sa.Integer(), nullable=False),
        _plan_id(),
        sa.Column("force", sa.String(length=20), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "force", name="uq_plan_force"),
    )
    op.create_table(
        "plan_kpi_target",
        sa.Column("id", sa.Integer(), nullable=False),
        _plan_id(),
        sa.Column("kpi_id", sa.String(length=60), nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "kpi_id", name="uq_plan_kpi_target"),
    )
    for table in PLAN_CHILDREN:
        op.create_index(f"ix_{table}_plan_id", table, ["plan_id"])
    op.create_table(
        "kpi_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("account.id"), nullable=False),
        sa.Column("kpi_id", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("measured_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "kpi_id", "measured_on", name="uq_kpi_value"),
    )
    op.create_index("ix_kpi_value_account_id", "kpi_value", ["account_id"])
    op.create_table(
        "plan_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("account_plan.id"), nullable=False),
        sa.Column("worked", sa.String(length=2000), nullable=True),
        sa.Column("did_not", sa.String(length=2000), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("kpis", sa.JSON(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=120), nullable=True),
        sa.Column("next_plan_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id"),
    )


def downgrade() -> None:
    op.drop_table("plan_review")
    op.drop_index("ix_kpi_value_account_id", "kpi_value")
    op.drop_table("kpi_value")
    for table in reversed(PLAN_CHILDREN):
        op.drop_index(f"ix_{table}_plan_id", table)
        op.drop_table(table)
    op.drop_index("ix_account_plan_account_id", "account_plan")
    op.drop_table("account_plan")
