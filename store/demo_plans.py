"""Account plans in the demo (seed 003), relative to the day the demo is loaded: plans for some
Expand and Keep accounts, with discovery answers, stakeholders, white space, rivals, Five
Forces, KPIs with a few values, and tasks, some overdue; one plan is past its date and waits for
its review; one account already went through a review, so its second plan shows what carried
over. The other Expand accounts have no plan, and the nudges and digests say so.

Loading again replaces the demo's own plans (created_by "demo"); an account where someone
started a plan of their own keeps it, and gets no demo plan."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, select

from store import plans as store_plans
from store.models import (
    AccountPlan, KpiValue, PlanAnswer, PlanForce, PlanKpiTarget, PlanReview, PlanRival, PlanStakeholder, PlanTask,
    PlanWhiteSpace,
)

DEMO = "demo"

# Days are relative to the load day: -5 is five days ago. Owners: "alice" (one of us),
# "client:NAME", "vendor:NAME".
PLANS: tuple[dict[str, Any], ...] = (
    {"account": "Aciéries de Lorraine-Moselle", "started": -60,
     "goal": "8% more renewal revenue across the three plants", "goal_target": "8%", "due": 75,
     "tasks": [("Send the ROI study of the Metz pilot to the CFO", "alice", -5, None),
               ("Security questionnaire for the IT department", "client:Marc Weber", 3, None),
               ("Start the Thionville plant rollout", "vendor:Lorraine Intégration", 20, None),
               ("Workshop with the maintenance managers", "alice", -20, -18)],
     "answers": {"constraints": "Energy costs, and a freeze on IT projects until the summer.",
                 "success": "Every plant on the same maintenance system by the end of the year."},
     "stakeholders": [("Claire Fontaine", "CFO", "Finance", "champion", "a payback under 18 months", -12),
                      ("Marc Weber", "IT director", "IT", "neutral", "single sign-on, data kept on site", -30),
                      ("Sylvie Muller", "Plant manager, Thionville", "Operations", "blocker",
                       "no disruption during the summer shutdown", -45)],
     "white_space": [("Procurement", "supplier scorecards"), ("HR", "onboarding of seasonal staff")],
     "rivals": [("ArcelorSoft", "bundled with their ERP; weak support")],
     "forces": {"buyer_power": (4, "three car makers buy 70% of the output"), "new_entrants": (2, None),
                "substitutes": (3, "aluminium in car bodies"), "supplier_power": (4, "ore and energy prices"),
                "rivalry": (5, "Asian imports")},
     "targets": {"renewal_revenue": 450000, "strategic_calls": 12, "email_response_rate": 40},
     "values": {"renewal_revenue": [(-90, 380000), (-60, 395000), (-30, 410000)],
                "strategic_calls": [(-60, 6), (-30, 9)], "email_response_rate": [(-60, 31), (-30, 35)]}},
    # Past its date, not reviewed yet: the review is due.
    {"account": "Banque Dauphinoise de Crédit", "started": -100,
     "goal": "Open 2 new departments to the platform", "goal_target": "2", "due": -10,
     "tasks": [("Demo for the risk department", "alice", -25, -24),
               ("Pilot proposal for the compliance team", "alice", -15, None),
               ("Reference call with another bank", "client:Hélène Vidal", 4, None)],
     "answers": {"reputation": "Seen as the careful regional bank; wants to look more modern.",
                 "who_to_ask": "The head of compliance, Julien Garnier, for anything regulatory."},
     "stakeholders": [("Hélène Vidal", "COO", "Operations", "champion", "fewer manual controls", -20),
                      ("Julien Garnier", "Head of compliance", "Compliance", "neutral", "audit trails", -40)],
     "white_space": [("Compliance", "regulatory reporting"), ("Risk", "stress-test dashboards")],
     "rivals": [],
     "forces": {"buyer_power": (3, None), "new_entrants": (4, "online banks"), "substitutes": (2, None),
                "supplier_power": (2, None), "rivalry": (4, None)},
     "targets": {"cross_sell_revenue": 120000, "referrals": 2},
     "values": {"cross_sell_revenue": [(-70, 40000), (-20, 55000)], "referrals": [(-30, 1)]}},
    {"account": "Boulangeries Marchand", "started": -30,
     "goal": "Renew the contract with 10% more stores", "goal_target": "10%", "due": 120,
     "tasks": [("Renewal proposal with the new store list", "alice", 30, None),
               ("Store count per region", "client:Paul Marchand", 6, None)],
     "answers": {},
     "stakeholders": [("Paul Marchand", "Managing director", "Management", "champion", "one supplier for all stores",
                       -10)],
     "white_space": [("Logistics", "delivery route planning")], "rivals": [], "forces": {},
     "targets": {"retention_rate": 95}, "values": {"retention_rate": [(-60, 92), (-20, 94)]}},
    {"account": "Brightwater Utilities", "started": -20,
     "goal": "3 customer referrals from the operations team", "goal_target": "3", "due": 90,
     "tasks": [("Ask the operations director for a referral", "bruno", 6, None)],
     "answers": {}, "stakeholders": [("Sarah Quinn", "Operations director", "Operations", "champion", None, -8)],
     "white_space": [], "rivals": [], "forces": {},
     "targets": {"referrals": 3}, "values": {"referrals": [(-15, 1)]}},
)

# An account that went through one review: its first plan, closed, and the second it started.
REVIEWED = {
    "account": "Northwind Logistics",
    "first": {"started": -170, "goal": "Sign the warehouse analytics pilot with 2 sites", "goal_target": "2",
              "due": -45, "closed": -40,
              "worked": "The pilot at the Leeds site convinced the COO.",
              "did_not": "Procurement slowed the second site down by six weeks.",
              "answers": {"gaps": "Nobody followed up after the steering committee.",
                          "enlist": "Customer success, for the rollout plan."},
              "tasks": [("Pilot at the Leeds site", "bruno", -120, -110),
                        ("Steering committee with the COO", "bruno", -80, -78),
                        ("Agree the rollout calendar with procurement", "client:Helen Shaw", -50, None)]},
    "second": {"started": -40, "goal": "20% fewer late deliveries reported in the quarterly review",
               "goal_target": "20%", "due": 50,
               "tasks": [("Agree the rollout calendar with procurement", "client:Helen Shaw", -2, None, 3),
                         ("Quarterly business review with the COO", "bruno", 5, None, None)]},
    "answers": {"success": "On-time deliveries above 97% in every warehouse."},
    "stakeholders": [("Helen Shaw", "Head of procurement", "Procurement", "blocker", "three quotes for every purchase",
                      -14),
                     ("Tom Archer", "COO", "Operations", "champion", "fewer late deliveries", -6)],
    "white_space": [("Finance", "freight cost forecasts")],
    "rivals": [("Fleetwise", "cheaper, no warehouse module")],
    "forces": {"buyer_power": (3, None), "new_entrants": (3, None), "substitutes": (2, None),
               "supplier_power": (3, "fuel prices"), "rivalry": (4, "price war on the main routes")},
    "targets": {"strategic_calls": 10},
    "values": {"strategic_calls": [(-100, 4), (-45, 6), (-10, 7)]},
}


def _owner(spec: str) -> tuple[str, str]:
    kind, colon, name = spec.partition(":")
    return (kind, name) if colon else ("internal", spec)


def _at(today: date, days: int) -> datetime:
    return datetime.combine(today + timedelta(days=days), time(10), tzinfo=timezone.utc)


def _background(session: Session, plan: AccountPlan, spec: dict[str, Any], today: date) -> None:
    for qid, text in spec.get("answers", {}).items():
        session.add(PlanAnswer(plan_id=plan.id, question_id=qid, answer=text, answered_by=DEMO,
                               answered_at=_at(today, -5)))
    for name, role, dept, attitude, needs, contact in spec.get("stakeholders", []):
        session.add(PlanStakeholder(plan_id=plan.id, name=name, name_key=store_plans.stakeholder_key(name), role=role,
                                    department=dept, attitude=attitude, needs=needs,
                                    last_contact=today + timedelta(days=contact)))
    for dept, use_case in spec.get("white_space", []):
        session.add(PlanWhiteSpace(plan_id=plan.id, department=dept, use_case=use_case))
    for name, notes in spec.get("rivals", []):
        session.add(PlanRival(plan_id=plan.id, name=name, name_key=store_plans.stakeholder_key(name), notes=notes))
    for force, (rating, note) in spec.get("forces", {}).items():
        session.add(PlanForce(plan_id=plan.id, force=force, rating=rating, note=note))
    for kpi, target in spec.get("targets", {}).items():
        session.add(PlanKpiTarget(plan_id=plan.id, kpi_id=kpi, target=float(target)))


def _plan(session: Session, account_id: int, number: int, spec: dict[str, Any], today: date, *,
          current: bool) -> AccountPlan:
    plan = AccountPlan(account_id=account_id, number=number, current=True if current else None, goal=spec["goal"],
                       goal_target=spec["goal_target"], goal_date=today + timedelta(days=spec["due"]),
                       started_on=today + timedelta(days=spec["started"]), created_by=DEMO,
                       created_at=_at(today, spec["started"]), updated_at=_at(today, spec["started"]),
                       closed_at=None if current else _at(today, spec["closed"]))
    session.add(plan)
    session.flush()
    for n, task in enumerate(spec["tasks"], start=1):
        text, owner, due, done = task[:4]
        kind, name = _owner(owner)
        session.add(PlanTask(plan_id=plan.id, number=n, text=text, owner_kind=kind, owner_name=name,
                             due=today + timedelta(days=due), done_at=_at(today, done) if done is not None else None,
                             done_by=DEMO if done is not None else None,
                             carried_from=task[4] if len(task) > 4 else None, created_by=DEMO,
                             created_at=_at(today, spec["started"])))
    return plan


def load_demo_plans(session: Session, today: date, account_id: dict[str, int]) -> dict[str, int]:
    """Write the demo's plans for the accounts it just loaded; returns what it wrote."""
    wanted = [spec["account"] for spec in PLANS] + [REVIEWED["account"]]
    ids = {name: account_id[name] for name in wanted if name in account_id}
    existing = session.exec(select(AccountPlan.id, AccountPlan.account_id, AccountPlan.created_by)
                            .where(AccountPlan.account_id.in_(list(ids.values())))).all()
    theirs = {account for _, account, by in existing if by != DEMO}  # someone's own plan: left alone
    store_plans.delete_plans(session, [plan for plan, account, _ in existing if account not in theirs])
    session.exec(delete(KpiValue).where(KpiValue.account_id.in_(list(ids.values())), KpiValue.recorded_by == DEMO)
                 .execution_options(synchronize_session=False))
    written = {"plans": 0, "tasks": 0}

    def values(account: int, spec: dict[str, Any]) -> None:
        for kpi, series in spec.get("values", {}).items():
            for days, value in series:
                session.add(KpiValue(account_id=account, kpi_id=kpi, value=float(value),
                                     measured_on=today + timedelta(days=days), recorded_by=DEMO,
                                     recorded_at=_at(today, days)))

    for spec in PLANS:
        account = ids.get(spec["account"])
        if account is None or account in theirs:
            continue
        plan = _plan(session, account, 1, spec, today, current=True)
        _background(session, plan, spec, today)
        values(account, spec)
        written["plans"] += 1
        written["tasks"] += len(spec["tasks"])
    account = ids.get(REVIEWED["account"])
    if account is not None and account not in theirs:
        first = _plan(session, account, 1, REVIEWED["first"], today, current=False)
        _background(session, first, REVIEWED, today)
        second = _plan(session, account, 2, REVIEWED["second"], today, current=True)
        _background(session, second, REVIEWED, today)
        first_spec = REVIEWED["first"]
        session.add(PlanReview(plan_id=first.id, worked=first_spec["worked"], did_not=first_spec["did_not"],
                               answers=dict(first_spec["answers"]),
                               kpis=[{"kpi": "strategic_calls", "target": 10.0, "latest": 6.0, "status": "far_below"}],
                               closed_at=_at(today, first_spec["closed"]), closed_by=DEMO, next_plan_id=second.id,
                               updated_at=_at(today, first_spec["closed"])))
        # The review made a task of the KPI below target (strategic calls, 6 of 10).
        session.add(PlanTask(plan_id=second.id, number=3, text=None, owner_kind="internal", owner_name="bruno",
                             due=today + timedelta(days=first_spec["closed"] + 30), kpi_id="strategic_calls",
                             kpi_target=10.0, kpi_latest=6.0, created_by=DEMO, created_at=_at(today, -40)))
        values(account, REVIEWED)
        written["plans"] += 2
        written["tasks"] += len(first_spec["tasks"]) + len(REVIEWED["second"]["tasks"]) + 1
    session.flush()
    return written

