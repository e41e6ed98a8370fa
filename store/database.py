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


def _postgres_settings(dbapi_connection, _record) -> None:
    """No JIT compilation: Gare's queries are short, and compiling one of them took longer than
    running it (a nudge's possibly-frozen deals: 51 ms of JIT for 90 ms of execution). Set per
    connection (not a startup option, which poolers such as PgBouncer refuse)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET jit = off")
        dbapi_connection.commit()
    except Exception:  # a server without JIT (before PostgreSQL 11)
        dbapi_connection.rollback()
    finally:
        cursor.close()


CONNECT_TIMEOUT = 2  # seconds (libpq's smallest useful value)
POOL_TIMEOUT = 10    # seconds a request waits for a pooled connection


def unreachable(exc: BaseException) -> bool:
    """True for a failure that says the database cannot be reached right now (down, restarting,
    the network cut, SQLite's file unreadable or locked too long), not a fault in the request:
    the user is told to try again in a minute."""
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and bool(exc.connection_invalidated)


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
        # A pooled connection the database dropped is replaced before use (pre-ping), so the
        # process recovers by itself when the database is back; a database that does not answer
        # fails a new connection within CONNECT_TIMEOUT, in time for a polite "try again".
        kwargs["pool_pre_ping"] = True
        if parsed.get_backend_name() == "postgresql":
            kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
            kwargs["pool_timeout"] = POOL_TIMEOUT
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif parsed.get_backend_name() == "postgresql":
        event.listen(engine, "connect", _postgres_settings)
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


# What went wrong with the database itself, by what the drivers say (SQLite's messages, PostgreSQL's
# SQLSTATE classes), so that a shell can say it in one sentence with its fix instead of a trace.
_READ_ONLY = ("readonly database", "read-only", "read only")
_DISK_FULL = ("database or disk is full", "no space left", "could not extend file", "disk full",
              "file too large", "disk i/o error")
_MISSING = ("unable to open database file",)
# Failures of the place data is kept, that Gare's code cannot cause nor fix (an admin can).
STORAGE_FAILURES = frozenset({"db_read_only", "disk_full", "db_missing", "db_unreachable"})


def failure_kind(exc: BaseException) -> str | None:
    """"db_read_only", "disk_full", "db_missing", "db_unreachable" or "db_error" for a failure of
    the database (or of the disk under it); None for anything else. The chain is read: a full
    disk often surfaces as the rollback that followed it ("no such savepoint")."""
    kinds = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen and len(seen) < 8:
        seen.add(id(exc))
        kinds.append(_kind_of(exc))
        exc = exc.__cause__ or exc.__context__
    return next((k for k in kinds if k in STORAGE_FAILURES), None) or next((k for k in kinds if k), None)


def _kind_of(exc: BaseException) -> str | None:
    import errno

    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return "disk_full"
    if not isinstance(exc, DBAPIError):
        return None
    text = str(exc.orig or exc).lower()
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    if sqlstate == "3D000" or (" does not exist" in text and "database" in text and "connect" in text):
        return "db_missing"
    if sqlstate == "25006" or any(w in text for w in _READ_ONLY):
        return "db_read_only"
    if sqlstate.startswith("53") or any(w in text for w in _DISK_FULL):
        return "disk_full"
    if any(w in text for w in _MISSING):
        return "db_missing"
    if any(w in text for w in ("connect", "timeout", "refused", "no route", "resolve")):
        return "db_unreachable"
    return "db_error"
