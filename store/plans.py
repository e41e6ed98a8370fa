"""Reading and writing account plans. Everything a plan holds is read in one query per table, and
lists and digests read plans by the accounts they concern (an owner's, a team's), a page at a
time, never the whole table."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable, Sequence

from sqlalchemy import delete, func
from sqlmodel import Session, select

from playbook.words import fold
from store.models import (
    Account, AccountPlan, KpiValue, PlanAnswer, PlanForce, PlanKpiTarget, PlanReview, PlanRival, PlanStakeholder,
    PlanTask, PlanWhiteSpace, utcnow,
)
from store.queries import _chunks

# What a plan holds besides its tasks, copied into the next plan by a review.
BACKGROUND = (PlanAnswer, PlanStakeholder, PlanWhiteSpace, PlanRival, PlanForce, PlanKpiTarget)
CHILDREN = BACKGROUND + (PlanTask,)


@dataclass
class PlanParts:
    """A plan and everything it holds, each list in the order it is shown."""
    plan: AccountPlan
    tasks: list[PlanTask] = field(default_factory=list)
    answers: list[PlanAnswer] = field(default_factory=list)
    stakeholders: list[PlanStakeholder] = field(default_factory=list)
    white_space: list[PlanWhiteSpace] = field(default_factory=list)
    rivals: list[PlanRival] = field(default_factory=list)
    forces: list[PlanForce] = field(default_factory=list)
    targets: list[PlanKpiTarget] = field(default_factory=list)
    review: PlanReview | None = None


def current_plan(session: Session, account_id: int) -> AccountPlan | None:
    return session.exec(select(AccountPlan).where(AccountPlan.account_id == account_id,
                                                  AccountPlan.current.is_(True))).first()


def past_plans(session: Session, account_id: int) -> list[AccountPlan]:
    return list(session.exec(select(AccountPlan).where(AccountPlan.account_id == account_id,
                                                       AccountPlan.current.is_(None))
                             .order_by(AccountPlan.number.desc())))


def parts(session: Session, plan: AccountPlan) -> PlanParts:
    """The plan with all it holds: one query per table."""
    out = PlanParts(plan)
    out.tasks = list(session.exec(select(PlanTask).where(PlanTask.plan_id == plan.id).order_by(PlanTask.number)))
    out.answers = list(session.exec(select(PlanAnswer).where(PlanAnswer.plan_id == plan.id)))
    out.stakeholders = list(session.exec(select(PlanStakeholder).where(PlanStakeholder.plan_id == plan.id)
                                         .order_by(PlanStakeholder.name_key)))
    out.white_space = list(session.exec(select(PlanWhiteSpace).where(PlanWhiteSpace.plan_id == plan.id)
                                        .order_by(PlanWhiteSpace.id)))
    out.rivals = list(session.exec(select(PlanRival).where(PlanRival.plan_id == plan.id).order_by(PlanRival.name_key)))
    out.forces = list(session.exec(select(PlanForce).where(PlanForce.plan_id == plan.id)))
    out.targets = list(session.exec(select(PlanKpiTarget).where(PlanKpiTarget.plan_id == plan.id)))
    out.review = session.exec(select(PlanReview).where(PlanReview.plan_id == plan.id)).first()
    return out


def kpi_values(session: Session, account_ids: Sequence[int],
               kpi_ids: Iterable[str] | None = None) -> dict[tuple[int, str], list[tuple[date, float]]]:
    """(account id, KPI id) -> [(day, value)] oldest first."""
    out: dict[tuple[int, str], list[tuple[date, float]]] = defaultdict(list)
    kpis = list(kpi_ids) if kpi_ids is not None else None
    for chunk in _chunks(list(account_ids)):
        query = select(KpiValue).where(KpiValue.account_id.in_(chunk))
        if kpis is not None:
            query = query.where(KpiValue.kpi_id.in_(kpis))
        for v in session.exec(query.order_by(KpiValue.measured_on)):
            out[(v.account_id, v.kpi_id)].append((v.measured_on, v.value))
    return out


def new_plan(session: Session, account: Account, *, today: date, actor: str, number: int | None = None) -> AccountPlan:
    """A new current plan for the account (the caller closes the previous one first)."""
    if number is None:
        last = session.exec(select(func.max(AccountPlan.number)).where(AccountPlan.account_id == account.id)).one()
        number = (last or 0) + 1
    plan = AccountPlan(account_id=account.id, number=number, current=True, started_on=today, created_by=actor)
    session.add(plan)
    session.flush()
    return plan


def next_task_number(session: Session, plan_id: int) -> int:
    last = session.exec(select(func.max(PlanTask.number)).where(PlanTask.plan_id == plan_id)).one()
    return (last or 0) + 1


def copy_background(session: Session, source: PlanParts, plan: AccountPlan) -> None:
    """The next plan starts from what the reviewed one knew of the customer."""
    for rows in (source.answers, source.stakeholders, source.white_space, source.rivals, source.forces,
                 source.targets):
        for row in rows:
            values = {c: getattr(row, c) for c in type(row).model_fields if c not in ("id", "plan_id")}
            session.add(type(row)(plan_id=plan.id, **values))


# --- plans by the accounts they concern (lists, nudges, digests) ---------------------------------

def current_plans_of(session: Session, account_ids: Sequence[int]) -> dict[int, AccountPlan]:
    out: dict[int, AccountPlan] = {}
    for chunk in _chunks(list(account_ids)):
        for plan in session.exec(select(AccountPlan).where(AccountPlan.account_id.in_(chunk),
                                                           AccountPlan.current.is_(True))):
            out[plan.account_id] = plan
    return out


def open_tasks(session: Session, plan_ids: Sequence[int], *, due_by: date | None = None) -> list[PlanTask]:
    """Tasks not done of these plans (due on or before `due_by` when given), soonest first."""
    out: list[PlanTask] = []
    for chunk in _chunks(list(plan_ids)):
        query = select(PlanTask).where(PlanTask.plan_id.in_(chunk), PlanTask.done_at.is_(None))
        if due_by is not None:
            query = query.where(PlanTask.due <= due_by)
        out += list(session.exec(query))
    return sorted(out, key=lambda t: (t.due, t.plan_id, t.number))


def targets_of(session: Session, plan_ids: Sequence[int]) -> dict[int, list[PlanKpiTarget]]:
    out: dict[int, list[PlanKpiTarget]] = defaultdict(list)
    for chunk in _chunks(list(plan_ids)):
        for row in session.exec(select(PlanKpiTarget).where(PlanKpiTarget.plan_id.in_(chunk))):
            out[row.plan_id].append(row)
    return out


def _owner_filter(owners: Sequence[str] | None):
    return func.lower(Account.owner).in_([o.lower() for o in owners]) if owners is not None else None


def plans_page(session: Session, owners: Sequence[str] | None, *, offset: int,
               limit: int) -> tuple[int, list[tuple[AccountPlan, Account]]]:
    """(how many current plans the owners' accounts have, one page of them by account name)."""
    where = [AccountPlan.current.is_(True)]
    owner = _owner_filter(owners)
    if owner is not None:
        where.append(owner)
    total = session.exec(select(func.count()).select_from(AccountPlan).join(Account, Account.id == AccountPlan.account_id)
                         .where(*where)).one()
    rows = session.exec(select(AccountPlan, Account).join(Account, Account.id == AccountPlan.account_id)
                        .where(*where).order_by(Account.name).offset(offset).limit(limit)).all()
    return total, [(p, a) for p, a in rows]


def overdue_counts(session: Session, plan_ids: Sequence[int], today: date) -> dict[int, int]:
    out: dict[int, int] = {}
    for chunk in _chunks(list(plan_ids)):
        rows = session.exec(select(PlanTask.plan_id, func.count()).where(
            PlanTask.plan_id.in_(chunk), PlanTask.done_at.is_(None), PlanTask.due < today).group_by(PlanTask.plan_id))
        out.update({plan_id: n for plan_id, n in rows})
    return out


def open_counts(session: Session, plan_ids: Sequence[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for chunk in _chunks(list(plan_ids)):
        rows = session.exec(select(PlanTask.plan_id, func.count()).where(
            PlanTask.plan_id.in_(chunk), PlanTask.done_at.is_(None)).group_by(PlanTask.plan_id))
        out.update({plan_id: n for plan_id, n in rows})
    return out


def delete_plans(session: Session, plan_ids: Sequence[int]) -> None:
    """Plans and all they hold (the demo regenerates its own)."""
    ids = list(plan_ids)
    if not ids:
        return
    for chunk in _chunks(ids):
        for model in CHILDREN + (PlanReview,):
            session.exec(delete(model).where(model.plan_id.in_(chunk)).execution_options(synchronize_session=False))
        session.exec(delete(AccountPlan).where(AccountPlan.id.in_(chunk)).execution_options(synchronize_session=False))


def stakeholder_key(name: str) -> str:
    return " ".join(fold(name).split())[:200]


def touch(plan: AccountPlan, session: Session) -> None:
    plan.updated_at = utcnow()
    session.add(plan)


def current_plans_of_owners(session: Session, owners: Sequence[str] | None) -> dict[int, AccountPlan]:
    """The current plan of each account of the owners (None: all) that has one: one statement."""
    query = select(AccountPlan).join(Account, Account.id == AccountPlan.account_id).where(AccountPlan.current.is_(True))
    owner = _owner_filter(owners)
    return {p.account_id: p for p in session.exec(query.where(owner) if owner is not None else query)}


def open_tasks_of_owners(session: Session, owners: Sequence[str] | None, *, due_by: date) -> list[PlanTask]:
    """Tasks not done, due on or before `due_by`, of the current plans of the owners' accounts,
    soonest first: one statement."""
    query = (select(PlanTask).join(AccountPlan, AccountPlan.id == PlanTask.plan_id)
             .join(Account, Account.id == AccountPlan.account_id)
             .where(AccountPlan.current.is_(True), PlanTask.done_at.is_(None), PlanTask.due <= due_by))
    owner = _owner_filter(owners)
    out = list(session.exec(query.where(owner) if owner is not None else query))
    return sorted(out, key=lambda t: (t.due, t.plan_id, t.number))


def targets_of_owners(session: Session, owners: Sequence[str] | None) -> dict[int, list[PlanKpiTarget]]:
    """targets_of() for the current plans of the owners' accounts: one statement."""
    query = (select(PlanKpiTarget).join(AccountPlan, AccountPlan.id == PlanKpiTarget.plan_id)
             .join(Account, Account.id == AccountPlan.account_id).where(AccountPlan.current.is_(True)))
    owner = _owner_filter(owners)
    out: dict[int, list[PlanKpiTarget]] = defaultdict(list)
    for row in session.exec(query.where(owner) if owner is not None else query):
        out[row.plan_id].append(row)
    return out


def kpi_values_of_owners(session: Session, owners: Sequence[str] | None) -> dict[tuple[int, str], list[tuple[date, float]]]:
    """kpi_values() of the owners' accounts: one statement."""
    query = select(KpiValue).join(Account, Account.id == KpiValue.account_id)
    owner = _owner_filter(owners)
    out: dict[tuple[int, str], list[tuple[date, float]]] = defaultdict(list)
    for v in session.exec((query.where(owner) if owner is not None else query).order_by(KpiValue.measured_on)):
        out[(v.account_id, v.kpi_id)].append((v.measured_on, v.value))
    return out
