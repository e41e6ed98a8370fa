"""Plan work in the weekly messages. The rep's nudge: plan tasks due this week and overdue, plans
waiting for their review, and Expand accounts with no plan. The manager's digest: plans whose
date passed without a review, KPIs far below their target, Expand accounts with no plan.

Both read only the accounts the message is about (the views handlers/digest.py already built
for the rep or the team), by id, a few queries whatever the size of the store."""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Mapping, Sequence

from sqlmodel import Session

from handlers.plans_view import task_data
from handlers.records import AccountView
from handlers.reply import Context
from playbook.config import localized
from playbook.plans import kpi_status
from store import plans as store_plans

WEEK = timedelta(days=6)  # today and the six days after it
MOST = 30                  # rows per list in one message; the rest is counted


def _summary(account: AccountView | Mapping[str, Any]) -> dict[str, Any]:
    """id, name, owner and profile of an account, from its view or its stored assessment's row."""
    if isinstance(account, AccountView):
        return {"id": account.account.id, "name": account.account.name, "owner": account.account.owner,
                "profile": account.assessment.profile.profile}
    return account


def _expand_without_plan(views: Sequence[AccountView | Mapping[str, Any]], planned: set[int]) -> list[dict[str, Any]]:
    return [{"account": a["name"], "owner": a["owner"]} for a in map(_summary, views)
            if a["profile"] == "expand" and a["id"] not in planned]


def rep_plan_work(session: Session, ctx: Context, views: Sequence[AccountView | Mapping[str, Any]], *,
                  muted: bool = False, plans: Mapping[int, Any] | None = None,
                  tasks: Sequence[Any] | None = None) -> dict[str, Any]:
    """What the rep's plans ask of them this week (nothing when they muted `plans`). `views`:
    the rep's accounts (views, or rows with id, name, owner and profile); `plans` and `tasks`,
    when given, were read for many reps at once (store.plans.current_plans_of_owners and
    open_tasks_of_owners, due by the end of the week): only those of these accounts count."""
    if muted:
        return {"due": [], "due_count": 0, "overdue": [], "overdue_count": 0, "reviews_due": [],
                "expand_without_plan": [], "expand_without_plan_count": 0}
    today = ctx.today()
    names = {a["id"]: a["name"] for a in map(_summary, views)}
    if plans is None:
        plans = store_plans.current_plans_of(session, list(names))
    else:
        plans = {i: plans[i] for i in names if i in plans}
    account_of = {p.id: p.account_id for p in plans.values()}
    if tasks is None:
        tasks = store_plans.open_tasks(session, list(account_of), due_by=today + WEEK)
    due, overdue = [], []
    for t in (t for t in tasks if t.plan_id in account_of):
        row = task_data(ctx, t, today) | {"account": names[account_of[t.plan_id]]}
        (overdue if row["overdue"] else due).append(row)
    reviews = sorted(({"account": names[p.account_id], "goal": p.goal, "goal_date": p.goal_date,
                       "days_late": (today - p.goal_date).days}
                      for p in plans.values() if p.goal_date is not None and p.goal_date < today),
                     key=lambda r: (-r["days_late"], r["account"]))
    expand = _expand_without_plan(views, set(plans))
    return {"due": due[:MOST], "due_count": len(due), "overdue": overdue[:MOST], "overdue_count": len(overdue),
            "reviews_due": reviews[:MOST], "expand_without_plan": [e["account"] for e in expand][:MOST],
            "expand_without_plan_count": len(expand)}


def manager_plan_work(session: Session, ctx: Context, views: Sequence[AccountView | Mapping[str, Any]], *,
                      plans: Mapping[int, Any] | None = None, targets: Mapping[int, list] | None = None,
                      values: Mapping[tuple[int, str], list] | None = None) -> dict[str, Any]:
    """Across the team: missed reviews, KPIs far below target, Expand accounts with no plan.
    `plans`, `targets` and `values`, when given, were read for many teams at once
    (store.plans.*_of_owners): only those of these accounts count."""
    today = ctx.today()
    rules = ctx.playbook.plans
    accounts = {a["id"]: a for a in map(_summary, views)}
    if plans is None:
        plans = store_plans.current_plans_of(session, list(accounts))
    else:
        plans = {i: plans[i] for i in accounts if i in plans}
    missed = sorted(({"account": accounts[p.account_id]["name"], "owner": accounts[p.account_id]["owner"],
                      "goal": p.goal, "goal_date": p.goal_date, "days_late": (today - p.goal_date).days}
                     for p in plans.values() if p.goal_date is not None and p.goal_date < today),
                    key=lambda r: (-r["days_late"], r["account"]))
    if targets is None:
        targets = store_plans.targets_of(session, [p.id for p in plans.values()])
    else:
        targets = {p.id: targets[p.id] for p in plans.values() if p.id in targets}
    by_plan = {p.id: p for p in plans.values()}
    measured = [by_plan[pid].account_id for pid in targets]
    if values is None:
        values = store_plans.kpi_values(session, measured, {t.kpi_id for rows in targets.values() for t in rows})
    far = []
    for plan_id, rows in targets.items():
        account = accounts[by_plan[plan_id].account_id]
        for t in rows:
            kpi = rules.kpi(t.kpi_id)
            series = values.get((account["id"], t.kpi_id), [])
            if kpi is None or not series:
                continue
            latest_on, latest = series[-1]
            if kpi_status(t.target, latest, kpi.better, rules.far_below_pct) == "far_below":
                far.append({"account": account["name"], "owner": account["owner"], "kpi": localized(kpi.name, ctx.language),
                            "unit": kpi.unit, "target": t.target, "latest": latest, "latest_on": latest_on})
    far.sort(key=lambda r: (r["account"], r["kpi"]))
    expand = _expand_without_plan(views, set(plans))
    return {"plans": len(plans), "reviews_missed": missed[:MOST], "reviews_missed_count": len(missed),
            "kpis_far_below": far[:MOST], "kpis_far_below_count": len(far),
            "expand_without_plan": expand[:MOST], "expand_without_plan_count": len(expand)}


def has_work(section: dict[str, Any]) -> bool:
    """Whether a plan section has anything to say (an empty nudge is not sent)."""
    return any(section.get(k) for k in ("due", "overdue", "reviews_due", "reviews_missed", "kpis_far_below",
                                        "expand_without_plan"))
