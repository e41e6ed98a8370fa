"""A manager's weekly digest of their team: counts by profile and tier and the change since last
week, frozen deals by rep, what needs the manager (frozen renewals and expansions, and the
tiers that escalate), misfit-gate overrides and their reasons, the week's nurture list,
coaching topics (seed 002: the same problem at the same stage), at-risk and let-go accounts,
and win-back progress."""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any, Sequence

from sqlmodel import Session, select

from handlers.actions import due_actions_of
from handlers.people import teams_of
from handlers.plans_digest import manager_plan_work
from handlers.records import AccountView, account_views_where, stage_label
from handlers.rep_nudge import MOST, by_owner, current_rows, frozen_row, period_of
from handlers.reply import Context
from playbook.assessment import time_deal
from playbook.coaching import coaching_patterns, pattern_order, stage_outcomes
from playbook.config import localized
from playbook.method import at_risk_reasons
from playbook.money import home_total, totals
from playbook.stage_aging import frozen_deals
from playbook.words import fold
from store import plans as store_plans, queries, weekly
from store.models import WeeklySnapshot, utcnow

WEEK = timedelta(days=7)


def _counts(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    profiles = {p: 0 for p in ("expand", "keep", "acquire", "win_back", "let_go", "none")}
    tiers = {"1": 0, "2": 0, "3": 0}
    for r in rows:
        key = r["profile"] or ("let_go" if r["let_go"] else "none")
        profiles[key] += 1
        tiers[str(r["tier"])] += 1
    return {"profiles": profiles, "tiers": tiers}


def save_snapshot(session: Session, manager: str, period: str, counts: dict) -> None:
    row = session.exec(select(WeeklySnapshot).where(WeeklySnapshot.scope == manager,
                                                    WeeklySnapshot.period == period)).first()
    if row is None:
        session.add(WeeklySnapshot(scope=manager, period=period, counts=counts))
    else:
        row.counts, row.taken_at = counts, utcnow()
        session.add(row)


def _second(value):
    return value[1] if isinstance(value, list) and len(value) == 2 else value


class DigestBook:
    """What the digests of `managers` are made of, read in a fixed number of statements whatever
    the number of managers, of their reps or of their records: the teams, the stored assessment
    of their accounts, every deal of the teams with its stage history (each timed once: frozen,
    past the close date, stage aging, coaching), decisions, actions done, this week's nurture
    and gate overrides, plans, and last week's counts; and the full assessment of the accounts
    at risk a digest shows (MOST), which explains them."""

    def __init__(self, session: Session, ctx: Context, managers: Sequence[str]):
        self.ctx = ctx
        now, today = ctx.now(), ctx.today()
        self.period = period_of(ctx)
        self.teams = teams_of(session, ctx.playbook, list(managers))
        owners = sorted({m for team in self.teams.values() for m in team}, key=fold)
        rows = current_rows(session, ctx, weekly.account_rows(session, owners))  # by name
        self.accounts = by_owner(rows, lambda r: r["owner"])
        self.order = {r["id"]: i for i, r in enumerate(rows)}
        self.decisions = weekly.let_go_decisions(session, owners)
        self.done = weekly.actions_done(session, owners)
        self.done_week = weekly.actions_done_since(session, owners, now - WEEK)
        self.previous = weekly.previous_snapshots(session, list(managers), self.period)
        self.events = weekly.deal_events_since(session, ("nurture", "misfit_override"), now - WEEK)
        # Every deal of the teams, each timed once as it streams by: what a digest says of them
        # is kept per owner (frozen ones, how many past their close date, stage aging, coaching).
        self.pipelines: dict[str, dict[str, Any]] = {}
        key, outcomes = None, []
        for deal, visits in weekly.deals_with_visits(session, owners):
            owner = (deal.owner or "").lower()
            if owner != key:
                self._close(key, outcomes)
                key, outcomes = owner, []
                self.pipelines[owner] = {"stuck": [], "overdue": 0, "aging": defaultdict(list), "coaching": []}
            pipeline = self.pipelines[owner]
            timing = time_deal(queries.deal_record(deal), visits, now, ctx.playbook)
            if deal.status == "open":
                if timing.state == "stuck":
                    pipeline["stuck"].append((deal, timing))
                elif deal.close_date is not None and deal.close_date < today:
                    pipeline["overdue"] += 1
                if timing.indicator is not None:
                    pipeline["aging"][deal.stage].append(timing.indicator)
            outcomes += stage_outcomes(deal.owner or "", deal.name, timing, ctx.playbook)
        self._close(key, outcomes)
        self.tiers = {r["id"]: r["tier"] for r in rows}
        others = {d.account_id for p in self.pipelines.values() for d, _ in p["stuck"]
                  if d.account_id is not None and d.account_id not in self.tiers}
        if others:  # deals of the teams on other reps' accounts
            self.tiers |= {r["id"]: r["tier"]
                           for r in current_rows(session, ctx, weekly.account_rows_by_id(session, others))}
        shown: set[int] = set()
        for team in self.teams.values():
            at_risk = sorted((r for m in _unique(team) for r in self.accounts.get(m.lower(), []) if r["at_risk"]),
                             key=lambda r: self.order[r["id"]])
            shown.update(r["id"] for r in at_risk[:MOST])
        self.views: dict[int, AccountView] = {}
        if shown:
            self.views = {v.account.id: v for v in account_views_where(
                session, ctx, weekly.account_ids_in(sorted(shown)))}
        self.plans = store_plans.current_plans_of_owners(session, owners)
        self.targets = store_plans.targets_of_owners(session, owners)
        self.values = store_plans.kpi_values_of_owners(session, owners)


    def _close(self, owner: str | None, outcomes: list) -> None:
        """An owner's deals are all read: their coaching patterns (the same problem at the same
        stage, per owner and stage: a team's are its owners' together)."""
        if owner is not None:
            method = self.ctx.playbook.method
            self.pipelines[owner]["coaching"] = coaching_patterns(outcomes, recent=method.coaching_window,
                                                                  min_count=method.coaching_min_repeats)


def _unique(members: Sequence[str]) -> list[str]:
    """The members once each, by their folded name (two spellings of one owner are one)."""
    seen, out = set(), []
    for m in members:
        if m.lower() not in seen:
            seen.add(m.lower())
            out.append(m)
    return out


def manager_digest_data(session: Session, ctx: Context, manager: str, book: DigestBook | None = None) -> dict:
    """The manager's digest. `book`: the data read once for every manager of a weekly run (else
    read now for this manager alone)."""
    book = book or DigestBook(session, ctx, [manager])
    members = book.teams[manager]
    member_keys = {fold(m) for m in members}
    period = book.period
    today = ctx.today()
    rows = [r for m in _unique(members) for r in book.accounts.get(m.lower(), [])]
    rows.sort(key=lambda r: book.order[r["id"]])  # by name, as the database orders them
    counts = _counts(rows)
    previous = book.previous.get(manager)
    changes = None
    if previous:
        changes = {group: {k: n - previous.get(group, {}).get(k, 0) for k, n in counts[group].items()}
                   for group in counts}

    empty = {"stuck": [], "overdue": 0, "aging": {}, "coaching": []}
    pipelines = [book.pipelines.get(m.lower(), empty) for m in _unique(members)]
    stuck = frozen_deals(sorted((pair for p in pipelines for pair in p["stuck"]), key=lambda p: (p[0].name, p[0].id)))
    by_rep: dict[str, list] = defaultdict(list)
    for deal, timing in stuck:
        by_rep[deal.owner or ""].append((deal, timing, book.tiers.get(deal.account_id)))

    def money(deals: list) -> list:
        return [(d.amount, d.currency or ctx.playbook.currency) for d, *_ in deals]

    def row(deal, timing, tier):
        return frozen_row(ctx, deal, timing, deal.account_name, tier)

    escalated = [(d, t, book.tiers.get(d.account_id)) for d, t in stuck
                 if ctx.playbook.frozen_treatment(d.kind, book.tiers.get(d.account_id)) == "escalate"]
    escalated.sort(key=lambda f: (f[2] or 9, -(f[1].indicator or 0)))
    frozen_by_rep = sorted(
        ({"owner": owner or None, "count": len(rows_), "amount": home_total(money(rows_), ctx.playbook),
          "totals": totals(money(rows_), ctx.playbook), "estimated": sum(1 for _, t, _ in rows_ if t.estimated),
          "deals": [row(*f) for f in rows_[:MOST]]}
         for owner, rows_ in by_rep.items()), key=lambda r: (-r["count"], -r["amount"]))
    every_frozen = [f for rows_ in by_rep.values() for f in rows_]
    overdue = sum(p["overdue"] for p in pipelines)

    events = [(rec, deal) for rec, deal in book.events if fold(deal.owner or "") in member_keys]
    nurtured = [{"deal": deal.name, "owner": deal.owner, "at": ctx.local(rec.at),
                 "reason": _second((rec.changes or {}).get("reason"))}
                for rec, deal in events if rec.action == "nurture"]
    overrides = [{"deal": deal.name, "owner": deal.owner, "by": rec.actor, "at": ctx.local(rec.at),
                  "reason": (rec.changes or {}).get("reason"),
                  "stage_name": stage_label(ctx, _second((rec.changes or {}).get("stage"))),
                  "traits": [_trait_label(ctx, t) for t in (rec.changes or {}).get("traits", [])]}
                 for rec, deal in events if rec.action == "misfit_override"]

    # Coaching: every deal of the team, open or closed, through each stage it went (per owner
    # and stage, ordered as coaching_patterns orders them).
    patterns = sorted((p for pipeline in pipelines for p in pipeline["coaching"]), key=pattern_order)
    coaching = [{"owner": p.owner, "stage": p.stage, "stage_name": stage_label(ctx, p.stage), "kind": p.kind,
                 "count": p.count, "of": p.of, "deals": list(p.deals), "open_over": p.open_over,
                 "open_deals": list(p.open_deals)}
                for p in patterns]

    aging = []
    for stage in ctx.playbook.stages:
        indicators = sorted(i for p in pipelines for i in p["aging"].get(stage.id, []))
        aging.append({"stage": stage.id, "stage_name": localized(stage.name, ctx.language),
                      "standard_days": stage.standard_days, "stuck_after_days": stage.stuck_after_days,
                      "indicators": indicators})

    win_back = [r for r in rows if r["profile"] == "win_back"]
    due = sum(len(due_actions_of(ctx, r["id"], r["profile"], r["verdict"], r["tier"], book.done)) for r in win_back)
    at_risk = [r for r in rows if r["at_risk"]]
    let_go = [r for r in rows if r["let_go"]]
    decisions = book.decisions
    return {
        "manager": manager,
        "team": members,
        "period": period,
        "counts": counts,
        "changes": changes,
        "frozen_by_rep": frozen_by_rep,
        "frozen_count": len(every_frozen),
        "frozen_amount": home_total(money(every_frozen), ctx.playbook),
        "frozen_totals": totals(money(every_frozen), ctx.playbook),
        "frozen_estimated": sum(r["estimated"] for r in frozen_by_rep),
        "frozen_close_date_passed": sum(1 for d, *_ in every_frozen if d.close_date is not None and d.close_date < today),
        "overdue_count": overdue,
        "needs_you": [row(*f) for f in escalated[:MOST]],
        "needs_you_count": len(escalated),
        "overrides": overrides,
        "nurtured": nurtured,
        "coaching": coaching,
        "at_risk": [{"account": v.account.name, "owner": v.account.owner,
                     "reasons": at_risk_reasons(v.assessment.facts, ctx.playbook)}
                    for v in (book.views[r["id"]] for r in at_risk[:MOST])],
        "at_risk_count": len(at_risk),
        "let_go": [{"account": r["name"], "owner": r["owner"],
                    "decision": decisions[r["id"]].decision if r["id"] in decisions else None,
                    "reason": decisions[r["id"]].reason if r["id"] in decisions else None}
                   for r in let_go],
        "win_back": {"accounts": len(win_back), "due": due,
                     "done_this_week": sum(book.done_week.get(r["id"], 0) for r in win_back)},
        "aging": aging,
        "plans": manager_plan_work(session, ctx, rows, plans=book.plans, targets=book.targets, values=book.values),
    }


def _trait_label(ctx: Context, trait_id: str) -> str:
    trait = next((t for t in ctx.playbook.traits if t.id == trait_id), None)
    return localized(trait.label, ctx.language) if trait else trait_id
