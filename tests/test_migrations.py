"""The migrations build exactly the tables the code uses, and can be walked down and up again."""
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from store.migrations import alembic_config, current_revision, head_revision


def test_the_head_gare_checks_at_start_is_alembics_head():
    from store.migrations import HEAD

    assert HEAD == head_revision(), "update store/migrations/__init__.py HEAD to the newest revision"


def test_migrated_schema_matches_the_models(engine):
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_downgrade_to_the_first_revision_and_back(engine):
    cfg = alembic_config(engine)
    command.downgrade(cfg, "0001")
    assert current_revision(engine) == "0001"
    command.upgrade(cfg, "head")
    assert current_revision(engine) == head_revision()


def test_0009_closes_the_duplicate_open_stays_left_by_concurrent_moves_keeping_the_latest(engine):
    """Before 0009 two people moving one deal at once could leave two open stays; the upgrade
    closes all but the latest (at the moment the next one opened), then the index holds."""
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import text

    cfg = alembic_config(engine)
    command.downgrade(cfg, "0008")
    t0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO account (id, name, name_key, status, status_source, custom, created_at, updated_at) "
                          "VALUES (1, 'Acme', 'acme', 'customer', 'import', '{}', :t, :t)"), {"t": t0})
        conn.execute(text("INSERT INTO deal (id, name, name_key, account_id, stage, status, currency, created_at, "
                          "updated_at, kind) VALUES (1, 'Renewal', 'renewal', 1, 'negotiation', 'open', 'EUR', :t, :t, "
                          "'new_business')"), {"t": t0})
        for stage, entered in (("solution", t0), ("proposal", t0 + timedelta(hours=1)),
                               ("negotiation", t0 + timedelta(hours=1, seconds=1))):
            conn.execute(text("INSERT INTO stage_visit (deal_id, stage, entered_at, estimated) VALUES (1, :s, :e, false)"),
                         {"s": stage, "e": entered})
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT stage, entered_at, left_at FROM stage_visit ORDER BY id")).all()
    assert [r[0] for r in rows if r[2] is None] == ["negotiation"]
    assert [(r[0], r[2] is not None) for r in rows] == [("solution", True), ("proposal", True), ("negotiation", False)]
