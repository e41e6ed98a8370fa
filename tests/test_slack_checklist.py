"""Qualification checklists in deal threads: posted in the channel, ticked in place, saved in the
store (who, when), every copy updated; "is this a fit?" in the thread means that deal."""
from __future__ import annotations

from sqlmodel import select

from fake_slack import wait_for
from handlers.registry import run_command
from slack_harness import all_text, find
from store.database import session_scope
from store.models import ChatMessage, ChecklistAnswer, Deal


def _open_deal(rig):
    data = run_command(rig.context(), "deals frozen alice").data
    return data["deals"][0]["deal"]


def _answers(rig, deal):
    with session_scope(rig.engine) as s:
        deal_id = s.exec(select(Deal).where(Deal.name == deal)).one().id
        rows = s.exec(select(ChecklistAnswer).where(ChecklistAnswer.subject == "deal",
                                                    ChecklistAnswer.subject_id == deal_id))
        return {r.item_id: r for r in rows}


def _boxes(blocks):
    block, element = find(blocks, "gare_tick")
    return block, element


def _post_checklist(rig, deal, channel="C_SALES", user="U_ALICE"):
    rig.command(f"checklist {deal}", channel=channel, user=user)
    posted = rig.wait_call("chat.postMessage", where=lambda b: b["channel"] == channel)
    call = [c for c in rig.fake.calls if c.method == "chat.postMessage" and c.body["channel"] == channel][-1]
    return posted, call


def _ts_of(rig, channel):
    def found():
        with session_scope(rig.engine) as s:
            return s.exec(select(ChatMessage).where(ChatMessage.channel == channel)).first()
    return wait_for(found, what="checklist remembered").ts


def test_checklist_is_posted_in_the_channel_and_remembered(rig):
    deal = _open_deal(rig)
    posted, _ = _post_checklist(rig, deal)
    assert posted["channel"] == "C_SALES"
    assert f"Qualification checklist – {deal}" in all_text(posted["blocks"])
    block, element = _boxes(posted["blocks"])
    assert len(element["options"]) == len(rig.playbook.success_boxes)
    ts = _ts_of(rig, "C_SALES")
    with session_scope(rig.engine) as s:
        message = s.exec(select(ChatMessage)).one()
        assert message.subject == "deal" and s.get(Deal, message.subject_id).name == deal
    assert ts == rig.fake.messages["C_SALES"][-1]["ts"]  # the ts Slack gave it


def test_ticking_a_box_saves_who_and_updates_every_copy(rig):
    deal = _open_deal(rig)
    posted, _ = _post_checklist(rig, deal, "C_SALES")
    ts1 = _ts_of(rig, "C_SALES")
    _post_checklist(rig, deal, "C_DEALS", user="U_CHLOE")  # a copy, in French
    ts2 = _ts_of(rig, "C_DEALS")
    block, element = _boxes(posted["blocks"])
    before = element.get("initial_options", [])
    empty = next(o for o in element["options"] if o not in before)
    empty_count = len(element["options"]) - len(before)
    rig.click("U_ALICE", posted["blocks"], "gare_tick", selected=before + [empty], message_ts=ts1,
              ephemeral=False)
    updates = [rig.wait_call("chat.update", where=lambda b, ts=ts: b["ts"] == ts) for ts in (ts1, ts2)]
    row = _answers(rig, deal)[empty["value"]]
    assert row.answer is True and row.answered_by == "alice" and row.answered_at is not None
    english, french = updates
    assert f"{empty_count - 1} of {len(element['options'])} boxes empty" in all_text(english["blocks"])
    assert "Potentiel de réussite" in all_text(french["blocks"])
    assert "Last answer by alice." in all_text(english["blocks"])
    new_block, new_element = _boxes(english["blocks"])
    assert empty in new_element["initial_options"] and new_block["block_id"] != block["block_id"]


def test_two_people_ticking_different_boxes_both_count(rig):
    """The deal's owner and her manager tick at once, each on the message as first posted."""
    deal = _open_deal(rig)
    posted, _ = _post_checklist(rig, deal)
    ts = _ts_of(rig, "C_SALES")
    block, element = _boxes(posted["blocks"])
    before = element.get("initial_options", [])
    empties = [o for o in element["options"] if o not in before][:2]
    assert len(empties) == 2
    # Both clicked on the message as first posted: each payload only holds their own tick.
    rig.click("U_ALICE", posted["blocks"], "gare_tick", selected=before + [empties[0]], message_ts=ts, ephemeral=False)
    rig.wait_call("chat.update", 1)
    rig.click("U_CLAIRE", posted["blocks"], "gare_tick", selected=before + [empties[1]], message_ts=ts, ephemeral=False)
    rig.wait_call("chat.update", 2)
    saved = _answers(rig, deal)
    assert saved[empties[0]["value"]].answer is True and saved[empties[1]["value"]].answer is True
    assert {saved[empties[0]["value"]].answered_by, saved[empties[1]["value"]].answered_by} == {"alice", "claire"}


def test_a_rep_cannot_tick_another_reps_checklist(rig):
    deal = _open_deal(rig)  # alice's
    posted, _ = _post_checklist(rig, deal)
    ts = _ts_of(rig, "C_SALES")
    block, element = _boxes(posted["blocks"])
    before = element.get("initial_options", [])
    empty = next(o for o in element["options"] if o not in before)
    key = rig.click("U_CHLOE", posted["blocks"], "gare_tick", selected=before + [empty], message_ts=ts,
                    ephemeral=False)
    refusal = rig.wait_response(key)
    assert "alice" in all_text(refusal["blocks"]) and "Rien n'a été modifié" in all_text(refusal["blocks"])
    assert empty["value"] not in _answers(rig, deal)
    assert not rig.fake.of("chat.update")


def test_answering_a_misfit_trait(rig):
    # A deal of an account whose exec sponsor is unknown has that trait to answer.
    from handlers import checklist

    ctx = rig.context()
    with session_scope(rig.engine) as s:
        names = [d.name for d in s.exec(select(Deal).where(Deal.owner == "alice").order_by(Deal.name))]
    deal = next(n for n in names if checklist.checklist(ctx, n).data["traits"])  # alice answers her own
    posted, _ = _post_checklist(rig, deal)
    ts = _ts_of(rig, "C_SALES")
    block, radio = find(posted["blocks"], "gare_trait")
    trait = block["block_id"].split("|")[1]
    applies = next(o for o in radio["options"] if o["value"] == "yes")
    rig.click("U_ALICE", posted["blocks"], "gare_trait", selected=applies, message_ts=ts, ephemeral=False)
    update = rig.wait_call("chat.update")
    row = _answers(rig, deal)[trait]
    assert row.item_kind == "trait" and row.answer is True
    _, new_radio = find(update["blocks"], "gare_trait")
    assert new_radio.get("initial_option") == applies or "initial_option" in str(update["blocks"])


def test_is_this_a_fit_in_the_thread_means_its_deal(rig):
    deal = _open_deal(rig)
    _post_checklist(rig, deal)
    ts = _ts_of(rig, "C_SALES")
    event = {"type": "app_mention", "user": "U_ALICE", "text": "<@U0BOT> is this a fit?", "ts": "1800.000200",
             "thread_ts": ts, "channel": "C_SALES"}
    assert rig.event(event, "EvThread")[0] == 200
    answer = rig.wait_call("chat.postMessage", 2)
    assert answer["thread_ts"] == ts
    account = run_command(rig.context(), f"deal {deal}").data["account"]
    assert f"Is {deal} ({account}) a fit?" in all_text(answer["blocks"])


def test_open_checklist_button_and_a_channel_the_bot_is_not_in(rig):
    deal = _open_deal(rig)
    card = rig.wait_response(rig.command(f"fit {deal}"))
    rig.fake.fail_next("chat.postMessage", error="not_in_channel")
    key = rig.click("U_ALICE", card["blocks"], "gare_open_checklist", channel="C_PRIVATE")
    refused = rig.wait_response(key)
    assert "/invite @Gare" in all_text(refused["blocks"]) and refused["response_type"] == "ephemeral"
    key = rig.click("U_ALICE", card["blocks"], "gare_open_checklist", channel="C_SALES", message_ts="2.0")
    posted = rig.wait_call("chat.postMessage", 2)
    assert posted["channel"] == "C_SALES" and "gare_tick" in str(posted["blocks"])


def test_rate_limited_post_is_retried_after_retry_after(rig):
    deal = _open_deal(rig)
    rig.fake.fail_next("chat.postMessage", retry_after=1)
    rig.command(f"checklist {deal}")
    wait_for(lambda: len(rig.fake.of("chat.postMessage")) == 2, timeout=6, what="the retry after Retry-After")
    assert _ts_of(rig, "C_SALES")


def test_checklist_asked_in_a_thread_makes_it_the_deals_thread(rig):
    deal = _open_deal(rig)
    root = "1900.000001"
    rig.event({"type": "app_mention", "user": "U_ALICE", "text": f"<@U0BOT> checklist {deal}", "ts": "1900.000005",
               "thread_ts": root, "channel": "C_SALES"}, "EvT1")
    posted = rig.wait_call("chat.postMessage")
    assert posted["thread_ts"] == root and "gare_tick" in str(posted["blocks"])
    def remembered():  # the thread is remembered just after the post: wait for it
        with session_scope(rig.engine) as s:
            return s.exec(select(ChatMessage).where(ChatMessage.channel == "C_SALES", ChatMessage.ts == root)).first()
    wait_for(remembered, what="the thread remembered")
    rig.event({"type": "app_mention", "user": "U_ALICE", "text": "<@U0BOT> is this a fit?", "ts": "1900.000009",
               "thread_ts": root, "channel": "C_SALES"}, "EvT2")
    answer = rig.wait_call("chat.postMessage", 2)
    assert deal in all_text(answer["blocks"][:1])
