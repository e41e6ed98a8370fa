"""Loading accounts and deals with everything the playbook says about them, in a fixed number
of queries whatever the number of accounts (one per table), for cards and lists alike."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta, timezone
from typing import Any, Sequence

from sqlmodel import Session, select

from playbook.words import ME_WORDS, fold
from handlers.reply import Context, Refusal
from playbook.assessment import AccountAssessment, assess_account, time_deal
from playbook.config import localized
from playbook.stage_aging import DealTiming, stuck_limits
from store import assessed, frozen as frozen_store, queries
from store.database import session_scope
from store.models import Account, Deal, StageVisit


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
    return _views(ctx, accounts, deals, answers, visits if with_timings else None)


def account_views_where(session: Session, ctx: Context, account_ids) -> list[AccountView]:
    """account_views(..., with_timings=False) of the accounts a subquery of ids names: one
    statement per table however many they are (a weekly run's explained accounts)."""
    accounts = list(session.exec(select(Account).where(Account.id.in_(account_ids))))
    deals: dict[int, list[Deal]] = defaultdict(list)
    for d in session.exec(select(Deal).where(Deal.account_id.in_(account_ids)).order_by(Deal.name)):
        deals[d.account_id].append(d)
    answers = queries.checklist_answers_where(session, "account", account_ids)
    return _views(ctx, accounts, deals, answers, None)


def _views(ctx: Context, accounts: Sequence[Account], deals, answers, visits) -> list[AccountView]:
    with_timings = visits is not None
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


ASSESS_BATCH = 500  # accounts assessed and written per transaction (short write locks)


def assessment_key(ctx: Context) -> str:
    """What a stored assessment must have been made under to hold now: this playbook, today."""
    return f"{ctx.playbook.version}:{ctx.today().isoformat()}"


def refresh_assessments(ctx: Context, owners: Sequence[str] | None = None, progress=None) -> int:
    """Assesses again, and stores, the accounts (of `owners`) whose stored assessment does not
    hold (changed since, another playbook, another day), in batches of their own transaction;
    returns how many. One query when all hold. `progress(done, total)` after each batch."""
    current = assessment_key(ctx)
    with session_scope(ctx.engine) as session:
        stale = assessed.stale_accounts(session, current, owners)
    for start in range(0, len(stale), ASSESS_BATCH):
        was = dict(stale[start:start + ASSESS_BATCH])
        with session_scope(ctx.engine) as session:
            accounts = list(session.exec(select(Account).where(Account.id.in_(list(was)))))
            rows = [{"id": v.account.id, "was": was[v.account.id], "assessed_profile": v.assessment.profile.profile,
                     "assessed_let_go": bool(v.assessment.profile.let_go), "assessed_tier": v.assessment.tier.tier,
                     "assessed_score": v.assessment.tier.score, "assessed_at_risk": bool(v.assessment.tier.at_risk),
                     "assessed_verdict": v.assessment.fit.verdict,
                     "assessed_open_deals": sum(1 for d in v.deals if d.status == "open")}
                    for v in account_views(session, ctx, accounts, with_timings=False)]
            assessed.save_assessments(session, current, rows)
        if progress is not None:
            progress(min(start + ASSESS_BATCH, len(stale)), len(stale))
    return len(stale)


SKIPPED_BATCH = 2000  # deals judged and written per transaction


def refresh_skipped(ctx: Context, progress=None) -> int:
    """Judges again, and stores, whether each deal whose stored judgement does not hold (changed
    since, another playbook) skipped a step; returns how many. One query when all hold. Only an
    open deal is shown as skipped: a closed one is stored as not skipped without reading it."""
    current = ctx.playbook.version
    with session_scope(ctx.engine) as session:
        stale = assessed.stale_deals(session, current)
    now = ctx.now()
    for start in range(0, len(stale), SKIPPED_BATCH):
        was = dict(stale[start:start + SKIPPED_BATCH])
        with session_scope(ctx.engine) as session:
            deals, _, visits = queries.open_deals_matching(session, Deal.id.in_(list(was)), with_names=False)
            skipped = {d.id for d in deals
                       if time_deal(queries.deal_record(d), visits.get(d.id, []), now, ctx.playbook).skipped_stages}
            assessed.save_skipped(session, current, [{"id": i, "was": mark, "skipped": i in skipped}
                                                     for i, mark in was.items()])
        if progress is not None:
            progress(min(start + SKIPPED_BATCH, len(stale)), len(stale))
    return len(stale)


def checklist_assessment(session: Session, ctx: Context, account: Account, deal: Deal | None = None) -> AccountAssessment:
    """The account as the playbook sees it, with the checklist answers of the account, overridden
    by those of `deal` when the question is about one deal (its thread, its checklist)."""
    answers = dict(queries.checklist_answers(session, "account", [account.id]).get(account.id, {}))
    if deal is not None:
        answers.update(queries.checklist_answers(session, "deal", [deal.id]).get(deal.id, {}))
    deals = [queries.deal_record(d, account.name)
             for d in queries.deals_by_account(session, [account.id]).get(account.id, [])]
    return assess_account(queries.account_record(account), deals, ctx.today(), ctx.playbook, answers, ctx.language)


def ambiguous(session: Session, ctx: Context | None, kind: str, name: str, records: Sequence,
              rerun: str | None = None) -> Refusal:
    """"Which one?": the records a name designates, each with what tells it apart and the `#id`
    that picks it (deal names repeat in real CRMs: "Renewal 2026"). The answer's buttons run the
    same command again with `#id` instead of the name; `rerun` names another command when `#id`
    would mean another kind of record in the one asked (fit takes an account's id)."""
    shown = list(records)[:queries.MAX_CANDIDATES]
    if kind == "deal":
        names = queries.account_names(session, [d.account_id for d in shown])
        candidates = [{"id": d.id, "name": d.name, "account": names.get(d.account_id), "owner": d.owner,
                       "stage": d.stage, "stage_name": stage_label(ctx, d.stage) if ctx else d.stage,
                       "status": d.status} for d in shown]
    else:
        candidates = [{"id": a.id, "name": a.name, "account": None, "owner": a.owner, "stage": None,
                       "stage_name": None, "status": a.status} for a in shown]
    return Refusal("ambiguous", kind=kind, name=name, candidates=candidates,
                   more=len(records) > queries.MAX_CANDIDATES, rerun=rerun)


def resolve_account(session: Session, name: str | None, ctx: Context | None = None) -> Account:
    """The one account a name (or `#id`) designates; else a refusal: unknown, or which one."""
    if not name:
        raise Refusal("bad_syntax", command="account")
    found = queries.find_accounts(session, name)
    if len(found) == 1:
        return found[0]
    if found:
        raise ambiguous(session, ctx, "account", name, found)
    raise Refusal("unknown_account", name=name,
                  suggestions=queries.suggest_accounts(session, name))


def resolve_deal(session: Session, name: str | None, ctx: Context | None = None) -> Deal:
    """The one deal a name (or `#id`) designates; else a refusal: unknown, or which one."""
    if not name:
        raise Refusal("bad_syntax", command="deal")
    found = queries.find_deals(session, name)
    if len(found) == 1:
        return found[0]
    if found:
        raise ambiguous(session, ctx, "deal", name, found)
    raise Refusal("unknown_deal", name=name,
                  suggestions=queries.suggest_deals(session, name))


def account_of(session: Session, deal: Deal) -> Account:
    """A deal's account, for what needs one (fit, checklist); a deal the CRM gave no company is
    refused, saying so."""
    account = session.get(Account, deal.account_id) if deal.account_id is not None else None
    if account is None:
        raise Refusal("no_account", deal=deal.name)
    return account


def resolve_subject(session: Session, name: str, ctx: Context | None = None) -> tuple[str, Deal | None, Account | None]:
    """("deal", deal, its account) when the name is a deal's (or `#id`, a deal's id), else
    ("account", None, account): what a checklist or a history is about. A name several records
    share answers "which one?"."""
    deals = queries.find_deals(session, name)
    exact = [d for d in deals if fold(d.name) == fold(name) or queries.record_id(name) is not None]
    if len(exact) > 1:
        raise ambiguous(session, ctx, "deal", name, exact)
    if exact:
        return "deal", exact[0], account_of(session, exact[0])
    accounts = queries.find_accounts(session, name)
    if len(accounts) > 1:
        raise ambiguous(session, ctx, "account", name, accounts)
    if accounts:
        return "account", None, accounts[0]
    if len(deals) > 1:
        raise ambiguous(session, ctx, "deal", name, deals)
    if deals:
        return "deal", deals[0], account_of(session, deals[0])
    raise Refusal("unknown_subject", name=name,
                  suggestions=queries.closest(name, queries.similar_names(session, Deal, name)
                                              + queries.similar_names(session, Account, name)))


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


def list_scope(ctx: Context, owner: str | None, owners: list[str] | None) -> tuple[str | None, str | None]:
    """(the one owner a list shows, the manager whose team it shows), from what list_owners
    gave for `owner`."""
    if owners is None:
        return None, None
    if owner is not None or len(owners) == 1 and fold(owners[0]) != fold(ctx.person.owner or ""):
        return owners[0], None
    return None, ctx.person.owner


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


def kind_label(ctx: Context, kind: str | None) -> str | None:
    """A deal kind's name in the reader's language (Renewal, Renouvellement)."""
    spec = ctx.playbook.deal_kind(kind)
    return localized(spec.name, ctx.language) if spec else None


def deal_data(ctx: Context, deal: Deal, timing: DealTiming, account_name: str | None) -> dict[str, Any]:
    """The deal as every surface shows it: stage time against the standard, and its state. When
    the CRM never said when the deal entered its stage, the timing is `estimated` from its
    creation date (open_days against window_days, the standard time of every stage so far)."""
    return {
        "id": deal.id,
        "deal": deal.name,
        "account": account_name,
        "account_missing": deal.account_id is None,
        "owner": deal.owner,
        "status": deal.status,
        "kind": deal.kind,
        "kind_name": kind_label(ctx, deal.kind),
        "amount": deal.amount,
        "currency": deal.currency or ctx.playbook.currency,
        "close_date": deal.close_date,
        "close_date_passed": deal.status == "open" and deal.close_date is not None and deal.close_date < ctx.today(),
        "stage": deal.stage,
        "stage_name": stage_label(ctx, deal.stage),
        "crm_stage": deal.crm_stage,
        "estimated": timing.estimated,
        "open_days": timing.open_days,
        "window_days": timing.window_days,
        "opened_at": ctx.local(deal.created_at),
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


# A stay may count one business day more than its calendar days (one begun late on a Friday
# counts Monday whole), and stored moments may lack their time zone: two days' margin keeps in a
# database's filter on calendar days every stay that business days could judge (a nudge's
# possibly skipped stages).
FILTER_MARGIN = timedelta(days=2)


def possibly_frozen(ctx: Context):
    """The SQL condition on an open deal that it is frozen: its open stay at its stage began
    before that stage's limit for its kind (or, when its start is estimated, it was created
    before the pipeline's window so far), at the lines stuck_limits draws exactly (business days,
    holidays); time_deal then times the deals it keeps."""
    limits, own_kinds = stuck_limits(ctx.playbook, ctx.now().astimezone(timezone.utc))
    return frozen_store.frozen_exists(limits, own_kinds)


def open_deals_timed(session: Session, ctx: Context, owners: Sequence[str] | None = None) -> list[tuple]:
    """(deal, account name, timing) for every open deal, or those of `owners`: the pipeline that
    frozen/skipped lists, nudges and digests judge. One query per table."""
    deals = queries.list_deals(session, owners=owners, status="open")
    visits = queries.visits_by_deal(session, [d.id for d in deals])
    names = queries.account_names(session, [d.account_id for d in deals])
    now = ctx.now()
    return [(d, names.get(d.account_id), time_deal(queries.deal_record(d), visits.get(d.id, []), now, ctx.playbook))
            for d in deals]
