"""The weekly rep nudge and manager digest, composed as data for any surface. Seed 002's method:
judge the pipeline on time at stage; stuck deals go to nurture; a problem that repeats for one
rep at one stage is a coaching topic. Plus the week's due common actions, Reconquérir first."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Iterable

from sqlmodel import Session, select

from playbook.words import DAY_WORDS, fold
from handlers import directory
from handlers.actions import done_since, due_actions, last_done
from handlers.directory import Recipient
from handlers.people import team_of
from handlers.plans_digest import has_work, manager_plan_work, rep_plan_work
from handlers.reply import Context, Reply
from handlers.records import AccountView, account_views, deal_data, open_deals_timed, stage_label
from playbook.assessment import time_deal
from playbook.coaching import coaching_patterns, stage_outcomes
from playbook.config import PROFILE_IDS, localized
from playbook.stage_aging import frozen_deals
from store import queries
from store.database import session_scope
from store.models import Account, AuditRecord, Deal, RepSetting, WeeklySnapshot, utcnow

WEEK = timedelta(days=7)


def period_of(ctx: Context, at: datetime | None = None) -> str:
    """The ISO week a nudge belongs to, in the playbook's time zone: one nudge per week."""
    year, week, _ = (at or ctx.now()).astimezone(ctx.playbook.tz).isocalendar()
    return f"{year}-W{week:02d}"


# --- who gets what ---------------------------------------------------------------------------

def rep_settings(session: Session) -> dict[str, RepSetting]:
    return {fold(r.owner): r for r in session.exec(select(RepSetting))}


def reps(session: Session, ctx: Context) -> list[Recipient]:
    """Who gets a rep nudge, and how each is reached (the directory)."""
    return directory.reps(session, ctx.playbook)


def managers(session: Session, ctx: Context) -> list[Recipient]:
    """Who gets a manager digest, and how each is reached (the directory)."""
    return directory.managers(session, ctx.playbook)


def nudge_day(ctx: Context, setting: RepSetting | None) -> int:
    """The rep's chosen weekday, else the weekday of the playbook's rep schedule (Monday if any)."""
    if setting is not None and setting.nudge_day is not None:
        return setting.nudge_day
    weekday = ctx.playbook.nudges.rep_cron.split()[4].split(",")[0].split("-")[0].lower()
    return DAY_WORDS.get(weekday, int(weekday) - 1 if weekday.isdigit() and weekday != "0" else 0) % 7


# --- the rep nudge ---------------------------------------------------------------------------

def _accounts_of(session: Session, owners: Iterable[str]) -> list[Account]:
    keys = {fold(o) for o in owners}
    return [a for a in queries.list_accounts(session) if fold(a.owner or "") in keys]


def rep_nudge_data(session: Session, ctx: Context, rep: str, setting: RepSetting | None = None) -> dict | None:
    """What one rep should act on this week, or None when there is nothing to say."""
    muted = set(setting.muted if setting else [])
    today, now = ctx.today(), ctx.now()
    timed = open_deals_timed(session, ctx, [rep])
    frozen, snoozed = [], 0
    for (deal, account), timing in frozen_deals([((d, a), t) for d, a, t in timed]):
        until = getattr(deal, "snoozed_until", None)
        if until is not None and until >= today:
            snoozed += 1  # snoozed for a known reason: left out until then
            continue
        frozen.append(deal_data(ctx, deal, timing, account))
    skipped = []
    for deal, account, timing in timed:
        recent = [s for s in timing.skipped_stages if s.get("at") is not None and now - s["at"] <= WEEK]
        if recent:
            row = deal_data(ctx, deal, timing, account)
            row["skipped_stages"] = [dict(s, stage_name=stage_label(ctx, s["stage"])) for s in recent]
            skipped.append(row)
    views = account_views(session, ctx, _accounts_of(session, [rep]), with_timings=False)
    done = last_done(session, [v.account.id for v in views])
    win_back, other = [], []
    for view in views:
        actions = due_actions(ctx, view, done)
        if not actions:
            continue
        row = {"account": view.account.name, "profile": view.assessment.profile.profile, "actions": actions}
        (win_back if row["profile"] == "win_back" else other).append(row)
    other.sort(key=lambda r: (PROFILE_IDS.index(r["profile"]) if r["profile"] in PROFILE_IDS else 9, r["account"]))
    data = {
        "rep": rep,
        "period": period_of(ctx),
        "frozen": [] if "frozen" in muted else frozen,
        "frozen_amount": 0 if "frozen" in muted else sum(d["amount"] or 0 for d in frozen),
        "snoozed": snoozed,
        "skipped": [] if "skipped" in muted else skipped,
        "win_back": [] if "win_back" in muted else win_back,
        "actions": [] if "actions" in muted else other,
        "muted": sorted(muted),
        "plans": rep_plan_work(session, ctx, views, muted="plans" in muted),
    }
    if not (data["frozen"] or data["skipped"] or data["win_back"] or data["actions"] or has_work(data["plans"])):
        return None
    return data


# --- the manager digest ----------------------------------------------------------------------

def _counts(views: list[AccountView]) -> dict[str, dict[str, int]]:
    profiles = {p: 0 for p in ("expand", "keep", "acquire", "win_back", "let_go", "none")}
    tiers = {"1": 0, "2": 0, "3": 0}
    for v in views:
        decision = v.assessment.profile
        key = decision.profile or ("let_go" if decision.let_go else "none")
        profiles[key] += 1
        tiers[str(v.assessment.tier.tier)] += 1
    return {"profiles": profiles, "tiers": tiers}


def _previous_snapshot(session: Session, manager: str, period: str) -> dict | None:
    rows = session.exec(select(WeeklySnapshot).where(WeeklySnapshot.scope == manager, WeeklySnapshot.period < period)
                        .order_by(WeeklySnapshot.period.desc())).first()
    return rows.counts if rows else None


def save_snapshot(session: Session, manager: str, period: str, counts: dict) -> None:
    row = session.exec(select(WeeklySnapshot).where(WeeklySnapshot.scope == manager,
                                                    WeeklySnapshot.period == period)).first()
    if row is None:
        session.add(WeeklySnapshot(scope=manager, period=period, counts=counts))
    else:
        row.counts, row.taken_at = counts, utcnow()
        session.add(row)


def manager_digest_data(session: Session, ctx: Context, manager: str) -> dict:
    members = team_of(session, ctx.playbook, manager)
    period = period_of(ctx)
    now = ctx.now()
    views = account_views(session, ctx, _accounts_of(session, members), with_timings=False)
    counts = _counts(views)
    previous = _previous_snapshot(session, manager, period)
    changes = None
    if previous:
        changes = {group: {k: n - previous.get(group, {}).get(k, 0) for k, n in counts[group].items()}
                   for group in counts}

    timed = open_deals_timed(session, ctx, members)
    by_rep: dict[str, list] = defaultdict(list)
    for (deal, account), timing in frozen_deals([((d, a), t) for d, a, t in timed]):
        by_rep[deal.owner or ""].append(deal_data(ctx, deal, timing, account))
    frozen_by_rep = sorted(
        ({"owner": owner, "count": len(rows), "amount": sum(r["amount"] or 0 for r in rows), "deals": rows}
         for owner, rows in by_rep.items()), key=lambda r: (-r["count"], -r["amount"]))

    member_keys = {fold(m) for m in members}
    nurtured = []
    records = list(session.exec(select(AuditRecord).where(AuditRecord.entity == "deal", AuditRecord.action == "nurture",
                                                          AuditRecord.at >= now - WEEK).order_by(AuditRecord.at)))
    ids = [r.entity_id for r in records if r.entity_id]
    deals_by_id = {d.id: d for d in session.exec(select(Deal).where(Deal.id.in_(ids)))} if ids else {}
    for rec in records:
        deal = deals_by_id.get(rec.entity_id)
        if deal is None or fold(deal.owner or "") not in member_keys:
            continue
        reason = (rec.changes or {}).get("reason", [None, None])
        nurtured.append({"deal": deal.name, "owner": deal.owner, "at": ctx.local(rec.at),
                         "reason": reason[1] if isinstance(reason, list) else reason})

    # Coaching: every deal of the team, open or closed, through each stage it went.
    team_deals = [d for d in queries.list_deals(session) if fold(d.owner or "") in member_keys]
    visits = queries.visits_by_deal(session, [d.id for d in team_deals])
    outcomes = []
    for d in team_deals:
        timing = time_deal(queries.deal_record(d), visits.get(d.id, []), now, ctx.playbook)
        outcomes += stage_outcomes(d.owner or "", d.name, timing, ctx.playbook)
    coaching = [{"owner": p.owner, "stage": p.stage, "stage_name": stage_label(ctx, p.stage), "kind": p.kind,
                 "count": p.count, "of": p.of, "deals": list(p.deals)} for p in coaching_patterns(outcomes)]

    aging = []
    for stage in ctx.playbook.stages:
        indicators = sorted(t.indicator for d, _, t in timed if d.stage == stage.id and t.indicator is not None)
        aging.append({"stage": stage.id, "stage_name": localized(stage.name, ctx.language),
                      "standard_days": stage.standard_days, "stuck_after_days": stage.stuck_after_days,
                      "indicators": indicators})

    done = last_done(session, [v.account.id for v in views])
    win_back_views = [v for v in views if v.assessment.profile.profile == "win_back"]
    due = sum(len(due_actions(ctx, v, done)) for v in win_back_views)
    done_week = done_since(session, [v.account.id for v in win_back_views], now - WEEK)

    return {
        "manager": manager,
        "team": members,
        "period": period,
        "counts": counts,
        "changes": changes,
        "frozen_by_rep": frozen_by_rep,
        "frozen_count": sum(r["count"] for r in frozen_by_rep),
        "frozen_amount": sum(r["amount"] for r in frozen_by_rep),
        "nurtured": nurtured,
        "coaching": coaching,
        "at_risk": [{"account": v.account.name, "owner": v.account.owner} for v in views if v.assessment.tier.at_risk],
        "let_go": [{"account": v.account.name, "owner": v.account.owner} for v in views if v.assessment.profile.let_go],
        "win_back": {"accounts": len(win_back_views), "due": due, "done_this_week": done_week},
        "aging": aging,
        "plans": manager_plan_work(session, ctx, views),
    }


# --- the command: a preview of my nudge ----------------------------------------------------

def nudge(ctx: Context, owner: str | None = None) -> Reply:
    """`nudge [OWNER]`: this week's nudge, as it would be sent."""
    from handlers.records import resolve_owner

    with session_scope(ctx.engine) as session:
        rep = resolve_owner(session, ctx, owner or "@me")
        ctx.require("oversee", owner=rep)  # a nudge is personal: the rep, their manager, an admin
        data = rep_nudge_data(session, ctx, rep, rep_settings(session).get(fold(rep)))
    if data is None:
        return Reply("rep_nudge_empty", {"rep": rep})
    return Reply("rep_nudge", data)
