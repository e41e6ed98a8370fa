"""A rep's Monday nudge: what the method says to do about each of their accounts and deals this
week. Frozen deals (to nurture, or escalated when the kind or the tier says so), steps skipped
this week, the accounts to let go (seed 000: a direct decision), the customers at risk and why,
the misfits not to chase (seed 001), and the common actions due, tier 1 first (seed 004)."""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any, Sequence

from sqlalchemy import and_, not_, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from handlers.actions import due_actions_of
from handlers.plans_digest import WEEK as PLAN_WEEK, has_work, rep_plan_work
from handlers.records import (FILTER_MARGIN, AccountView, account_views, account_views_where, assessment_key, deal_data,
                              possibly_frozen, stage_label)
from handlers.reply import Context
from playbook.config import PROFILE_IDS, localized
from playbook.assessment import time_deal
from playbook.method import at_risk_reasons, let_go_silenced
from playbook.money import home_total, totals
from playbook.stage_aging import frozen_deals
from playbook.words import fold
from store import plans as store_plans, queries, weekly
from store.models import AccountDecision, Deal, RepSetting, StageVisit

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


MOST = 20       # rows per section of a nudge; the rest is counted ("… and N more")
EXPLAINED = 10  # accounts per section whose full assessment explains them (let go, at risk, misfits)


def current_rows(session: Session, ctx: Context, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The accounts' stored assessment rows (store.weekly), those whose stored assessment does
    not hold now (changed since, another playbook, another day) assessed again here, in memory."""
    key = assessment_key(ctx)
    stale = [r for r in rows if r["assessed_with"] != key]
    if stale:
        accounts = queries.accounts_by_id(session, [r["id"] for r in stale])
        views = {v.account.id: v for v in account_views(session, ctx, list(accounts.values()), with_timings=False)}
        for r in stale:
            v = views.get(r["id"])
            if v is not None:
                s = v.assessment
                r.update(profile=s.profile.profile, let_go=bool(s.profile.let_go), tier=s.tier.tier,
                         score=s.tier.score, at_risk=bool(s.tier.at_risk), verdict=s.fit.verdict,
                         open_deals=sum(1 for d in v.deals if d.status == "open"))
    return rows


def by_owner(items, owner_of) -> dict[str, list]:
    """The items by their owner, folded (lower case, as lower(owner) in SQL)."""
    out: dict[str, list] = defaultdict(list)
    for item in items:
        out[(owner_of(item) or "").lower()].append(item)
    return out


def possibly_skipped(ctx: Context, since):
    """The SQL condition on a deal that its history may show a stage skipped since then: a stay
    left since, not estimated, and short enough to be cut short (its stage's skip limit for any
    kind, in calendar days with margins for business days and holidays), or a stage entered
    since right after a stay at a stage more than one step before. time_deal judges exactly."""
    playbook = ctx.playbook
    v, w = aliased(StageVisit), aliased(StageVisit)
    kinds = (None, *sorted({k.id for k in playbook.deal_kinds}))
    business = playbook.day_count == "business"
    clauses = []
    for i, stage in enumerate(playbook.stages):
        limit = max((spec.skipped_under_days for spec in (playbook.stage_for(stage.id, k) for k in kinds) if spec),
                    default=0)
        if business:
            limit = (limit + 2 + len(playbook.holidays)) * 7 / 5
        clauses.append(and_(v.stage == stage.id, v.left_at >= since, v.estimated.is_not(True),
                            v.entered_at >= since - timedelta(days=limit) - FILTER_MARGIN))
        if i >= 2:
            before = select(w.stage).where(w.deal_id == v.deal_id, w.entered_at < v.entered_at) \
                .order_by(w.entered_at.desc()).limit(1).scalar_subquery()
            clauses.append(and_(v.stage == stage.id, v.entered_at >= since,
                                before.in_([s.id for s in playbook.stages[:i - 1]])))
    return select(v.id).where(v.deal_id == Deal.id, or_(*clauses)).exists()


class NudgeBook:
    """What the nudges of `owners` (one rep, or every rep of a weekly run) are made of, read in
    a fixed number of statements whatever the number of owners or of their records: the stored
    assessment of their accounts, the open deals that may be frozen or past their close date,
    those whose stage history moved this week, decisions, actions done and plans; and, for the
    accounts a nudge shows (MOST per section), the full assessment that explains them."""

    def __init__(self, session: Session, ctx: Context, owners: Sequence[str], *, grouped: bool = False):
        """`grouped` (a weekly run's many owners): the stays of the deals that may be frozen are
        read with those deals as a subquery, and the accounts explained are chosen in SQL."""
        self.ctx = ctx
        today, now = ctx.today(), ctx.now()
        rows = current_rows(session, ctx, weekly.account_rows(session, owners))
        self.by_name = by_owner(rows, lambda r: r["owner"])
        self.accounts = by_owner(sorted(rows, key=lambda r: (r["tier"] or 9, -(r["score"] or 0), fold(r["name"]))),
                                  lambda r: r["owner"])
        self.decisions = weekly.let_go_decisions(session, owners)
        self.done = weekly.actions_done(session, owners)
        # The open deals that may be frozen (timed here from their stays at their stage, which
        # say whether they are), those that may have skipped a step this week (timed from their
        # whole history); of the others past their close date (certainly not frozen), only the
        # first are read, and the rest counted. The deals shown are timed from their whole history.
        maybe = possibly_frozen(ctx)
        skips = possibly_skipped(ctx, now - WEEK)
        late = and_(Deal.close_date < today, not_(maybe), weekly.not_snoozed(today))
        frozen_rows = weekly.open_deals(session, maybe, owners)
        skip_rows = weekly.open_deals(session, skips, owners)
        late_rows, self.late_counts = weekly.first_open_deals(session, late, owners, MOST)
        if grouped:
            at_stage = weekly.visits_where(session, maybe, owners, at_stage=True)
        else:
            at_stage = weekly.visits(session, [d.id for d in frozen_rows], at_stage=True)

        def timed(rows_, visits):
            return by_owner([(d, d.account_name, time_deal(queries.deal_record(d), visits.get(d.id, []), now,
                                                            ctx.playbook)) for d in rows_], lambda t: t[0].owner)
        self.candidates = timed(frozen_rows, at_stage)
        self.tiers = {r["id"]: r["tier"] for r in rows}
        others = {d.account_id for timed in self.candidates.values() for d, _, t in timed
                  if t.state == "stuck" and d.account_id is not None and d.account_id not in self.tiers}
        if others:  # the owners' deals on accounts of someone else
            self.tiers |= {r["id"]: r["tier"]
                           for r in current_rows(session, ctx, weekly.account_rows_by_id(session, others))}
        self._pipelines: dict[str, dict[str, Any]] = {}
        self.late = by_owner(late_rows, lambda d: d.owner)
        shown = list(late_rows + skip_rows)
        for owner in {(o or "").lower() for o in owners}:
            pipeline = self.pipeline(owner)
            shown += [f[0] for f in pipeline["frozen"][:MOST]] + [d for d, _ in pipeline["overdue"][:MOST]]
        history = weekly.visits(session, [d.id for d in shown])
        self.timings = {d.id: time_deal(queries.deal_record(d), history.get(d.id, []), now, ctx.playbook)
                        for d in shown}
        self.skipping = by_owner(skip_rows, lambda d: d.owner)
        # The full assessment (reasons, conditions, traits) of the accounts shown, and of them alone.
        self.views = {}
        if grouped:
            self.views = {v.account.id: v
                          for v in account_views_where(session, ctx, weekly.explained_accounts(session, owners, EXPLAINED))}
        shown = set()
        for owner_rows in self.accounts.values():
            let_go, at_risk, misfits = self.picks(owner_rows)
            shown.update(r["id"] for r, _ in let_go[:EXPLAINED])
            shown.update(r["id"] for r in at_risk[:EXPLAINED] + misfits[:EXPLAINED])
        missing = sorted(shown - set(self.views))  # all of them for one rep; a weekly run: any assessed anew
        if missing:
            accounts = queries.accounts_by_id(session, missing)
            self.views |= {v.account.id: v
                           for v in account_views(session, ctx, list(accounts.values()), with_timings=False)}
        self.plans = store_plans.current_plans_of_owners(session, owners)
        self.tasks = store_plans.open_tasks_of_owners(session, owners, due_by=today + PLAN_WEEK)
        self.today = today

    def pipeline(self, owner: str) -> dict[str, Any]:
        """An owner's frozen deals (deal, account, timing at its stage, tier, treatment), tier 1
        and the most overdue first, snoozed ones counted apart; and the open deals past their
        close date that are not frozen, soonest first, those read (the first) and their count."""
        key = owner.lower()
        if key in self._pipelines:
            return self._pipelines[key]
        ctx, today = self.ctx, self.ctx.today()
        timed = self.candidates.get(key, [])
        stuck = frozen_deals([((d, a), t) for d, a, t in timed])
        every_frozen, snoozed = [], 0
        for (deal, account), timing in stuck:
            until = getattr(deal, "snoozed_until", None)
            if until is not None and until >= today:
                snoozed += 1  # snoozed for a known reason: left out until then
                continue
            tier = self.tiers.get(deal.account_id)
            every_frozen.append((deal, account, timing, tier, ctx.playbook.frozen_treatment(deal.kind, tier)))
        every_frozen.sort(key=lambda f: (f[3] or 9, -(f[2].indicator or 0)))
        stuck_ids = {d.id for (d, _), _ in stuck}
        overdue = []
        for deal, account, timing in timed:
            until = getattr(deal, "snoozed_until", None)
            if deal.id in stuck_ids or (until is not None and until >= today):
                continue
            if deal.close_date is not None and deal.close_date < today:
                overdue.append((deal, account))
        count = len(overdue) + self.late_counts.get(key, 0)
        overdue += [(d, d.account_name) for d in self.late.get(key, [])]
        overdue.sort(key=lambda t: (t[0].close_date, t[0].name, t[0].id))
        self._pipelines[key] = {"frozen": every_frozen, "snoozed": snoozed, "overdue": overdue,
                                "overdue_count": count}
        return self._pipelines[key]

    def picks(self, rows: list[dict[str, Any]]) -> tuple[list, list, list]:
        """The owner's accounts to let go (with the decision, unless one still stands), at risk,
        and misfit prospects, tier 1 first."""
        ctx, let_go = self.ctx, []
        for r in rows:
            if r["let_go"]:
                decision = self.decisions.get(r["id"])
                if not let_go_silenced(decision.decision if decision else None,
                                       ctx.local(decision.decided_at) if decision else None, ctx.today(), ctx.playbook):
                    let_go.append((r, decision))
        at_risk = [r for r in rows if r["at_risk"]]
        misfits = [r for r in rows if r["verdict"] == "misfit" and r["status"] == "prospect"]
        return let_go, at_risk, misfits


def rep_nudge_data(session: Session, ctx: Context, rep: str, setting: RepSetting | None = None,
                   book: NudgeBook | None = None) -> dict | None:
    """What one rep should act on this week, or None when there is nothing to say. `book`: the
    data read once for every rep of a weekly run (else read now for this rep alone)."""
    book = book or NudgeBook(session, ctx, [rep])
    muted = set(setting.muted if setting else [])
    today, now = ctx.today(), ctx.now()
    key = rep.lower()
    pipeline = book.pipeline(rep)
    every_frozen, snoozed = pipeline["frozen"], pipeline["snoozed"]
    frozen = [frozen_row(ctx, deal, book.timings[deal.id], account, tier)
              for deal, account, _, tier, _ in every_frozen[:MOST]]
    overdue = [deal_data(ctx, deal, book.timings[deal.id], account) for deal, account in pipeline["overdue"][:MOST]]
    overdue_count = pipeline["overdue_count"]
    skipped, skipped_count = [], 0
    for deal in book.skipping.get(key, []):
        timing = book.timings[deal.id]
        recent = [s for s in timing.skipped_stages if s.get("at") is not None and now - s["at"] <= WEEK]
        if recent:
            skipped_count += 1
            if len(skipped) < MOST:
                row = deal_data(ctx, deal, timing, deal.account_name)
                row["skipped_stages"] = [dict(s, stage_name=stage_label(ctx, s["stage"])) for s in recent]
                skipped.append(row)

    rows = book.accounts.get(key, [])
    let_go_all, at_risk_all, misfits_all = book.picks(rows)
    let_go = [_let_go_row(ctx, book.views[r["id"]], decision) for r, decision in let_go_all[:EXPLAINED]]
    at_risk = [{"account": v.account.name, "tier": v.assessment.tier.tier,
                "reasons": at_risk_reasons(v.assessment.facts, ctx.playbook)}
               for v in (book.views[r["id"]] for r in at_risk_all[:EXPLAINED])]
    misfits = [{"account": v.account.name, "profile": v.assessment.profile.profile,
                "open_deals": v.assessment.facts.get("open_deals"),
                "traits": [_trait_label(ctx, t) for t in v.assessment.fit.matched_traits if t["severity"] == "blocking"]}
               for v in (book.views[r["id"]] for r in misfits_all[:EXPLAINED])]
    win_back, other = [], []
    for r in rows:
        actions = due_actions_of(ctx, r["id"], r["profile"], r["verdict"], r["tier"], book.done)
        if actions:
            row = {"account": r["name"], "profile": r["profile"], "tier": r["tier"], "actions": actions}
            (win_back if row["profile"] == "win_back" else other).append(row)
    other.sort(key=lambda r: (r["tier"], PROFILE_IDS.index(r["profile"]) if r["profile"] in PROFILE_IDS else 9))

    def unless(category: str, shown, count: int):
        return ([], 0) if category in muted else (shown, count)

    amounts = [] if "frozen" in muted else [(d.amount, d.currency or ctx.playbook.currency) for d, *_ in every_frozen]
    sections = {
        "frozen": unless("frozen", frozen, len(every_frozen)),
        "overdue": unless("frozen", overdue, overdue_count),
        "skipped": unless("skipped", skipped, skipped_count),
        "let_go": unless("let_go", let_go, len(let_go_all)),
        "at_risk": unless("at_risk", at_risk, len(at_risk_all)),
        "misfits": unless("misfits", misfits, len(misfits_all)),
        "win_back": unless("win_back", win_back[:MOST], len(win_back)),
        "actions": unless("actions", other[:MOST], len(other)),
    }
    data = {
        "rep": rep,
        "period": period_of(ctx),
        "frozen_amount": home_total(amounts, ctx.playbook),
        "frozen_totals": totals(amounts, ctx.playbook),
        "escalated": 0 if "frozen" in muted else sum(1 for *_, treatment in every_frozen if treatment == "escalate"),
        "snoozed": snoozed,
        "muted": sorted(muted),
        "plans": rep_plan_work(session, ctx, book.by_name.get(key, []), muted="plans" in muted, plans=book.plans, tasks=book.tasks),
    }
    for name, (shown, count) in sections.items():
        data[name], data[f"{name}_count"] = shown, count
    if not (any(data[k] for k in sections) or has_work(data["plans"])):
        return None
    return data


def _trait_label(ctx: Context, trait: dict[str, Any]) -> str:
    """A matched trait's label in the reader's language (a weekly run explains accounts once
    for readers of either language)."""
    spec = next((t for t in ctx.playbook.traits if t.id == trait["id"]), None)
    return localized(spec.label, ctx.language) if spec else trait["label"]


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
