"""`gare backup` writes everything, `gare restore` loads it into an empty database on SQLite or
PostgreSQL, and a backup of the restored database is identical to the first, byte for byte."""
from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlmodel import SQLModel

from handlers.demo import load_demo_data
from handlers.people import console_context
from handlers.registry import run
from handlers.reply import Context
from store.backup import BackupProblem, backup, restore
from store.database import make_engine
from slack_harness import NOW

ROOT = Path(__file__).resolve().parent.parent


def _world(engine, playbook) -> None:
    load_demo_data(Context(engine=engine, playbook=playbook, actor="demo", clock=lambda: NOW))
    alice = console_context(engine, playbook, as_owner="alice", operator_name="t", language="en", clock=lambda: NOW)
    name = run(alice, "accounts owner=alice").data["accounts"][0]["account"]
    assert run(alice, f'account "{name}" set margin_pct=21.5 profile=expand nps=41').ok
    deal = run(alice, "deals frozen alice").data["deals"][0]["deal"]
    assert run(alice, f'deal "{deal}" nurture budget frozen').ok
    assert run(alice, "settings day=tuesday mute=skipped").ok


def _counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                for t in SQLModel.metadata.sorted_tables}


def _other_database(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'restored.db'}"
    from conftest import PG_ADMIN_URL

    name = f"gare_restore_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as exc:  # no server: the SQLite round trip still runs
        pytest.skip(f"PostgreSQL not reachable: {exc.__class__.__name__}")
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.mark.parametrize("target", ["sqlite", "postgresql"])
def test_a_backup_restores_into_an_empty_database_and_backs_up_identically(engine, playbook, tmp_path, target):
    _world(engine, playbook)
    first = tmp_path / "gare-backup.jsonl.gz"
    report = backup(engine, first)
    assert report.tables["account"] >= 60 and report.tables["stage_visit"] > 100
    assert report.tables["audit_record"] > 0 and report.tables["person"] >= 9 and report.tables["rep_setting"] == 1

    other = make_engine(_other_database(target, tmp_path))
    try:
        restored = restore(other, first)
        assert restored.rows == report.rows
        assert _counts(other) == _counts(engine)
        second = tmp_path / "again.jsonl.gz"
        backup(other, second)
        import gzip
        assert gzip.open(first).read() == gzip.open(second).read()
        # The restored database works: new rows get new ids, commands answer as before.
        alice = console_context(other, playbook, as_owner="alice", operator_name="t", language="en",
                                clock=lambda: NOW)
        assert run(alice, "settings day=friday").ok
        with pytest.raises(BackupProblem) as refused:
            restore(other, first)  # not into a database that has data
        assert refused.value.code == "not_empty"
    finally:
        other.dispose()


def test_restore_refuses_what_is_not_a_backup(engine, tmp_path):
    junk = tmp_path / "junk.jsonl"
    junk.write_text("hello\n", encoding="utf-8")
    with pytest.raises(BackupProblem) as info:
        restore(engine, junk)
    assert info.value.code == "not_a_backup"
    with pytest.raises(BackupProblem) as info:
        restore(engine, tmp_path / "missing.jsonl")
    assert info.value.code == "no_file"


def test_the_cli_backs_up_and_restores(engine, playbook, db_url, tmp_path):
    _world(engine, playbook)
    file = tmp_path / "b.jsonl"
    target = f"sqlite:///{tmp_path / 'new.db'}"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "bot", "--db", db_url, "--lang", "en", "backup", str(file)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 0 and "Backup written to" in done.stdout, done.stderr
    again = subprocess.run([sys.executable, "-m", "bot", "--db", target, "--lang", "en", "restore", str(file)],
                           capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert again.returncode == 0 and "Restored" in again.stdout, again.stderr
    twice = subprocess.run([sys.executable, "-m", "bot", "--db", target, "--lang", "en", "restore", str(file)],
                           capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert twice.returncode == 1 and "not empty" in twice.stderr and "Nothing was restored." in twice.stderr
