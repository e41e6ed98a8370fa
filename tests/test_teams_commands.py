"""The core grammar in Teams, as users type it and press buttons, on the demo data: personal chats
and channel mentions, cards with the content of the Slack ones, lists in pages, forms with their
validation messages, and what the store holds after each button, on SQLite and PostgreSQL."""
from __future__ import annotations

import html
import re

import pytest
from sqlmodel import select

from fake_teams import aad, card_text, find_action
from slack_harness import all_text
from store.database import session_scope
from store.models import ActionDone, Account, AuditRecord, Deal, Person
from teams_harness import card


def _open_deal_of(engine, owner: str, state: str | None = None) -> str:
    with session_scope(engine) as s:
        return s.exec(select(Deal).where(Deal.owner == owner, Deal.status == "open").order_by(Deal.name)).first().name


def _account_of(engine, owner: str) -> str:
    with session_scope(engine) as s:
        return s.exec(select(Account).where(Account.owner == owner).order_by(Account.name)).first().name


def _deal(engine, name: str) -> Deal:
    with session_scope(engine) as s:
        return s.exec(select(Deal).where(Deal.name == name)).one()


# --- the same answers as in Slack ------------------------------------------------------------------

SLACK_ONLY = {"Share", "channel", "/gare", "COMMAND", "/fit", "ACCOUNT", "mention", "Slack", "Replies", "visible",
              "until", "share", "them", "only"}


def _tokens(text: str) -> set[str]:
    text = re.sub(r":[a-z_]+:", " ", html.unescape(text))  # Slack emoji codes and mrkdwn escapes
    return {t for t in re.findall(r"[\w'’.,%€-]+", text.replace("*", " ").replace("\\", "")) if len(t) > 2} - SLACK_ONLY


@pytest.mark.parametrize("command", [
    "fit Northwind Logistics", 'account "Northwind Logistics"', "accounts win_back", "deals frozen", "deals skipped",
    "tiers", "stages", "checklist Northwind Logistics", "nudge", "settings", "whoami", "help",
    'history "Northwind Logistics"', "account Nowhere"])
def test_the_demo_answers_the_same_in_slack_and_in_teams(rig, teams, command):
    """Every word and number of the Slack card (its buttons aside) is on the Teams card."""
    key = rig.command(command, user="U_ALICE")
    if command.startswith("checklist"):
        slack_text = all_text(rig.wait_call("chat.postMessage")["blocks"])
    else:
        slack_text = all_text(rig.wait_response(key)["blocks"])
    # What only Slack says: how to use it in Slack, and the Slack account a person is linked to.
    slack_text = "\n".join(line for line in slack_text.splitlines()
                           if not line.startswith(("In Slack:", "SLACK ·")))
    teams_text = card_text(card(teams.say(command)))
    missing = sorted(t for t in _tokens(slack_text) - _tokens(teams_text)
                     if not t.startswith(("T1", "T2", "T3")) and "/gare" not in t)
    assert not missing, (command, missing[:20])


def test_a_channel_mention_is_stripped_and_a_question_understood(teams):
    answer = teams.say("is Northwind Logistics a fit?", where="channel")
    assert "Is Northwind Logistics a fit?" in card_text(card(answer))
    [reply] = teams.fake.of("reply")
    assert reply.conversation.startswith("19:sales@thread.tacv2;messageid=")  # in the post's thread
    french = teams.say("est-ce que Northwind Logistics convient ?", where="channel", user="chloe")
    assert "adéquat" in card_text(card(french)).lower() or "Northwind" in card_text(card(french))


def test_french_users_get_french_cards(teams):
    answer = card_text(card(teams.say("étapes", user="chloe")))
    assert "Découverte" in answer and "Proposition" in answer
    assert "standard" in answer


def test_lists_come_in_pages_replaced_in_place(teams):
    first = card(teams.say("accounts all", user="sophie"))
    text = card_text(first)
    assert "Page 1 of" in text
    page = teams.execute(find_action(first, verb="page"), user="sophie")
    second = card_text(page["value"])
    assert "Page 2 of" in second and second != text
    back = teams.execute(find_action(page["value"], verb="page", title="Previous"), user="sophie")
    assert card_text(back["value"]) == text


def test_view_buttons_answer_with_a_new_card(teams):
    deals = card(teams.say("deals frozen"))
    deal = find_action(deals, verb="view_deal")
    answer = teams.submit(teams.fake.posted()[-1].body, deal)
    assert deal["data"]["deal"].replace("–", "–") in card_text(card(answer)).replace("\\", "")


# --- buttons change the store, checked when pressed -------------------------------------------------

def test_move_to_nurture_through_its_form(teams):
    name = _open_deal_of(teams.engine, "alice")
    deal_card = card(teams.say(f'deal "{name}"'))
    form = card(teams.submit({}, find_action(deal_card, verb="nurture_form")))
    assert "Why is it frozen?" in card_text(form)
    # Bruno presses Move to nurture on alice's form: refused when pressed, nothing changed.
    refused = teams.execute(find_action(form, verb="deal_nurture"), user="bruno", inputs={"reason": "no budget"})
    assert "alice" in card_text(refused["value"]) and _deal(teams.engine, name).status == "open"
    done = teams.execute(find_action(form, verb="deal_nurture"), inputs={"reason": "budget frozen until 2027"})
    assert "left the pipeline for marketing nurture" in card_text(done["value"])
    deal = _deal(teams.engine, name)
    assert (deal.status, deal.nurture_reason) == ("nurture", "budget frozen until 2027")
    with session_scope(teams.engine) as s:
        record = s.exec(select(AuditRecord).where(AuditRecord.entity == "deal", AuditRecord.action == "nurture")).one()
    assert (record.actor, record.platform, record.platform_user_id) == ("alice", "teams", aad("alice"))


def test_edit_profile_form_shows_refusals_under_their_field_and_saves_nothing(teams):
    name = _account_of(teams.engine, "alice")
    account = card(teams.say(f'account "{name}"'))
    form = card(teams.submit({}, find_action(account, verb="edit_account")))
    save = find_action(form, verb="save_account")
    bad = teams.execute(save, inputs={"f_margin_pct": "lots", "f_industry": "Retail"})["value"]
    body = bad["body"]
    where = next(i for i, b in enumerate(body) if b.get("id") == "f_margin_pct")
    assert body[where + 1]["color"] == "Attention" and "lots" in body[where + 1]["text"]
    assert next(b for b in body if b.get("id") == "f_margin_pct")["value"] == "lots"  # what was typed is kept
    with session_scope(teams.engine) as s:
        row = s.exec(select(Account).where(Account.name == name)).one()
        assert row.industry != "Retail"
    good = teams.execute(save, inputs={"f_margin_pct": "23.5", "f_industry": "Retail", "f_profile": "expand"})
    assert "Saved" in card_text(good["value"])
    with session_scope(teams.engine) as s:
        row = s.exec(select(Account).where(Account.name == name)).one()
        assert (row.margin_pct, row.industry, row.profile_override) == (23.5, "Retail", "expand")


def test_update_stage_and_snooze_from_the_deal_card(teams):
    name = _open_deal_of(teams.engine, "alice")
    deal_card = card(teams.say(f'deal "{name}"'))
    stage = find_action(deal_card, verb="deal_stage")
    moved = teams.execute(stage, inputs={"stage": "negotiation"})
    assert "moved from" in card_text(moved["value"]) and _deal(teams.engine, name).stage == "negotiation"
    form = card(teams.submit({}, find_action(deal_card, verb="snooze_form")))
    snooze = find_action(form, verb="deal_snooze")
    past = teams.execute(snooze, inputs={"until": "2026-01-01", "reason": "new CFO"})["value"]
    assert "after today" in card_text(past) and _deal(teams.engine, name).snoozed_until is None
    silent = teams.execute(snooze, inputs={"until": "2026-04-30", "reason": ""})["value"]
    assert "Say why" in card_text(silent)
    ok = teams.execute(snooze, inputs={"until": "2026-04-30", "reason": "new CFO in April"})
    assert "No nudge about" in card_text(ok["value"])
    assert str(_deal(teams.engine, name).snoozed_until) == "2026-04-30"


def test_done_in_the_weekly_nudge_records_the_action(teams):
    nudge = card(teams.say("nudge"))
    done = find_action(nudge, verb="done")
    answer = teams.submit({}, done)
    assert "Done for" in card_text(card(answer))
    with session_scope(teams.engine) as s:
        assert s.exec(select(ActionDone)).all()
    # The same click again at once (a double click) is one click.
    before = len(teams.fake.posted())
    teams.submit({}, done)
    assert len(teams.fake.posted()) == before


# --- people -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("user", ["guest", "contractor", "zed"])
def test_nobody_is_taken_for_someone_else(teams, user):
    name = _account_of(teams.engine, "alice")
    refused = card_text(card(teams.say(f'account "{name}" set margin_pct=1', user=user)))
    assert "I don't know who you are yet" in refused
    assert "I don't know who you are yet." in card_text(card(teams.say("whoami", user=user)))
    with session_scope(teams.engine) as s:
        assert s.exec(select(Person).where(Person.teams_id == aad(user))).first() is None


def test_a_verified_address_links_the_person_once_by_aad_object_id(teams):
    me = card_text(card(teams.say("whoami", user="claire")))
    assert "You are claire (Claire Roux), manager." in me and "verified company e-mail" in me
    again = card_text(card(teams.say("whoami", user="claire")))
    assert "by your Teams account, linked to you in the directory" in again
    assert len(teams.fake.of("member")) == 1
    with session_scope(teams.engine) as s:
        assert s.exec(select(Person).where(Person.owner == "claire")).one().teams_id == aad("claire")
