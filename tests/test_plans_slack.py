"""Account plans in Slack, driven as Slack drives Gare (signed slash commands, clicks and form
submissions against the running app and the Web API stand-in), on the demo data: the card and
its "Edit plan" forms, validated beside their fields and checked when submitted; Done on a task;
the review closed from Slack; the export uploaded to the conversation; the weekly nudge."""
from __future__ import annotations

import json

from sqlalchemy import func
from sqlmodel import select

from handlers.registry import run_command
from fake_slack import wait_for
from slack_harness import NOW, all_text, find
from store.database import session_scope
from store.models import Account, AccountPlan, AuditRecord, PlanTask

STEEL = "Aciéries de Lorraine-Moselle"
BANK = "Banque Dauphinoise de Crédit"


def _audits(rig) -> int:
    with session_scope(rig.engine) as s:
        return s.exec(select(func.count()).select_from(AuditRecord)).one()


def _tasks(rig, name: str) -> list[PlanTask]:
    with session_scope(rig.engine) as s:
        account = s.exec(select(Account).where(Account.name == name)).one()
        plan = s.exec(select(AccountPlan).where(AccountPlan.account_id == account.id,
                                                AccountPlan.current.is_(True))).one()
        return list(s.exec(select(PlanTask).where(PlanTask.plan_id == plan.id).order_by(PlanTask.number)))


def _open_form(rig, card: dict, part: str, user: str = "U_ALICE") -> dict:
    """Pick `part` in the card's "Edit plan" menu; returns the form Slack was asked to open."""
    _, menu = find(card["blocks"], "gare_plan_edit")
    option = next(o for o in menu["options"] if o["value"] == part)
    opened = len(rig.fake.of("views.open"))
    rig.click(user, card["blocks"], "gare_plan_edit", selected=option)
    return rig.wait_call("views.open", opened + 1)["view"]


def _text(value: str | None) -> dict:
    return {"type": "plain_text_input", "value": value}


def _date(value: str | None) -> dict:
    return {"type": "datepicker", "selected_date": value}


def _option(value: str) -> dict:
    return {"type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": value},
                                                         "value": value}}


def test_the_plan_card_and_its_task_form_validate_beside_the_field_then_save(rig):
    card = rig.wait_response(rig.command(f'plan "{STEEL}"'))
    text = all_text(card["blocks"])
    assert f"Account plan 1 – {STEEL}" in text and "5 days late" in text and "Marc Weber (client)" in text
    view = _open_form(rig, card, "task")
    assert view["callback_id"] == "gare_plan_modal"
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == ["text", "owner", "due"]
    before = _audits(rig)
    values = {"text": _text("Visit the Thionville plant"), "owner": _text("zorro"), "due": _date("2026-04-02")}
    status, answer = rig.submit("U_ALICE", {**view, "id": "VTASK"}, values)
    assert answer["response_action"] == "errors" and "client:NAME" in answer["errors"]["owner"]
    values["owner"] = _text("")
    values["due"] = _date(None)
    status, answer = rig.submit("U_ALICE", {**view, "id": "VTASK"}, values)
    assert answer["response_action"] == "errors" and "due date" in answer["errors"]["due"]
    assert _audits(rig) == before and len(_tasks(rig, STEEL)) == 4
    values["owner"], values["due"] = _text("client:Claire Fontaine"), _date("2026-04-02")
    status, answer = rig.submit("U_ALICE", {**view, "id": "VTASK"}, values)
    assert status == 200 and answer == {}
    added = _tasks(rig, STEEL)[-1]
    assert (added.number, added.text, added.owner_kind, added.owner_name) == (
        5, "Visit the Thionville plant", "client", "Claire Fontaine")
    with session_scope(rig.engine) as s:
        record = s.exec(select(AuditRecord).order_by(AuditRecord.id.desc())).first()
    assert (record.actor, record.platform, record.platform_user_id, record.action) == (
        "alice", "slack", "U_ALICE", "plan_task")
    wait_for(lambda: [b for k, b in rig.fake.responses if "Task #5 added" in all_text(b.get("blocks", []))],
             what="the confirmation where the menu was")


def test_the_goal_form_refuses_a_goal_without_a_number_with_the_example(rig):
    card = rig.wait_response(rig.command(f'plan "{STEEL}"'))
    view = _open_form(rig, card, "goal")
    blocks = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert blocks["goal"]["element"]["initial_value"] == "8% more renewal revenue across the three plants"
    status, answer = rig.submit("U_ALICE", {**view, "id": "VGOAL"},
                                {"goal": _text("More renewals everywhere"), "goal_date": _date("2026-06-30")})
    assert answer["response_action"] == "errors"
    assert "5% more subscribers to the newsletter by 30 June" in answer["errors"]["goal"]
    status, answer = rig.submit("U_ALICE", {**view, "id": "VGOAL"},
                                {"goal": _text("10% more renewal revenue"), "goal_date": _date("2026-06-30")})
    assert answer == {}
    plan = run_command(rig.context(), f'plan "{STEEL}"').data["plan"]
    assert plan["goal"] == "10% more renewal revenue" and str(plan["goal_date"]) == "2026-06-30"


def test_a_form_is_checked_when_submitted_not_when_opened(rig):
    card = rig.wait_response(rig.command(f'plan "{STEEL}"'))
    view = _open_form(rig, card, "kpi")
    kpi_block = next(b for b in view["blocks"] if b.get("block_id") == "kpi")
    assert {"churn_rate", "renewal_revenue"} <= {o["value"] for o in kpi_block["element"]["options"]}
    before = _audits(rig)
    values = {"kpi": _option("churn_rate"), "value": _text("2.5"), "on": _date("2026-03-09"), "target": _text("")}
    status, answer = rig.submit("U_BRUNO", {**view, "id": "VKPI"}, values)  # alice's form, sent by bruno
    assert answer["response_action"] == "errors" and "alice" in json.dumps(answer, ensure_ascii=False)
    assert _audits(rig) == before
    status, answer = rig.submit("U_ALICE", {**view, "id": "VKPI"}, values)
    assert answer == {}
    row = next(k for k in run_command(rig.context(), f'plan "{STEEL}"').data["plan"]["kpis"] if k["id"] == "churn_rate")
    assert row["latest"] == 2.5


def test_done_on_a_task_and_the_stakeholder_and_forces_forms(rig):
    card = rig.wait_response(rig.command(f'plan "{STEEL}"'))
    key = rig.click("U_ALICE", card["blocks"], "gare_plan_task_done", json.dumps({"a": STEEL, "n": 1}, ensure_ascii=False))
    assert "Task #1 is done." in all_text(rig.wait_response(key)["blocks"])
    assert _tasks(rig, STEEL)[0].done_at is not None
    view = _open_form(rig, card, "stakeholder")
    status, answer = rig.submit("U_ALICE", {**view, "id": "VSTAKE"}, {
        "name": _text("Anne Petit"), "role": _text("CIO"), "department": _text("IT"),
        "attitude": _option("champion"), "needs": _text(""), "last_contact": _date(None)})
    assert answer == {}
    view = _open_form(rig, card, "forces")
    initial = {b["block_id"]: b["element"].get("initial_option", {}).get("value")
               for b in view["blocks"] if b["type"] == "input" and b["block_id"].startswith("f_")}
    assert initial["f_buyer_power"] == "4" and initial["f_rivalry"] == "5"
    status, answer = rig.submit("U_ALICE", {**view, "id": "VFORCES"}, {
        "f_buyer_power": _option("2"), "n_buyer_power": _text("new buyers in Asia"), "f_rivalry": _option("5")})
    assert answer == {}
    plan = run_command(rig.context(), f'plan "{STEEL}"').data["plan"]
    assert any(s["name"] == "Anne Petit" and s["attitude"] == "champion" for s in plan["stakeholders"])
    assert plan["forces"][0] == {"id": "buyer_power", "rating": 2, "note": "new buyers in Asia"}


def test_the_review_is_answered_and_closed_from_slack_and_the_next_plan_starts(rig):
    sheet = rig.wait_response(rig.command(f'plan "{BANK}" review'))
    assert "Closing the review starts plan 2" in all_text(sheet["blocks"])
    rig.click("U_ALICE", sheet["blocks"], "gare_plan_modal")
    view = rig.wait_call("views.open")["view"]
    ids = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    assert ids[:2] == ["worked", "did_not"] and "q_gaps" in ids and ids[-1] == "close"
    close = {"type": "checkboxes", "selected_options": [{"value": "close"}]}
    status, answer = rig.submit("U_ALICE", {**view, "id": "VREV"}, {"worked": _text("The risk demo"),
                                                                    "did_not": _text(""), "close": close})
    assert answer["response_action"] == "errors" and "did_not" in answer["errors"]
    assert run_command(rig.context(), f'plan "{BANK}"').data["plan"]["number"] == 1
    status, answer = rig.submit("U_ALICE", {**view, "id": "VREV"}, {
        "worked": _text("The risk demo"), "did_not": _text("No compliance pilot"),
        "q_gaps": _text("No follow-up after demos"), "close": close})
    assert answer == {}
    plan = run_command(rig.context(), f'plan "{BANK}"').data["plan"]
    assert plan["number"] == 2 and any(t["kpi"] for t in plan["tasks"])
    wait_for(lambda: [b for k, b in rig.fake.responses if "Plan 1 is reviewed and closed" in all_text(b.get("blocks", []))],
             what="the closed review's confirmation")


def test_close_the_review_button_confirms_then_closes(rig):
    run_command(rig.context(), f'plan "{BANK}" review worked="demo" did_not="pilot"')
    sheet = rig.wait_response(rig.command(f'plan "{BANK}" review'))
    _, button = find(sheet["blocks"], "gare_plan_review_close")
    assert button["confirm"]["confirm"]["text"]
    key = rig.click("U_ALICE", sheet["blocks"], "gare_plan_review_close")
    assert "Plan 1 is reviewed and closed" in all_text(rig.wait_response(key)["blocks"])


def test_the_export_is_uploaded_to_the_conversation_as_markdown(rig):
    key = rig.command(f'plan "{STEEL}" export', channel="C_ACCOUNTS")
    complete = rig.wait_call("files.completeUploadExternal")
    files = json.loads(complete["files"]) if isinstance(complete["files"], str) else complete["files"]
    assert complete["channel_id"] == "C_ACCOUNTS" and files[0]["title"] == "plan-acieries-de-lorraine-moselle-1.md"
    [document] = [d.decode("utf-8") for d in rig.fake.uploads.values()]
    assert document.startswith(f"# Account plan – {STEEL}") and "| Claire Fontaine | CFO | Finance |" in document
    assert "blocker" not in document and "champion" not in document
    assert "is in this conversation" in all_text(rig.wait_response(key)["blocks"])
    # The card's Export button does the same.
    card = rig.wait_response(rig.command(f'plan "{STEEL}"'))
    rig.click("U_ALICE", card["blocks"], "gare_plan_export", STEEL)
    rig.wait_call("files.completeUploadExternal", 2)


def test_the_card_speaks_french_to_a_french_speaker(rig):
    card = rig.wait_response(rig.command("plan northwind", user="U_BRUNO"))  # de-DE: the playbook's French
    text = all_text(card["blocks"])
    assert "Plan de compte 2 – Northwind Logistics" in text and "reporté" in text
    refused = rig.wait_response(rig.command(f'tâche "{STEEL}" ajouter « Visite » échéance=2026-04-01',
                                            user="U_BRUNO"))
    assert "alice" in all_text(refused["blocks"]) and "Rien n'a été modifié" in all_text(refused["blocks"])


def test_the_weekly_nudge_carries_plan_tasks_with_a_done_button(rig):
    from bot.delivery import SlackCourier
    from bot.nudges import run_weekly

    courier = SlackCourier(rig.engine, rig.playbook, rig.shell.settings, sleep=lambda s: None)
    summary = run_weekly(rig.engine, rig.playbook, kind="reps", clock=lambda: NOW, courier=courier, to="alice")
    assert summary.sent == ["alice"]
    post = rig.wait_call("chat.postMessage", where=lambda b: "gare_plan_task_done" in json.dumps(b.get("blocks")))
    text = all_text(post["blocks"])  # alice has not told Slack her language yet: the playbook's French
    assert "Plans de compte :" in text and "Send the ROI study of the Metz pilot to the CFO" in text
    assert "la date du plan est passée depuis 10 jours" in text
    find(post["blocks"], "gare_plan_task_done", json.dumps({"a": BANK, "n": 2}, ensure_ascii=False))
