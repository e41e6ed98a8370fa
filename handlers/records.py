"""Loading accounts and deals with everything the playbook says about them, in a fixed number
of queries whatever the number of accounts (one per table), for cards and lists alike."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from sqlmodel import Session

from playbook.words import ME_WORDS, fold
from handlers.reply import Context, Refusal
from playbook.assessment import AccountAssessment, assess_account, time_deal
from playbook.config import localized
from playbook.stage_aging import DealTiming
from store import queries
from store.models import Account, Deal


@dataclass
class AccountView:
    account: Account
    deals: list[Deal]
    assessment: AccountAssessment
    timings: dict[int, DealTiming]


def account_views(session: Session, ctx: Context, accounts: Sequence[Account], *,
                  with_timings: bool = True) -> list[AccountView]:
    """Lists pass with_timings=False: they show no stage time, and skip the stage history."""
    ids = [a.id for a in accounts]
    deals = queries.deals_by_account(session, ids)
    all_deals = [d for a in accounts for d in deals.get(a.id, [])] if with_timings else []
    visits = queries.visits_by_deal(session, [d.id for d in all_deals])
    answers = queries.checklist_answers(session, "account", ids)
    now, today = ctx.now(), ctx.today()
    views = []
    for a in accounts:
        records = [queries.deal_record(d, a.name) for d in deals.get(a.id, [])]
        assessment = assess_account(queries.account_record(a), records, today, ctx.playbook,
                                    answers.get(a.id, {}), ctx.language)
        timings = {d.id: time_deal(queries.deal_record(d), visits.get(d.id, []), now, ctx.playbook)
                   for d in deals.get(a.id, [])} if with_timings else {}
        views.append(AccountView(a, deals.get(a.id, []), assessment, timings))
    return views


def checklist_assessment(session: Session, ctx: Context, account: Account, deal: Deal | None = None) -> AccountAssessment:
    """The account as the playbook sees it, with the checklist answers of the account, overridden
    by those of `deal` when the question is about one deal (its thread, its checklist)."""
    answers = dict(queries.checklist_answers(session, "account", [account.id]).get(account.id, {}))
    if deal is not None:
        answers.update(queries.checklist_answers(session, "deal", [deal.id]).get(deal.id, {}))
    deals = [queries.deal_record(d, account.name)
             for d in queries.deals_by_account(session, [account.id]).get(account.id, [])]
    return assess_account(queries.account_record(account), deals, ctx.today(), ctx.playbook, answers, ctx.language)


def resolve_account(session: Session, name: str | None) -> Account:
    if not name:
        raise Refusal("bad_syntax", command="account")
    account = queries.find_account(session, name)
    if account is None:
        raise Refusal("unknown_account", name=name,
                      suggestions=queries.closest(name, queries.all_account_names(session)))
    return account


def resolve_deal(session: Session, name: str | None) -> Deal:
    if not name:
        raise Refusal("bad_syntax", command="deal")
    deal = queries.find_deal(session, name)
    if deal is None:
        raise Refusal("unknown_deal", name=name, suggestions=queries.closest(name, queries.all_deal_names(session)))
    return deal


def resolve_subject(session: Session, name: str) -> tuple[str, Deal | None, Account]:
    """("deal", deal, its account) when the name is a deal's, else ("account", None, account): what
    a checklist or a history is about."""
    deal = queries.find_deal(session, name)
    if deal is not None and fold(deal.name) == fold(name):
        return "deal", deal, session.get(Account, deal.account_id)
    account = queries.find_account(session, name)
    if account is not None:
        return "account", None, account
    if deal is not None:
        return "deal", deal, session.get(Account, deal.account_id)
    raise Refusal("unknown_subject", name=name,
                  suggestions=queries.closest(name, queries.all_deal_names(session) + queries.all_account_names(session)))


def resolve_owner(session: Session, ctx: Context, owner: str | None) -> str | None:
    """`@me`/`moi` means the person asking; an owner nobody has is refused with the known ones."""
    if owner is None:
        return None
    if fold(owner) in ME_WORDS:
        if not ctx.owner:
            raise Refusal("unknown_me")
        return ctx.owner
    return known_owner(session, owner)


def list_owners(session: Session, ctx: Context, owner: str | None, everyone: bool) -> list[str] | None:
    """Whose records a list shows: the owner asked for; else, for a manager, their team (and
    themselves) unless they asked for all; else everyone (None)."""
    if owner is not None:
        return [resolve_owner(session, ctx, owner)]
    if everyone or ctx.person.role != "manager" or not ctx.person.owner:
        return None
    from handlers.people import team_of

    return [ctx.person.owner] + team_of(session, ctx.playbook, ctx.person.owner)


def known_owner(session: Session, owner: str) -> str:
    """An owner name a record may be given: a person of the directory or someone who already
    owns records, spelled as they are; anything else is refused with the closest names, so a
    typo never creates an owner nobody is."""
    from store import people as directory

    row = directory.by_owner(session, owner)
    if row is not None:
        return row.owner
    owners = queries.all_owners(session)
    match = next((o for o in owners if fold(o) == fold(owner)), None)
    if match is None:
        names = owners + [p.owner for p in directory.people(session)]
        raise Refusal("unknown_owner", name=owner, suggestions=queries.closest(owner, names, n=5))
    return match


def stage_label(ctx: Context, stage_id: str | None) -> str | None:
    stage = ctx.playbook.stage(stage_id) if stage_id else None
    return localized(stage.name, ctx.language) if stage else stage_id


def deal_data(ctx: Context, deal: Deal, timing: DealTiming, account_name: str | None) -> dict[str, Any]:
    """The deal as every surface shows it: stage time against the standard, and its state."""
    return {
        "deal": deal.name,
        "account": account_name,
        "owner": deal.owner,
        "status": deal.status,
        "amount": deal.amount,
        "close_date": deal.close_date,
        "stage": deal.stage,
        "stage_name": stage_label(ctx, deal.stage),
        "days_at_stage": timing.days_at_stage,
        "standard_days": timing.standard_days,
        "indicator": timing.indicator,
        "state": timing.state,
        "entered_stage_at": ctx.local(timing.entered_at),
        "skipped_stages": [dict(s, stage_name=stage_label(ctx, s["stage"]), at=ctx.local(s.get("at")))
                           for s in timing.skipped_stages],
        "nurture_reason": deal.nurture_reason,
        "snoozed_until": getattr(deal, "snoozed_until", None),
        "snooze_reason": getattr(deal, "snooze_reason", None),
    }


def open_deals_timed(session: Session, ctx: Context, owners: Sequence[str] | None = None) -> list[tuple]:
    """(deal, account name, timing) for every open deal, or those of `owners`: the pipeline that
    frozen/skipped lists, nudges and digests judge. One query per table."""
    deals = queries.list_deals(session, owners=owners, status="open")
    visits = queries.visits_by_deal(session, [d.id for d in deals])
    names = queries.account_names(session, [d.account_id for d in deals])
    now = ctx.now()
    return [(d, names.get(d.account_id), time_deal(queries.deal_record(d), visits.get(d.id, []), now, ctx.playbook))
            for d in deals]
