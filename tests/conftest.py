"""Test databases: every store/command test runs on SQLite and on the PostgreSQL server.

GARE_TEST_DB=sqlite or postgresql restricts the run to one; by default both run, and the
PostgreSQL ones are skipped (with the reason shown) when no server answers. GARE_REQUIRE_POSTGRES=1
(set by .ci/run) turns that skip into a failure."""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

from store.database import make_engine

PG_ADMIN_URL = os.environ.get("GARE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ROOT = Path(__file__).resolve().parent.parent


def _databases() -> list[str]:
    chosen = os.environ.get("GARE_TEST_DB", "").strip().lower()
    if chosen in ("sqlite", "postgresql"):
        return [chosen]
    return ["sqlite", "postgresql"]


_pg_state: dict = {}


def _postgres_url() -> str:
    """A fresh database for this test session, migrated once; dropped at the end."""
    if "url" in _pg_state:
        return _pg_state["url"]
    if "error" in _pg_state:
        raise RuntimeError(_pg_state["error"])
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        name = f"gare_test_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as exc:  # no server here: skipped unless CI requires it
        _pg_state["error"] = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}"
        raise RuntimeError(_pg_state["error"]) from None
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    make_engine(url).dispose()
    _pg_state.update(url=url, name=name)
    return url


def pytest_sessionfinish(session, exitstatus):
    if "name" in _pg_state:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{_pg_state["name"]}" WITH (FORCE)'))
        admin.dispose()


def pytest_terminal_summary(terminalreporter):
    if "error" in _pg_state:
        terminalreporter.write_line(f"PostgreSQL tests were skipped: {_pg_state['error']}", yellow=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "gare.db"
    make_engine(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture(params=_databases())
def db_url(request, tmp_path, sqlite_template) -> str:
    if request.param == "sqlite":
        path = tmp_path / "gare.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    try:
        url = _postgres_url()
    except RuntimeError as exc:
        if os.environ.get("GARE_REQUIRE_POSTGRES") == "1":
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    # Emptied for this test: DELETE (children first) and sequences restarted take 7-10 ms where
    # a TRUNCATE of every table took 80 ms (new files for each table), about 40 s of a run.
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL synchronous_commit = off"))
        conn.execute(text("; ".join(f'DELETE FROM "{t.name}"' for t in reversed(SQLModel.metadata.sorted_tables))))
        sequences = conn.execute(text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"))
        restart = "; ".join(f'ALTER SEQUENCE "{name}" RESTART' for (name,) in sequences)
        if restart:
            conn.execute(text(restart))
    engine.dispose()
    return url


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def playbook():
    from playbook.config import load

    return load(ROOT / "config.toml")


# The Slack test rig (Gare's app and the stand-in Web API on 127.0.0.1), for every test module.
from slack_harness import rig  # noqa: E402,F401
# The Teams test rig (Gare's app and the stand-in Bot Connector on 127.0.0.1).
from teams_harness import teams  # noqa: E402,F401
