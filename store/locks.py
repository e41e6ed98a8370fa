"""Writing one record while others may write it too: every write path takes the record's row lock
here before reading what it changes, so two people changing the same account or deal at once are
applied one after the other, each on top of the other's change (never one silently undone).

PostgreSQL: `SELECT … FOR UPDATE` on the row; the second writer waits for the first to commit
and then reads its committed values. SQLite has one writer at a time: the transaction starts with
BEGIN IMMEDIATE (waiting up to busy_timeout for the current writer), so what it reads next is what
the previous writer committed. Either way the row object is reloaded from the database, so a
value read before the lock (while resolving a name) is never written back.

Lock one record per transaction (the account, or the deal, or the person): taking two in
different orders in two transactions could deadlock."""
from __future__ import annotations

from typing import Any, TypeVar

from sqlmodel import Session, select

Row = TypeVar("Row")


def begin_write(session: Session) -> None:
    """On SQLite, make the session's transaction the database's one writer now. Python's
    sqlite3 (legacy transaction control) reads outside any transaction and opens a deferred one
    only before the first write, too late to protect what was read: BEGIN IMMEDIATE is issued
    here unless a write already opened the transaction (then it holds the writer lock already)."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.driver_connection
    if not driver.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def lock(session: Session, row: Row) -> Row:
    """The same row, locked for this transaction and reloaded with its committed values."""
    begin_write(session)
    model = type(row)
    query = (select(model).where(model.id == row.id).with_for_update()
             .execution_options(populate_existing=True))
    return session.exec(query).one()


def merge_custom(current: dict[str, Any] | None, changes: dict[str, Any]) -> dict[str, Any]:
    """A custom-field JSON with `changes` applied key by key (None removes a key) on top of the
    locked row's current values: a field nobody changed keeps what another writer just saved."""
    merged = dict(current or {})
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
