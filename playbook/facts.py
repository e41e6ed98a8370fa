"""The facts a rule sees about an account: its own fields, its custom columns, and what the
playbook derives from them and from its deals (days since last contact, open pipeline...)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterable, Mapping

from playbook.config import ACCOUNT_FIELDS, Playbook


def account_facts(account: Mapping[str, Any], deals: Iterable[Mapping[str, Any]], today: date,
                  playbook: Playbook) -> dict[str, Any]:
    facts: dict[str, Any] = {k: account.get(k) for k in ACCOUNT_FIELDS}
    for key, value in (account.get("custom") or {}).items():
        facts.setdefault(key, typed_value(value, playbook.field_types.get(key)))
    last = facts.get("last_contact")
    if isinstance(last, datetime):
        last = last.date()
    facts["days_since_last_contact"] = (today - last).days if isinstance(last, date) else None
    deals = list(deals)
    open_deals = [d for d in deals if d.get("status") == "open"]
    facts["open_deals"] = len(open_deals)
    facts["open_pipeline"] = sum(d.get("amount") or 0 for d in open_deals)
    facts["won_deals"] = sum(1 for d in deals if d.get("status") == "won")
    if facts.get("status") == "customer":
        facts["conversion_likelihood"] = 100.0
    else:
        probabilities = [s.probability_pct for d in open_deals if (s := playbook.stage(d.get("stage")))]
        facts["conversion_likelihood"] = max(probabilities, default=0.0)
    return facts


def typed_value(value: Any, kind: str | None) -> Any:
    """Custom columns arrive as text from CSV; rules compare them by their declared kind."""
    if value is None or value == "" or not isinstance(value, str):
        return value
    try:
        if kind == "number":
            return float(value.replace(",", "."))
        if kind == "date":
            return date.fromisoformat(value[:10])
        if kind == "bool":
            low = value.strip().lower()
            if low in ("yes", "true", "1", "oui", "y"):
                return True
            if low in ("no", "false", "0", "non", "n"):
                return False
    except ValueError:
        return None
    return value
