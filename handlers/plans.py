"""Account plan commands (seed 003): a rep builds, follows and reviews the plan of an account from
chat. `plan ACCOUNT` shows it; goal, task, kpi, stakeholder, whitespace, rival, forces and the
discovery answers build it; `plan ACCOUNT review` takes stock and, once closed, starts the next
plan from it; `plans` lists plans and where each stands; `plan ACCOUNT export` writes it out.

Every change checks who may change the account (its owner, their manager, an admin), starts
the account's plan when it has none, is all or nothing, and leaves an audit record on the
account (so `history ACCOUNT` shows it)."""
from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Any, Iterator

from sqlmodel import Session, select

from handlers.plans_view import kpi_results, plan_data, review_data, rule_tasks
from handlers.records import known_owner, list_owners, resolve_account
from handlers.reply import Context, Refusal, Reply
from playbook.config import localized
from playbook.plans import (
    PlanProblem, carry_over, days_left, find_kpi, goal_problems, measurable_target, plan_state, read_day, split_goal,
)
from playbook.words import (
    ATTITUDE_WORDS, FORCE_WORDS, ME_WORDS, REVIEW_FIELD_WORDS, STAKEHOLDER_FIELD_WORDS, TASK_FIELD_WORDS,
    TASK_OWNER_PREFIXES, fold, name_key,
)
from store import people as directory
from store import plans as store_plans
from store import locks, queries
from store.database import session_scope
from store.models import (
    Account, AccountPlan, KpiValue, PlanAnswer, PlanForce, PlanKpiTarget, PlanReview, PlanRival, PlanStakeholder,
    PlanTask, PlanWhiteSpace, utcnow,
)
from store.values import ValueProblem, parse_quantity

PAGE = 15


# --- reading -----------------------------------------------------------------------------------------

def plan(ctx: Context, account: str) -> Reply:
    """`plan ACCOUNT`: the plan card."""
    with session_scope(ctx.engine) as session:
        found = resolve_account(session, account)
        return Reply("plan", plan_data(session, ctx, found, store_plans.current_plan(session, found.id)))


def plan_review(ctx: Context, account: str) -> Reply:
    """`plan ACCOUNT review`: the review sheet of the current plan."""
    with session_scope(ctx.engine) as session:
        found, current = _existing_plan(session, account)
        return Reply("plan_review", review_data(session, ctx, found, current))


def plan_export(ctx: Context, account: str) -> Reply:
    """`plan ACCOUNT export`: the plan as a Markdown document to share with the customer."""
    with session_scope(ctx.engine) as session:
        found, current = _existing_plan(session, account)
        data = plan_data(session, ctx, found, current)
    slug = name_key(found.name).replace(" ", "-")[:60] or "account"
    data["filename"] = f"plan-{slug}-{data['plan']['number']}.md"
    return Reply("plan_export", data)


def plans(ctx: Context, owner: str | None = None, everyone: bool = False, page: str = "1") -> Reply:
    """`plans [OWNER|all] [page=N]`: current plans and where each stands, a page at a time; a
    manager's default is their team."""
    if not str(page).isdigit() or int(page) < 1:
        raise Refusal("bad_value", field="page", value=page, expected="integer")
    number = int(page)
    today = ctx.today()
    with session_scope(ctx.engine) as session:
        owners = list_owners(session, ctx, owner, everyone)
        total, rows = store_plans.plans_page(session, owners, offset=(number - 1) * PAGE, limit=PAGE)
        ids = [p.id for p, _ in rows]
        overdue = store_plans.overdue_counts(session, ids, today)
        open_ = store_plans.open_counts(session, ids)
    shown_owner = owners[0] if owner is not None and owners else None
    team_of = ctx.person.owner if owners is not None and owner is None else None
    items = []
    for p, a in rows:
        late = overdue.get(p.id, 0)
        state = plan_state(p.goal_date, today, overdue_tasks=late, has_goal=bool(p.goal))
        items.append({"account": a.name, "owner": a.owner, "number": p.number, "goal": p.goal,
                      "goal_date": p.goal_date, "days_left": days_left(p.goal_date, today), "state": state,
                      "open_tasks": open_.get(p.id, 0), "overdue_tasks": late})
    return Reply("plans", {"owner": shown_owner, "team_of": team_of, "everyone": everyone, "plans": items,
                           "total": total, "page": number, "pages": max(1, -(-total // PAGE))})


def _existing_plan(session: Session, account: str) -> tuple[Account, AccountPlan]:
    found = resolve_account(session, account)
    current = store_plans.current_plan(session, found.id)
    if current is None:
        raise Refusal("no_plan", account=found.name)
    return found, current


# --- changing ----------------------------------------------------------------------------------------

@contextmanager
def _change(ctx: Context, account: str) -> Iterator[tuple[Session, Account, AccountPlan]]:
    """The account (checked: may the speaker change it?) and its current plan, started when it
    has none. One transaction: a refusal anywhere inside changes nothing."""
    with session_scope(ctx.engine) as session:
        found = locks.lock(session, resolve_account(session, account))
        ctx.require("change", owner=found.owner)
        current = store_plans.current_plan(session, found.id)
        if current is None:
            current = store_plans.new_plan(session, found, today=ctx.today(), actor=ctx.actor)
            _audit(session, ctx, found, "plan_create", {"plan": [None, current.number]})
        yield session, found, current


def _audit(session: Session, ctx: Context, account: Account, action: str, changes: dict[str, Any]) -> None:
    queries.audit(session, ctx.who, "account", action, entity_id=account.id, entity_name=account.name,
                  changes=changes)


def _saved(session: Session, ctx: Context, account: Account, current: AccountPlan, change: dict[str, Any]) -> Reply:
    store_plans.touch(current, session)
    session.flush()
    return Reply("plan_saved", {"change": change, **plan_data(session, ctx, account, current)})


def _day(ctx: Context, field: str, raw: str | None, *, not_after_today: bool = False):
    try:
        day = read_day(raw, ctx.today())
    except PlanProblem:
        raise Refusal("bad_value", field=field, value=raw or "", expected="day") from None
    if not_after_today and day > ctx.today():
        raise Refusal("bad_value", field=field, value=raw or "", expected="past_day")
    return day


def _text(field: str, value: str | None, limit: int) -> str | None:
    value = " ".join((value or "").split()) or None
    if value is not None and len(value) > limit:
        raise Refusal("too_long", field=field, limit=limit)
    return value


def _number(field: str, raw: str | None, unit: str | None = None) -> float:
    try:
        return parse_quantity(field, raw or "", unit=unit)
    except ValueProblem as problem:
        raise Refusal("bad_value", field=field, value=raw or "", expected=problem.expected) from None


def plan_goal(ctx: Context, account: str, goal: str, by: str | None = None) -> Reply:
    """`plan ACCOUNT goal "…" by DATE`: one specific, measurable, dated goal."""
    today = ctx.today()
    if by is None:
        text, on, unread = split_goal(goal, today)
        if unread:
            raise Refusal("bad_value", field="goal_date", value=unread, expected="day")
    else:
        text, on = " ".join(goal.split()), (_day(ctx, "goal_date", by) if by.strip() else None)
    text = _text("goal", text, 500)
    problems = goal_problems(text, on, today)
    if problems:
        field = "goal_date" if problems[0] in ("date", "past") else "goal"
        raise Refusal("bad_goal", problems=problems, field=field, goal=text, today=today)
    with _change(ctx, account) as (session, found, current):
        before = [current.goal, current.goal_date]
        current.goal, current.goal_target, current.goal_date = text, measurable_target(text), on
        _audit(session, ctx, found, "plan_goal", {"goal": [before[0], text], "goal_date": [before[1], on]})
        return _saved(session, ctx, found, current, {"kind": "goal", "goal": text, "goal_date": on})


def _task_owner(session: Session, ctx: Context, account: Account, current: AccountPlan,
                raw: str | None) -> tuple[str, str]:
    """(kind, name): `alice` (one of us), `client:Jeanne Roy` or a stakeholder's name (a client
    contact), `vendor:Acme Consulting` (an outside vendor). Nobody by default: the account's owner."""
    if raw is None or not raw.strip():
        return "internal", account.owner or ctx.actor
    text = raw.strip().strip('"')
    prefix, colon, rest = text.partition(":")
    kind = TASK_OWNER_PREFIXES.get(fold(prefix)) if colon else None
    name = _text("owner", rest.strip().strip('"') if kind else text, 200)
    if not name:
        raise Refusal("missing_value", field="owner", command="task_add")
    if kind in ("client", "vendor"):
        return kind, name
    if fold(name) in ME_WORDS and ctx.owner:
        return "internal", ctx.owner
    row = directory.by_owner(session, name)
    if row is not None:
        return "internal", row.owner
    if kind == "internal":
        return "internal", known_owner(session, name)
    contact = session.exec(select(PlanStakeholder).where(PlanStakeholder.plan_id == current.id,
                                                         PlanStakeholder.name_key == store_plans.stakeholder_key(name))
                           ).first()
    if contact is not None:
        return "client", contact.name
    owners = queries.all_owners(session)
    match = next((o for o in owners if fold(o) == fold(name)), None)
    if match is not None:
        return "internal", match
    contacts = [s.name for s in session.exec(select(PlanStakeholder).where(PlanStakeholder.plan_id == current.id))]
    raise Refusal("unknown_task_owner", name=name, field="owner",
                  suggestions=queries.closest(name, owners + contacts, n=3))


def task_add(ctx: Context, account: str, text: str, fields: dict[str, str]) -> Reply:
    """`task ACCOUNT add "…" owner=WHO due=DATE`."""
    given: dict[str, str] = {}
    for key, value in fields.items():
        field = TASK_FIELD_WORDS.get(fold(key))
        if field is None:
            raise Refusal("unknown_field", field=key, suggestions=queries.closest(key, list(TASK_FIELD_WORDS)),
                          known=["owner", "due"])
        given[field] = value
    text = _text("text", text, 500)
    if not text:
        raise Refusal("missing_value", field="text", command="task_add")
    if not given.get("due"):
        raise Refusal("missing_value", field="due", command="task_add")
    due = _day(ctx, "due", given["due"])
    with _change(ctx, account) as (session, found, current):
        kind, who = _task_owner(session, ctx, found, current, given.get("owner"))
        number = store_plans.next_task_number(session, current.id)
        session.add(PlanTask(plan_id=current.id, number=number, text=text, owner_kind=kind, owner_name=who, due=due,
                             created_by=ctx.actor))
        _audit(session, ctx, found, "plan_task", {"task": [None, f"#{number} {text}"], "owner": [None, who],
                                                  "due": [None, due]})
        return _saved(session, ctx, found, current, {"kind": "task_added", "number": number, "text": text,
                                                      "owner_kind": kind, "owner_name": who, "due": due})


def task_done(ctx: Context, account: str, number: str) -> Reply:
    """`task ACCOUNT N done`."""
    with _change(ctx, account) as (session, found, current):
        task = session.exec(select(PlanTask).where(PlanTask.plan_id == current.id,
                                                   PlanTask.number == int(number))).first() \
            if str(number).isdigit() else None
        if task is None:
            count = store_plans.next_task_number(session, current.id) - 1
            raise Refusal("unknown_task", account=found.name, number=number, count=count, field="number")
        already = task.done_at is not None
        if not already:
            task.done_at, task.done_by = ctx.now(), ctx.actor
            session.add(task)
            _audit(session, ctx, found, "plan_task_done", {"task": [f"#{task.number}", "done"]})
        return _saved(session, ctx, found, current, {"kind": "task_done", "number": task.number, "text": task.text,
                                                      "already": already})


def kpi(ctx: Context, account: str, kpi: str, value: str | None = None, on: str | None = None,
        target: str | None = None) -> Reply:
    """`kpi ACCOUNT KPI VALUE [DATE]` records a value; `kpi ACCOUNT KPI target=VALUE` sets the
    plan's target."""
    rules = ctx.playbook.plans
    found_kpi, candidates = find_kpi(kpi, rules.kpis)
    if found_kpi is None:
        names = candidates or [k for k in rules.kpis if k.id in queries.closest(kpi, [k.id for k in rules.kpis])]
        raise Refusal("unknown_kpi", name=kpi, field="kpi",
                      suggestions=[f"{k.id} ({localized(k.name, ctx.language)})" for k in names],
                      known=[k.id for k in rules.kpis])
    if value is None and target is None:
        raise Refusal("missing_value", field="value", command="kpi")
    number = _number("value", value, found_kpi.unit) if value is not None else None
    goal = _number("target", target, found_kpi.unit) if target is not None else None
    day = _day(ctx, "on", on, not_after_today=True) if on else ctx.today()
    with _change(ctx, account) as (session, found, current):
        changes: dict[str, Any] = {}
        if number is not None:
            row = session.exec(select(KpiValue).where(KpiValue.account_id == found.id, KpiValue.kpi_id == found_kpi.id,
                                                      KpiValue.measured_on == day)).first()
            old = row.value if row else None
            row = row or KpiValue(account_id=found.id, kpi_id=found_kpi.id, measured_on=day, value=number)
            row.value, row.recorded_by, row.recorded_at = number, ctx.actor, utcnow()
            session.add(row)
            changes[f"kpi:{found_kpi.id}:{day.isoformat()}"] = [old, number]
        if goal is not None:
            row = session.exec(select(PlanKpiTarget).where(PlanKpiTarget.plan_id == current.id,
                                                           PlanKpiTarget.kpi_id == found_kpi.id)).first()
            changes[f"target:{found_kpi.id}"] = [row.target if row else None, goal]
            row = row or PlanKpiTarget(plan_id=current.id, kpi_id=found_kpi.id, target=goal)
            row.target = goal
            session.add(row)
        _audit(session, ctx, found, "plan_kpi", changes)
        return _saved(session, ctx, found, current, {
            "kind": "kpi", "kpi": localized(found_kpi.name, ctx.language), "kpi_id": found_kpi.id,
            "unit": found_kpi.unit, "value": number, "on": day if number is not None else None, "target": goal})


def stakeholder_add(ctx: Context, account: str, name: str, fields: dict[str, str]) -> Reply:
    """`stakeholder ACCOUNT add NAME role=… department=… attitude=… needs=… last_contact=DATE`;
    naming someone already on the map updates them."""
    limits = {"role": 120, "department": 120, "needs": 500}
    values: dict[str, Any] = {}
    for key, raw in fields.items():
        field = STAKEHOLDER_FIELD_WORDS.get(fold(key))
        if field is None:
            raise Refusal("unknown_field", field=key, suggestions=queries.closest(key, list(STAKEHOLDER_FIELD_WORDS)),
                          known=["role", "department", "attitude", "needs", "last_contact"])
        if field == "attitude":
            attitude = ATTITUDE_WORDS.get(fold(raw))
            if attitude is None:
                raise Refusal("bad_value", field="attitude", value=raw, expected="champion | neutral | blocker")
            values[field] = attitude
        elif field == "last_contact":
            values[field] = _day(ctx, "last_contact", raw, not_after_today=True)
        else:
            values[field] = _text(field, raw, limits[field])
    name = _text("name", name, 200)
    if not name:
        raise Refusal("missing_value", field="name", command="stakeholder_add")
    with _change(ctx, account) as (session, found, current):
        key = store_plans.stakeholder_key(name)
        row = session.exec(select(PlanStakeholder).where(PlanStakeholder.plan_id == current.id,
                                                         PlanStakeholder.name_key == key)).first()
        updated = row is not None
        row = row or PlanStakeholder(plan_id=current.id, name=name, name_key=key)
        diff = {f: [getattr(row, f) if updated else None, v] for f, v in values.items()
                if not updated or getattr(row, f) != v}
        for f, v in values.items():
            setattr(row, f, v)
        row.updated_at = utcnow()
        session.add(row)
        _audit(session, ctx, found, "plan_stakeholder", {"stakeholder": [None, row.name], **diff})
        return _saved(session, ctx, found, current, {"kind": "stakeholder", "name": row.name, "updated": updated})


def whitespace_add(ctx: Context, account: str, department: str, use_case: str) -> Reply:
    """`whitespace ACCOUNT add DEPARTMENT "use case"`: a department not reached yet."""
    department, use_case = _text("department", department, 120), _text("use_case", use_case, 500)
    with _change(ctx, account) as (session, found, current):
        known = session.exec(select(PlanWhiteSpace).where(PlanWhiteSpace.plan_id == current.id)).all()
        already = any(fold(w.department) == fold(department) and fold(w.use_case) == fold(use_case) for w in known)
        if not already:
            session.add(PlanWhiteSpace(plan_id=current.id, department=department, use_case=use_case))
            _audit(session, ctx, found, "plan_white_space", {"white_space": [None, f"{department}: {use_case}"]})
        return _saved(session, ctx, found, current, {"kind": "white_space", "department": department,
                                                      "use_case": use_case, "already": already})


def rival_add(ctx: Context, account: str, name: str, notes: str | None = None) -> Reply:
    """`rival ACCOUNT add NAME [notes]`: one of the customer's main rivals."""
    name, notes = _text("name", name, 200), _text("notes", notes, 1000)
    with _change(ctx, account) as (session, found, current):
        key = store_plans.stakeholder_key(name)
        row = session.exec(select(PlanRival).where(PlanRival.plan_id == current.id, PlanRival.name_key == key)).first()
        updated = row is not None
        old = row.notes if row else None
        row = row or PlanRival(plan_id=current.id, name=name, name_key=key)
        if notes is not None:
            row.notes = notes
        session.add(row)
        _audit(session, ctx, found, "plan_rival", {"rival": [None, row.name], "notes": [old, row.notes]})
        return _saved(session, ctx, found, current, {"kind": "rival", "name": row.name, "updated": updated})


_RATING = re.compile(r"^\s*([1-5])(?:\s*/\s*5)?(?:\s+(.*))?$", re.S)


def forces(ctx: Context, account: str, ratings: dict[str, str]) -> Reply:
    """`forces ACCOUNT buyer=4 entrants=2 substitutes=3 suppliers=1 rivalry=5`: each force 1 to 5,
    a note after the number if wanted (`buyer=4 three buyers take 80% of the market`)."""
    parsed: dict[str, tuple[int, str | None]] = {}
    for key, raw in ratings.items():
        force = FORCE_WORDS.get(fold(key).replace("-", "_"))
        if force is None:
            raise Refusal("unknown_force", field=key, known=["buyer", "entrants", "substitutes", "suppliers", "rivalry"])
        m = _RATING.match(raw or "")
        if not m:
            raise Refusal("bad_value", field=key, value=raw, expected="1 … 5")
        parsed[force] = (int(m.group(1)), _text("note", m.group(2), 500))
    with _change(ctx, account) as (session, found, current):
        rows = {f.force: f for f in session.exec(select(PlanForce).where(PlanForce.plan_id == current.id))}
        diff = {}
        for force, (rating, note) in parsed.items():
            row = rows.get(force)
            old = [row.rating, row.note] if row is not None else None
            row = row or PlanForce(plan_id=current.id, force=force, rating=rating)
            row.rating = rating
            if note is not None:  # a rating alone keeps the note it had
                row.note = note
            if old != [row.rating, row.note]:
                diff[force] = [old, [row.rating, row.note]]
            session.add(row)
        _audit(session, ctx, found, "plan_forces", diff)
        return _saved(session, ctx, found, current, {"kind": "forces", "forces": sorted(parsed)})


def plan_answer(ctx: Context, account: str, answers: dict[str, str]) -> Reply:
    """`plan ACCOUNT answer N "…"`: the customer's answer to discovery question N (or its id)."""
    questions = ctx.playbook.plans.discovery
    chosen: dict[str, str | None] = {}
    for key, text in answers.items():
        q = None
        if str(key).isdigit() and 1 <= int(key) <= len(questions):
            q = questions[int(key) - 1]
        else:
            hits = [x for x in questions if x.id == fold(key) or x.id.startswith(fold(key))]
            q = hits[0] if len(hits) == 1 else None
        if q is None:
            raise Refusal("unknown_question", name=key, field="number", count=len(questions),
                          known=[x.id for x in questions])
        chosen[q.id] = _text("answer", text, 2000)
    with _change(ctx, account) as (session, found, current):
        rows = {a.question_id: a for a in session.exec(select(PlanAnswer).where(PlanAnswer.plan_id == current.id))}
        diff = {}
        for qid, text in chosen.items():
            row = rows.get(qid)
            if text is None:  # an emptied field of the form: the answer is taken back
                if row is not None:
                    diff[qid] = [row.answer, None]
                    session.delete(row)
                continue
            if row is None or row.answer != text:
                diff[qid] = [row.answer if row else None, text]
                row = row or PlanAnswer(plan_id=current.id, question_id=qid, answer=text)
                row.answer, row.answered_by, row.answered_at = text, ctx.actor, utcnow()
                session.add(row)
        if diff:
            _audit(session, ctx, found, "plan_discovery", diff)
        numbers = [i + 1 for i, q in enumerate(questions) if q.id in chosen]
        return _saved(session, ctx, found, current, {"kind": "discovery", "numbers": numbers})


# --- the review ----------------------------------------------------------------------------------------

def plan_review_save(ctx: Context, account: str, answers: dict[str, str], close: bool = False) -> Reply:
    """`plan ACCOUNT review worked="…" did_not="…" gaps="…"` saves the review's answers;
    `plan ACCOUNT review close` closes it and starts the next plan from it."""
    questions = ctx.playbook.plans.review
    chosen: dict[str, str | None] = {}
    for key, text in answers.items():
        field = REVIEW_FIELD_WORDS.get(fold(key).replace("-", "_"))
        if field is None:
            hits = [q.id for q in questions if q.id == fold(key) or q.id.startswith(fold(key))]
            field = hits[0] if len(hits) == 1 else None
        if field is None:
            raise Refusal("unknown_field", field=key, suggestions=queries.closest(key, ["worked", "did_not"]
                                                                                  + [q.id for q in questions]),
                          known=["worked", "did_not"] + [q.id for q in questions])
        chosen[field] = _text(field, text, 2000)
    with session_scope(ctx.engine) as session:
        found = locks.lock(session, resolve_account(session, account))
        ctx.require("change", owner=found.owner)
        current = store_plans.current_plan(session, found.id)
        if current is None:
            raise Refusal("no_plan", account=found.name)
        review = session.exec(select(PlanReview).where(PlanReview.plan_id == current.id)).first() \
            or PlanReview(plan_id=current.id, answers={}, kpis=[])
        if chosen:
            diff = {}
            answers_now = dict(review.answers or {})
            for field, text in chosen.items():
                old = getattr(review, field) if field in ("worked", "did_not") else answers_now.get(field)
                if old != text:
                    diff[field] = [old, text]
                if field in ("worked", "did_not"):
                    setattr(review, field, text)
                else:
                    if text is None:
                        answers_now.pop(field, None)
                    else:
                        answers_now[field] = text
            review.answers, review.updated_at = answers_now, utcnow()
            session.add(review)
            session.flush()
            if diff:
                _audit(session, ctx, found, "plan_review", diff)
        if not close:
            data = review_data(session, ctx, found, current)
            data["saved"] = sorted(chosen)
            return Reply("plan_review", data)
        missing = [f for f in ("worked", "did_not") if not getattr(review, f)]
        if missing:
            raise Refusal("review_incomplete", account=found.name, missing=missing, field=missing[0])
        return _close_review(session, ctx, found, current, review)


def _close_review(session: Session, ctx: Context, account: Account, current: AccountPlan,
                  review: PlanReview) -> Reply:
    """The review is kept with each KPI against its target as it stands; the next plan starts
    with the reviewed plan's background, its open tasks, and a task for every KPI below target."""
    today = ctx.today()
    before = plan_data(session, ctx, account, current)["plan"]
    parts = store_plans.parts(session, current)
    results = kpi_results(before["kpis"])
    coming = carry_over(rule_tasks(parts.tasks), results, today=today, owner=account.owner or ctx.actor,
                        kpi_task_days=ctx.playbook.plans.kpi_task_days)
    current.current, current.closed_at = None, ctx.now()
    session.add(current)
    session.flush()
    following = store_plans.new_plan(session, account, today=today, actor=ctx.actor, number=current.number + 1)
    store_plans.copy_background(session, parts, following)
    for number, t in enumerate(coming, start=1):
        session.add(PlanTask(plan_id=following.id, number=number, text=t.text, owner_kind=t.owner_kind,
                             owner_name=t.owner_name, due=t.due, kpi_id=t.kpi_id, kpi_target=t.kpi_target,
                             kpi_latest=t.kpi_latest, carried_from=t.carried_from, created_by=ctx.actor))
    review.kpis = [{"kpi": k.kpi_id, "target": k.target, "latest": k.latest, "status": k.status} for k in results]
    review.closed_at, review.closed_by, review.next_plan_id = ctx.now(), ctx.actor, following.id
    review.updated_at = utcnow()
    session.add(review)
    carried = sum(1 for t in coming if t.carried_from is not None)
    made = len(coming) - carried
    _audit(session, ctx, account, "plan_review_close", {"plan": [current.number, following.number],
                                                        "carried_tasks": carried, "kpi_tasks": made})
    session.flush()
    change = {"kind": "review_closed", "previous": current.number, "previous_goal": current.goal,
              "carried": carried, "kpi_tasks": made,
              "met": sum(1 for k in results if k.status == "met"), "kpis": len(results)}
    return Reply("plan_saved", {"change": change, **plan_data(session, ctx, account, following)})
