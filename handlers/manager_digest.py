"""A manager's weekly digest of their team: counts by profile and tier and the change since last
week, frozen deals by rep, what needs the manager (frozen renewals and expansions, and the
tiers that escalate), misfit-gate overrides and their reasons, the week's nurture list,
coaching topics (seed 002: the same problem at the same stage), at-risk and let-go accounts,
and win-back progress."""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from sqlmodel import Session, select

from handlers.actions import done_since, due_actions, last_done
from handlers.people import team_of
from handlers.plans_digest import manager_plan_work
from handlers.records import AccountView, account_views, open_deals_timed, stage_label
from handlers.rep_nudge import frozen_row, latest_decisions, period_of, tiers_of
from handlers.reply import Context
from playbook.assessment import time_deal
from playbook.coaching import coaching_patterns, stage_outcomes
from playbook.config import localized
from playbook.method import at_risk_reasons
from playbook.money import home_total, totals
from playbook.stage_aging import frozen_deals
from playbook.words import fold
from store import queries
from store.models import AuditRecord, Deal, WeeklySnapshot, utcnow

WEEK = timedelta(days=7)


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


def _week_of_deal_events(session: Session, ctx: Context, action: str, member_keys: set[str]) -> list[tuple]:
    """(audit record, deal) of the team's deals for one kind of change this week."""
    records = list(session.exec(select(AuditRecord).where(AuditRecord.entity == "deal", AuditRecord.action == action,
                                                          AuditRecord.at >= ctx.now() - WEEK)
                                .order_by(AuditRecord.at)))
    ids = [r.entity_id for r in records if r.entity_id]
    deals = {d.id: d for d in session.exec(select(Deal).where(Deal.id.in_(ids)))} if ids else {}
    return [(r, deals[r.entity_id]) for r in records
            if r.entity_id in deals and fold(deals[r.entity_id].owner or "") in member_keys]


def _second(value):
    return value[1] if isinstance(value, list) and len(value) == 2 else value


def manager_digest_data(session: Session, ctx: Context, manager: str) -> dict:
    members = team_of(session, ctx.playbook, manager)
    member_keys = {fold(m) for m in members}
    period = period_of(ctx)
    now = ctx.now()
    views = account_views(session, ctx, queries.list_accounts(session, owners=members), with_timings=False)
    counts = _counts(views)
    previous = _previous_snapshot(session, manager, period)
    changes = None
    if previous:
        changes = {group: {k: n - previous.get(group, {}).get(k, 0) for k, n in counts[group].items()}
                   for group in counts}

    timed = open_deals_timed(session, ctx, members)
    stuck = frozen_deals([((d, a), t) for d, a, t in timed])
    tiers = {v.account.id: v.assessment.tier.tier for v in views}
    missing = sorted({d.account_id for (d, _), _ in stuck if d.account_id and d.account_id not in tiers})
    tiers |= tiers_of(session, ctx, missing)  # deals of the team on other reps' accounts
    by_rep: dict[str, list] = defaultdict(list)
    needs_you = []
    for (deal, account), timing in stuck:
        row = frozen_row(ctx, deal, timing, account, tiers.get(deal.account_id))
        by_rep[deal.owner or ""].append(row)
        if row["treatment"] == "escalate":
            needs_you.append(row)
    def money(rows: list) -> list:
        return [(r["amount"], r["currency"]) for r in rows]

    frozen_by_rep = sorted(
        ({"owner": owner or None, "count": len(rows), "amount": home_total(money(rows), ctx.playbook),
          "totals": totals(money(rows), ctx.playbook), "estimated": sum(1 for r in rows if r["estimated"]),
          "deals": rows}
         for owner, rows in by_rep.items()), key=lambda r: (-r["count"], -r["amount"]))
    every_frozen = [d for r in frozen_by_rep for d in r["deals"]]
    overdue = sum(1 for d, _, t in timed if d.close_date is not None and d.close_date < ctx.today()
                  and t.state != "stuck")

    nurtured = [{"deal": deal.name, "owner": deal.owner, "at": ctx.local(rec.at),
                 "reason": _second((rec.changes or {}).get("reason"))}
                for rec, deal in _week_of_deal_events(session, ctx, "nurture", member_keys)]
    overrides = [{"deal": deal.name, "owner": deal.owner, "by": rec.actor, "at": ctx.local(rec.at),
                  "reason": (rec.changes or {}).get("reason"),
                  "stage_name": stage_label(ctx, _second((rec.changes or {}).get("stage"))),
                  "traits": [_trait_label(ctx, t) for t in (rec.changes or {}).get("traits", [])]}
                 for rec, deal in _week_of_deal_events(session, ctx, "misfit_override", member_keys)]

    # Coaching: every deal of the team, open or closed, through each stage it went.
    team_deals = queries.list_deals(session, owners=members)
    visits = queries.visits_by_deal(session, [d.id for d in team_deals])
    outcomes = []
    for d in team_deals:
        timing = time_deal(queries.deal_record(d), visits.get(d.id, []), now, ctx.playbook)
        outcomes += stage_outcomes(d.owner or "", d.name, timing, ctx.playbook)
    method = ctx.playbook.method
    coaching = [{"owner": p.owner, "stage": p.stage, "stage_name": stage_label(ctx, p.stage), "kind": p.kind,
                 "count": p.count, "of": p.of, "deals": list(p.deals), "open_over": p.open_over,
                 "open_deals": list(p.open_deals)}
                for p in coaching_patterns(outcomes, recent=method.coaching_window,
                                           min_count=method.coaching_min_repeats)]

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
    decisions = latest_decisions(session, [v.account.id for v in views if v.assessment.profile.let_go])

    return {
        "manager": manager,
        "team": members,
        "period": period,
        "counts": counts,
        "changes": changes,
        "frozen_by_rep": frozen_by_rep,
        "frozen_count": sum(r["count"] for r in frozen_by_rep),
        "frozen_amount": home_total(money(every_frozen), ctx.playbook),
        "frozen_totals": totals(money(every_frozen), ctx.playbook),
        "frozen_estimated": sum(r["estimated"] for r in frozen_by_rep),
        "frozen_close_date_passed": sum(1 for d in every_frozen if d["close_date_passed"]),
        "overdue_count": overdue,
        "needs_you": sorted(needs_you, key=lambda r: (r["tier"] or 9, -(r["indicator"] or 0))),
        "overrides": overrides,
        "nurtured": nurtured,
        "coaching": coaching,
        "at_risk": [{"account": v.account.name, "owner": v.account.owner,
                     "reasons": at_risk_reasons(v.assessment.facts, ctx.playbook)}
                    for v in views if v.assessment.tier.at_risk],
        "let_go": [{"account": v.account.name, "owner": v.account.owner,
                    "decision": decisions[v.account.id].decision if v.account.id in decisions else None,
                    "reason": decisions[v.account.id].reason if v.account.id in decisions else None}
                   for v in views if v.assessment.profile.let_go],
        "win_back": {"accounts": len(win_back_views), "due": due, "done_this_week": done_week},
        "aging": aging,
        "plans": manager_plan_work(session, ctx, views),
    }


def _trait_label(ctx: Context, trait_id: str) -> str:
    trait = next((t for t in ctx.playbook.traits if t.id == trait_id), None)
    return localized(trait.label, ctx.language) if trait else trait_id
