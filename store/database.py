"""Where the data lives: the SQLite file by default, or any SQLAlchemy URL (PostgreSQL for teams
running several bot processes). A new database is created and migrated on first use."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from store import assessed as _assessed  # noqa: F401  (every session marks changed accounts' assessment stale)
from store import migrations


def default_sqlite_path() -> Path:
    base = os.environ.get("GARE_HOME")
    if base:
        return Path(base).expanduser() / "gare.db"
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "gare" / "gare.db"


def resolve_url(url: str | None = None) -> str:
    """--db beats DATABASE_URL beats the SQLite file in the user's data folder."""
    url = url or os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{default_sqlite_path()}"
    # Heroku-style URLs name the dialect without a driver; psycopg 3 is the one we ship.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def describe_url(url: str) -> str:
    """The URL without its password, for `gare info` and error messages."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets the web server and the scheduler read while one of them writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL is what SQLite recommends: no corruption on a crash, and no fsync at
    # every commit (FULL took 9 ms per once-only claim, one per slash command; NORMAL 1 ms).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str | None = None, *, migrate: bool = True) -> Engine:
    url = resolve_url(url)
    parsed = make_url(url)
    kwargs: dict = {}
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if migrate:
        migrations.upgrade(engine)
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back on any error."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
