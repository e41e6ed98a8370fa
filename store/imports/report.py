"""What an import tells the sales-ops admin: counts, the columns it read or ignored, and the
problems grouped (one entry per kind of problem and column, with its count, its first lines and
what is needed to fix it), so a file with 14,000 bad cells reads as a handful of lines. Entries
carry codes and values only: the words live in templates/text/import_report.txt.j2."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from store.queries import jsonable

FIRST_LINES = 5     # line numbers kept per problem; the count is always complete
FIRST_VALUES = 5    # distinct values kept per problem
MAX_CHANGES = 1000  # row changes kept for --dry-run; the counts are always complete


@dataclass
class Problem:
    code: str                    # what is wrong or worth knowing (the template's key)
    column: str | None = None    # the header as written; the canonical field for missing_column
    count: int = 0               # rows concerned
    lines: list[int] = field(default_factory=list)   # the first FIRST_LINES (the header is line 1)
    values: list[str] = field(default_factory=list)  # the first distinct values met
    expected: str | None = None  # what would be valid
    detail: dict[str, Any] = field(default_factory=dict)  # code-specific: nearest stage, first line...


@dataclass
class ImportReport:
    kind: str  # accounts, deals, stages, people
    file: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    written: bool = False
    columns_mapped: dict[str, str] = field(default_factory=dict)  # header -> canonical field
    custom_columns: list[str] = field(default_factory=list)  # playbook [fields] kept on accounts
    ignored_columns: list[str] = field(default_factory=list)  # headers Gare does not use: not stored
    problems: list[Problem] = field(default_factory=list)  # any of them: nothing is written
    notes: list[Problem] = field(default_factory=list)     # written, but worth a look
    changes: list[dict[str, Any]] = field(default_factory=list)
    changes_omitted: int = 0
    encoding: str | None = None
    delimiter: str | None = None
    date_order: str | None = None  # mdy or dmy, when the file writes day-month-year dates
    _groups: dict = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, line: int, column: str | None, code: str, value: str | None = None,
                expected: str | None = None, *, group: str | None = None, **detail: Any) -> None:
        """A blocking problem. `group` splits one code and column further (one entry per unknown
        stage, so each gets its own alias line)."""
        self._add(self.problems, line, column, code, value, expected, group, detail)

    def note(self, line: int | None, column: str | None, code: str, value: str | None = None, *,
             group: str | None = None, **detail: Any) -> None:
        """Something imported as the file says, that sales ops may want to fix in the CRM (line
        None: about records rather than rows)."""
        self._add(self.notes, line, column, code, value, None, group, detail)

    def _add(self, bucket: list[Problem], line: int | None, column: str | None, code: str, value: str | None,
             expected: str | None, group: str | None, detail: dict[str, Any]) -> None:
        key = (id(bucket), code, column, group)
        entry = self._groups.get(key)
        if entry is None:
            entry = self._groups[key] = Problem(code, column, expected=expected, detail=dict(detail))
            bucket.append(entry)
        entry.count += 1
        if line is not None and len(entry.lines) < FIRST_LINES and line not in entry.lines:
            entry.lines.append(line)
        if value is not None and value != "" and len(entry.values) < FIRST_VALUES and value not in entry.values:
            entry.values.append(value)

    def change(self, line: int, name: str, action: str, diff: dict[str, list]) -> None:
        if action == "create":
            self.created += 1
        else:
            self.updated += 1
        if len(self.changes) >= MAX_CHANGES:
            self.changes_omitted += 1
            return
        self.changes.append({"line": line, "name": name, "action": action, "fields": jsonable(diff)})

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for f in fields(self):
            if f.name.startswith("_"):
                continue
            value = getattr(self, f.name)
            if f.name in ("problems", "notes"):
                value = [vars(p) | {"detail": jsonable(p.detail)} for p in value]
            out[f.name] = value
        return out
