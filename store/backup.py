"""`gare backup FILE` and `gare restore FILE`: everything Gare keeps (accounts, deals, stage
history, checklists, overrides, settings, people, plans, the audit...) in one portable file, and
back into an empty database, SQLite or PostgreSQL alike. Every table of the schema is written
(but one the database derives from the others), so a table added later is backed up without
touching this module.

The file is JSON lines (gzip-compressed when its name ends in .gz): a header with the format and
the schema revision, then one line per row, table by table in dependency order, rows by primary
key. Times are written in UTC with their offset, so a backup of a restored database is
byte-identical to the backup it came from, whatever the two databases were."""
from __future__ import annotations

import gzip
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import IO, Callable, Iterator

from sqlalchemy import JSON, Table, func, select, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import store.models  # noqa: F401  (registers every table on SQLModel.metadata)

FORMAT = "gare-backup"
VERSION = 1
BATCH = 2000


class BackupProblem(Exception):
    """A file that is not a Gare backup, or a database that is not empty: `code` says which."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code, self.params = code, params


@dataclass
class BackupReport:
    file: str
    revision: str | None = None
    tables: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def _tables() -> list[Table]:
    """Every table but those the database derives from the others (name_word: its triggers
    fill it again as the names are restored)."""
    return [t for t in SQLModel.metadata.sorted_tables if not t.info.get("derived")]


def _open(path: Path, mode: str) -> IO[str]:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, mode + "b"), encoding="utf-8", newline="\n")
    return open(path, mode, encoding="utf-8", newline="\n")


def _out(value, column):
    if isinstance(column.type, JSON):
        return {"$j": value}  # so a stored value shaped like a time stays what it is
    if isinstance(value, datetime):
        if value.tzinfo is None:  # SQLite hands back UTC times without their offset
            value = value.replace(tzinfo=timezone.utc)
        return {"$t": value.astimezone(timezone.utc).isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    return value


def _in(value, column):
    if isinstance(value, dict) and len(value) == 1:
        if "$j" in value:
            return value["$j"]
        if "$t" in value:
            return datetime.fromisoformat(value["$t"])
        if "$d" in value:
            return date.fromisoformat(value["$d"])
    return value


def _revision(engine: Engine) -> str | None:
    from store.migrations import current_revision

    return current_revision(engine)


def backup(engine: Engine, path: str | Path, progress: Callable[[int, int], None] | None = None) -> BackupReport:
    path = Path(path)
    report = BackupReport(file=str(path), revision=_revision(engine))
    tables = _tables()
    with engine.connect() as conn:
        totals = {t.name: conn.execute(select(func.count()).select_from(t)).scalar() for t in tables}
        done, total = 0, sum(totals.values())
        with _open(path, "w") as out:
            out.write(json.dumps({"format": FORMAT, "version": VERSION, "revision": report.revision,
                                  "tables": [t.name for t in tables]}) + "\n")
            for table in tables:
                columns = list(table.columns)
                keys = list(table.primary_key.columns) or list(table.columns)
                result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(
                    select(table).order_by(*keys))
                count = 0
                for row in result:
                    out.write(json.dumps({"t": table.name, "r": [_out(row._mapping[c.name], c) for c in columns]},
                                         ensure_ascii=False, separators=(",", ":")) + "\n")
                    count += 1
                    done += 1
                    if progress is not None and done % BATCH == 0:
                        progress(done, total)
                report.tables[table.name] = count
    if progress is not None:
        progress(total, total)
    return report


def _lines(path: Path) -> Iterator[dict]:
    try:
        with _open(path, "r") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    raise BackupProblem("not_a_backup", line=number) from None
    except (UnicodeDecodeError, gzip.BadGzipFile, EOFError):
        raise BackupProblem("not_a_backup", line=1) from None


def restore(engine: Engine, path: str | Path, progress: Callable[[int, int], None] | None = None) -> BackupReport:
    """Loads a backup into an empty database (migrated to the same schema); all or nothing."""
    path = Path(path)
    if not path.is_file():
        raise BackupProblem("no_file", file=str(path))
    lines = _lines(path)
    header = next(lines, None)
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupProblem("not_a_backup", line=1)
    report = BackupReport(file=str(path), revision=header.get("revision"))
    current = _revision(engine)
    if header.get("revision") != current:
        raise BackupProblem("other_revision", backup=header.get("revision"), database=current)
    tables = {t.name: t for t in _tables()}
    with engine.begin() as conn:
        filled = [t.name for t in tables.values() if conn.execute(select(func.count()).select_from(t)).scalar()]
        if filled:
            raise BackupProblem("not_empty", tables=filled)
        batch: list[dict] = []
        table: Table | None = None
        columns: list = []

        def flush() -> None:
            if batch:
                conn.execute(table.insert(), batch)
                report.tables[table.name] = report.tables.get(table.name, 0) + len(batch)
                if progress is not None:
                    progress(report.rows, 0)
                batch.clear()

        for item in lines:
            name = item.get("t") if isinstance(item, dict) else None
            if name not in tables:
                raise BackupProblem("unknown_table", table=str(name))
            if table is None or name != table.name:
                flush()
                table = tables[name]
                columns = list(table.columns)
            values = item.get("r") or []
            if len(values) != len(columns):
                raise BackupProblem("not_a_backup", line=report.rows + len(batch) + 2)
            batch.append({c.name: _in(v, c) for c, v in zip(columns, values)})
            if len(batch) >= BATCH:
                flush()
        flush()
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn, tables.values())
    return report


def _reset_sequences(conn, tables) -> None:
    """Ids were restored as they were: the next ones continue after the highest."""
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not pk[0].autoincrement:
            continue
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
            f"COALESCE((SELECT MAX({pk[0].name}) FROM \"{table.name}\"), 0) + 1, false)"))
