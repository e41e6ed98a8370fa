"""A rep's Monday nudge: what the method says to do about each of their accounts and deals this
week. Frozen deals (to nurture, or escalated when the kind or the tier says so), steps skipped
this week, the accounts to let go (seed 000: a direct decision), the customers at risk and why,
the misfits not to chase (seed 001), and the common actions due, tier 1 first (seed 004)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from handlers.actions import due_actions, last_done
from handlers.plans_digest import has_work, rep_plan_work
from handlers.records import AccountView, account_views, deal_data, open_deals_timed, stage_label
from handlers.reply import Context
from playbook.config import PROFILE_IDS, localized
from playbook.method import at_risk_reasons, let_go_silenced
from playbook.money import home_total, totals
from playbook.stage_aging import frozen_deals
from playbook.words import fold
from store import queries
from store.models import AccountDecision, RepSetting

WEEK = timedelta(days=7)


def tiers_of(session: Session, ctx: Context, account_ids: list[int]) -> dict[int, int]:
    """The tier of each account (a frozen deal's treatment may depend on it)."""
    accounts = queries.accounts_by_id(session, account_ids)
    return {v.account.id: v.assessment.tier.tier
            for v in account_views(session, ctx, list(accounts.values()), with_timings=False)}


def frozen_row(ctx: Context, deal, timing, account: str | None, tier: int | None) -> dict[str, Any]:
    """A frozen deal with what it calls for: nurture, or escalation to the manager."""
    row = deal_data(ctx, deal, timing, account)
    kind = getattr(deal, "kind", None)
    spec = ctx.playbook.deal_kind(kind)
    row.update(tier=tier, kind=kind, kind_name=localized(spec.name, ctx.language) if spec else None,
               treatment=ctx.playbook.frozen_treatment(kind, tier),
               advice=localized(spec.advice, ctx.language) if spec and spec.advice else None)
    return row


def latest_decisions(session: Session, account_ids: list[int]) -> dict[int, AccountDecision]:
    out: dict[int, AccountDecision] = {}
    for chunk in queries._chunks(account_ids):
        for row in session.exec(select(AccountDecision).where(AccountDecision.account_id.in_(chunk),
                                                              AccountDecision.kind == "let_go")
                                .order_by(AccountDecision.decided_at)):
            out[row.account_id] = row
    return out


def _accounts_of(session: Session, rep: str):
    return queries.list_accounts(session, owner=rep)


def rep_nudge_data(session: Session, ctx: Context, rep: str, setting: RepSetting | None = None) -> dict | None:
    """What one rep should act on this week, or None when there is nothing to say."""
    muted = set(setting.muted if setting else [])
    today, now = ctx.today(), ctx.now()
    timed = open_deals_timed(session, ctx, [rep])
    stuck = frozen_deals([((d, a), t) for d, a, t in timed])
    tiers = tiers_of(session, ctx, sorted({d.account_id for (d, _), _ in stuck if d.account_id}))
    frozen, snoozed = [], 0
    for (deal, account), timing in stuck:
        until = getattr(deal, "snoozed_until", None)
        if until is not None and until >= today:
            snoozed += 1  # snoozed for a known reason: left out until then
            continue
        frozen.append(frozen_row(ctx, deal, timing, account, tiers.get(deal.account_id)))
    frozen.sort(key=lambda r: (r["tier"] or 9, -(r["indicator"] or 0)))
    # Open deals whose close date has passed, though their stage time is not over.
    stuck_ids = {d.id for (d, _), _ in stuck}
    overdue = []
    for deal, account, timing in timed:
        until = getattr(deal, "snoozed_until", None)
        if deal.id in stuck_ids or (until is not None and until >= today):
            continue
        if deal.close_date is not None and deal.close_date < today:
            overdue.append(deal_data(ctx, deal, timing, account))
    overdue.sort(key=lambda r: r["close_date"])
    skipped = []
    for deal, account, timing in timed:
        recent = [s for s in timing.skipped_stages if s.get("at") is not None and now - s["at"] <= WEEK]
        if recent:
            row = deal_data(ctx, deal, timing, account)
            row["skipped_stages"] = [dict(s, stage_name=stage_label(ctx, s["stage"])) for s in recent]
            skipped.append(row)

    views = account_views(session, ctx, _accounts_of(session, rep), with_timings=False)
    by_tier = sorted(views, key=lambda v: (v.assessment.tier.tier, -v.assessment.tier.score, fold(v.account.name)))
    done = last_done(session, [v.account.id for v in views])
    decisions = latest_decisions(session, [v.account.id for v in views if v.assessment.profile.let_go])
    win_back, other, let_go, at_risk, misfits = [], [], [], [], []
    for view in by_tier:
        a, s = view.account, view.assessment
        if s.profile.let_go:
            decision = decisions.get(a.id)
            if not let_go_silenced(decision.decision if decision else None,
                                   ctx.local(decision.decided_at) if decision else None, today, ctx.playbook):
                let_go.append(_let_go_row(ctx, view, decision))
        if s.tier.at_risk:
            at_risk.append({"account": a.name, "tier": s.tier.tier,
                            "reasons": at_risk_reasons(s.facts, ctx.playbook)})
        if s.fit.verdict == "misfit" and a.status == "prospect":
            misfits.append({"account": a.name, "profile": s.profile.profile, "open_deals": s.facts.get("open_deals"),
                            "traits": [t["label"] for t in s.fit.matched_traits if t["severity"] == "blocking"]})
        actions = due_actions(ctx, view, done)
        if actions:
            row = {"account": a.name, "profile": s.profile.profile, "tier": s.tier.tier, "actions": actions}
            (win_back if row["profile"] == "win_back" else other).append(row)
    other.sort(key=lambda r: (r["tier"], PROFILE_IDS.index(r["profile"]) if r["profile"] in PROFILE_IDS else 9))

    def unless(category: str, rows):
        return [] if category in muted else rows

    amounts = [] if "frozen" in muted else [(d["amount"], d["currency"]) for d in frozen]
    data = {
        "rep": rep,
        "period": period_of(ctx),
        "frozen": unless("frozen", frozen),
        "frozen_amount": home_total(amounts, ctx.playbook),
        "frozen_totals": totals(amounts, ctx.playbook),
        "overdue": unless("frozen", overdue),
        "escalated": 0 if "frozen" in muted else sum(1 for d in frozen if d["treatment"] == "escalate"),
        "snoozed": snoozed,
        "skipped": unless("skipped", skipped),
        "let_go": unless("let_go", let_go),
        "at_risk": unless("at_risk", at_risk),
        "misfits": unless("misfits", misfits),
        "win_back": unless("win_back", win_back),
        "actions": unless("actions", other),
        "muted": sorted(muted),
        "plans": rep_plan_work(session, ctx, views, muted="plans" in muted),
    }
    if not (any(data[k] for k in ("frozen", "overdue", "skipped", "let_go", "at_risk", "misfits", "win_back",
                                  "actions")) or has_work(data["plans"])):
        return None
    return data


def _let_go_row(ctx: Context, view: AccountView, decision: AccountDecision | None) -> dict[str, Any]:
    s = view.assessment.profile
    return {"account": view.account.name, "tier": view.assessment.tier.tier,
            "conditions": [c for c in s.let_go_conditions if c["holds"] and c["field"] != "status"],
            "action": localized(ctx.playbook.let_go.action, ctx.language) if ctx.playbook.let_go else None,
            "last_decision": decision.decision if decision else None}


def period_of(ctx: Context, at=None) -> str:
    """The ISO week a nudge belongs to, in the playbook's time zone: one nudge per week."""
    year, week, _ = (at or ctx.now()).astimezone(ctx.playbook.tz).isocalendar()
    return f"{year}-W{week:02d}"
