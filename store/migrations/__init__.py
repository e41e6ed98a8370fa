"""Alembic migrations for the store, run programmatically (`gare db upgrade`, or on first use)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine

HERE = Path(__file__).resolve().parent


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`. Cheap when already there; safe when several processes
    start together on PostgreSQL (an advisory lock serialises them)."""
    if revision == "head" and current_revision(engine) == head_revision():
        return
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(741852)"))
            try:
                if current_revision(engine) != head_revision() or revision != "head":
                    cfg = alembic_config(engine)
                    command.upgrade(cfg, revision)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(741852)"))
                conn.commit()
        return
    command.upgrade(alembic_config(engine), revision)
