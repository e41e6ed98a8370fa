"""Reads for the weekly messages, grouped by owner: one statement per table for one rep or for
every recipient of a weekly run alike (the owners' accounts are a subquery, never a list of ids
sent back in chunks), so the statements a run sends do not grow with its recipients."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Iterator, NamedTuple, Sequence

from sqlalchemy import bindparam, func, or_, union
from sqlmodel import Session, select

from store.models import Account, AccountDecision, ActionDone, AuditRecord, Deal, StageVisit, WeeklySnapshot

ROW = ("id", "name", "owner", "status", "profile", "let_go", "tier", "score", "at_risk", "verdict", "open_deals",
       "assessed_with")


def _owned(column, owners: Sequence[str] | None):
    return func.lower(column).in_([o.lower() for o in owners]) if owners is not None else None


def _account_ids(owners: Sequence[str] | None):
    """The owners' accounts' ids, as a subquery."""
    query = select(Account.id)
    owned = _owned(Account.owner, owners)
    return query.where(owned) if owned is not None else query


def _rows(query) -> list[dict[str, Any]]:
    return [dict(zip(ROW, values)) for values in query]


def _light():
    return select(Account.id, Account.name, Account.owner, Account.status, Account.assessed_profile,
                  Account.assessed_let_go, Account.assessed_tier, Account.assessed_score, Account.assessed_at_risk,
                  Account.assessed_verdict, Account.assessed_open_deals, Account.assessed_with)


def account_rows(session: Session, owners: Sequence[str] | None) -> list[dict[str, Any]]:
    """Each account of the owners (None: all) with its stored assessment, no deal read: the
    columns the weekly messages choose their rows by. By name, as the database orders them."""
    query = _light().order_by(Account.name)
    owned = _owned(Account.owner, owners)
    return _rows(session.exec(query.where(owned) if owned is not None else query))


def account_rows_by_id(session: Session, account_ids: Sequence[int]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    ids = sorted({i for i in account_ids if i is not None})
    for start in range(0, len(ids), 900):
        out += _rows(session.exec(_light().where(Account.id.in_(ids[start:start + 900]))))
    return out


def let_go_decisions(session: Session, owners: Sequence[str] | None) -> dict[int, AccountDecision]:
    """The latest let-go decision on each account of the owners that has one."""
    out: dict[int, AccountDecision] = {}
    for row in session.exec(select(AccountDecision).where(AccountDecision.kind == "let_go",
                                                          AccountDecision.account_id.in_(_account_ids(owners)))
                            .order_by(AccountDecision.decided_at)):
        out[row.account_id] = row
    return out


def actions_done(session: Session, owners: Sequence[str] | None) -> dict[tuple[int, str], datetime]:
    """When each common action was last done, per (account, action), on the owners' accounts."""
    out: dict[tuple[int, str], datetime] = {}
    for account_id, action_id, done_at in session.exec(
            select(ActionDone.account_id, ActionDone.action_id, func.max(ActionDone.done_at))
            .where(ActionDone.account_id.in_(_account_ids(owners)))
            .group_by(ActionDone.account_id, ActionDone.action_id)):
        out[(account_id, action_id)] = done_at
    return out


def moved_since(since: datetime):
    """A deal whose stage history changed since then (a stay left or begun): the only ones whose
    skipped steps can be this week's."""
    return select(StageVisit.id).where(StageVisit.deal_id == Deal.id,
                                       or_(StageVisit.left_at >= since, StageVisit.entered_at >= since)).exists()


def _open(condition, owners: Sequence[str] | None) -> list:
    where = [Deal.status == "open", condition]
    owned = _owned(Deal.owner, owners)
    return where + ([owned] if owned is not None else [])


def not_snoozed(today):
    """An open deal not snoozed on that day (snoozed until then or later: left out)."""
    return or_(Deal.snoozed_until.is_(None), Deal.snoozed_until < today)


def _ranked_by_close_date(condition, owners: Sequence[str] | None):
    owner = func.lower(Deal.owner)
    rank = func.row_number().over(partition_by=owner, order_by=(Deal.close_date, Deal.name, Deal.id)).label("rank")
    total = func.count(Deal.id).over(partition_by=owner).label("total")
    return select(Deal.id, rank, total).where(*_open(condition, owners)).subquery()


def first_by_close_date(condition, owners: Sequence[str] | None, first: int):
    """The condition "among each owner's first N open deals meeting `condition`, by close
    date then name" (a window over the owners' deals, as a subquery)."""
    ranked = _ranked_by_close_date(condition, owners)
    return Deal.id.in_(select(ranked.c.id).where(ranked.c.rank <= first))


def open_deals(session: Session, condition, owners: Sequence[str] | None) -> list:
    """The owners' open deals meeting `condition`, by name, as read-only rows with the deal's
    columns and `account_name`: one statement."""
    query = (select(*Deal.__table__.c, Account.name.label("account_name"))
             .outerjoin(Account, Account.id == Deal.account_id).where(*_open(condition, owners))
             .order_by(Deal.name, Deal.id))
    return list(session.exec(query))


def first_open_deals(session: Session, condition, owners: Sequence[str] | None, first: int) -> tuple[list, dict[str, int]]:
    """Each owner's first N open deals meeting `condition` by close date (then name), as
    open_deals' rows, and how many meet it per owner (folded): one statement."""
    ranked = _ranked_by_close_date(condition, owners)
    query = (select(*Deal.__table__.c, Account.name.label("account_name"), ranked.c.total)
             .join(ranked, ranked.c.id == Deal.id).outerjoin(Account, Account.id == Deal.account_id)
             .where(ranked.c.rank <= first).order_by(Deal.close_date, Deal.name, Deal.id))
    rows = list(session.exec(query))
    return rows, {(r.owner or "").lower(): r.total for r in rows}


def _visit_rows(at_stage: bool):
    query = select(StageVisit.deal_id, StageVisit.stage, StageVisit.entered_at, StageVisit.left_at,
                   StageVisit.estimated)
    if at_stage:
        query = query.join(Deal, Deal.id == StageVisit.deal_id).where(StageVisit.stage == Deal.stage)
    return query


def _grouped(query) -> dict[int, list]:
    out: dict[int, list] = defaultdict(list)
    for v in query:
        out[v.deal_id].append(v)
    return out


def visits(session: Session, deal_ids: Sequence[int], *, at_stage: bool = False) -> dict[int, list]:
    """The stage history of these deals (`at_stage`: only the stays at the stage each is at),
    as plain rows (deal_id, stage, entered_at, left_at, estimated): one statement, the ids
    written into it (integers: no bound-parameter cap, whatever their number)."""
    ids = sorted(set(deal_ids))
    if not ids:
        return {}
    query = _visit_rows(at_stage).where(StageVisit.deal_id.in_(bindparam("deal_ids", ids, expanding=True,
                                                                            literal_execute=True)))
    return _grouped(session.exec(query.order_by(StageVisit.entered_at)))


def visits_where(session: Session, condition, owners: Sequence[str] | None, *, at_stage: bool = False) -> dict[int, list]:
    """visits() of the owners' open deals meeting `condition` (the deals a subquery)."""
    ids = select(Deal.id).where(*_open(condition, owners))
    return _grouped(session.exec(_visit_rows(at_stage).where(StageVisit.deal_id.in_(ids)).order_by(StageVisit.entered_at)))


def _first_accounts(condition, owners: Sequence[str] | None, first: int, postgres: bool):
    """The ids of each owner's first N accounts meeting `condition` by their stored
    assessment's order (tier 1 first, the highest score, then the folded name)."""
    name = Account.name_key.collate("C") if postgres else Account.name_key
    rank = func.row_number().over(partition_by=func.lower(Account.owner),
                                  order_by=(Account.assessed_tier, Account.assessed_score.desc(), name)).label("rank")
    where = [condition] + ([_owned(Account.owner, owners)] if owners is not None else [])
    ranked = select(Account.id, rank).where(*where).subquery()
    return select(ranked.c.id).where(ranked.c.rank <= first)


def explained_accounts(session: Session, owners: Sequence[str] | None, first: int):
    """The ids (a subquery) of the accounts a nudge explains: by their stored assessment, each
    owner's first N at risk, first N misfit prospects, and every one to let go (some of those
    have a standing decision and are not shown)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    let_go = select(Account.id).where(Account.assessed_let_go.is_(True),
                                      *([_owned(Account.owner, owners)] if owners is not None else []))
    return union(_first_accounts(Account.assessed_at_risk.is_(True), owners, first, postgres),
                 _first_accounts((Account.assessed_verdict == "misfit") & (Account.status == "prospect"),
                                 owners, first, postgres),
                 let_go)


def actions_done_since(session: Session, owners: Sequence[str] | None, since: datetime) -> dict[int, int]:
    """How many common actions were done on each of the owners' accounts since then."""
    query = (select(ActionDone.account_id, func.count(ActionDone.id))
             .where(ActionDone.account_id.in_(_account_ids(owners)), ActionDone.done_at >= since)
             .group_by(ActionDone.account_id))
    return dict(session.exec(query).all())


def previous_snapshots(session: Session, scopes: Sequence[str], period: str) -> dict[str, dict]:
    """The counts of each scope's latest snapshot before `period`."""
    out: dict[str, dict] = {}
    for row in session.exec(select(WeeklySnapshot).where(WeeklySnapshot.scope.in_(list(scopes)),
                                                         WeeklySnapshot.period < period)
                            .order_by(WeeklySnapshot.period)):
        out[row.scope] = row.counts
    return out


def deal_events_since(session: Session, actions: Sequence[str], since: datetime) -> list[tuple[AuditRecord, Any]]:
    """(audit record, the deal's row) of these changes to deals since then, oldest first."""
    records = list(session.exec(select(AuditRecord).where(AuditRecord.entity == "deal", AuditRecord.action.in_(list(actions)),
                                                          AuditRecord.at >= since).order_by(AuditRecord.at)))
    ids = sorted({r.entity_id for r in records if r.entity_id})
    deals = {}
    if ids:
        deals = {d.id: d for d in session.exec(select(Deal).where(
            Deal.id.in_(bindparam("event_deal_ids", ids, expanding=True, literal_execute=True))))}
    return [(r, deals[r.entity_id]) for r in records if r.entity_id in deals]


def account_ids_in(account_ids: Sequence[int]):
    """These account ids as a subquery (written into the statement: no bound-parameter cap)."""
    return select(Account.id).where(Account.id.in_(bindparam("account_ids", list(account_ids), expanding=True,
                                                                 literal_execute=True)))


class VisitRow(NamedTuple):
    stage: str
    entered_at: datetime
    left_at: datetime | None
    estimated: bool


def deals_with_visits(session: Session, owners: Sequence[str] | None, batch: int = 5000) -> Iterator[tuple[Any, list]]:
    """Every deal of the owners, open or closed, with its stage history: (row with the deal's
    columns and `account_name`, [VisitRow oldest first]), owner by owner (folded), each owner's
    by name. One statement, read as a stream (a few thousand rows held at a time)."""
    owned = _owned(Deal.owner, owners)
    query = (select(*Deal.__table__.c, Account.name.label("account_name"), StageVisit.stage.label("v_stage"),
                    StageVisit.entered_at.label("v_entered_at"), StageVisit.left_at.label("v_left_at"),
                    StageVisit.estimated.label("v_estimated"))
             .outerjoin(Account, Account.id == Deal.account_id).outerjoin(StageVisit, StageVisit.deal_id == Deal.id))
    if owned is not None:
        query = query.where(owned)
    query = query.order_by(func.lower(Deal.owner), Deal.name, Deal.id, StageVisit.entered_at)
    deal, visits = None, []
    for row in session.exec(query.execution_options(yield_per=batch)):
        if deal is None or row.id != deal.id:
            if deal is not None:
                yield deal, visits
            deal, visits = row, []
        if row.v_stage is not None:
            visits.append(VisitRow(row.v_stage, row.v_entered_at, row.v_left_at, bool(row.v_estimated)))
    if deal is not None:
        yield deal, visits
