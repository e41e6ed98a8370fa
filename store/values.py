"""Reading values as people write them, in chat or in a CRM export: "1 234,56", "$1,200",
"12 %", "oui", "2026-03-01", "2026-03-01T10:00Z", "5/20/2024 7:42 PM", "20/05/2024". One reader
for the CSV import and the chat commands. A value that cannot be read raises ValueProblem with a code and what was expected
(a kind the templates put in words: number, integer, yes_no, date; or the allowed values)."""
from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timezone

from playbook.words import FALSE_WORDS, TRUE_WORDS, fold


class ValueProblem(ValueError):
    def __init__(self, code: str, expected: str | None = None):
        super().__init__(code)
        self.code, self.expected = code, expected


_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_MONEY_MARKS = re.compile(r"[€$£¥%]|(?<![a-z])(?:eur|usd|gbp|chf|cad|aud|jpy)(?![a-z])", re.I)


def parse_number(raw: str, *, decimal_comma: bool = False) -> float:
    """'1 234,56', '1,234.56', '$1,200', '12 %', '€ 3 000', '(250)', '-4.5e3'. A lone comma before three
    digits ('1,200') groups thousands, unless the file is French-style (decimal_comma)."""
    s = raw.strip().replace("\u2212", "-")
    if not _PLAIN_NUMBER.fullmatch(s):
        s = _normalize_number(s, decimal_comma)
    try:
        value = float(s)
    except ValueError:
        raise ValueProblem("bad_number", "number") from None
    if not math.isfinite(value):
        raise ValueProblem("bad_number", "number")
    return value


def _normalize_number(s: str, decimal_comma: bool) -> str:
    if "$" in s or "£" in s:
        decimal_comma = False
    s = _MONEY_MARKS.sub("", s)
    s = re.sub(r"[\s\u00a0\u202f\u2009']", "", s)
    negative = s.startswith("(") and s.endswith(")")  # accounting style
    if negative:
        s = s[1:-1]
    m = re.fullmatch(r"([+-]?)(\d[\d.,]*)", s)
    if not m or (negative and m.group(1)):
        raise ValueProblem("bad_number", "number")
    sign, digits = m.groups()
    sign = "-" if negative else sign
    if "," in digits and "." in digits:
        decimal, thousands = (",", ".") if digits.rfind(",") > digits.rfind(".") else (".", ",")
        if not re.fullmatch(rf"\d{{1,3}}(\{thousands}\d{{3}})+\{decimal}\d+", digits):
            raise ValueProblem("bad_number", "number")
        digits = digits.replace(thousands, "").replace(decimal, ".")
    elif digits.count(",") > 1 or digits.count(".") > 1:
        sep = "," if "," in digits else "."
        if not re.fullmatch(rf"\d{{1,3}}(\{sep}\d{{3}})+", digits):
            raise ValueProblem("bad_number", "number")
        digits = digits.replace(sep, "")
    elif "," in digits:
        thousands = not decimal_comma and re.fullmatch(r"\d{1,3},\d{3}", digits)
        digits = digits.replace(",", "" if thousands else ".")
    if not re.fullmatch(r"\d+(\.\d*)?", digits):
        raise ValueProblem("bad_number", "number")
    return sign + digits


def parse_bool(raw: str) -> bool:
    k = fold(raw)
    if k in TRUE_WORDS:
        return True
    if k in FALSE_WORDS:
        return False
    raise ValueProblem("bad_bool", "yes_no")


_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?\s*(Z|[+-]\d{2}(:?\d{2})?)?", re.I)
# 5/20/2024, 20/05/2024, 20.05.2024, 5/20/2024 7:42 PM, 20/05/2024 19:42:10 (US or European exports).
_NUMERIC_RE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})"
                         r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([AaPp]\.?[Mm]\.?)?)?")
DATE_ORDERS = ("mdy", "dmy")


def date_order_of(raw: str) -> str | None:
    """Which order a written date proves: "mdy" (5/20/2024), "dmy" (20/05/2024, or dotted
    20.05.2024, the European way), "ambiguous" (03/04/2024), "any" (05/05/2024: the same day
    either way); None when it is no day-month-year date (ISO, empty, or not a date)."""
    m = _NUMERIC_RE.fullmatch(raw.strip())
    if not m:
        return None
    a, sep, b = int(m.group(1)), m.group(2), int(m.group(3))
    if sep == "." or a > 12:
        return "dmy"
    if b > 12:
        return "mdy"
    return "any" if a == b else "ambiguous"


def _parse_numeric(m: re.Match, order: str | None) -> date | datetime:
    a, b, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
    proven = date_order_of(m.group(0))
    if proven in ("mdy", "dmy") and order is not None and proven != order and m.group(2) != ".":
        raise ValueProblem("bad_date", f"date_{order}")
    order = "dmy" if m.group(2) == "." else (order or (proven if proven in DATE_ORDERS else None))
    if order is None:
        if proven != "any":
            raise ValueProblem("ambiguous_date", "date")  # 03/04/2024 alone says neither March nor April
        order = "mdy"
    month, day = (a, b) if order == "mdy" else (b, a)
    day_value = date(year, month, day)
    if m.group(5) is None:
        return day_value
    hour, minute, second = int(m.group(5)), int(m.group(6)), int(m.group(7) or 0)
    meridiem = (m.group(8) or "").replace(".", "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            raise ValueError("hour")
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    return datetime.combine(day_value, time(hour, minute, second))


def _parse_when(raw: str, order: str | None = None) -> date | datetime:
    s = raw.strip()
    try:
        if _DATE_RE.fullmatch(s):
            return date.fromisoformat(s)
        if _DATETIME_RE.fullmatch(s):
            s = re.sub(r"\s*[zZ]$", "+00:00", s.replace("t", "T"))
            s = re.sub(r"\s+(?=[+-]\d{2})", "", s)
            s = re.sub(r"(\.\d{6})\d+", r"\1", s)  # nanoseconds: Python keeps microseconds
            s = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", s)  # Salesforce writes +0000
            return datetime.fromisoformat(s)
        m = _NUMERIC_RE.fullmatch(s)
        if m:
            return _parse_numeric(m, order)
    except ValueProblem:
        raise
    except ValueError:
        pass
    raise ValueProblem("bad_date", f"date_{order}" if order else "date")


def parse_date(raw: str, tz, order: str | None = None) -> date:
    """`order` ("mdy" or "dmy") reads 03/04/2024; without it, only unambiguous dates are read."""
    value = _parse_when(raw, order)
    if isinstance(value, datetime):
        return value.astimezone(tz).date() if value.tzinfo else value.date()
    return value


def parse_datetime(raw: str, tz, order: str | None = None) -> datetime:
    """An aware UTC datetime; a date is midnight and a naive time is local, in the playbook's zone."""
    value = _parse_when(raw, order)
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(timezone.utc)


# What a number may be where it enters Gare (chat, forms, cards, files): money and counts are
# never negative, a percentage is 0-100, and nothing is beyond what a column and a reader can
# hold. (low, high); a field not listed is any finite number within +/- 1e15.
MONEY_MAX = 1e15
LIMITS: dict[str, tuple[float, float]] = {
    "margin_pct": (0, 100),
    "annual_revenue": (0, MONEY_MAX),
    "lifetime_value": (0, MONEY_MAX),
    "amount": (0, MONEY_MAX),
    "employees": (0, 2_000_000_000),  # an integer column (PostgreSQL's INTEGER stops at 2 147 483 647)
}
DEFAULT_LIMIT = (-MONEY_MAX, MONEY_MAX)
# A plan's KPI is limited by its unit (config.toml [[plans.kpis]] unit).
UNIT_LIMITS: dict[str, tuple[float, float]] = {"percent": (0, 100), "count": (0, MONEY_MAX), "money": (0, MONEY_MAX)}
INTEGER_FIELDS = frozenset({"employees"})


def parse_quantity(field: str, raw: str, *, decimal_comma: bool = False, unit: str | None = None) -> float | int:
    """A number typed or imported for `field` (or a KPI of `unit`), within its limits (an int for an
    integer column). Chat, Slack modals, Teams cards and CSV files all read numbers here, so one
    rule holds for all."""
    value = parse_number(raw, decimal_comma=decimal_comma)
    value = within_limits(field, value, UNIT_LIMITS.get(unit) if unit else None)
    if field in INTEGER_FIELDS:
        if not value.is_integer():
            raise ValueProblem("bad_number", "integer")
        return int(value)
    return value


def within_limits(field: str, value: float, limits: tuple[float, float] | None = None) -> float:
    """The value, or ValueProblem("out_of_range") naming the range it must be in."""
    low, high = limits or LIMITS.get(field, DEFAULT_LIMIT)
    if not low <= value <= high:
        raise ValueProblem("out_of_range", f"{_plain(low)} … {_plain(high)}")
    return value


def _plain(x: float) -> str:
    return f"{x:,.0f}".replace(",", " ") if abs(x) < 1e12 else f"{x:.0e}".replace("+", "")
