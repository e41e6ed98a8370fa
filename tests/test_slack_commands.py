"""Slash commands and mentions, as Slack sends them, against the running app and a fake Slack."""
from __future__ import annotations

import time

from sqlmodel import select

from fake_slack import wait_for
from slack_harness import NOW, all_text, find
from store.database import session_scope
from store.models import Account, Person


def _an_account(engine, **where):
    with session_scope(engine) as s:
        return s.exec(select(Account).order_by(Account.name)).first().name


def test_fit_command_answers_privately_with_a_card(rig):
    name = _an_account(rig.engine)
    key = rig.command(f"fit {name}")
    msg = rig.wait_response(key)
    assert msg["response_type"] == "ephemeral"
    text = all_text(msg["blocks"])
    assert f"Is {name} a fit?" in text
    assert "Potential for success:" in text
    find(msg["blocks"], "gare_open_checklist")
    find(msg["blocks"], "gare_view_account", name)
    find(msg["blocks"], "gare_share")
    assert "a fit?" in msg["text"]  # the plain-text fallback
    # No call to Slack beyond learning who is speaking.
    assert {c.method for c in rig.fake.calls} == {"users.info"}


def _frozen_deal(rig, owner="alice"):
    from handlers.registry import run_command

    data = run_command(rig.context(owner), f"deals frozen {owner}").data
    assert data["deals"], "the demo gives every rep a frozen deal"
    return data["deals"][0]


def test_french_locale_gets_french_and_maps_the_owner_by_email(rig):
    name = _an_account(rig.engine)
    msg = rig.wait_response(rig.command(f"fit {name}", user="U_CHLOE"))
    assert f"Le compte {name} est-il adapté ?" in all_text(msg["blocks"])
    assert "Potentiel de réussite" in all_text(msg["blocks"])
    with session_scope(rig.engine) as s:
        # Linked by her verified e-mail on the playbook's domain; her Slack locale is her language.
        person = s.exec(select(Person).where(Person.owner == "chloe")).one()
        assert (person.slack_id, person.language) == ("U_CHLOE", "fr")


def test_unsupported_locale_falls_back_to_the_playbook_language(rig):
    assert rig.playbook.language == "fr"
    name = _an_account(rig.engine)
    msg = rig.wait_response(rig.command(f"fit {name}", user="U_BRUNO"))  # de-DE
    assert "est-il adapté" in all_text(msg["blocks"])


def test_fit_shortcut_and_the_user_is_looked_up_once(rig):
    name = _an_account(rig.engine)
    first = rig.wait_response(rig.command(name, command="/fit"))
    second = rig.wait_response(rig.command(f"is {name} a fit?"))
    assert all_text(first["blocks"]).splitlines()[0] == all_text(second["blocks"]).splitlines()[0] == f"Is {name} a fit?"
    assert len(rig.fake.of("users.info")) == 1


def test_owner_me_is_the_slack_user(rig):
    deal = _frozen_deal(rig)
    msg = rig.wait_response(rig.command("deals frozen owner=@me"))
    assert "alice" in all_text(msg["blocks"][:1])
    assert deal["deal"] in all_text(msg["blocks"])
    unknown = rig.wait_response(rig.command("deals frozen owner=@me", user="U_NOBODY"))
    assert "I don't know who you are yet" in all_text(unknown["blocks"])


def test_bad_input_is_explained_without_a_share_button(rig):
    msg = rig.wait_response(rig.command("fit Zzyzx Unknown"))
    assert "I don't know an account called “Zzyzx Unknown”." in all_text(msg["blocks"])
    assert "gare_share" not in str(msg["blocks"])
    msg = rig.wait_response(rig.command("frobnicate"))
    assert "I don't know the command “frobnicate”." in msg["text"]


def test_long_lists_are_paged_with_next_and_previous(rig):
    key = rig.command("accounts")
    first = rig.wait_response(key)
    text = all_text(first["blocks"])
    assert "Page 1 of" in text
    count = int(text.split(" accounts")[0].split()[-1])
    assert count > 20
    rig.click("U_ALICE", first["blocks"], "gare_page_next")
    second = wait_for(lambda: [b for k, b in rig.fake.responses if "Page 2 of" in all_text(b.get("blocks", []))],
                      what="page 2")[0]
    assert second["replace_original"] is True
    find(second["blocks"], "gare_page_prev")
    shown_1 = [b for b in first["blocks"] if b.get("accessory", {}).get("action_id") == "gare_view_account"]
    shown_2 = [b for b in second["blocks"] if b.get("accessory", {}).get("action_id") == "gare_view_account"]
    assert len(shown_1) == 20 and shown_2 and not {b["accessory"]["value"] for b in shown_1} & {
        b["accessory"]["value"] for b in shown_2}


def test_share_in_channel_posts_for_everyone_and_drops_the_private_copy(rig):
    name = _an_account(rig.engine)
    first = rig.wait_response(rig.command(f"account {name}"))
    key = rig.click("U_ALICE", first["blocks"], "gare_share")
    shared = rig.wait_response(key)
    assert shared["response_type"] == "in_channel" and shared["replace_original"] is False
    assert name in all_text(shared["blocks"]) and "gare_share" not in str(shared["blocks"])
    assert rig.wait_response(key, 2)["delete_original"] is True


def test_update_stage_from_the_deal_card(rig):
    deal = _frozen_deal(rig)
    card = rig.wait_response(rig.command(f"deal {deal['deal']}"))
    block, select = find(card["blocks"], "gare_stage")
    target = next(o for o in select["options"] if o["value"] != deal["stage"])
    key = rig.click("U_ALICE", card["blocks"], "gare_stage", selected=target)
    moved = rig.wait_response(key)
    assert moved["replace_original"] is True
    with session_scope(rig.engine) as s:
        assert s.exec(select_deal(deal["deal"])).one().stage == target["value"]
    assert "moved from" in all_text(moved["blocks"])


def select_deal(name):
    from store.models import Deal

    return select(Deal).where(Deal.name == name)


def test_mention_answers_in_thread_once_even_when_slack_retries(rig):
    name = _an_account(rig.engine)
    event = {"type": "app_mention", "user": "U_ALICE", "text": f"<@U_BOT> is {name} a fit?", "ts": "1700.000100",
             "channel": "C_SALES", "event_ts": "1700.000100"}
    assert rig.event(event, "Ev1")[0] == 200
    assert rig.event(event, "Ev1", retry=1)[0] == 200
    posted = rig.wait_call("chat.postMessage")
    assert posted["thread_ts"] == "1700.000100" and posted["channel"] == "C_SALES"
    assert f"Is {name} a fit?" in all_text(posted["blocks"])
    time.sleep(0.3)  # time enough for a second handling to post, if there were one
    assert len(rig.fake.of("chat.postMessage")) == 1


def test_a_person_not_yet_linked_is_found_on_slack_by_email_and_linked(rig):
    from bot.slack.people import lookup_by_email
    from handlers.people import identify

    user_id, profile = rig.loop.run(lookup_by_email(rig.shell.client, "bruno@example.com"))
    assert user_id == "U_BRUNO"
    identity = identify(rig.engine, rig.playbook, "slack", user_id, NOW, profile)
    assert identity.person.owner == "bruno" and identity.person.recognised_by == "email"
    # Known from now on by his Slack id, without asking Slack again.
    assert identify(rig.engine, rig.playbook, "slack", "U_BRUNO", NOW).person.recognised_by == "slack_id"
    assert rig.loop.run(lookup_by_email(rig.shell.client, "nobody@example.com")) is None
