"""Amounts in several currencies: a deal keeps the currency its CRM gave it, and a total is never
summed across currencies. Converted into the playbook's currency where `[currency] rates` says
how; what no rate covers is totalled in its own currency, beside."""
from __future__ import annotations

from typing import Iterable

from playbook.config import Playbook


def totals(amounts: Iterable[tuple[float | None, str | None]], playbook: Playbook) -> list[dict]:
    """[(amount, currency)] -> [{"currency": "EUR", "amount": 12000.0}, {"currency": "USD", ...}]:
    the playbook's currency first (always there, 0 when empty), then the others by code."""
    home = playbook.currency
    sums: dict[str, float] = {home: 0.0}
    for amount, currency in amounts:
        if amount is None:
            continue
        converted = playbook.in_currency(amount, currency)
        if converted is not None:
            sums[home] += converted
        else:
            code = currency.upper()
            sums[code] = sums.get(code, 0.0) + amount
    others = sorted(code for code in sums if code != home)
    return [{"currency": home, "amount": sums[home]}] + [{"currency": c, "amount": sums[c]} for c in others]


def home_total(amounts: Iterable[tuple[float | None, str | None]], playbook: Playbook) -> float:
    """The part of a total that is in (or converts into) the playbook's currency."""
    return totals(amounts, playbook)[0]["amount"]
