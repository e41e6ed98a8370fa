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
