"""An account plan as every surface shows it: the card (`plan ACCOUNT`), the review sheet and the
Markdown export all read the same data, built here from the store and the playbook's rules."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

from handlers.reply import Context
from playbook.config import localized
from playbook.plans import (
    FORCES, KpiResult, Task, carry_over, days_left, improving, kpi_status, kpi_trend, overdue, plan_state,
)
from store import plans as store_plans
from store.models import Account, AccountPlan, PlanTask

PAST_SHOWN = 5


def task_data(ctx: Context, t: PlanTask, today: date) -> dict[str, Any]:
    kpi = ctx.playbook.plans.kpi(t.kpi_id) if t.kpi_id else None
    done = t.done_at is not None
    return {
        "number": t.number, "text": t.text, "owner_kind": t.owner_kind, "owner_name": t.owner_name,
        "due": t.due, "done": done, "done_on": ctx.local(t.done_at).date() if done else None,
        "overdue": not done and t.due < today, "days_late": (today - t.due).days if not done and t.due < today else 0,
        "carried_from": t.carried_from,
        "kpi": None if not t.kpi_id else {
            "id": t.kpi_id, "name": localized(kpi.name, ctx.language) if kpi else t.kpi_id,
            "unit": kpi.unit if kpi else "number", "target": t.kpi_target, "latest": t.kpi_latest},
    }


def ordered_tasks(tasks: list[dict]) -> list[dict]:
    """Overdue first (the latest first of all), then open by due date, then done, newest first."""
    overdue = sorted((t for t in tasks if t["overdue"]), key=lambda t: (t["due"], t["number"]))
    open_ = sorted((t for t in tasks if not t["done"] and not t["overdue"]), key=lambda t: (t["due"], t["number"]))
    done = sorted((t for t in tasks if t["done"]), key=lambda t: (t["done_on"] or t["due"], t["number"]), reverse=True)
    return overdue + open_ + done


def kpi_rows(ctx: Context, targets: dict[str, float], values: dict[str, list[tuple[date, float]]]) -> list[dict]:
    """Every KPI the plan targets or the account measured, in the playbook's order."""
    rules = ctx.playbook.plans
    rows = []
    for kpi in rules.kpis:
        target, series = targets.get(kpi.id), values.get(kpi.id, [])
        if target is None and not series:
            continue
        latest_on, latest = series[-1] if series else (None, None)
        trend = kpi_trend(series, rules.trend_window)
        rows.append({
            "id": kpi.id, "name": localized(kpi.name, ctx.language), "unit": kpi.unit, "better": kpi.better,
            "target": target, "latest": latest, "latest_on": latest_on, "trend": trend,
            "improving": improving(trend, kpi.better),
            "status": kpi_status(target, latest, kpi.better, rules.far_below_pct),
            "values": [[d, v] for d, v in series[-6:]],
        })
    return rows


def kpi_results(rows: list[dict]) -> list[KpiResult]:
    return [KpiResult(r["id"], r["target"], r["latest"], r["status"]) for r in rows if r["target"] is not None]


def rule_tasks(tasks: list[PlanTask]) -> list[Task]:
    return [Task(t.number, t.text, t.owner_kind, t.owner_name, t.due, t.done_at is not None, t.kpi_id, t.kpi_target,
                 t.kpi_latest) for t in tasks]


def plan_data(session: Session, ctx: Context, account: Account, plan: AccountPlan | None) -> dict[str, Any]:
    """The plan card's data: the goal and days left, tasks (overdue first), KPIs against their
    targets with their trend, the Five Forces, stakeholders, white space, rivals, discovery."""
    today = ctx.today()
    past = store_plans.past_plans(session, account.id)
    data: dict[str, Any] = {
        "account": account.name, "owner": account.owner, "today": today, "plan": None,
        "past": [{"number": p.number, "goal": p.goal, "goal_date": p.goal_date,
                  "closed_on": ctx.local(p.closed_at).date() if p.closed_at else None} for p in past[:PAST_SHOWN]],
        "past_count": len(past),
    }
    if plan is None:
        return data
    parts = store_plans.parts(session, plan)
    values = store_plans.kpi_values(session, [account.id])
    tasks = ordered_tasks([task_data(ctx, t, today) for t in parts.tasks])
    open_due = [t["due"] for t in tasks if not t["done"]]
    forces = {f.force: f for f in parts.forces}
    answers = {a.question_id: a.answer for a in parts.answers}
    kpis = kpi_rows(ctx, {t.kpi_id: t.target for t in parts.targets},
                    {kpi_id: series for (_, kpi_id), series in values.items()})
    data["plan"] = {
        "number": plan.number, "started_on": plan.started_on, "goal": plan.goal, "goal_target": plan.goal_target,
        "goal_date": plan.goal_date, "days_left": days_left(plan.goal_date, today),
        "state": plan_state(plan.goal_date, today, overdue_tasks=overdue(open_due, today), has_goal=bool(plan.goal)),
        "tasks": tasks,
        "open_count": sum(1 for t in tasks if not t["done"]),
        "overdue_count": sum(1 for t in tasks if t["overdue"]),
        "done_count": sum(1 for t in tasks if t["done"]),
        "kpis": kpis,
        "forces": [{"id": f, "rating": forces[f].rating if f in forces else None,
                    "note": forces[f].note if f in forces else None} for f in FORCES],
        "forces_rated": len(forces),
        "stakeholders": [{"name": s.name, "role": s.role, "department": s.department, "attitude": s.attitude,
                          "needs": s.needs, "last_contact": s.last_contact} for s in parts.stakeholders],
        "white_space": [{"number": i + 1, "department": w.department, "use_case": w.use_case}
                        for i, w in enumerate(parts.white_space)],
        "rivals": [{"name": r.name, "notes": r.notes} for r in parts.rivals],
        "discovery": [{"number": i + 1, "id": q.id, "question": localized(q.text, ctx.language),
                       "answer": answers.get(q.id)} for i, q in enumerate(ctx.playbook.plans.discovery)],
        "discovery_answered": sum(1 for q in ctx.playbook.plans.discovery if answers.get(q.id)),
        "review": None if parts.review is None else {
            "worked": parts.review.worked, "did_not": parts.review.did_not,
            "answers": dict(parts.review.answers or {})},
    }
    return data


def review_data(session: Session, ctx: Context, account: Account, plan: AccountPlan) -> dict[str, Any]:
    """The review sheet: what worked, what did not, the playbook's review questions, each KPI
    against its target, and what the next plan will start with."""
    data = plan_data(session, ctx, account, plan)
    p = data["plan"]
    review = p["review"] or {"worked": None, "did_not": None, "answers": {}}
    parts = store_plans.parts(session, plan)
    coming = carry_over(rule_tasks(parts.tasks), kpi_results(p["kpis"]), today=ctx.today(),
                        owner=account.owner or ctx.actor, kpi_task_days=ctx.playbook.plans.kpi_task_days)
    data["review"] = {
        "worked": review["worked"], "did_not": review["did_not"],
        "questions": [{"id": q.id, "question": localized(q.text, ctx.language), "answer": review["answers"].get(q.id)}
                      for q in ctx.playbook.plans.review],
        "white_space_left": len(p["white_space"]),
        "carry": {
            "tasks": [t for t in p["tasks"] if not t["done"]],
            "kpis": [k for k in p["kpis"] if any(c.kpi_id == k["id"] and c.carried_from is None for c in coming)],
        },
        "ready": bool(review["worked"] and review["did_not"]),
    }
    return data
