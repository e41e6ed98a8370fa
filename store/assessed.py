"""The assessment stored on each account (profile, let-go, tier, score, at-risk, fit verdict):
which accounts need assessing again, and writing what the playbook said.

`assessed_with` says under what the stored assessment holds: "<playbook version>:<day>" when it
is current, or a "stale:<token>" mark set by any change to the account, one of its deals or its
checklist answers (every ORM flush, here; imports and the demo mark what they wrote). A new
token per change means an assessment computed from data read before a change is never written
over that change's mark (the write checks the mark it read)."""
from __future__ import annotations

import uuid
from typing import Any, Iterable, Sequence

from sqlalchemy import bindparam, event, func, or_, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from store.models import Account, ChecklistAnswer, Deal, StageVisit
from store.queries import of_owners

ASSESSED = ("assessed_profile", "assessed_let_go", "assessed_tier", "assessed_score", "assessed_at_risk",
            "assessed_verdict", "assessed_open_deals")


def stale_mark() -> str:
    return f"stale:{uuid.uuid4().hex}"


def mark_stale(session: Session, account_ids: Iterable[int] | None = None) -> None:
    """The stored assessment of these accounts (None: all, and every deal's judgement of its
    skipped steps: what bulk writes call) no longer holds."""
    statement = update(Account.__table__).values(assessed_with=stale_mark())
    if account_ids is None:
        session.connection().execute(statement)
        session.connection().execute(update(Deal.__table__).values(assessed_with=stale_mark()))
        return
    ids = sorted({i for i in account_ids if i is not None})
    for start in range(0, len(ids), 900):
        session.connection().execute(statement.where(Account.__table__.c.id.in_(ids[start:start + 900])))


def stale_accounts(session: Session, current: str, owners: Sequence[str] | None = None) -> list[tuple[int, str | None]]:
    """(id, mark) of the accounts (of `owners`) whose stored assessment is not `current`."""
    # "<" or ">" rather than "!=": two ranges of ix_account_assessed_with, not a scan of the book.
    query = select(Account.id, Account.assessed_with).where(
        or_(Account.assessed_with.is_(None), Account.assessed_with < current, Account.assessed_with > current)
    ).order_by(Account.id)
    return list(session.exec(of_owners(query, Account.owner, owners)))


def save_assessments(session: Session, current: str, rows: Sequence[dict[str, Any]]) -> None:
    """Writes each row's assessment ({"id", "was": the mark read, and the ASSESSED fields})
    unless the account changed since its mark was read."""
    if not rows:
        return
    table = Account.__table__
    statement = (update(table)
                 .where(table.c.id == bindparam("b_id"), table.c.assessed_with.is_not_distinct_from(bindparam("b_was")))
                 .values(assessed_with=current, **{name: bindparam(f"b_{name}") for name in ASSESSED}))
    session.connection().execute(statement, [{"b_id": r["id"], "b_was": r["was"],
                                              **{f"b_{name}": r[name] for name in ASSESSED}} for r in rows])


@event.listens_for(OrmSession, "before_flush")
def _mark_changed(session, _flush_context, _instances) -> None:
    """Any account, deal or account checklist answer written through a session makes the
    assessment of its account stale (a deal moved to another account: both)."""
    accounts: set[int] = set()
    deals: set[int] = set()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Account):
            if obj in session.new or session.is_modified(obj):
                obj.assessed_with = stale_mark()
        elif isinstance(obj, Deal):
            history = event_history(obj, "account_id")
            accounts.update(history)
            if obj in session.new or session.is_modified(obj):
                obj.assessed_with = stale_mark()  # its kind or stage: its skipped steps
        elif isinstance(obj, StageVisit):
            deals.add(obj.deal_id)
        elif isinstance(obj, ChecklistAnswer) and obj.subject == "account":
            accounts.add(obj.subject_id)
    accounts.discard(None)
    deals.discard(None)
    if accounts:
        session.connection().execute(update(Account.__table__)
                                     .where(Account.__table__.c.id.in_(sorted(accounts)))
                                     .values(assessed_with=stale_mark()))
    if deals:
        session.connection().execute(update(Deal.__table__).where(Deal.__table__.c.id.in_(sorted(deals)))
                                     .values(assessed_with=stale_mark()))


def event_history(obj, attribute: str) -> set:
    """The attribute's value now and before this flush."""
    from sqlalchemy import inspect

    history = inspect(obj).attrs[attribute].history
    return {v for v in (*history.added, *history.unchanged, *history.deleted)}


def _scoped(query, owners: Sequence[str] | None):
    return of_owners(query, Account.owner, owners)


def _folded_name(session: Session):
    """name_key in code-point order, as Python sorts folded names (PostgreSQL's collation may not)."""
    return Account.name_key.collate("C") if session.get_bind().dialect.name == "postgresql" else Account.name_key


def _listed(query, owners: Sequence[str] | None, profile: str | None, tier: int | None):
    """`query` narrowed to the accounts a list shows: of `owners`, with `profile` (a profile id,
    or "let_go", "misfit" (the fit verdict) or "none": neither a profile nor let go), of `tier`."""
    query = _scoped(query, owners)
    if profile == "let_go":
        query = query.where(Account.assessed_let_go.is_(True))
    elif profile == "none":
        query = query.where(Account.assessed_profile.is_(None), Account.assessed_let_go.is_(False))
    elif profile == "misfit":
        query = query.where(Account.assessed_verdict == "misfit")
    elif profile is not None:
        query = query.where(Account.assessed_profile == profile)
    if tier is not None:
        query = query.where(Account.assessed_tier == tier)
    return query


def assessed_accounts(session: Session, owners: Sequence[str] | None = None, *, profile: str | None = None,
                      tier: int | None = None, by_name: bool = False, offset: int = 0,
                      limit: int | None = None) -> list[dict[str, Any]]:
    """The accounts (of `owners`) as lists show them, from their stored assessment: tier 1
    first, then the highest score, then the name (`by_name`: by name alone); `limit` of them
    from `offset` (a page: the database sorts and cuts, ix_account_listing walks the order)."""
    query = _listed(select(Account.name, Account.owner, Account.status, Account.assessed_profile,
                           Account.assessed_let_go, Account.assessed_tier, Account.assessed_score,
                           Account.assessed_at_risk, Account.assessed_verdict, Account.assessed_open_deals),
                    owners, profile, tier)
    if by_name:
        query = query.order_by(Account.name)
    else:
        query = query.order_by(Account.assessed_tier, Account.assessed_score.desc(), _folded_name(session),
                               Account.name)
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [{"account": name, "owner": owner, "status": status, "profile": prof, "let_go": bool(let_go),
             "tier": t, "score": score, "at_risk": bool(at_risk), "verdict": verdict, "open_deals": n}
            for name, owner, status, prof, let_go, t, score, at_risk, verdict, n in session.exec(query)]


def count_accounts(session: Session, owners: Sequence[str] | None = None, *, profile: str | None = None,
                   tier: int | None = None) -> int:
    """How many accounts `assessed_accounts` lists with the same filters."""
    return session.exec(_listed(select(func.count()).select_from(Account), owners, profile, tier)).one()


def accounts_with_profile(session: Session, owners: Sequence[str] | None, profile: str) -> list[Account]:
    """The accounts (of `owners`) whose stored profile is `profile`, by name."""
    query = _scoped(select(Account).where(Account.assessed_profile == profile), owners)
    return list(session.exec(query.order_by(Account.name)))


def tier_counts(session: Session, owners: Sequence[str] | None = None) -> dict[int, int]:
    # count(*), not count(id): PostgreSQL then counts from the listing index alone (21 ms, not 56).
    query = _scoped(select(Account.assessed_tier, func.count()), owners).group_by(Account.assessed_tier)
    return dict(session.exec(query).all())


def at_risk_count(session: Session, owners: Sequence[str] | None = None) -> int:
    # `== True` as the partial index ix_account_at_risk states it.
    query = _scoped(select(func.count()).select_from(Account), owners).where(Account.assessed_at_risk == True)  # noqa: E712
    return session.exec(query).one()


def names_by_score(session: Session, owners: Sequence[str] | None = None, *, tier: int | None = None,
                   at_risk: bool = False, limit: int | None = None) -> list[str]:
    """Account names, highest score first (then by name), of one tier or those at risk."""
    query = _scoped(select(Account.name), owners)
    if tier is not None:
        query = query.where(Account.assessed_tier == tier)
    if at_risk:
        query = query.where(Account.assessed_at_risk == True)  # noqa: E712 (as ix_account_at_risk states it)
    return list(session.exec(query.order_by(Account.assessed_score.desc(), Account.name).limit(limit)))


# --- the skipped steps stored on each deal -------------------------------------------------

def stale_deals(session: Session, current: str) -> list[tuple[int, str | None]]:
    """(id, mark) of the deals whose stored judgement of skipped steps is not `current`."""
    query = select(Deal.id, Deal.assessed_with).where(
        or_(Deal.assessed_with.is_(None), Deal.assessed_with < current, Deal.assessed_with > current)
    ).order_by(Deal.id)
    return list(session.exec(query))


def save_skipped(session: Session, current: str, rows: Sequence[dict[str, Any]]) -> None:
    """Writes each row's judgement ({"id", "was": the mark read, "skipped"}) unless the deal
    changed since its mark was read."""
    if not rows:
        return
    table = Deal.__table__
    statement = (update(table)
                 .where(table.c.id == bindparam("b_id"), table.c.assessed_with.is_not_distinct_from(bindparam("b_was")))
                 .values(assessed_with=current, assessed_skipped=bindparam("b_skipped")))
    session.connection().execute(statement, [{"b_id": r["id"], "b_was": r["was"], "b_skipped": r["skipped"]}
                                             for r in rows])


def _skipped(owners: Sequence[str] | None, query):
    # `== True` and the status as the partial index ix_deal_skipped_list states them.
    query = query.where(Deal.status == "open", Deal.assessed_skipped == True)  # noqa: E712
    return of_owners(query, Deal.owner, owners)


def skipped_count(session: Session, owners: Sequence[str] | None = None) -> int:
    return session.exec(_skipped(owners, select(func.count()).select_from(Deal))).one()


def skipped_page(session: Session, owners: Sequence[str] | None, offset: int, limit: int) -> list[int]:
    """Ids of open deals that skipped a step, by owner then name (the index's order)."""
    query = _skipped(owners, select(Deal.id)).order_by(func.lower(Deal.owner), Deal.name_key, Deal.id)
    return list(session.exec(query.offset(offset).limit(limit)))
