"""names typed are found with indexes, never by reading every name: a table of the words of
each account's and deal's name, kept by triggers, for the names like a mistyped one; on
PostgreSQL, a trigram index on account names (pg_trgm) when it can be created, and pattern
indexes for the names starting with what was typed

A later migration that rebuilds account or deal on SQLite (batch_alter_table copies the table)
drops these triggers with the old table: it must create them again (create_triggers below).

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLES = ("account", "deal")
# store.models.NAME_WORD_BREAKS as of this revision: a migration does not follow later code.
BREAKS = ",.;:!?/&+#'\"()-"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sqlite_words(column: str) -> str:
    """The words of a folded name as rows of json_each (SQLite has no split): marks become
    spaces, the spaces JSON separators. A name that still makes no valid JSON (a control
    character) gets no words rather than failing the write."""
    text = column
    for mark in BREAKS:
        text = f"replace({text}, {_quoted(mark)}, ' ')"
    text = f"replace({text}, '\\', '\\\\')"
    array = f"""('["' || replace({text}, ' ', '","') || '"]')"""
    return f"json_each(CASE WHEN json_valid({array}) THEN {array} ELSE '[]' END)"


def _sqlite_fill(table: str, row: str) -> str:
    """The words of the trigger's row (NEW), or of every row of the table (row = the table)."""
    rows = "" if row == "NEW" else f"{table}, "
    return (f"INSERT INTO name_word (kind, record_id, word, tail) "
            f"SELECT DISTINCT '{table}', {row}.id, value, substr(value, -3) "
            f"FROM {rows}{_sqlite_words(row + '.name_key')} WHERE value <> ''")


def create_triggers(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        forget = f"DELETE FROM name_word WHERE kind = '{table}' AND record_id = OLD.id"
        op.execute(f"CREATE TRIGGER name_word_{table}_insert AFTER INSERT ON {table} "
                   f"BEGIN {_sqlite_fill(table, 'NEW')}; END")
        op.execute(f"CREATE TRIGGER name_word_{table}_update AFTER UPDATE OF name_key ON {table} "
                   f"WHEN OLD.name_key IS NOT NEW.name_key BEGIN {forget}; {_sqlite_fill(table, 'NEW')}; END")
        op.execute(f"CREATE TRIGGER name_word_{table}_delete AFTER DELETE ON {table} BEGIN {forget}; END")
    else:
        op.execute(f"CREATE TRIGGER name_word_{table} AFTER INSERT OR DELETE OR UPDATE OF name_key ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION name_word_keep('{table}')")


def _postgresql_keeper() -> None:
    spaces = " " * len(BREAKS)
    op.execute(f"""
        CREATE FUNCTION name_word_keep() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                DELETE FROM name_word WHERE kind = TG_ARGV[0] AND record_id = OLD.id;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                INSERT INTO name_word (kind, record_id, word, tail)
                SELECT DISTINCT TG_ARGV[0], NEW.id, w, right(w, 3)
                FROM regexp_split_to_table(translate(coalesce(NEW.name_key, ''), {_quoted(BREAKS)}, '{spaces}'), ' ') AS w
                WHERE w <> '';
            END IF;
            RETURN NULL;
        END $$""")


def _postgresql_fill(table: str) -> None:
    spaces = " " * len(BREAKS)
    op.execute(f"""
        INSERT INTO name_word (kind, record_id, word, tail)
        SELECT DISTINCT '{table}', t.id, w, right(w, 3)
        FROM {table} AS t,
             regexp_split_to_table(translate(coalesce(t.name_key, ''), {_quoted(BREAKS)}, '{spaces}'), ' ') AS w
        WHERE w <> ''""")


def _trigram_extension() -> bool:
    """pg_trgm created (or already there); False when this role may not create it."""
    conn = op.get_bind()
    savepoint = conn.begin_nested()
    try:
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def upgrade() -> None:
    op.create_table(
        "name_word",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("word", sa.String(length=200), nullable=False),
        sa.Column("tail", sa.String(length=3), nullable=False),
        sa.PrimaryKeyConstraint("kind", "record_id", "word"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_name_word_word", "name_word", ["kind", "word"])
    op.create_index("ix_name_word_tail", "name_word", ["kind", "tail"])
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in TABLES:
        # Names starting with what was typed: on PostgreSQL a LIKE 'x%' reads the index only with
        # the pattern operators (or a C collation); SQLite reads its name_key index as a range.
        op.create_index(f"ix_{table}_name_key_prefix", table, ["name_key"],
                        postgresql_ops={"name_key": "varchar_pattern_ops"}, sqlite_where=sa.text("0"))
    trigrams = not sqlite and _trigram_extension()
    if trigrams:
        # fastupdate off: a name written is searchable through the index at once, not through a
        # pending list each search reads in full until the next vacuum.
        op.create_index("ix_account_name_key_trgm", "account", ["name_key"], postgresql_using="gin",
                        postgresql_ops={"name_key": "gin_trgm_ops"}, postgresql_with={"fastupdate": "off"})
    else:
        # No trigram index here: an empty one stands in for the schema (name_word answers).
        op.create_index("ix_account_name_key_trgm", "account", ["name_key"],
                        sqlite_where=sa.text("0"), postgresql_where=sa.text("false"))
    if not sqlite:
        _postgresql_keeper()
    for table in TABLES:
        if sqlite:
            op.execute(_sqlite_fill(table, table))
        else:
            _postgresql_fill(table)
        create_triggers(table)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in TABLES:
        if sqlite:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS name_word_{table}_{event}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS name_word_{table} ON {table}")
        op.drop_index(f"ix_{table}_name_key_prefix", table_name=table)
    op.drop_index("ix_account_name_key_trgm", table_name="account")
    if not sqlite:
        op.execute("DROP FUNCTION IF EXISTS name_word_keep()")
    op.drop_index("ix_name_word_tail", table_name="name_word")
    op.drop_index("ix_name_word_word", table_name="name_word")
    op.drop_table("name_word")
