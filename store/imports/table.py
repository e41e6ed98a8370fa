"""Reading a CRM export, whatever the vendor: the bytes and their encoding (UTF-8, Excel's BOM or
UTF-16, else Windows-1252), the delimiter (comma, semicolon, tab, Excel's "sep=" line), the
header mapped onto Gare's fields through each kind's aliases (the vendors' and French names),
and the rows streamed one at a time, so memory stays flat whatever the size of the file.

A first pass over the rows counts them and reads the order of the file's day-month-year dates
from its unambiguous values (20/05/2024 is day first, 5/20/2024 month first): the order is the
file's, never guessed row by row."""
from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from playbook.words import name_key
from store.imports.report import ImportReport
from store.values import (ValueProblem, date_order_of, parse_bool, parse_date, parse_datetime, parse_number,
                          parse_quantity)

csv.field_size_limit(10 * 1024 * 1024)  # a long description cell is not an unreadable file


def header_key(text: str) -> str:
    """'Address 1: Country/Region' -> 'address 1 country region'; an API name is split at its
    capitals ('NumberOfEmployees' -> 'number of employees'), a label is not ('Company IDs')."""
    text = text or ""
    if not re.search(r"\s", text.strip()):
        text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", text)
    return name_key(text)


class Aliases:
    """Which header feeds which field: written loosely, compared after header_key(). When several
    headers of one file name the same field, the one earlier in the field's list wins and the
    others are ignored (Dynamics' "Relationship Type" beats its account "Status" Active/Inactive)."""

    def __init__(self, table: dict[str, list[str]]):
        self.fields = tuple(table)
        self.names = table
        self._keys: dict[str, tuple[str, int]] = {}
        for fname, names in table.items():
            if header_key(fname) not in {header_key(n) for n in names}:
                names = [fname, *names]  # the canonical name first, unless placed in the list
            for rank, alias in enumerate(names):
                k = header_key(alias)
                if k in self._keys and self._keys[k][0] != fname:
                    raise AssertionError(f"alias {alias!r} names both {self._keys[k][0]} and {fname}")
                self._keys.setdefault(k, (fname, rank))

    def find(self, header: str) -> tuple[str, int] | None:
        return self._keys.get(header_key(header))


@dataclass
class Columns:
    index: dict[str, int] = field(default_factory=dict)   # field -> column index
    header: dict[str, str] = field(default_factory=dict)  # field -> header as written
    claimed: dict[str, int] = field(default_factory=dict)  # header -> index, for columns a kind reads itself


def source_name(source: Any) -> str:
    if isinstance(source, (str, Path)):
        return str(source)
    return str(getattr(source, "name", "") or "-")


class Table:
    """One CSV file: open() checks it can be read and finds its header; rows() streams it."""

    def __init__(self, source: Any, report: ImportReport):
        self.report = report
        self.path: Path | None = None
        self._data: bytes | str | None = None
        if isinstance(source, (str, Path)):
            self.path = Path(source).expanduser()
        else:
            self._data = source.read()  # a file object: tests and pipes, small by nature
        self.encoding: str | None = None
        self.delimiter = ","
        self.sep_line = False
        self.headers: list[str] = []
        self.header_line = 1
        self.decimal_comma = False

    # --- bytes and text -------------------------------------------------------------------------

    def _binary(self) -> io.BufferedIOBase:
        if self.path is not None:
            return open(self.path, "rb")
        return io.BytesIO(self._data if isinstance(self._data, bytes) else b"")

    def _text(self) -> io.TextIOBase:
        if isinstance(self._data, str):
            return io.StringIO(self._data, newline="")
        return io.TextIOWrapper(self._binary(), encoding=self.encoding, newline="")

    def _detect_encoding(self) -> str | None:
        if isinstance(self._data, str):
            return "text"
        with self._binary() as f:
            head = f.read(4096)
            if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text"
                return "utf-16"
            if head.startswith(b"PK\x03\x04") or b"\x00" in head or _control_bytes(head):  # .xlsx, a binary file
                return None
            for encoding in ("utf-8-sig", "cp1252"):
                f.seek(0)
                decoder = codecs.getincrementaldecoder(encoding)()
                try:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        decoder.decode(chunk)
                    decoder.decode(b"", final=True)
                    return encoding
                except UnicodeDecodeError:
                    continue
        return None

    def open(self) -> bool:
        """Finds the encoding, the delimiter and the header; False (and the report says why)
        when the file cannot be read as CSV text."""
        report = self.report
        try:
            self.encoding = self._detect_encoding()
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            raise  # the shell says so, naming the path
        except OSError:
            self.encoding = None
        if self.encoding is None:
            report.problem(1, None, "unreadable_file")
            return False
        report.encoding = {"utf-8-sig": "utf-8"}.get(self.encoding, self.encoding)
        try:
            with self._text() as text:
                first = ""
                for line in text:
                    if line.strip():
                        first = line.strip().lstrip("\ufeff")
                        break
        except (OSError, UnicodeError):
            report.problem(1, None, "unreadable_file")
            return False
        if not first:
            report.problem(1, None, "empty_file")
            return False
        sep = re.fullmatch(r'"?sep=(.)"?', first, flags=re.I)  # Excel's "sep=;" hint line
        self.sep_line = bool(sep)
        self.delimiter = sep.group(1) if sep else _sniff(first)
        report.delimiter = self.delimiter
        # "$1,200" style amounts are the norm in comma files; French Excel (";") writes "1 200,50".
        self.decimal_comma = self.delimiter == ";"
        try:
            for line, cells in self._physical_rows():
                self.headers, self.header_line = [c.strip().lstrip("\ufeff") for c in cells], line
                break
        except BrokenRow as broken:
            report.problem(broken.line, None, "unbalanced_quote")
            return False
        except csv.Error:
            report.problem(1, None, "unreadable_file")
            return False
        if not self.headers:
            report.problem(1, None, "empty_file")
            return False
        return True

    def _physical_rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line, cells) of every non-blank row, the header included, the sep= line skipped.
        Strict: a quote that opens a cell and is not closed where it should be raises BrokenRow
        (read leniently, it would swallow the rows after it into one cell)."""
        with self._text() as text:
            reader = csv.reader(text, delimiter=self.delimiter, strict=True)
            skip_sep = self.sep_line
            while True:
                start = reader.line_num + 1
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error:
                    raise BrokenRow(start) from None
                if not any(c.strip() for c in cells):
                    continue
                if skip_sep:
                    skip_sep = False
                    continue
                yield start, cells

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """The data rows, streamed: (line of the file, cells)."""
        rows = self._physical_rows()
        next(rows, None)  # the header
        yield from rows

    # --- the first pass -------------------------------------------------------------------------

    def survey(self, date_columns: dict[int, str]) -> "Survey":
        """Counts the rows, checks each has one cell per column and reads which day-month-year
        order the file's dates prove."""
        survey = Survey()
        width = len(self.headers)
        try:
            for line, cells in self.rows():
                survey.rows += 1
                if len(cells) != width and not (len(cells) > width and not any(c.strip() for c in cells[width:])):
                    survey.broken.append(self._misshapen(line, cells, width))
                    continue
                for index, header in date_columns.items():
                    if index < len(cells):
                        survey.see(line, header, cells[index])
        except BrokenRow as broken:
            survey.broken.append((broken.line, "unbalanced_quote", None, None))
        except (csv.Error, UnicodeError):
            survey.unreadable_at = survey.rows + self.header_line + 1
        return survey

    def _misshapen(self, line: int, cells: list[str], width: int) -> tuple[int, str, str | None, str | None]:
        """(line, code, value, expected) for a row without one cell per column: written with
        another delimiter than the file's ("Mixed Co;alice;customer" in a comma file), or a cell
        too many or too few."""
        if len(cells) == 1:
            for other in (",", ";", "\t", "|"):
                if other != self.delimiter and len(cells[0].split(other)) == width:
                    return line, "other_delimiter", other, self.delimiter
        return line, "field_count", str(len(cells)), str(width)


class BrokenRow(Exception):
    """A row the CSV reader cannot split: a quote opened and not closed where it should be."""

    def __init__(self, line: int):
        super().__init__(line)
        self.line = line


def _control_bytes(head: bytes) -> bool:
    """Text a CRM writes holds no control characters beyond tab and line ends; a few stray ones
    may sit in a pasted note, many say the file is not text."""
    count = sum(1 for b in head if (b < 32 and b not in (9, 10, 11, 12, 13)) or b == 127)
    return count > max(2, len(head) // 200)


@dataclass
class Survey:
    rows: int = 0
    broken: list[tuple[int, str, str | None, str | None]] = field(default_factory=list)  # rows not read
    first: dict[str, tuple[int, str, str]] = field(default_factory=dict)  # order -> (line, column, value)
    unreadable_at: int | None = None

    def see(self, line: int, column: str, raw: str) -> None:
        order = date_order_of(raw)
        if order in ("mdy", "dmy", "ambiguous") and order not in self.first:
            self.first[order] = (line, column, raw.strip())


def _sniff(header_line: str) -> str:
    best, best_count = ",", 0
    for delimiter in (",", ";", "\t", "|"):
        try:
            count = len(next(csv.reader([header_line], delimiter=delimiter)))
        except (csv.Error, StopIteration):
            continue
        if count > best_count:
            best, best_count = delimiter, count
    return best


def map_columns(table: Table, aliases: Aliases, required: Iterable[str], report: ImportReport,
                claim: Callable[[str], bool] | None = None, one_of: Iterable[tuple[str, ...]] = ()) -> Columns:
    """Which column feeds which field. `claim(header)` lets a kind read some columns itself (the
    playbook's custom fields, HubSpot's "Date entered ..." columns); the rest are ignored and
    listed once in the report."""
    best: dict[str, tuple[int, int]] = {}  # field -> (rank, index)
    columns = Columns()
    ignored: list[int] = []
    seen: set[str] = set()
    for index, header in enumerate(table.headers):
        key = header_key(header)
        if key and key in seen:  # which of two "owner" columns holds the owner? The file must say.
            report.problem(table.header_line, header, "duplicate_column")
        seen.add(key)
        if claim is not None and header_key(header) and claim(header):
            if header in columns.claimed:
                ignored.append(index)
            else:
                columns.claimed[header] = index
            continue
        hit = aliases.find(header)
        if hit is None:
            ignored.append(index)
            continue
        fname, rank = hit
        if fname not in best or rank < best[fname][0]:
            if fname in best:
                ignored.append(best[fname][1])
            best[fname] = (rank, index)
        else:
            ignored.append(index)
    for fname in [*required, *(group[0] for group in one_of if not any(f in best for f in group))]:
        if fname not in best:
            report.problem(table.header_line, fname, "missing_column", aliases=aliases.names.get(fname, [])[:4])
    columns.index = {f: i for f, (_, i) in best.items()}
    columns.header = {f: table.headers[i] for f, i in columns.index.items()}
    report.columns_mapped = {table.headers[i]: f for f, i in sorted(columns.index.items(), key=lambda kv: kv[1])}
    report.ignored_columns = [table.headers[i] for i in sorted(set(ignored)) if table.headers[i]]
    return columns


# --- reading cells -------------------------------------------------------------------------------

def unneutralised(text: str) -> str:
    """'=SUM(1) as `gare export` writes it (store/imports/export.py) reads back as =SUM(1)."""
    return text[1:] if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@", "\t", "\r") else text


class Row:
    """The cells of one row read into typed values; every problem goes to the report, grouped."""

    __slots__ = ("line", "cells", "reader", "bad")

    def __init__(self, reader: "Reader", line: int, cells: list[str]):
        self.reader, self.line, self.cells, self.bad = reader, line, cells, False

    def raw(self, fname: str) -> str:
        index = self.reader.columns.index.get(fname)
        return "" if index is None else self.cell(index)

    def cell(self, index: int) -> str:
        return unneutralised(self.cells[index].strip()) if index < len(self.cells) else ""

    def column(self, fname: str) -> str:
        return self.reader.columns.header.get(fname, fname)

    def problem(self, column: str | None, code: str, value: str | None = None, expected: str | None = None,
                **kw: Any) -> None:
        self.bad = True
        self.reader.report.problem(self.line, column, code, value, expected, **kw)

    def note(self, column: str | None, code: str, value: str | None = None, **kw: Any) -> None:
        self.reader.report.note(self.line, column, code, value, **kw)

    def get(self, fname: str, parse: Callable[[str], Any], *, required: bool = False) -> Any:
        raw = self.raw(fname)
        if not raw:
            if required:
                self.problem(self.column(fname), "missing_value")
            return None
        return self.read(self.column(fname), raw, parse)

    def read(self, column: str, raw: str, parse: Callable[[str], Any]) -> Any:
        try:
            return parse(raw)
        except ValueProblem as bad:
            # 03/04/2024 in a file whose dates prove no order: one problem per column, that asks
            # for --date-order.
            code = "ambiguous_dates" if bad.code == "ambiguous_date" else bad.code
            self.problem(column, code, raw, bad.expected)
            return None


@dataclass
class Reader:
    """What every row of one file is read with: its columns, number style, dates' order and zone."""
    columns: Columns
    report: ImportReport
    decimal_comma: bool
    tz: Any
    date_order: str | None

    def row(self, line: int, cells: list[str]) -> Row:
        return Row(self, line, cells)

    # Parsers: raw text -> value, or ValueProblem(code, expected).
    def number(self, raw: str) -> float:
        return parse_number(raw, decimal_comma=self.decimal_comma)

    def quantity(self, field: str) -> Callable[[str], float | int]:
        """The parser of a numeric field: a number within the field's limits (store.values.LIMITS)."""
        return lambda raw: parse_quantity(field, raw, decimal_comma=self.decimal_comma)

    def date(self, raw: str):
        return parse_date(raw, self.tz, self.date_order)

    def datetime(self, raw: str):
        return parse_datetime(raw, self.tz, self.date_order)

    boolean = staticmethod(parse_bool)

    @staticmethod
    def text(limit: int) -> Callable[[str], str]:
        def read(raw: str) -> str:
            value = raw.strip()
            if len(value) > limit:
                raise ValueProblem("too_long", str(limit))
            return value
        return read

    @staticmethod
    def choice(words: dict[str, str | None], allowed: Iterable[str]) -> Callable[[str], Any]:
        """A value from a vendor vocabulary (name_key -> canonical value; None: says nothing)."""
        allowed_text = " | ".join(allowed)

        def read(raw: str) -> Any:
            key = name_key(raw)
            if key not in words:
                raise ValueProblem("bad_choice", allowed_text)
            return words[key]
        return read


def batches(rows: Iterable[tuple[int, list[str]]], size: int) -> Iterator[list[tuple[int, list[str]]]]:
    batch: list[tuple[int, list[str]]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
