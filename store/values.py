"""Reading values as people type them (in chat or in a CRM export): "1 234,56", "12 %", "oui",
"2026-03-01". A value that cannot be read raises ValueProblem with what was expected."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone


class ValueProblem(ValueError):
    """`expected` is a kind the templates put in words (number, yes_no, date, datetime), or the
    allowed values themselves ("customer | prospect | former")."""

    def __init__(self, expected: str):
        super().__init__(expected)
        self.expected = expected


TRUE_WORDS = {"yes", "y", "true", "1", "oui", "o", "vrai", "x"}
FALSE_WORDS = {"no", "n", "false", "0", "non", "faux"}


def parse_number(text: str) -> float:
    raw = str(text).strip()
    cleaned = re.sub(r"[\s\u00a0\u202f$€£%]|EUR|USD|GBP", "", raw, flags=re.I)
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", cleaned):  # 1,234.56
        cleaned = cleaned.replace(",", "")
    elif re.fullmatch(r"-?\d{1,3}(\.\d{3})+(,\d+)?", cleaned):  # 1.234,56
        cleaned = cleaned.replace(".", "").replace(",", ".")
    else:
        cleaned = cleaned.replace(",", ".")
    try:
        return float(cleaned)
    except ValueError:
        raise ValueProblem("number") from None


def parse_bool(text: str) -> bool:
    key = str(text).strip().lower()
    if key in TRUE_WORDS:
        return True
    if key in FALSE_WORDS:
        return False
    raise ValueProblem("yes_no")


def parse_date(text: str) -> date:
    raw = str(text).strip()
    try:
        return date.fromisoformat(raw[:10]) if re.fullmatch(r"\d{4}-\d{2}-\d{2}([ T].*)?", raw) else _fail()
    except ValueError:
        raise ValueProblem("date") from None


def parse_datetime(text: str) -> datetime:
    raw = str(text).strip().replace("Z", "+00:00")
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueProblem("datetime") from None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _fail():
    raise ValueError
