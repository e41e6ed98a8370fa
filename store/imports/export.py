"""`gare export accounts|deals [FILE]`: the canonical columns (and the playbook's custom ones),
dates in ISO form, booleans as yes/no; importing an export back changes nothing. Streamed: a
500,000-deal store is written without being held in memory."""
from __future__ import annotations

import csv
import json
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlmodel import Session
from sqlmodel import select as model_select

from store.imports.accounts import COLUMNS as ACCOUNT_COLUMNS
from store.imports.deals import COLUMNS as DEAL_COLUMNS
from store.models import Account, Deal, StageVisit
from store.queries import _chunks

STREAM = 2000  # rows fetched at a time


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): such a
# text cell is written behind a single quote, as OWASP advises; the import takes the quote off.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)  # a number of a numeric column, -5 included, stays a number
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return neutralised(str(value))


def _writer(out) -> Any:
    # "\n": the caller's text file translates line ends as its platform wants.
    return csv.writer(out, lineterminator="\n")


def export_accounts(session: Session, out) -> int:
    """crm_id, the canonical columns, then the custom keys (union over accounts, sorted)."""
    table = Account.__table__
    custom_keys: set[str] = set()
    for (custom,) in session.execute(select(table.c.custom).execution_options(yield_per=STREAM)):
        custom_keys |= set(custom or {})
    keys = sorted(custom_keys - set(ACCOUNT_COLUMNS))
    writer = _writer(out)
    writer.writerow(["crm_id", *ACCOUNT_COLUMNS, *keys])
    rows = 0
    for a in session.execute(select(table).order_by(table.c.name).execution_options(yield_per=STREAM)).mappings():
        custom = a.custom or {}
        writer.writerow([_cell(a.crm_id)] + [_cell(a[f]) for f in ACCOUNT_COLUMNS] + [_cell(custom.get(k)) for k in keys])
        rows += 1
    return rows


def export_deals(session: Session, out) -> int:
    """One row per deal; a closed deal at a stage the playbook lacks shows the CRM's stage, and
    stage_entered stays empty when the CRM never gave it (the entry date is only estimated)."""
    deals, accounts, visits = Deal.__table__, Account.__table__, StageVisit.__table__
    writer = _writer(out)
    writer.writerow(DEAL_COLUMNS)
    rows = 0
    query = (select(deals, accounts.c.name.label("account_name"), accounts.c.crm_id.label("account_crm_id"))
             .select_from(deals.outerjoin(accounts, deals.c.account_id == accounts.c.id))
             .order_by(deals.c.name, deals.c.id).execution_options(yield_per=STREAM))
    batch: list = []

    def flush() -> None:
        entered: dict[tuple[int, str], tuple[datetime, bool]] = {}
        for chunk in _chunks([d.id for d in batch]):
            for v in session.execute(select(visits.c.deal_id, visits.c.stage, visits.c.entered_at, visits.c.estimated)
                                     .where(visits.c.deal_id.in_(chunk)).order_by(visits.c.entered_at, visits.c.id)):
                entered[(v.deal_id, v.stage)] = (v.entered_at, v.estimated)  # the latest stay at each stage
        for d in batch:
            stay = entered.get((d.id, d.stage))
            since = stay[0] if stay and not stay[1] else None
            writer.writerow([_cell(x) for x in (d.crm_id, d.name, d.account_name, d.account_crm_id, d.owner,
                                                d.crm_stage or d.stage, since, d.created_at, d.amount, d.currency,
                                                d.close_date, d.status, d.kind)])
        batch.clear()

    for d in session.execute(query).mappings():
        batch.append(d)
        rows += 1
        if len(batch) >= STREAM:
            flush()
    flush()
    return rows


NURTURE_COLUMNS = ("deal", "account", "owner", "kind", "stage", "amount", "reason", "since", "industry", "region",
                   "account_owner", "account_status")


def export_nurture(session: Session, out) -> int:
    """The deals in marketing nurture, for a marketing tool: the deal, its account's descriptive
    fields, why it left the pipeline and since when. Returns rows written."""
    deals = list(session.exec(model_select(Deal).where(Deal.status == "nurture").order_by(Deal.name)))
    accounts = {a.id: a for a in session.exec(model_select(Account).where(Account.id.in_(
        [d.account_id for d in deals if d.account_id] or [-1])))}
    since: dict[int, datetime] = {}
    for chunk in _chunks([d.id for d in deals]):
        for deal_id, at in session.exec(model_select(StageVisit.deal_id, StageVisit.entered_at)
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
