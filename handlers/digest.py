"""The weekly rep nudge and manager digest, composed as data for any surface. Seed 002's method:
judge the pipeline on time at stage; stuck deals go to nurture; a problem that repeats for one
rep at one stage is a coaching topic. Plus the week's due common actions, Reconquérir first."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlmodel import Session, select

from handlers.reply import Context, Refusal, Reply
from handlers.views import AccountView, account_views, deal_data, open_deals_timed, stage_label
from playbook.assessment import time_deal
from playbook.coaching import coaching_patterns, stage_outcomes
from playbook.config import PROFILE_IDS, localized
from playbook.stage_aging import frozen_deals
from store import queries
from store.database import session_scope
from store.models import Account, ActionDone, AuditRecord, Deal, RepSetting, WeeklySnapshot, utcnow

CATEGORIES = ("frozen", "skipped", "win_back", "actions")
WEEK = timedelta(days=7)
DAY_WORDS = {
    "mon": 0, "monday": 0, "lundi": 0, "tue": 1, "tuesday": 1, "mardi": 1, "wed": 2, "wednesday": 2,
    "mercredi": 2, "thu": 3, "thursday": 3, "jeudi": 3, "fri": 4, "friday": 4, "vendredi": 4,
    "sat": 5, "saturday": 5, "samedi": 5, "sun": 6, "sunday": 6, "dimanche": 6,
}
CATEGORY_WORDS = {
    "frozen": "frozen", "stuck": "frozen", "gelees": "frozen", "skipped": "skipped", "sautees": "skipped",
    "win_back": "win_back", "winback": "win_back", "reconquerir": "win_back", "actions": "actions",
}


def period_of(ctx: Context, at: datetime | None = None) -> str:
    """The ISO week a nudge belongs to, in the playbook's time zone: one nudge per week."""
    year, week, _ = (at or ctx.now()).astimezone(ctx.playbook.tz).isocalendar()
    return f"{year}-W{week:02d}"


# --- what is due -----------------------------------------------------------------------------

def last_done(session: Session, account_ids: list[int]) -> dict[tuple[int, str], datetime]:
    out: dict[tuple[int, str], datetime] = {}
    for chunk in queries._chunks(account_ids):
        for row in session.exec(select(ActionDone).where(ActionDone.account_id.in_(chunk))):
            key = (row.account_id, row.action_id)
            if key not in out or row.done_at > out[key]:
                out[key] = row.done_at
    return out


def due_actions(ctx: Context, view: AccountView, done: dict[tuple[int, str], datetime]) -> list[dict[str, Any]]:
    """The profile's common actions not done within the profile's cadence."""
    profile = ctx.playbook.profile(view.assessment.profile.profile or "")
    if profile is None:
        return []
    texts = localized(profile.actions, ctx.language)
    now = ctx.now()
    out = []
    for action_id, text in zip(profile.action_ids(), texts):
        when = done.get((view.account.id, action_id))
        if when is None or now - when >= timedelta(days=profile.every_days):
            out.append({"id": action_id, "number": int(action_id.rsplit(":", 1)[1]), "text": text,
                        "last_done": when})
    return out


def done_since(session: Session, account_ids: list[int], since: datetime) -> int:
    count = 0
    for chunk in queries._chunks(account_ids):
        count += len(session.exec(select(ActionDone.id).where(ActionDone.account_id.in_(chunk),
                                                              ActionDone.done_at >= since)).all())
    return count


# --- who gets what ---------------------------------------------------------------------------

def rep_settings(session: Session) -> dict[str, RepSetting]:
    return {queries.fold(r.owner): r for r in session.exec(select(RepSetting))}


def reps(session: Session, ctx: Context) -> list[str]:
    """Everyone who owns an open deal or an account, and every team member."""
    owners = set(queries.all_owners(session))
    for team in ctx.playbook.teams:
        owners |= set(team.members)
    return sorted(owners, key=queries.fold)


def managers(ctx: Context) -> list[str]:
    return sorted({t.manager for t in ctx.playbook.teams}, key=queries.fold)


def nudge_day(ctx: Context, setting: RepSetting | None) -> int:
    """The rep's chosen weekday, else the weekday of the playbook's rep schedule (Monday if any)."""
    if setting is not None and setting.nudge_day is not None:
        return setting.nudge_day
    weekday = ctx.playbook.nudges.rep_cron.split()[4].split(",")[0].split("-")[0].lower()
    return DAY_WORDS.get(weekday, int(weekday) - 1 if weekday.isdigit() and weekday != "0" else 0) % 7


# --- the rep nudge ---------------------------------------------------------------------------

def _accounts_of(session: Session, owners: Iterable[str]) -> list[Account]:
    keys = {queries.fold(o) for o in owners}
    return [a for a in queries.list_accounts(session) if queries.fold(a.owner or "") in keys]


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
    }
    if not (data["frozen"] or data["skipped"] or data["win_back"] or data["actions"]):
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
    members = ctx.playbook.team_of(manager)
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

    member_keys = {queries.fold(m) for m in members}
    nurtured = []
    records = list(session.exec(select(AuditRecord).where(AuditRecord.entity == "deal", AuditRecord.action == "nurture",
                                                          AuditRecord.at >= now - WEEK).order_by(AuditRecord.at)))
    ids = [r.entity_id for r in records if r.entity_id]
    deals_by_id = {d.id: d for d in session.exec(select(Deal).where(Deal.id.in_(ids)))} if ids else {}
    for rec in records:
        deal = deals_by_id.get(rec.entity_id)
        if deal is None or queries.fold(deal.owner or "") not in member_keys:
            continue
        reason = (rec.changes or {}).get("reason", [None, None])
        nurtured.append({"deal": deal.name, "owner": deal.owner, "at": ctx.local(rec.at),
                         "reason": reason[1] if isinstance(reason, list) else reason})

    # Coaching: every deal of the team, open or closed, through each stage it went.
    team_deals = [d for d in queries.list_deals(session) if queries.fold(d.owner or "") in member_keys]
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
    }


# --- commands: a preview of my nudge, settings, and a done action ----------------------------

def my_nudge(ctx: Context, owner: str | None = None) -> Reply:
    """`nudge [OWNER]`: this week's nudge, as it would be sent."""
    from handlers.views import resolve_owner

    with session_scope(ctx.engine) as session:
        rep = resolve_owner(session, ctx, owner or "@me")
        data = rep_nudge_data(session, ctx, rep, rep_settings(session).get(queries.fold(rep)))
    if data is None:
        return Reply("rep_nudge_empty", {"rep": rep})
    return Reply("rep_nudge", data)


def settings(ctx: Context, changes: dict[str, str]) -> Reply:
    """`settings [day=tuesday] [mute=skipped] [unmute=win_back]` for the person speaking."""
    if not ctx.owner:
        raise Refusal("unknown_me")
    with session_scope(ctx.engine) as session:
        row = session.exec(select(RepSetting).where(RepSetting.owner == ctx.owner)).first() or RepSetting(owner=ctx.owner)
        muted = set(row.muted or [])
        for key, raw in changes.items():
            k, value = queries.fold(key), queries.fold(raw)
            if k in ("day", "jour"):
                if value in ("default", "auto", "defaut"):
                    row.nudge_day = None
                elif value in DAY_WORDS:
                    row.nudge_day = DAY_WORDS[value]
                else:
                    raise Refusal("bad_value", field=key, value=raw, expected="monday | tuesday | … | sunday | default")
            elif k in ("mute", "muet", "couper", "unmute", "reactiver"):
                cats = [CATEGORY_WORDS.get(c) for c in value.replace(",", " ").split()]
                if not cats or None in cats:
                    raise Refusal("bad_value", field=key, value=raw, expected=" | ".join(CATEGORIES))
                muted = (muted | set(cats)) if k in ("mute", "muet", "couper") else (muted - set(cats))
            else:
                raise Refusal("unknown_field", field=key, suggestions=queries.closest(key, ["day", "mute", "unmute"]),
                              known=["day", "mute", "unmute"])
        if changes:
            row.muted, row.updated_by, row.updated_at = sorted(muted), ctx.actor, utcnow()
            session.add(row)
            queries.audit(session, ctx.actor, "settings", "update", entity_name=ctx.owner, changes=changes)
        day = row.nudge_day if row.nudge_day is not None else nudge_day(ctx, None)
        return Reply("settings", {"owner": ctx.owner, "day": day, "chosen_day": row.nudge_day,
                                  "muted": sorted(muted), "categories": list(CATEGORIES), "changed": bool(changes)})


def action_done(ctx: Context, account_name: str, number: str) -> Reply:
    """`done ACCOUNT N`: the Nth common action of the account's profile is done (due again later)."""
    from handlers.views import resolve_account

    with session_scope(ctx.engine) as session:
        account = resolve_account(session, account_name)
        view = account_views(session, ctx, [account])[0]
        profile = ctx.playbook.profile(view.assessment.profile.profile or "")
        if profile is None:
            raise Refusal("no_actions", account=account.name)
        ids = profile.action_ids()
        if not number.isdigit() or not 1 <= int(number) <= len(ids):
            raise Refusal("bad_value", field="N", value=number, expected=f"1 … {len(ids)}")
        action_id = ids[int(number) - 1]
        session.add(ActionDone(account_id=account.id, action_id=action_id, done_by=ctx.actor, done_at=ctx.now()))
        queries.audit(session, ctx.actor, "account", "action_done", entity_id=account.id, entity_name=account.name,
                      changes={"action": action_id})
        session.flush()
        remaining = due_actions(ctx, view, last_done(session, [account.id]))
        text = localized(profile.actions, ctx.language)[int(number) - 1]
        return Reply("action_done", {"account": account.name, "profile": profile.id, "action": text,
                                     "next_due_in_days": profile.every_days, "remaining": remaining})
