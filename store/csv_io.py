"""CSV import and export of accounts, deals and stage history.

Imports read and check the whole file first and write nothing unless every row is clean (all or
nothing); they accept the exports of HubSpot, Salesforce and Dynamics 365 and French headers.
Reports carry codes and parameters only: the words a user reads live in the templates."""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

from sqlmodel import Session, select

from playbook.config import ACCOUNT_FIELDS, DERIVED_FIELDS
from store.models import ACCOUNT_STATUSES, DEAL_STATUSES, SECTORS, Account, Deal, StageVisit, utcnow
from store.queries import _chunks, audit, fold, jsonable, move_stage
from store.values import ValueProblem as _Bad, parse_bool, parse_date, parse_datetime, parse_number  # noqa: F401

Progress = Callable[[int, int], None]

MAX_CHANGES = 1000  # the report keeps this many row changes; the counts are always complete


# --- the report --------------------------------------------------------------------------------

@dataclass
class RowError:
    line: int  # 1-based line of the file (the header is line 1)
    column: str | None  # the header as written in the file; the canonical field for missing_column
    code: str  # missing_column, empty_file, unreadable_file, missing_value, bad_number, bad_date,
    # bad_choice, bad_bool, too_long, duplicate_row, unknown_account, unknown_deal, unknown_stage
    value: str | None = None
    expected: str | None = None


@dataclass
class ImportReport:
    kind: str  # accounts, deals, stages
    file: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    written: bool = False
    columns_mapped: dict[str, str] = field(default_factory=dict)  # header -> canonical field
    custom_columns: list[str] = field(default_factory=list)  # keys kept in Account.custom
    ignored_columns: list[str] = field(default_factory=list)  # headers not imported
    changes: list[dict[str, Any]] = field(default_factory=list)
    changes_omitted: int = 0
    errors: list[RowError] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def _change(self, line: int, name: str, action: str, fields: dict[str, list]) -> None:
        if len(self.changes) >= MAX_CHANGES:
            self.changes_omitted += 1
            return
        self.changes.append({"line": line, "name": name, "action": action, "fields": jsonable(fields)})


# --- header aliases ----------------------------------------------------------------------------
# Written loosely; compared after _key() (accents, case, punctuation and camelCase ignored). When
# several headers of one file name the same field, the one earlier in the list wins and the
# others are ignored (e.g. Dynamics "Relationship Type" beats its account "Status" Active/Inactive).

ACCOUNT_ALIASES: dict[str, list[str]] = {
    "name": ["name", "nom", "account name", "company name", "nom du compte", "nom de l'entreprise",
             "nom de la société", "raison sociale", "company", "account", "entreprise", "société", "compte"],
    "owner": ["owner", "propriétaire", "account owner", "company owner", "owner name",
              "propriétaire du compte", "propriétaire de l'entreprise", "responsable du compte",
              "responsable", "commercial"],
    "status": ["relationship type", "type de relation", "lifecycle stage", "phase du cycle de vie",
               "status", "statut", "account status", "statut du compte", "type", "account type",
               "type de compte"],
    "industry": ["industry", "secteur d'activité", "industrie", "activité"],
    "region": ["region", "région", "country/region", "pays/région", "country", "pays",
               "billing country", "pays de facturation", "address 1: country/region",
               "adresse 1 : pays/région", "address 1: country", "territory", "territoire"],
    "sector": ["sector", "secteur", "type de secteur", "public/private", "public/privé"],
    "annual_revenue": ["annual revenue", "revenue", "chiffre d'affaires annuel", "chiffre d'affaires",
                       "ca annuel", "ca", "revenu annuel"],
    "employees": ["employees", "number of employees", "employee count", "headcount",
                  "nombre d'employés", "employés", "effectif", "effectifs", "nombre de salariés", "salariés"],
    "margin_pct": ["margin_pct", "margin %", "margin", "margin percent", "marge %", "marge", "taux de marge"],
    "exec_sponsor": ["exec_sponsor", "executive sponsor", "sponsor exécutif", "sponsor exec", "sponsor"],
    "last_contact": ["last_contact", "last contacted", "last contact date", "last activity date",
                     "last activity", "dernier contact", "date du dernier contact", "dernière activité",
                     "date de dernière activité", "date de la dernière activité"],
    "lifetime_value": ["lifetime_value", "customer lifetime value", "ltv", "clv", "valeur vie client",
                       "valeur à vie", "valeur vie", "valeur client"],
}

DEAL_ALIASES: dict[str, list[str]] = {
    "name": ["name", "nom", "deal name", "opportunity name", "topic", "nom de la transaction",
             "nom de l'opportunité", "nom de l'affaire", "rubrique", "sujet", "deal", "opportunity",
             "transaction", "opportunité", "affaire"],
    "account": ["account", "compte", "account name", "nom du compte", "associated company",
                "associated company (primary)", "entreprise associée", "entreprise associée (principale)",
                "potential customer", "client potentiel", "company", "company name", "entreprise",
                "société", "client", "customer"],
    "owner": ["owner", "propriétaire", "deal owner", "opportunity owner", "propriétaire de la transaction",
              "propriétaire de l'opportunité", "responsable", "commercial"],
    "stage": ["stage", "étape", "deal stage", "stage name", "phase de la transaction", "étape de la transaction",
              "pipeline phase", "phase du pipeline", "sales stage", "étape commerciale", "étape de vente", "phase"],
    "stage_entered": ["stage_entered", "stage entered at", "entered stage", "stage date", "last stage change date",
                      "date d'entrée dans l'étape", "entrée dans l'étape", "entrée étape", "date de l'étape"],
    "amount": ["amount", "montant", "est. revenue", "estimated revenue", "chiffre d'affaires estimé",
               "revenu estimé", "montant estimé", "deal value", "value", "valeur"],
    "close_date": ["close_date", "close date", "est. close date", "estimated close date", "expected close date",
                   "date de clôture", "date de clôture estimée", "date de fermeture", "clôture"],
    "status": ["status", "statut", "deal status", "opportunity status", "état", "status reason",
               "raison du statut"],
}

STAGE_ALIASES: dict[str, list[str]] = {
    "deal": ["deal", "deal name", "opportunity name", "opportunity", "topic", "name", "transaction",
             "nom de la transaction", "opportunité", "nom de l'opportunité", "affaire", "nom"],
    "stage": ["to stage", "stage", "étape", "deal stage", "stage name", "pipeline phase", "phase",
              "vers l'étape", "étape de la transaction", "phase de la transaction"],
    "entered_at": ["entered_at", "entered at", "date entered", "entered", "stage entered", "stage entered at",
                   "edit date", "changed at", "change date", "date", "date d'entrée", "entrée",
                   "date d'entrée dans l'étape", "date de changement"],
}

ACCOUNT_REQUIRED = ("name",)
DEAL_REQUIRED = ("name", "account", "stage")
STAGE_REQUIRED = ("deal", "stage", "entered_at")

ACCOUNT_COLUMNS = tuple(ACCOUNT_FIELDS)
DEAL_COLUMNS = ("name", "account", "owner", "stage", "stage_entered", "amount", "close_date", "status")
MAX_LENGTHS = {"name": 200, "owner": 120, "industry": 120, "region": 120}

# Vendor and French values, compared after _key().
ACCOUNT_STATUS_VALUES = {
    "customer": ["customer", "customers", "client", "clients", "cliente", "customer - direct",
                 "customer - channel", "current customer", "active customer", "client actif", "evangelist",
                 "évangéliste"],
    "prospect": ["prospect", "prospects", "lead", "subscriber", "abonné", "marketing qualified lead",
                 "sales qualified lead", "lead qualifié marketing", "lead qualifié commercial", "mql", "sql",
                 "opportunity", "opportunité", "other", "autre"],
    "former": ["former", "former customer", "ex-customer", "ex customer", "past customer", "lost customer",
               "churned", "churned customer", "ex-client", "ancien client", "ancienne cliente", "ancien",
               "client perdu"],
}
SECTOR_VALUES = {
    "commercial": ["commercial", "private", "private sector", "privé", "secteur privé"],
    "public": ["public", "public sector", "secteur public", "government", "gouvernement",
               "administration", "administration publique"],
}
DEAL_STATUS_VALUES = {
    "open": ["open", "opened", "in progress", "active", "ouvert", "ouverte", "en cours", "actif"],
    "won": ["won", "closed won", "closedwon", "gagné", "gagnée", "fermé gagné", "conclu gagné", "signé", "signed"],
    "lost": ["lost", "closed lost", "closedlost", "perdu", "perdue", "fermé perdu", "conclu perdu", "canceled",
             "cancelled", "annulé", "annulée", "out-sold", "abandonné", "abandoned"],
    "nurture": ["nurture", "nurturing", "on hold", "en attente", "en pause"],
}


def _key(text: str) -> str:
    """'Address 1: Country/Region' -> 'address 1 country region'; 'NumberOfEmployees' -> 'number of employees'."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", text or "")
    return re.sub(r"[^0-9a-z]+", " ", fold(text)).strip()


def _alias_table(aliases: dict[str, list[str]]) -> dict[str, tuple[str, int]]:
    table: dict[str, tuple[str, int]] = {}
    for fname, names in aliases.items():
        if _key(fname) not in {_key(n) for n in names}:
            names = [fname, *names]
        for rank, alias in enumerate(names):
            k = _key(alias)
            if k in table and table[k][0] != fname:
                raise AssertionError(f"alias {alias!r} names both {table[k][0]} and {fname}")
            table.setdefault(k, (fname, rank))
    return table


def _value_table(values: dict[str, list[str]]) -> dict[str, str]:
    return {_key(v): canonical for canonical, words in values.items() for v in [canonical, *words]}


_ACCOUNT_TABLE = _alias_table(ACCOUNT_ALIASES)
_DEAL_TABLE = _alias_table(DEAL_ALIASES)
_STAGE_TABLE = _alias_table(STAGE_ALIASES)
_ACCOUNT_STATUS = _value_table(ACCOUNT_STATUS_VALUES)
_SECTOR = _value_table(SECTOR_VALUES)
_DEAL_STATUS = _value_table(DEAL_STATUS_VALUES)


def custom_key(header: str) -> str:
    """The key a non-canonical column is kept under: 'Churn reason' -> 'churn_reason', 'NPS' -> 'nps'."""
    return _key(header).replace(" ", "_")


# --- reading the file --------------------------------------------------------------------------

@dataclass
class _Table:
    headers: list[str]
    header_line: int
    rows: list[tuple[int, list[str]]]  # (file line, cells), blank lines dropped
    decimal_comma: bool


def _source_name(source: Any) -> str:
    if isinstance(source, (str, Path)):
        return str(source)
    return str(getattr(source, "name", "") or "-")


def _decode(data: bytes, report: ImportReport) -> str | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel "Unicode text"
        try:
            report.encoding = "utf-16"
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if data.startswith(b"PK\x03\x04") or b"\x00" in data[:4096]:  # .xlsx or other binary
        return None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            report.encoding = "utf-8" if encoding == "utf-8-sig" else encoding
            return text
        except UnicodeDecodeError:
            continue
    return None


def _read_text(source: Any, report: ImportReport) -> str | None:
    try:
        if isinstance(source, (str, Path)):
            data: Any = Path(source).expanduser().read_bytes()
        else:
            data = source.read()
    except (OSError, UnicodeDecodeError):
        report.errors.append(RowError(1, None, "unreadable_file"))
        return None
    if isinstance(data, bytes):
        text = _decode(data, report)
    else:
        text = str(data)
        report.encoding = getattr(source, "encoding", None) or "text"
    if text is None or "\x00" in text:
        report.errors.append(RowError(1, None, "unreadable_file"))
        return None
    return text.lstrip("\ufeff")


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


def _read_table(source: Any, report: ImportReport) -> _Table | None:
    text = _read_text(source, report)
    if text is None:
        return None
    lines = text.splitlines()
    skip = 0
    while skip < len(lines) and not lines[skip].strip():
        skip += 1
    if skip == len(lines):
        report.errors.append(RowError(1, None, "empty_file"))
        return None
    first = lines[skip].strip()
    sep_line = re.fullmatch(r'"?sep=(.)"?', first, flags=re.I)  # Excel's "sep=;" hint line
    if sep_line:
        delimiter = sep_line.group(1)
    else:
        delimiter = _sniff(first)
    report.delimiter = delimiter
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers: list[str] | None = None
    header_line = 0
    rows: list[tuple[int, list[str]]] = []
    try:
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            if not any(c.strip() for c in cells):
                continue
            if sep_line and headers is None:
                sep_line = None
                continue
            if headers is None:
                headers, header_line = [c.strip().lstrip("\ufeff") for c in cells], start
            else:
                rows.append((start, cells))
    except csv.Error:
        report.errors.append(RowError(reader.line_num or 1, None, "unreadable_file"))
        return None
    if headers is None or not rows:
        report.errors.append(RowError(header_line or 1, None, "empty_file"))
        return None
    report.rows = len(rows)
    # "$1,200" style amounts are the norm in comma files; French Excel (";") writes "1 200,50".
    return _Table(headers, header_line, rows, decimal_comma=delimiter == ";")


@dataclass
class _Mapping:
    fields: dict[str, int]  # canonical field -> column index
    headers: dict[str, str]  # canonical field -> header as written
    custom: dict[str, tuple[int, str]]  # custom key -> (column index, header)


def _map_columns(table: _Table, aliases: dict[str, tuple[str, int]], required: Iterable[str],
                 report: ImportReport, *, custom_kinds: dict[str, str] | None = None) -> _Mapping | None:
    """Which column feeds which field. custom_kinds (accounts only) lists the playbook's own fields;
    other unknown columns become custom too when custom_kinds is given, else they are ignored."""
    best: dict[str, tuple[int, int]] = {}  # field -> (rank, index)
    custom: dict[str, tuple[int, str]] = {}
    ignored: list[str] = []
    for index, header in enumerate(table.headers):
        k = _key(header)
        if not k:
            if header:
                ignored.append(header)
            continue
        ckey = k.replace(" ", "_")
        if custom_kinds is not None and ckey in custom_kinds:
            # A field the playbook declares beats an alias ("revenue" declared in [fields] stays custom).
            if ckey in custom:
                ignored.append(header)
            else:
                custom[ckey] = (index, header)
            continue
        hit = aliases.get(k)
        if hit:
            fname, rank = hit
            if fname not in best or rank < best[fname][0]:
                if fname in best:
                    ignored.append(table.headers[best[fname][1]])
                best[fname] = (rank, index)
            else:
                ignored.append(header)
            continue
        if custom_kinds is None or ckey in DERIVED_FIELDS or ckey in custom:
            ignored.append(header)
        else:
            custom[ckey] = (index, header)
    for fname in required:
        if fname not in best:
            report.errors.append(RowError(table.header_line, fname, "missing_column"))
    fields = {f: i for f, (_, i) in best.items()}
    report.columns_mapped = {table.headers[i]: f for f, i in sorted(fields.items(), key=lambda kv: kv[1])}
    report.custom_columns = list(custom)
    report.ignored_columns = [h for h in table.headers if h in ignored]
    if report.errors:
        return None
    return _Mapping(fields, {f: table.headers[i] for f, i in fields.items()}, custom)


def _tick(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None and (done == total or done % max(1, total // 100) == 0):
        progress(done, total)


# --- reading values ----------------------------------------------------------------------------

def _first_occurrence(seen: dict[str, int], name: str | None, line: int, row, header: str | None) -> None:
    """A name met twice in one file is a bad row (the report names the first line)."""
    if not name:
        return
    key = fold(name)
    if key in seen:
        row.error(header, "duplicate_row", name, str(seen[key]))
    else:
        seen[key] = line


def _choice(raw: str, table: dict[str, str], allowed: Iterable[str]) -> str:
    hit = table.get(_key(raw))
    if hit is None:
        raise _Bad("bad_choice", " | ".join(allowed))
    return hit


def _text(raw: str, fname: str) -> str:
    value = raw.strip()
    limit = MAX_LENGTHS.get(fname)
    if limit and len(value) > limit:
        raise _Bad("too_long", str(limit))
    return value


def _typed_custom(raw: str, kind: str | None, decimal_comma: bool, tz) -> Any:
    """A custom column's value as stored: typed when the playbook declares its kind (as the chat
    `set` command stores it), else the text as written."""
    if kind == "number":
        return parse_number(raw, decimal_comma=decimal_comma)
    if kind == "bool":
        return parse_bool(raw)
    if kind == "date":
        return parse_date(raw, tz).isoformat()
    return raw.strip()


class _RowReader:
    """Reads the cells of one row into typed values, collecting every error of the row."""

    def __init__(self, table: _Table, mapping: _Mapping, report: ImportReport, line: int, cells: list[str]):
        self.table, self.mapping, self.report, self.line, self.cells = table, mapping, report, line, cells
        self.bad = False

    def raw(self, fname: str) -> str:
        index = self.mapping.fields.get(fname)
        if index is None or index >= len(self.cells):
            return ""
        return self.cells[index].strip()

    def error(self, column: str | None, code: str, value: str | None = None, expected: str | None = None) -> None:
        self.bad = True
        self.report.errors.append(RowError(self.line, column, code, value, expected))

    def get(self, fname: str, parse: Callable[[str], Any], *, required: bool = False) -> Any:
        raw = self.raw(fname)
        if not raw:
            if required:
                self.error(self.mapping.headers.get(fname, fname), "missing_value")
            return None
        try:
            return parse(raw)
        except _Bad as bad:
            self.error(self.mapping.headers[fname], bad.code, raw, bad.expected)
            return None


def _account_parsers(decimal_comma: bool, tz) -> dict[str, Callable[[str], Any]]:
    def number(raw: str) -> float:
        return parse_number(raw, decimal_comma=decimal_comma)

    def whole(raw: str) -> int:
        value = number(raw)
        if not value.is_integer():
            raise _Bad("bad_number", "integer")
        return int(value)

    return {
        "name": lambda raw: _text(raw, "name"),
        "owner": lambda raw: _text(raw, "owner"),
        "status": lambda raw: _choice(raw, _ACCOUNT_STATUS, ACCOUNT_STATUSES),
        "industry": lambda raw: _text(raw, "industry"),
        "region": lambda raw: _text(raw, "region"),
        "sector": lambda raw: _choice(raw, _SECTOR, SECTORS),
        "annual_revenue": number,
        "employees": whole,
        "margin_pct": number,
        "exec_sponsor": parse_bool,
        "last_contact": lambda raw: parse_date(raw, tz),
        "lifetime_value": number,
    }


def _custom_kinds(playbook) -> dict[str, str]:
    return {k: v for k, v in playbook.field_types.items() if k not in ACCOUNT_FIELDS and k not in DERIVED_FIELDS}


def _aware(now: datetime | None) -> datetime:
    now = now or datetime.now(timezone.utc)
    return now if now.tzinfo else now.replace(tzinfo=timezone.utc)


# --- accounts ----------------------------------------------------------------------------------

def import_accounts(session: Session, source: Any, *, playbook, actor: str, dry_run: bool = False,
                    progress: Progress | None = None, now: datetime | None = None) -> ImportReport:
    report = ImportReport(kind="accounts", file=_source_name(source), dry_run=dry_run)
    table = _read_table(source, report)
    if table is None:
        return report
    kinds = _custom_kinds(playbook)
    mapping = _map_columns(table, _ACCOUNT_TABLE, ACCOUNT_REQUIRED, report, custom_kinds=kinds)
    if mapping is None:
        return report
    tz = playbook.tz
    parsers = _account_parsers(table.decimal_comma, tz)
    existing: dict[str, Account] = {}
    for acc in session.exec(select(Account)):
        existing.setdefault(fold(acc.name), acc)

    seen: dict[str, int] = {}
    plans: list[tuple[int, str, Account | None, dict[str, Any], dict[str, Any]]] = []
    total = len(table.rows)
    for done, (line, cells) in enumerate(table.rows, 1):
        row = _RowReader(table, mapping, report, line, cells)
        values = {f: row.get(f, parsers[f], required=f in ACCOUNT_REQUIRED) for f in mapping.fields}
        custom: dict[str, Any] = {}
        for ckey, (index, header) in mapping.custom.items():
            raw = cells[index].strip() if index < len(cells) else ""
            if not raw:
                continue
            try:
                custom[ckey] = _typed_custom(raw, kinds.get(ckey), table.decimal_comma, tz)
            except _Bad as bad:
                row.error(header, bad.code, raw, bad.expected)
        name = values.get("name")
        _first_occurrence(seen, name, line, row, mapping.headers.get("name"))
        if not row.bad:
            plans.append((line, name, existing.get(fold(name)), values, custom))
        _tick(progress, done, total)
    if report.errors:
        return report

    creates: list[tuple[Account, dict[str, list]]] = []
    updates: list[tuple[Account, dict[str, Any], dict[str, Any], dict[str, list]]] = []
    for line, name, acc, values, custom in plans:
        if acc is None:
            fields = {f: v for f, v in values.items() if v is not None}
            fields.setdefault("status", "prospect")
            diff = {f: [None, v] for f, v in fields.items()} | {k: [None, v] for k, v in custom.items()}
            report.created += 1
            report._change(line, name, "create", diff)
            creates.append((Account(**fields, custom=custom), diff))
            continue
        diff = {}
        for fname, value in values.items():
            if fname == "name" or value is None:
                continue
            old = getattr(acc, fname)
            if old != value:
                diff[fname] = [old, value]
        stored = dict(acc.custom or {})
        custom_diff = {k: [stored.get(k), v] for k, v in custom.items() if stored.get(k) != v}
        if not diff and not custom_diff:
            report.unchanged += 1
            continue
        report.updated += 1
        report._change(line, acc.name, "update", diff | custom_diff)
        updates.append((acc, {f: v for f, (_, v) in diff.items()}, {k: v for k, (_, v) in custom_diff.items()},
                        diff | custom_diff))

    if dry_run:
        return report
    stamp = utcnow()
    for acc, fields, custom, diff in updates:
        for fname, value in fields.items():
            setattr(acc, fname, value)
        if custom:
            acc.custom = dict(acc.custom or {}) | custom
        acc.updated_at = stamp
        session.add(acc)
    session.add_all([acc for acc, _ in creates])
    session.flush()
    for acc, diff in creates:
        audit(session, actor, "account", "create", entity_id=acc.id, entity_name=acc.name, changes=diff)
    for acc, _, _, diff in updates:
        audit(session, actor, "account", "update", entity_id=acc.id, entity_name=acc.name, changes=diff)
    session.flush()
    report.written = True
    return report


# --- deals -------------------------------------------------------------------------------------

def _strip_rank(text: str) -> str:
    """Dynamics pipeline phases read '2-Develop'; some CRMs number their stages '3. Proposal'."""
    return re.sub(r"^\s*\d+\s*[-.):]\s*", "", text)


def _find_stage(playbook, raw: str):
    return playbook.find_stage(raw) or playbook.find_stage(_strip_rank(raw))


def import_deals(session: Session, source: Any, *, playbook, actor: str, dry_run: bool = False,
                 progress: Progress | None = None, now: datetime | None = None) -> ImportReport:
    report = ImportReport(kind="deals", file=_source_name(source), dry_run=dry_run)
    table = _read_table(source, report)
    if table is None:
        return report
    mapping = _map_columns(table, _DEAL_TABLE, DEAL_REQUIRED, report)
    if mapping is None:
        return report
    now = _aware(now)
    tz = playbook.tz
    stage_ids = " | ".join(s.id for s in playbook.stages)
    accounts: dict[str, int] = {}
    account_names: dict[int, str] = {}
    for a_id, a_name in session.exec(select(Account.id, Account.name)):
        accounts.setdefault(fold(a_name), a_id)
        account_names[a_id] = a_name
    existing: dict[str, Deal] = {}
    for deal in session.exec(select(Deal)):
        existing.setdefault(fold(deal.name), deal)

    def number(raw: str) -> float:
        return parse_number(raw, decimal_comma=table.decimal_comma)

    seen: dict[str, int] = {}
    plans = []
    total = len(table.rows)
    for done, (line, cells) in enumerate(table.rows, 1):
        row = _RowReader(table, mapping, report, line, cells)
        name = row.get("name", lambda raw: _text(raw, "name"), required=True)
        account_id = None
        account_raw = row.get("account", str.strip, required=True)
        if account_raw:
            account_id = accounts.get(fold(account_raw))
            if account_id is None:
                row.error(mapping.headers["account"], "unknown_account", account_raw)
        owner = row.get("owner", lambda raw: _text(raw, "owner"))
        amount = row.get("amount", number)
        close_date = row.get("close_date", lambda raw: parse_date(raw, tz))
        entered = row.get("stage_entered", lambda raw: parse_datetime(raw, tz))
        status = row.get("status", lambda raw: _choice(raw, _DEAL_STATUS, DEAL_STATUSES))
        stage_raw = row.get("stage", str.strip, required=True)
        stage_id = closed_as = None
        if stage_raw:
            stage = _find_stage(playbook, stage_raw)
            if stage is not None:
                stage_id = stage.id
            else:
                # HubSpot and Salesforce keep "Closed Won" / "Closed Lost" among the stages.
                closed_as = _DEAL_STATUS.get(_key(stage_raw))
                if closed_as not in ("won", "lost"):
                    closed_as = None
                    row.error(mapping.headers["stage"], "unknown_stage", stage_raw, stage_ids)
        _first_occurrence(seen, name, line, row, mapping.headers.get("name"))
        if not row.bad:
            deal = existing.get(fold(name))
            if closed_as:
                status = status or closed_as
                stage_id = deal.stage if deal is not None else playbook.stages[-1].id
            plans.append((line, name, deal, {"account_id": account_id, "owner": owner, "stage": stage_id,
                                             "amount": amount, "close_date": close_date, "status": status},
                          entered))
        _tick(progress, done, total)
    if report.errors:
        return report

    creates, updates = [], []
    for line, name, deal, values, entered in plans:
        if deal is None:
            fields = {f: v for f, v in values.items() if v is not None}
            fields.setdefault("status", "open")
            diff = {"account": [None, account_names[values["account_id"]]]}
            diff |= {f: [None, v] for f, v in fields.items() if f != "account_id"}
            report.created += 1
            report._change(line, name, "create", diff)
            creates.append((Deal(name=name, **fields), entered or now, diff))
            continue
        diff = {}
        for fname, value in values.items():
            old = getattr(deal, fname)
            if value is None or old == value:
                continue
            if fname == "account_id":
                diff["account"] = [account_names.get(old), account_names[value]]
            else:
                diff[fname] = [old, value]
        if not diff:
            report.unchanged += 1
            continue
        report.updated += 1
        report._change(line, deal.name, "update", diff)
        updates.append((deal, {f: v for f, v in values.items() if v is not None}, entered or now, diff))

    if dry_run:
        return report
    stamp = utcnow()
    for deal, values, at, diff in updates:
        if values["stage"] != deal.stage:
            move_stage(session, deal, values["stage"], at, actor)  # closes the visit, audits the move
        for fname, value in values.items():
            if fname != "stage":
                setattr(deal, fname, value)
        deal.updated_at = stamp
        session.add(deal)
        rest = {k: v for k, v in diff.items() if k != "stage"}
        if rest:
            audit(session, actor, "deal", "update", entity_id=deal.id, entity_name=deal.name, changes=rest)
    session.add_all([deal for deal, _, _ in creates])
    session.flush()
    for deal, at, diff in creates:
        session.add(StageVisit(deal_id=deal.id, stage=deal.stage, entered_at=at))
        audit(session, actor, "deal", "create", entity_id=deal.id, entity_name=deal.name, changes=diff)
    session.flush()
    report.written = True
    return report


# --- stage history -----------------------------------------------------------------------------

def import_stage_history(session: Session, source: Any, *, playbook, actor: str, dry_run: bool = False,
                         progress: Progress | None = None, now: datetime | None = None) -> ImportReport:
    """Upserts visits by (deal, stage, entered_at), then chains each touched deal's visits: a visit
    ends when the next begins, the last stays open while the deal is open, and the deal's stage is
    the last visit's. A later visit at the same stage that the file does not list (the one a deal
    import opened) is merged into the earlier one."""
    report = ImportReport(kind="stages", file=_source_name(source), dry_run=dry_run)
    table = _read_table(source, report)
    if table is None:
        return report
    mapping = _map_columns(table, _STAGE_TABLE, STAGE_REQUIRED, report)
    if mapping is None:
        return report
    tz = playbook.tz
    stage_ids = " | ".join(s.id for s in playbook.stages)
    deals: dict[str, Deal] = {}
    for deal in session.exec(select(Deal)):
        deals.setdefault(fold(deal.name), deal)

    seen: dict[tuple[int, datetime], int] = {}
    rows: list[tuple[int, Deal, str, datetime]] = []
    total = len(table.rows)
    for done, (line, cells) in enumerate(table.rows, 1):
        row = _RowReader(table, mapping, report, line, cells)
        deal_raw = row.get("deal", str.strip, required=True)
        deal = None
        if deal_raw:
            deal = deals.get(fold(deal_raw))
            if deal is None:
                row.error(mapping.headers["deal"], "unknown_deal", deal_raw)
        stage_raw = row.get("stage", str.strip, required=True)
        stage = _find_stage(playbook, stage_raw) if stage_raw else None
        if stage_raw and stage is None:
            row.error(mapping.headers["stage"], "unknown_stage", stage_raw, stage_ids)
        entered = row.get("entered_at", lambda raw: parse_datetime(raw, tz), required=True)
        if deal is not None and entered is not None:
            # A deal cannot enter two stages at the same instant.
            if (deal.id, entered) in seen:
                row.error(mapping.headers["entered_at"], "duplicate_row", row.raw("entered_at"),
                          str(seen[(deal.id, entered)]))
            else:
                seen[(deal.id, entered)] = line
        if not row.bad:
            rows.append((line, deal, stage.id, entered))
        _tick(progress, done, total)
    if report.errors:
        return report

    by_deal: dict[int, list[StageVisit]] = {}
    for chunk in _chunks(sorted({d.id for _, d, _, _ in rows})):
        for visit in session.exec(select(StageVisit).where(StageVisit.deal_id.in_(chunk))):
            by_deal.setdefault(visit.deal_id, []).append(visit)
    known = {(v.deal_id, v.stage, v.entered_at) for visits in by_deal.values() for v in visits}
    listed: set[tuple[int, str, datetime]] = set()
    new_visits: list[StageVisit] = []
    for line, deal, stage_id, entered in rows:
        listed.add((deal.id, stage_id, entered))
        if (deal.id, stage_id, entered) in known:
            report.unchanged += 1
            continue
        report.created += 1
        report._change(line, deal.name, "create", {"stage": [None, stage_id], "entered_at": [None, entered]})
        visit = StageVisit(deal_id=deal.id, stage=stage_id, entered_at=entered)
        new_visits.append(visit)
        by_deal.setdefault(deal.id, []).append(visit)
    if dry_run:
        return report

    touched = {d.id: d for _, d, _, _ in rows}
    session.add_all(new_visits)
    for deal_id, deal in touched.items():
        visits = sorted(by_deal[deal_id], key=lambda v: (v.entered_at, v.id or 0))
        kept: list[StageVisit] = []
        removed = []
        for visit in visits:
            is_listed = (deal_id, visit.stage, visit.entered_at) in listed
            if kept and kept[-1].stage == visit.stage and not is_listed and visit.id is not None:
                session.delete(visit)
                removed.append([visit.stage, visit.entered_at])
                continue
            kept.append(visit)
        for visit, following in zip(kept, kept[1:] + [None]):
            if following is not None:
                left = following.entered_at
            else:
                left = None if deal.status == "open" else visit.left_at
            if visit.left_at != left:
                visit.left_at = left
                session.add(visit)
        added = [[v.stage, v.entered_at] for v in new_visits if v.deal_id == deal_id]
        changes: dict[str, Any] = {}
        if added:
            changes["visits_added"] = added
        if removed:
            changes["visits_merged"] = removed
        last_stage = kept[-1].stage
        if deal.stage != last_stage:
            changes["stage"] = [deal.stage, last_stage]
            deal.stage = last_stage
            deal.updated_at = utcnow()
            session.add(deal)
        if changes:
            audit(session, actor, "deal", "stage_history", entity_id=deal.id, entity_name=deal.name,
                  changes=changes)
    session.flush()
    report.written = True
    return report


# --- export ------------------------------------------------------------------------------------

def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _writer(out) -> Any:
    # "\n": the caller's text file translates line ends as its platform wants.
    return csv.writer(out, lineterminator="\n")


def export_accounts(session: Session, out) -> int:
    """Canonical columns, then the custom keys (union over accounts, sorted). Returns rows written."""
    accounts = list(session.exec(select(Account).order_by(Account.name)))
    custom_keys = sorted({k for a in accounts for k in (a.custom or {})} - set(ACCOUNT_COLUMNS))
    writer = _writer(out)
    writer.writerow([*ACCOUNT_COLUMNS, *custom_keys])
    for a in accounts:
        custom = a.custom or {}
        writer.writerow([_cell(getattr(a, f)) for f in ACCOUNT_COLUMNS] + [_cell(custom.get(k)) for k in custom_keys])
    return len(accounts)


def export_deals(session: Session, out) -> int:
    deals = list(session.exec(select(Deal).order_by(Deal.name)))
    names = dict(session.exec(select(Account.id, Account.name)).all())
    entered: dict[int, dict[str, datetime]] = {}
    visits = session.exec(select(StageVisit.deal_id, StageVisit.stage, StageVisit.entered_at)
                          .order_by(StageVisit.entered_at))
    for deal_id, stage, at in visits:
        entered.setdefault(deal_id, {})[stage] = at  # the latest stay at each stage
    writer = _writer(out)
    writer.writerow(DEAL_COLUMNS)
    for d in deals:
        writer.writerow([_cell(v) for v in (d.name, names.get(d.account_id), d.owner, d.stage,
                                            entered.get(d.id, {}).get(d.stage), d.amount, d.close_date, d.status)])
    return len(deals)


NURTURE_COLUMNS = ("deal", "account", "owner", "kind", "stage", "amount", "reason", "since", "industry", "region",
                   "account_owner", "account_status")


def export_nurture(session: Session, out) -> int:
    """The deals in marketing nurture, for a marketing tool: the deal, its account's descriptive
    fields, why it left the pipeline and since when. Returns rows written."""
    deals = list(session.exec(select(Deal).where(Deal.status == "nurture").order_by(Deal.name)))
    accounts = {a.id: a for a in session.exec(select(Account).where(Account.id.in_(
        [d.account_id for d in deals if d.account_id] or [-1])))}
    since: dict[int, datetime] = {}
    for chunk in _chunks([d.id for d in deals]):
        for deal_id, at in session.exec(select(StageVisit.deal_id, StageVisit.entered_at)
                                        .where(StageVisit.deal_id.in_(chunk), StageVisit.stage == "nurture",
                                               StageVisit.left_at.is_(None))):
            since[deal_id] = at
    writer = _writer(out)
    writer.writerow(NURTURE_COLUMNS)
    for d in deals:
        a = accounts.get(d.account_id)
        writer.writerow([_cell(v) for v in (
            d.name, a.name if a else None, d.owner, getattr(d, "kind", None), d.stage, d.amount, d.nurture_reason,
            since.get(d.id) or d.updated_at, a.industry if a else None, a.region if a else None,
            a.owner if a else None, a.status if a else None)])
    return len(deals)
