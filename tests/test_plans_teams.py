"""Account plans in Teams, driven as the Bot Framework channel drives Gare (signed activities,
Action.Submit messages and Action.Execute invokes) on the demo data: the plan card and its
"Edit plan" forms, refused values shown under their field and nothing changed; Done on a task
(in place on the card, as a new card from the nudge); a form sent by someone who may not; the
review closed; the export; plans listed a page at a time; the weekly nudge's plan section."""
from __future__ import annotations

from sqlmodel import select

from fake_teams import card_text, find_action
from handlers.registry import run_command
from handlers.reply import Context
from store.database import session_scope
from store.models import AuditRecord
from teams_harness import NOW, card
from test_plans_slack import _audits, _tasks  # they read the store through any rig's engine

STEEL = "Aciéries de Lorraine-Moselle"


def _ctx(teams) -> Context:
    return Context(engine=teams.engine, playbook=teams.playbook, actor="alice", owner="alice", language="en",
                   clock=lambda: NOW)


def _form(teams, plan_card: dict, part: str, user: str = "alice") -> dict:
    """"Edit plan", pick `part`, "Open": the form arrives as a new card."""
    opener = find_action(plan_card, verb="plan_form", title="Open")
    return card(teams.submit({}, opener, user=user, inputs={"p": part}))


def _inputs(form: dict) -> dict[str, dict]:
    return {i["id"]: i for i in form["body"] if (i.get("type") or "").startswith("Input.")}


def test_the_plan_card_and_its_task_form_refuse_beside_the_field_then_save(teams):
    plan_card = card(teams.say(f'plan "{STEEL}"'))
    text = card_text(plan_card)
    assert f"Account plan 1 – {STEEL}" in text and "5 days late" in text and "Marc Weber (client)" in text
    form = _form(teams, plan_card, "task")
    assert list(_inputs(form)) == ["text", "owner", "due"]
    save = find_action(form, verb="plan_save")
    before = _audits(teams)
    answer = teams.execute(save, inputs={"text": "Visit the Thionville plant", "owner": "zorro", "due": "2026-04-02"})
    again = answer["value"]
    assert "client:NAME" in card_text(again)
    inputs = _inputs(again)
    assert inputs["text"]["value"] == "Visit the Thionville plant" and inputs["owner"]["value"] == "zorro"
    # The refusal sits right under the owner field.
    ids = [i.get("id") for i in again["body"]]
    warning = next(n for n, i in enumerate(again["body"]) if "client:NAME" in (i.get("text") or ""))
    assert ids[warning - 1] == "owner"
    assert _audits(teams) == before and len(_tasks(teams, STEEL)) == 4
    answer = teams.execute(find_action(again, verb="plan_save"),
                           inputs={"text": "Visit the Thionville plant", "owner": "client:Claire Fontaine",
                                   "due": "2026-04-02"})
    assert "Task #5 added" in card_text(answer["value"])
    added = _tasks(teams, STEEL)[-1]
    assert (added.number, added.text, added.owner_kind, added.owner_name) == (
        5, "Visit the Thionville plant", "client", "Claire Fontaine")
    with session_scope(teams.engine) as s:
        record = s.exec(select(AuditRecord).order_by(AuditRecord.id.desc())).first()
    assert (record.actor, record.platform, record.action) == ("alice", "teams", "plan_task")


def test_a_goal_without_a_number_is_refused_with_the_example_then_saved(teams):
    plan_card = card(teams.say(f'plan "{STEEL}"'))
    form = _form(teams, plan_card, "goal")
    assert _inputs(form)["goal"]["value"] == "8% more renewal revenue across the three plants"
    answer = teams.execute(find_action(form, verb="plan_save"),
                           inputs={"goal": "More renewals everywhere", "goal_date": "2026-06-30"})
    assert "5% more subscribers to the newsletter by 30 June" in card_text(answer["value"])
    answer = teams.execute(find_action(answer["value"], verb="plan_save"),
                           inputs={"goal": "10% more renewal revenue", "goal_date": "2026-06-30"})
    assert "Goal saved" in card_text(answer["value"])
    plan = run_command(_ctx(teams), f'plan "{STEEL}"').data["plan"]
    assert plan["goal"] == "10% more renewal revenue" and str(plan["goal_date"]) == "2026-06-30"


def test_a_form_is_checked_when_sent_not_when_opened(teams):
    plan_card = card(teams.say(f'plan "{STEEL}"'))
    form = _form(teams, plan_card, "kpi")
    assert {"churn_rate", "renewal_revenue"} <= {c["value"] for c in _inputs(form)["kpi"]["choices"]}
    before = _audits(teams)
    values = {"kpi": "churn_rate", "value": "2.5", "on": "2026-03-09", "target": ""}
    answer = teams.execute(find_action(form, verb="plan_save"), user="bruno", inputs=values)
    assert "alice" in (answer["value"] if isinstance(answer["value"], str) else card_text(answer["value"]))
    assert _audits(teams) == before
    answer = teams.execute(find_action(form, verb="plan_save"), inputs=values)
    row = next(k for k in run_command(_ctx(teams), f'plan "{STEEL}"').data["plan"]["kpis"] if k["id"] == "churn_rate")
    assert row["latest"] == 2.5


def test_done_in_place_forces_the_review_closed_and_the_export(teams):
    plan_card = card(teams.say(f'plan "{STEEL}"'))
    answer = teams.execute(find_action(plan_card, verb="plan_task_done", account=STEEL, n=1))
    assert "Task #1 is done." in card_text(answer["value"])
    assert _tasks(teams, STEEL)[0].done_at is not None
    form = _form(teams, plan_card, "forces")
    assert _inputs(form)["f_buyer_power"]["value"] == "4" and _inputs(form)["f_rivalry"]["value"] == "5"
    answer = teams.execute(find_action(form, verb="plan_save"),
                           inputs={"f_buyer_power": "2", "n_buyer_power": "new buyers in Asia", "f_rivalry": "5"})
    plan = run_command(_ctx(teams), f'plan "{STEEL}"').data["plan"]
    assert plan["forces"][0] == {"id": "buyer_power", "rating": 2, "note": "new buyers in Asia"}
    # The export: the document's text on a card, attitudes left out.
    export = card(teams.submit({}, find_action(plan_card, verb="plan_export")))
    text = card_text(export)
    assert f"Account plan – {STEEL}" in text and "champion" not in text.lower().split("attitudes")[-1]
    # The review: answered in its form, then closed; plan 2 starts.
    review = card(teams.submit({}, find_action(plan_card, verb="run", cmd=f'plan "{STEEL}" review')))
    assert "Review of account plan 1" in card_text(review)
    form = card(teams.submit({}, find_action(review, verb="plan_form", p="review")))
    answer = teams.execute(find_action(form, verb="plan_save"),
                           inputs={"worked": "the pilot", "did_not": "legal took three months", "close": "false"})
    closing = answer["value"]
    answer = teams.execute(find_action(closing, verb="plan_review_close"))
    assert "Plan 1 is reviewed and closed." in card_text(answer["value"])
    assert run_command(_ctx(teams), f'plan "{STEEL}"').data["plan"]["number"] == 2


def test_plans_page_in_place_and_the_nudge_carries_plan_tasks(teams):
    listing = card(teams.say("plans all"))
    assert "account plan" in card_text(listing)
    teams.say("nudge")
    nudge = card(teams.say("nudge"))
    assert "Account plans:" in card_text(nudge)
    done = find_action(nudge, verb="plan_task_done")
    assert done["type"] == "Action.Submit"  # the nudge stays as it was sent
    answer = card(teams.submit({}, done))
    assert "is done." in card_text(answer)
