"""Account plans driven from the console as people type them (handlers.registry.run with the
console context of a rep, a manager, an admin), on the demo data, on SQLite and PostgreSQL: a rep
builds, follows and reviews a plan; the next plan starts from the review; refusals are polite and
change nothing; who may change what; French; the nudge and the digest; the cost at scale."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, func
from sqlmodel import select

from bot.render import render
from handlers import digest, manager_digest, rep_nudge
from handlers.demo import load_demo_data
from handlers.people import console_context
from handlers.registry import run
from handlers.reply import Context
from store.database import session_scope
from store.models import (
    Account, AccountPlan, AuditRecord, KpiValue, PlanForce, PlanKpiTarget, PlanReview, PlanStakeholder, PlanTask,
    PlanWhiteSpace,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)  # a Tuesday
TODAY = NOW.date()
BANK = "Banque Dauphinoise de Crédit"     # alice's; its plan's date passed ten days ago
STEEL = "Aciéries de Lorraine-Moselle"    # alice's; tasks overdue and due this week


@pytest.fixture
def demo(engine, playbook):
    load_demo_data(Context(engine=engine, playbook=playbook, actor="demo", clock=lambda: NOW))
    return engine, playbook


def as_(demo, who: str, language: str = "en") -> Context:
    engine, playbook = demo
    return console_context(engine, playbook, as_owner=who, operator_name="t", language=language, clock=lambda: NOW)


def say(ctx: Context, text: str):
    reply = run(ctx, text)
    out = render(reply, language=ctx.language)
    assert "Traceback" not in out and out.strip()
    return reply, out


def _snapshot(engine) -> dict:
    """Every plan row count and the audit count: what a refusal must leave as it was."""
    with session_scope(engine) as s:
        counts = {m.__name__: s.exec(select(func.count()).select_from(m)).one()
                  for m in (AccountPlan, PlanTask, PlanStakeholder, PlanWhiteSpace, PlanForce, PlanKpiTarget,
                            KpiValue, PlanReview, AuditRecord)}
        counts["goals"] = sorted((p.account_id, p.goal or "", str(p.goal_date)) for p in s.exec(select(AccountPlan)))
        counts["done"] = s.exec(select(func.count()).select_from(PlanTask).where(PlanTask.done_at.is_not(None))).one()
    return counts


def _current(engine, name: str) -> AccountPlan:
    with session_scope(engine) as s:
        account = s.exec(select(Account).where(Account.name == name)).one()
        return s.exec(select(AccountPlan).where(AccountPlan.account_id == account.id,
                                                AccountPlan.current.is_(True))).one()


# --- build, follow, review ---------------------------------------------------------------------

def test_a_rep_reviews_a_plan_and_the_next_plan_starts_from_the_review(demo):
    alice = as_(demo, "alice")
    card, text = say(alice, "plan banque dauphinoise")
    plan = card.data["plan"]
    assert card.template == "plan" and plan["state"] == "review_due" and plan["days_left"] == -10
    assert "The plan's date has passed" in text
    assert [t["number"] for t in plan["tasks"]] == [2, 3, 1]  # overdue first, then open, then done
    assert {k["id"]: k["status"] for k in plan["kpis"]} == {"referrals": "far_below", "cross_sell_revenue": "far_below"}

    sheet, text = say(alice, f'plan "{BANK}" review')
    review = sheet.data["review"]
    assert sheet.template == "plan_review" and not review["ready"]
    assert [t["number"] for t in review["carry"]["tasks"]] == [2, 3]
    assert {k["id"] for k in review["carry"]["kpis"]} == {"referrals", "cross_sell_revenue"}
    assert [q["id"] for q in review["questions"]] == ["gaps", "unknowns", "white_space", "enlist"]
    assert "Before closing it, say what worked and what did not" in text

    before = _snapshot(demo[0])
    refused, text = say(alice, f'plan "{BANK}" review close')
    assert refused.data["error"] == "review_incomplete" and "what worked and what did not" in text
    assert _snapshot(demo[0]) == before

    saved, text = say(alice, f'plan "{BANK}" review worked="the risk demo won the COO over" '
                             f'did_not="compliance never got a pilot proposal" gaps="no follow-up after demos"')
    assert saved.data["saved"] == ["did_not", "gaps", "worked"] and saved.data["review"]["ready"]
    closed, text = say(alice, f'plan "{BANK}" review close')
    change, plan = closed.data["change"], closed.data["plan"]
    assert closed.template == "plan_saved" and change["kind"] == "review_closed"
    assert (change["previous"], plan["number"], change["carried"], change["kpi_tasks"]) == (1, 2, 2, 2)
    assert "Plan 1 is reviewed and closed" in text and "Set its goal next" in text
    assert plan["state"] == "tasks_overdue" and plan["goal"] is None and closed.data["past_count"] == 1
    carried = {t["carried_from"]: t for t in plan["tasks"] if t["carried_from"]}
    assert set(carried) == {2, 3} and carried[3]["owner_kind"] == "client"
    kpi_tasks = [t for t in plan["tasks"] if t["kpi"]]
    assert {t["kpi"]["id"] for t in kpi_tasks} == {"referrals", "cross_sell_revenue"}
    assert all(t["due"] == TODAY + timedelta(days=30) and t["owner_name"] == "alice" for t in kpi_tasks)
    assert "Bring Cross-sell revenue from €55,000 to €120,000" in text
    # The background carries over; the targets too; the review keeps each KPI as it stood.
    assert len(plan["stakeholders"]) == 2 and len(plan["white_space"]) == 2 and plan["forces_rated"] == 5
    assert {k["id"]: k["target"] for k in plan["kpis"]} == {"referrals": 2, "cross_sell_revenue": 120000}
    with session_scope(demo[0]) as s:
        old = s.exec(select(AccountPlan).where(AccountPlan.account_id == _current(demo[0], BANK).account_id,
                                               AccountPlan.number == 1)).one()
        review = s.exec(select(PlanReview).where(PlanReview.plan_id == old.id)).one()
        assert old.current is None and old.closed_at is not None and review.closed_by == "alice"
        assert {k["kpi"]: k["status"] for k in review.kpis} == {"referrals": "far_below",
                                                                "cross_sell_revenue": "far_below"}
        assert review.answers == {"gaps": "no follow-up after demos"}
    assert say(alice, f'plan "{BANK}" review close')[0].data["error"] == "review_incomplete"  # the new plan's own

    # The next plan, built from chat.
    goal, text = say(alice, f'plan "{BANK}" goal "3 new departments on the platform" by 30 September')
    assert goal.data["plan"]["goal_date"] == date(2026, 9, 30) and goal.data["plan"]["goal_target"] == "3"
    assert "Goal saved for" in text
    task, _ = say(alice, f'task "{BANK}" add "Compliance pilot kick-off" owner="Julien Garnier" due=1/04')
    assert task.data["change"] == {"kind": "task_added", "number": 5, "text": "Compliance pilot kick-off",
                                   "owner_kind": "client", "owner_name": "Julien Garnier", "due": date(2026, 4, 1)}
    done, text = say(alice, f"task {BANK} 1 done")
    assert done.data["change"]["kind"] == "task_done" and "Task #1 is done." in text
    again, text = say(alice, f"task {BANK} 1 done")
    assert again.data["change"]["already"] and "already done" in text
    kpi, text = say(alice, f"kpi {BANK} cross 70000")
    row = next(k for k in kpi.data["plan"]["kpis"] if k["id"] == "cross_sell_revenue")
    assert (row["latest"], row["trend"], row["improving"]) == (70000, "up", True)
    assert "Cross-sell revenue: €70,000 recorded" in text
    history, text = say(alice, f"history {BANK}")
    assert {"plan_kpi", "plan_task_done", "plan_task", "plan_goal", "plan_review_close"} <= {
        e["action"] for e in history.data["entries"]}
    assert "closed the plan's review" in text


def test_a_plan_is_built_from_nothing(demo):
    alice = as_(demo, "alice")
    name = "Harborview Freight"
    empty, text = say(alice, f"plan {name}")
    assert empty.data["plan"] is None and "has no account plan yet" in text and "30 June" in text
    say(alice, f'plan {name} goal "Win back 40% of their freight volume" by 2026-09-30')
    say(alice, f'stakeholder {name} add "Jeanne Roy" role=CFO department=Finance attitude=champion '
               f'needs="a clear ROI" last_contact=2026-03-02')
    say(alice, f'stakeholder {name} add "jeanne roy" attitude=blocker')  # the same person, updated
    say(alice, f'whitespace {name} add "Human resources" "onboarding portal"')
    say(alice, f'rival {name} add Globex "cheaper, weaker support"')
    say(alice, f"forces {name} buyer=4 three big shippers rivalry=5 entrants=2")
    say(alice, f"forces {name} buyer=3")  # a new rating keeps the note
    say(alice, f'plan {name} answer 2 "A hiring freeze until the summer"')
    say(alice, f"plan {name} answer who_to_ask The COO")
    say(alice, f"kpi {name} retention 80 2026-01-15")
    say(alice, f"kpi {name} retention 84 target=90")
    say(alice, f'task {name} add "Send the case study" owner=vendor:Acme Consulting due=15 March')
    card, text = say(alice, f"plan {name}")
    plan = card.data["plan"]
    assert plan["number"] == 1 and plan["state"] == "on_track"
    assert [(s["name"], s["attitude"], s["role"]) for s in plan["stakeholders"]] == [("Jeanne Roy", "blocker", "CFO")]
    assert plan["white_space"] == [{"number": 1, "department": "Human resources", "use_case": "onboarding portal"}]
    assert {f["id"]: (f["rating"], f["note"]) for f in plan["forces"] if f["rating"]} == {
        "buyer_power": (3, "three big shippers"), "rivalry": (5, None), "new_entrants": (2, None)}
    assert plan["discovery_answered"] == 2
    [retention] = plan["kpis"]
    assert (retention["target"], retention["latest"], retention["status"], retention["trend"]) == (
        90, 84, "below", "up")
    assert plan["tasks"][0]["owner_kind"] == "vendor" and plan["tasks"][0]["due"] == date(2026, 3, 15)
    assert "Jeanne Roy – CFO, Finance – blocker" in text and "Globex (cheaper, weaker support)" in text
    # The export is a Markdown document for the customer: no attitudes in it.
    export, document = say(alice, f"plan {name} export")
    assert export.data["filename"] == "plan-harborview-freight-1.md"
    assert document.startswith("# Account plan – Harborview Freight") and "| Jeanne Roy | CFO | Finance |" in document
    assert "blocker" not in document and "Win back 40% of their freight volume" in document


def test_the_card_lists_overdue_tasks_first_with_owners_and_kpis_against_targets(demo):
    card, text = say(as_(demo, "bruno"), f"plan {STEEL}")
    plan = card.data["plan"]
    assert plan["state"] == "tasks_overdue" and plan["overdue_count"] == 1 and plan["done_count"] == 1
    first = plan["tasks"][0]
    assert (first["number"], first["overdue"], first["days_late"]) == (1, True, 5)
    assert [t["owner_kind"] for t in plan["tasks"][:3]] == ["internal", "client", "vendor"]
    renewal = next(k for k in plan["kpis"] if k["id"] == "renewal_revenue")
    assert (renewal["latest"], renewal["target"], renewal["trend"], renewal["status"]) == (
        410000, 450000, "up", "below")
    lines = text.splitlines()
    assert lines[0].startswith("Account plan 1 – Aciéries de Lorraine-Moselle · alice")
    assert "(75 days left)" in lines[1]
    assert "⚠ #1 Send the ROI study of the Metz pilot to the CFO – alice – due Mar 5, 2026 (5 days late)" in text
    assert "Marc Weber (client)" in text and "Lorraine Intégration (vendor)" in text
    assert "Renewal revenue: €410,000 (target €450,000) ↗ improving – below target" in text
    assert "Buyer power 4/5" in text and "Sylvie Muller – Plant manager, Thionville, Operations – blocker" in text


# --- refusals ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, error, words", [
    (f'plan "{STEEL}" goal "More subscribers to the newsletter" by 30 June', "bad_goal", "a number (5%, 20 new users"),
    (f'plan "{STEEL}" goal "5% more subscribers to the newsletter"', "bad_goal", "give the date it is due"),
    (f'plan "{STEEL}" goal "5% more subscribers to the newsletter" by 2026-03-01', "bad_goal", "after today"),
    (f'plan "{STEEL}" goal "5% more subscribers" by next year', "bad_value", "30 June"),
    (f'task "{STEEL}" add "Call the CFO" owner=alice', "missing_value", "due date"),
    (f'task "{STEEL}" add "Call the CFO" due=someday', "bad_value", "a date such as 2026-06-30"),
    (f'task "{STEEL}" add "Call the CFO" owner=zorro due=2026-04-01', "unknown_task_owner", "client:NAME"),
    (f'task "{STEEL}" add "Call the CFO" colour=red due=2026-04-01', "unknown_field", "colour"),
    (f"task {STEEL} 42 done", "unknown_task", "no task #42"),
    (f"kpi {STEEL} happiness 4", "unknown_kpi", "churn_rate"),
    (f"kpi {STEEL} strategic 4", "unknown_kpi", "Did you mean: strategic_emails"),
    (f"kpi {STEEL} churn 4 2026-12-01", "bad_value", "up to today"),
    (f"kpi {STEEL} churn", "bad_syntax", "kpi Acme churn 4.2"),
    (f"forces {STEEL} buyer=7", "bad_value", "1 … 5"),
    (f"forces {STEEL} weather=3", "unknown_force", "buyer, entrants"),
    (f'stakeholder {STEEL} add "Jo Doe" attitude=grumpy', "bad_value", "champion | neutral | blocker"),
    (f'plan {STEEL} answer 9 "something"', "unknown_question", "1 to 6"),
    (f'plan {STEEL} review mood="fine"', "unknown_field", "worked"),
    (f'plan "Harborview Freight" review', "no_plan", "has no account plan yet"),
    ('task "Harborview Freight" add "x y z" due=never', "bad_value", "30 June"),
    ("plans page=zero", "bad_value", "page"),
])
def test_bad_input_is_refused_with_the_fix_and_nothing_changes(demo, text, error, words):
    before = _snapshot(demo[0])
    reply, out = say(as_(demo, "alice"), text)
    assert not reply.ok and reply.data["error"] == error, reply.data
    assert words in out
    assert _snapshot(demo[0]) == before


# --- who may change a plan -----------------------------------------------------------------------

def test_a_rep_changes_only_their_own_plans_a_manager_their_teams_an_admin_all(demo):
    engine = demo[0]
    steel = f'task "{STEEL}" add "Plant visit" due=2026-04-02'
    before = _snapshot(engine)
    for who, rule in (("bruno", "not_yours"), ("hugo", "not_yours"), ("david", "not_yours")):
        reply, text = say(as_(demo, who), steel)
        assert reply.data["error"] == "not_allowed" and reply.data["rule"] == rule and "alice owns this" in text
        assert say(as_(demo, who), f'plan "{BANK}" review close')[0].data["error"] == "not_allowed"
    assert _snapshot(engine) == before
    assert say(as_(demo, "bruno"), f"plan {STEEL}")[0].ok  # reading is open to the team
    assert say(as_(demo, "claire"), steel)[0].ok          # alice's manager
    assert say(as_(demo, "sophie"), f"kpi {STEEL} churn 2.5")[0].ok  # an admin
    with session_scope(engine) as s:
        actors = [r.actor for r in s.exec(select(AuditRecord).where(AuditRecord.action.in_(["plan_task", "plan_kpi"]))
                                          .order_by(AuditRecord.id))]
    assert actors[-2:] == ["claire", "sophie"]
    assert say(as_(demo, "bruno"), "plan Northwind goal \"15% fewer late deliveries\" by 30 June")[0].ok


# --- French ----------------------------------------------------------------------------------------

def test_plans_in_french(demo):
    alice = as_(demo, "alice", "fr")
    card, text = say(alice, "plan banque")
    assert "Plan de compte 1 – Banque Dauphinoise de Crédit" in text and "revue à faire" in text
    say(alice, "plan banque objectif « 3 départements de plus sur la plateforme » d'ici le 30 septembre")
    say(alice, "tâche banque ajouter « Pilote conformité » responsable=fournisseur:Cabinet Morel échéance=15/04")
    say(alice, "partie prenante banque ajouter « Anne Petit » rôle=DSI service=Informatique attitude=neutre")
    say(alice, "espace blanc banque ajouter Trésorerie « prévisions de trésorerie »")
    say(alice, "indicateur banque attrition 3,5 cible=3")
    reply, text = say(alice, "forces banque acheteurs=2 rivalité=5 guerre des prix")
    plan = reply.data["plan"]
    pilot = next(t for t in plan["tasks"] if t["text"] == "Pilote conformité")
    assert plan["goal_date"] == date(2026, 9, 30) and (pilot["owner_kind"], pilot["due"]) == ("vendor", date(2026, 4, 15))
    assert any(s["name"] == "Anne Petit" and s["attitude"] == "neutral" for s in plan["stakeholders"])
    assert "Cabinet Morel (prestataire)" in text or "Cabinet Morel (fournisseur)" in text
    assert "Taux d'attrition : 3,5 %" in text and "Rivalité concurrentielle" in text
    refused, text = say(alice, "plan banque objectif « plus d'abonnés à la newsletter » d'ici le 30 juin")
    assert refused.data["error"] == "bad_goal" and "5 % d'abonnés en plus à la newsletter d'ici le 30 juin" in text
    assert "Rien n'a été modifié." in text
    help_, text = say(alice, "aide plan")
    assert "tâche" in text and "partie prenante" in text and "espace blanc" in text


# --- the plans list ----------------------------------------------------------------------------------

def test_plans_list_their_state_a_managers_team_by_default_a_page_at_a_time(demo):
    engine, playbook = demo
    every, _ = say(as_(demo, "alice"), "plans")
    assert every.data["total"] == 5
    states = {p["account"]: p["state"] for p in every.data["plans"]}
    assert states[BANK] == "review_due" and states[STEEL] == "tasks_overdue"
    assert states["Boulangeries Marchand"] == "on_track"
    mine, _ = say(as_(demo, "alice"), "plans @me")
    assert mine.data["owner"] == "alice" and {p["owner"] for p in mine.data["plans"]} == {"alice"}
    team, text = say(as_(demo, "hugo"), "plans")
    assert team.data["total"] == 0 and team.data["team_of"] == "hugo" and "No account plan here yet" in text
    assert say(as_(demo, "hugo"), "plans all")[0].data["total"] == 5
    # Many plans: one page at a time.
    with session_scope(engine) as s:
        for i in range(40):
            account = Account(name=f"Plan Test {i:02d}", owner="chloe", status="customer")
            s.add(account)
            s.flush()
            s.add(AccountPlan(account_id=account.id, number=1, current=True, started_on=TODAY))
    first, text = say(as_(demo, "chloe"), "plans chloe")
    assert (first.data["total"], first.data["pages"], len(first.data["plans"])) == (40, 3, 15)
    assert "More: plans \"chloe\" page=2" in text
    third, _ = say(as_(demo, "chloe"), "plans chloe page=3")
    assert [p["account"] for p in third.data["plans"]] == [f"Plan Test {i:02d}" for i in range(30, 40)]
    assert all(p["state"] == "no_goal" for p in third.data["plans"])


# --- the weekly nudge and digest -----------------------------------------------------------------------

def _nudge(demo, rep):
    engine, playbook = demo
    ctx = Context(engine=engine, playbook=playbook, actor="gare", language="en", clock=lambda: NOW)
    with session_scope(engine) as s:
        return rep_nudge.rep_nudge_data(s, ctx, rep, digest.rep_settings(s).get(rep))


def _digest(demo, manager):
    engine, playbook = demo
    ctx = Context(engine=engine, playbook=playbook, actor="gare", language="en", clock=lambda: NOW)
    with session_scope(engine) as s:
        return manager_digest.manager_digest_data(s, ctx, manager)


def test_the_nudge_lists_plan_tasks_due_this_week_and_overdue_and_reviews_due(demo):
    work = _nudge(demo, "alice")["plans"]
    assert [(t["account"], t["number"]) for t in work["overdue"]] == [(BANK, 2), (STEEL, 1)]
    assert [(t["account"], t["number"]) for t in work["due"]] == [
        (STEEL, 2), (BANK, 3), ("Boulangeries Marchand", 2)]  # within the coming week, soonest first
    assert [r["account"] for r in work["reviews_due"]] == [BANK]
    text = render(digest_reply("rep_nudge", _nudge(demo, "alice")), language="en")
    assert "Account plans:" in text and f'{BANK}: the plan\'s date passed 10 days ago' in text
    chloe = _nudge(demo, "chloe")["plans"]
    assert chloe["expand_without_plan"] == ["Groupe Hôtelier Côte d'Émeraude", "Laboratoires Vasseur"]
    assert not chloe["due"] and not chloe["overdue"]
    say(as_(demo, "alice"), f"task {STEEL} 1 done")
    assert [t["account"] for t in _nudge(demo, "alice")["plans"]["overdue"]] == [BANK]


def test_the_digest_names_missed_reviews_kpis_far_below_target_and_expand_accounts_without_a_plan(demo):
    work = _digest(demo, "claire")["plans"]
    assert [(r["account"], r["owner"], r["days_late"]) for r in work["reviews_missed"]] == [(BANK, "alice", 10)]
    far = {(k["account"], k["kpi"]) for k in work["kpis_far_below"]}
    assert (BANK, "Cross-sell revenue") in far and (STEEL, "Renewal revenue") not in far  # 9% short: below, not far
    assert {a["account"] for a in work["expand_without_plan"]} == {"Groupe Hôtelier Côte d'Émeraude",
                                                                   "Laboratoires Vasseur"}
    hugo = _digest(demo, "hugo")["plans"]
    assert not hugo["reviews_missed"] and {a["owner"] for a in hugo["expand_without_plan"]} == {"david", "emma",
                                                                                                "farid"}
    text = render(digest_reply("manager_digest", _digest(demo, "claire")), language="fr")
    assert "Plans de compte" in text and BANK in text
    alice = as_(demo, "alice")
    say(alice, f'plan "{BANK}" review worked="x" did_not="y"')
    say(alice, f'plan "{BANK}" review close')
    assert not _digest(demo, "claire")["plans"]["reviews_missed"]


def digest_reply(template, data):
    from handlers.reply import Reply

    return Reply(template, data)


# --- cost at scale ------------------------------------------------------------------------------------

def _statements(engine, call) -> int:
    count = [0]

    def counter(*_):
        count[0] += 1
    event.listen(engine, "before_cursor_execute", counter)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return count[0]


def test_cards_lists_and_weekly_work_cost_the_same_whatever_the_number_of_plans(demo):
    """No page, card or count reads every plan: the queries do not grow with the store."""
    engine, playbook = demo
    alice = as_(demo, "alice")
    commands = ["plans", f"plan {STEEL}", f"plan {STEEL} review", f"task {STEEL} 4 done"]
    before = {c: _statements(engine, lambda c=c: run(alice, c)) for c in commands}
    nudge_before = _statements(engine, lambda: _nudge(demo, "alice"))
    with session_scope(engine) as s:
        for i in range(60):
            account = Account(name=f"Scale {i:02d}", owner="emma", status="customer")
            s.add(account)
            s.flush()
            plan = AccountPlan(account_id=account.id, number=1, current=True, started_on=TODAY,
                               goal="5% more", goal_date=TODAY + timedelta(days=30))
            s.add(plan)
            s.flush()
            s.add(PlanTask(plan_id=plan.id, number=1, text="t", owner_name="emma", due=TODAY))
            s.add(KpiValue(account_id=account.id, kpi_id="referrals", value=1, measured_on=TODAY))
    after = {c: _statements(engine, lambda c=c: run(alice, c)) for c in commands}
    assert after == before
    assert _statements(engine, lambda: _nudge(demo, "alice")) == nudge_before


# --- the console and the command line ----------------------------------------------------------------

def test_the_console_prints_the_export_and_gare_export_plan_writes_it(db_url, tmp_path):
    from test_cli import gare

    assert gare("demo", db_url=db_url).returncode == 0
    out = tmp_path / "plan.md"
    written = gare("--lang", "en", "export", "plan", "Banque Dauphinoise", str(out), db_url=db_url)
    assert written.returncode == 0 and f"is in {out}" in written.stderr
    document = out.read_text(encoding="utf-8")
    assert document.startswith(f"# Account plan – {BANK}") and "| Julien Garnier | Head of compliance |" in document
    piped = gare("--lang", "fr", "console", db_url=db_url, input="plan banque exporter\n")
    assert piped.returncode == 0 and f"# Plan de compte – {BANK}" in piped.stdout and "## Actions" in piped.stdout
    missing = gare("--lang", "en", "export", "plan", "Nowhere", db_url=db_url)
    assert missing.returncode == 1 and "I don't know an account called “Nowhere”" in missing.stderr
