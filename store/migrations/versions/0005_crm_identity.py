"""records keep their CRM identity: crm_id and a folded name key on accounts and deals; deal
names may repeat; a deal may have no account; a deal's kind, currency and CRM stage; stage
visits whose entry date is estimated; who set an account's status

Revision ID: 0005
Revises: 0004
"""
import unicodedata

from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _fold(text):
    # playbook.words.fold as of this revision: a migration does not follow later code.
    nfkd = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in nfkd if not unicodedata.combining(c)).casefold().strip()


def _fill_name_keys(table: str) -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text(f"SELECT id, name FROM {table}")).fetchall()
    if rows:
        conn.execute(sa.text(f"UPDATE {table} SET name_key = :key WHERE id = :id"),
                     [{"key": _fold(name), "id": row_id} for row_id, name in rows])


def upgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.add_column(sa.Column("name_key", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("crm_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("status_source", sa.String(length=10), nullable=True))
        batch.create_index("ix_account_name_key", ["name_key"])
        batch.create_index("ix_account_crm_id", ["crm_id"], unique=True)
    # Statuses stored before this revision came from files or chat: never derive over them.
    op.execute("UPDATE account SET status_source = 'file'")
    _fill_name_keys("account")

    with op.batch_alter_table("deal") as batch:
        batch.add_column(sa.Column("name_key", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("crm_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("crm_stage", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("kind", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("currency", sa.String(length=3), nullable=True))
        batch.alter_column("account_id", existing_type=sa.Integer(), nullable=True)
        batch.drop_index("ix_deal_name")
        batch.create_index("ix_deal_name", ["name"], unique=False)
        batch.create_index("ix_deal_name_key", ["name_key"])
        batch.create_index("ix_deal_crm_id", ["crm_id"], unique=True)
    _fill_name_keys("deal")

    with op.batch_alter_table("stage_visit") as batch:
        batch.add_column(sa.Column("estimated", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("stage_visit") as batch:
        batch.drop_column("estimated")
    # Deals without an account, and repeated deal names, cannot go back to the older schema.
    op.execute("DELETE FROM stage_visit WHERE deal_id IN (SELECT id FROM deal WHERE account_id IS NULL)")
    op.execute("DELETE FROM deal WHERE account_id IS NULL")
    op.execute("UPDATE deal SET name = name || ' #' || CAST(id AS VARCHAR(20)) WHERE id NOT IN "
               "(SELECT MIN(id) FROM deal GROUP BY name)")
    with op.batch_alter_table("deal") as batch:
        batch.drop_index("ix_deal_crm_id")
        batch.drop_index("ix_deal_name_key")
        batch.drop_index("ix_deal_name")
        batch.create_index("ix_deal_name", ["name"], unique=True)
        batch.alter_column("account_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("currency")
        batch.drop_column("kind")
        batch.drop_column("crm_stage")
        batch.drop_column("crm_id")
        batch.drop_column("name_key")
    with op.batch_alter_table("account") as batch:
        batch.drop_index("ix_account_crm_id")
        batch.drop_index("ix_account_name_key")
        batch.drop_column("status_source")
        batch.drop_column("crm_id")
        batch.drop_column("name_key")
