"""Buttons that open modals (edit profile, move to nurture, snooze), their submissions (errors
shown inline, saves audited, handled once) and the App Home dashboard."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlmodel import select

from handlers.registry import run_command
from slack_harness import all_text
from store.database import session_scope
from store.models import Account, AuditRecord, Deal


def _account(rig, name):
    with session_scope(rig.engine) as s:
        return s.exec(select(Account).where(Account.name == name)).one()


def _deal(rig, name):
    with session_scope(rig.engine) as s:
        return s.exec(select(Deal).where(Deal.name == name)).one()


def _audits(rig):
    with session_scope(rig.engine) as s:
        return s.exec(select(func.count()).select_from(AuditRecord)).one()


def _state(view):
    """The modal's inputs as Slack would send them back untouched."""
    values = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        if element["type"] == "plain_text_input":
            values[block["block_id"]] = {"type": "plain_text_input", "value": element.get("initial_value")}
        elif element["type"] == "static_select":
            values[block["block_id"]] = {"type": "static_select", "selected_option": element.get("initial_option")}
        elif element["type"] == "datepicker":
            values[block["block_id"]] = {"type": "datepicker", "selected_date": element.get("initial_date")}
    return values


def _frozen(rig):
    return run_command(rig.context(), "deals frozen alice").data["deals"][0]["deal"]


def test_edit_profile_validates_inline_then_saves_with_an_audit_record(rig):
    name = run_command(rig.context(), "accounts owner=alice").data["accounts"][0]["account"]
    card = rig.wait_response(rig.command(f"account {name}"))
    key = rig.click("U_ALICE", card["blocks"], "gare_edit_account")
    rig.click("U_ALICE", card["blocks"], "gare_edit_account")  # a double-click opens one modal
    view = rig.wait_call("views.open")["view"]
    assert view["callback_id"] == "gare_account_edit" and name in all_text(view["blocks"])
    values = _state(view)
    before = _audits(rig)

    values["f_margin_pct"] = {"type": "plain_text_input", "value": "lots"}
    status, answer = rig.submit("U_ALICE", view, values)
    assert status == 200 and answer["response_action"] == "errors"
    assert "“lots” is not a valid value for margin_pct" in answer["errors"]["f_margin_pct"]
    assert _audits(rig) == before

    values["f_margin_pct"] = {"type": "plain_text_input", "value": "33,5"}
    values["f_profile"] = {"type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": "x"},
                                                                        "value": "expand"}}
    status, answer = rig.submit("U_ALICE", view, values)
    assert status == 200 and answer == {}
    saved = _account(rig, name)
    assert saved.margin_pct == 33.5 and saved.profile_override == "expand" and saved.profile_override_by == "alice"
    assert _audits(rig) == before + 1
    with session_scope(rig.engine) as s:
        audit = s.exec(select(AuditRecord).order_by(AuditRecord.id.desc())).first()
        assert audit.actor == "alice" and audit.entity_name == name and "margin_pct" in audit.changes
    confirmation = rig.wait_response(key)  # the modal's result goes back where the button was
    assert f"Saved {name}:" in all_text(confirmation["blocks"])
    assert len(rig.fake.of("views.open")) == 1


def test_move_to_nurture_asks_a_reason_and_is_handled_once(rig):
    deal = _frozen(rig)
    card = rig.wait_response(rig.command(f"deal {deal}"))
    rig.click("U_ALICE", card["blocks"], "gare_nurture")
    view = rig.wait_call("views.open")["view"]
    values = {"reason": {"type": "plain_text_input", "value": "Budget frozen until the new fiscal year"}}
    view = {**view, "id": "VNURTURE"}
    before = _audits(rig)
    assert rig.submit("U_ALICE", view, values)[0] == 200
    assert rig.submit("U_ALICE", view, values)[0] == 200  # the same submission again
    saved = _deal(rig, deal)
    assert saved.status == "nurture" and saved.nurture_reason == "Budget frozen until the new fiscal year"
    assert _audits(rig) == before + 1


def test_snooze_needs_a_future_date_and_a_reason(rig):
    deal = _frozen(rig)
    card = rig.wait_response(rig.command(f"deal {deal}"))
    rig.click("U_ALICE", card["blocks"], "gare_snooze")
    view = rig.wait_call("views.open")["view"]
    assert view["callback_id"] == "gare_snooze_modal"
    values = _state(view)
    assert values["until"]["selected_date"] == "2026-03-24"  # two weeks from today by default
    values["until"] = {"type": "datepicker", "selected_date": "2026-03-01"}
    values["reason"] = {"type": "plain_text_input", "value": "Buyer on leave"}
    status, answer = rig.submit("U_ALICE", view, values)
    assert answer["response_action"] == "errors" and "until" in answer["errors"]
    values["until"] = {"type": "datepicker", "selected_date": "2026-04-15"}
    values["reason"] = {"type": "plain_text_input", "value": ""}
    status, answer = rig.submit("U_ALICE", view, values)
    assert answer["response_action"] == "errors" and "reason" in answer["errors"]
    values["reason"] = {"type": "plain_text_input", "value": "Buyer on leave until April"}
    status, answer = rig.submit("U_ALICE", view, values)
    assert status == 200 and answer == {}
    saved = _deal(rig, deal)
    assert saved.snoozed_until == date(2026, 4, 15) and saved.snooze_reason == "Buyer on leave until April"
    card = rig.wait_response(rig.command(f"deal {deal}"))
    assert "Nudges snoozed until" in all_text(card["blocks"])


def test_app_home_shows_the_reps_dashboard(rig):
    assert rig.event({"type": "app_home_opened", "user": "U_ALICE", "tab": "home", "channel": "D1"}, "EvHome")[0] == 200
    published = rig.wait_call("views.publish")
    assert published["user_id"] == "U_ALICE"
    text = all_text(published["view"]["blocks"])
    frozen = _frozen(rig)
    assert "by GARE profile and tier" in text and frozen in text
    assert "My team" not in text
    # A button on the home tab answers in the app's direct messages.
    rig.click("U_ALICE", published["view"]["blocks"], "gare_view_deal", frozen, home=True)
    dm = rig.wait_call("chat.postMessage", where=lambda b: b["channel"] == "U_ALICE")
    assert frozen in all_text(dm["blocks"])


def test_a_manager_sees_the_team(rig):
    team = rig.playbook.team_of("claire")
    assert team, "config.toml declares claire's team"
    assert rig.event({"type": "app_home_opened", "user": "U_CLAIRE", "tab": "home"}, "EvHome2")[0] == 200
    text = all_text(rig.wait_call("views.publish")["view"]["blocks"])
    assert "My team" in text and all(member in text for member in team)


def test_the_home_tab_nurture_button_republishes_the_home(rig):
    rig.event({"type": "app_home_opened", "user": "U_ALICE", "tab": "home"}, "EvHome3")
    home = rig.wait_call("views.publish")["view"]
    deal = _frozen(rig)
    rig.click("U_ALICE", home["blocks"], "gare_nurture", deal, home=True)
    view = rig.wait_call("views.open")["view"]
    rig.submit("U_ALICE", {**view, "id": "VN2"}, {"reason": {"type": "plain_text_input", "value": "No budget"}})
    again = rig.wait_call("views.publish", 2)["view"]
    assert _deal(rig, deal).status == "nurture"
    assert deal not in all_text(again["blocks"])
