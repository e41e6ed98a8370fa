"""The one plan-and-apply step every import shares: open and map the file, read the order of its
dates, then stream it in batches; each batch is planned (read, checked, matched against the
store) and, while the file is clean, written at once. Everything happens inside one savepoint:
a problem anywhere, or --dry-run, rolls all of it back, so an import is still all or nothing
while memory stays flat whatever the size of the file.

Writes go through Core statements (bulk inserts returning ids, updates grouped by the columns
they change) rather than ORM objects: 100,000 rows would otherwise fill the session."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from sqlalchemy import Column, Integer, MetaData, String, Table as SqlTable, bindparam, insert, select, update
from sqlmodel import Session

from playbook.config import Playbook
from store import locks
from store.imports.report import ImportReport
from store.imports.table import Aliases, Columns, Reader, Row, Survey, Table, batches, map_columns, source_name
from store.models import AuditRecord, utcnow
from store.queries import Actor, _chunks, jsonable

Progress = Callable[[int, int], None]
BATCH = 1000


class Kind:
    """One kind of file (accounts, deals, stages, people): its columns and how its rows become
    records. The step below calls start, then plan and apply per batch, then finish."""
    name = ""
    aliases: Aliases
    required: tuple[str, ...] = ()
    one_of: tuple[tuple[str, ...], ...] = ()  # groups of fields of which the file needs one
    date_fields: tuple[str, ...] = ()  # fields whose day-month-year order the file must prove

    def claim(self, job: "Job", header: str) -> bool:
        """True for a column this kind reads itself (not through its aliases)."""
        return False

    def date_column(self, job: "Job", header: str) -> bool:
        """True for a claimed column that holds dates."""
        return False

    def start(self, job: "Job") -> None:
        pass

    def plan(self, job: "Job", rows: list[Row]) -> Any:
        raise NotImplementedError

    def apply(self, job: "Job", planned: Any) -> None:
        raise NotImplementedError

    def finish(self, job: "Job") -> None:
        pass


@dataclass
class Job:
    """One import under way: where it writes, who does it, and what it has found so far."""
    session: Session
    playbook: Playbook
    actor: Actor
    now: datetime
    dry_run: bool
    report: ImportReport
    options: dict[str, Any]
    reader: Reader | None = None
    columns: Columns = field(default_factory=Columns)
    stamp: datetime = field(default_factory=utcnow)
    state: dict[str, Any] = field(default_factory=dict)  # what a kind keeps from batch to batch
    seen: "Seen | None" = None
    _audits: list[dict[str, Any]] = field(default_factory=list)

    def duplicates(self, rows: list[tuple[Row, str, str, Any]]) -> list[Row]:
        """[(row, column, value, identity)] -> the rows whose record an earlier row already
        named (each gets a duplicate_row problem naming that line); the others are remembered."""
        keys: dict[str, int] = {}
        for row, _, _, identity in rows:
            keys.setdefault(_key(identity), row.line)
        before = self.seen.first(keys)
        flagged = []
        for row, column, value, identity in rows:
            key = _key(identity)
            first = before.get(key, keys[key])
            if first != row.line:
                row.problem(column, "duplicate_row", value, str(first))
                flagged.append(row)
        return flagged

    def audit(self, entity: str, action: str, entity_id: int | None, entity_name: str | None,
              changes: dict[str, Any]) -> None:
        self._audits.append({
            "at": self.stamp, "actor": (self.actor.name or "unknown")[:120], "platform": self.actor.platform,
            "platform_user_id": self.actor.platform_user_id, "entity": entity, "entity_id": entity_id,
            "entity_name": (entity_name or "")[:200] or None, "action": action, "changes": jsonable(changes),
        })

    def flush(self) -> None:
        if self._audits:
            self.session.execute(insert(AuditRecord.__table__), self._audits)
            self._audits = []

    def insert(self, table: SqlTable, rows: list[dict[str, Any]]) -> list[int]:
        """Inserts rows (all with the same keys) and returns their ids, in order."""
        if not rows:
            return []
        result = self.session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
        return [r[0] for r in result]

    def update(self, table: SqlTable, changes: list[tuple[int, dict[str, Any]]]) -> None:
        """Updates rows by id; rows changing the same columns go in one statement."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row_id, values in changes:
            if values:
                groups.setdefault(tuple(sorted(values)), []).append({"_id": row_id, **values})
        for cols, params in groups.items():
            statement = (update(table).where(table.c.id == bindparam("_id"))
                         .values({c: bindparam(c) for c in cols}))
            self.session.execute(statement, params)


class Seen:
    """The records a file has named so far (an id, or a name within an account), with the line
    that first named each: a record named twice is a bad row. Kept in a temporary table of the
    database rather than in memory, so that memory does not grow with the file."""

    def __init__(self, session: Session):
        self.session = session
        self.table = SqlTable("gare_import_seen", MetaData(), Column("key", String(400), primary_key=True),
                              Column("line", Integer, nullable=False), prefixes=["TEMPORARY"])
        self.table.create(session.connection(), checkfirst=True)
        session.execute(self.table.delete())

    def first(self, keys: dict[str, int]) -> dict[str, int]:
        """For {key: line} of one batch, {key: the line that named it first} for every key met
        before (in an earlier batch or earlier in this one); the new keys are remembered."""
        before: dict[str, int] = {}
        for chunk in _chunks(sorted(keys)):
            before |= dict(self.session.execute(select(self.table.c.key, self.table.c.line)
                                                .where(self.table.c.key.in_(chunk))).all())
        fresh = [{"key": k, "line": line} for k, line in keys.items() if k not in before]
        if fresh:
            self.session.execute(insert(self.table), fresh)
        return before

    def close(self) -> None:
        self.table.drop(self.session.connection(), checkfirst=True)


def run(kind: Kind, session: Session, source: Any, *, playbook: Playbook, actor: "str | Actor",
        dry_run: bool = False, progress: Progress | None = None, now: datetime | None = None,
        date_order: str | None = None, **options: Any) -> ImportReport:
    """Imports one file of `kind`; the report says what changed, or why nothing did."""
    report = ImportReport(kind=kind.name, file=source_name(source), dry_run=dry_run)
    now = now or datetime.now(timezone.utc)
    job = Job(session, playbook, actor if isinstance(actor, Actor) else Actor(actor, "import"),
              now if now.tzinfo else now.replace(tzinfo=timezone.utc), dry_run, report, options)
    table = Table(source, report)
    if not table.open():
        return report
    job.columns = map_columns(table, kind.aliases, kind.required, report, lambda h: kind.claim(job, h), kind.one_of)
    if not report.ok:
        return report
    dates = {job.columns.index[f]: job.columns.header[f] for f in kind.date_fields if f in job.columns.index}
    dates |= {i: h for h, i in job.columns.claimed.items() if kind.date_column(job, h)}
    survey = table.survey(dates)
    report.rows = survey.rows
    for line, code, value, expected in survey.broken:
        report.problem(line, None, code, value, expected)
    if survey.unreadable_at is not None:
        report.problem(survey.unreadable_at, None, "unreadable_file")
    elif survey.rows == 0 and not survey.broken:
        report.problem(table.header_line, None, "empty_file")
    order = _date_order(survey, date_order, playbook, report)
    if not report.ok:
        return report
    job.reader = Reader(job.columns, report, table.decimal_comma, playbook.tz, order)

    locks.begin_write(session)  # SQLite: the one writer from the first read (PostgreSQL locks rows)
    savepoint = session.begin_nested()
    try:
        job.seen = Seen(session)
        kind.start(job)
        done = 0
        for batch in batches(table.rows(), BATCH):
            planned = kind.plan(job, [job.reader.row(line, cells) for line, cells in batch])
            if report.ok:  # once a problem is found, the rest is only checked
                kind.apply(job, planned)
                job.flush()
            for _ in batch:
                done += 1
                _tick(progress, done, survey.rows)
        if report.ok:
            kind.finish(job)
            job.flush()
        job.seen.close()
        session.flush()
        if report.ok and not dry_run and (report.created or report.updated):
            from store.assessed import mark_stale

            # Rows written with Core statements: every account is assessed again. A file that
            # changed nothing (a re-import) leaves the stored assessments as they are.
            mark_stale(session)
    except BaseException:
        savepoint.rollback()
        raise
    if report.ok and not dry_run:
        savepoint.commit()
        report.written = True
    else:
        savepoint.rollback()
    return report


def _key(identity: Any) -> str:
    return "\x1f".join("" if x is None else str(x) for x in identity)[:400]


def _date_order(survey: Survey, chosen: str | None, playbook: Playbook, report: ImportReport) -> str | None:
    """The file's day-month-year order: --date-order, else what its unambiguous dates prove,
    else the playbook's [import] date_order. A file that proves both orders is refused here, with
    an example of each; one that proves none while it needs to is refused by its rows."""
    mdy, dmy, ambiguous = (survey.first.get(k) for k in ("mdy", "dmy", "ambiguous"))
    if mdy and dmy and not chosen:
        report.problem(dmy[0], dmy[1], "mixed_date_order", dmy[2], other_line=mdy[0], other_column=mdy[1],
                       other_value=mdy[2])
        return None
    order = chosen or ("mdy" if mdy else "dmy" if dmy else None)
    if order is None and ambiguous:
        order = playbook.imports.date_order  # else each such cell is reported, grouped per column
    if mdy or dmy or ambiguous:
        report.date_order = order
    return order


def _tick(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None and (done == total or done % max(1, total // 100) == 0):
        progress(done, total)
