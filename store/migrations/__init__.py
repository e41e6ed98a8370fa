"""Alembic migrations for the store, run programmatically (`gare db upgrade`, or on first use).
Starting Gare on a current schema costs one query: Alembic itself is loaded only when there is
something to migrate (it is most of a cold start's import time)."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

HERE = Path(__file__).resolve().parent
# The newest revision in versions/ (tests/test_migrations.py checks it is Alembic's head).
HEAD = "0011"


def alembic_config(engine: Engine | None = None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The schema's revision, read straight from alembic_version (None on a new database)."""
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError as exc:
        if "alembic_version" in str(exc).lower() or "no such table" in str(exc).lower() \
                or "does not exist" in str(exc).lower():
            return None
        raise


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`. One query when already there; safe when several processes
    start together on PostgreSQL (an advisory lock serialises them)."""
    if revision == "head" and current_revision(engine) == HEAD:
        return
    from alembic import command

    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(741852)"))
            try:
                if current_revision(engine) != head_revision() or revision != "head":
                    command.upgrade(alembic_config(engine), revision)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(741852)"))
                conn.commit()
        return
    command.upgrade(alembic_config(engine), revision)
