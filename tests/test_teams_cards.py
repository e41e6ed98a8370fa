"""Every card Gare can send to Teams validates against Adaptive Card 1.5's published JSON schema
(tests/fixtures/adaptive-cards, from microsoft/AdaptiveCards, MIT licence) in both languages:
every reply of every command and every refusal, the forms, the weekly nudge and digest. And the
qualification checklist, posted in a channel, is ticked by anyone there and updated in place."""
from __future__ import annotations


from sqlmodel import select

from bot.teams.cards import card_for, message_for
from fake_teams import card_text, find_action
from handlers import manager_digest, registry, rep_nudge
from handlers.reply import Context, Reply
from playbook.config import localized
from store.database import session_scope
from store.models import ChecklistAnswer, Deal
from teams_harness import CHANNEL, NOW, card, validate_card, validate_message
from test_registry import EXTRA_RUNS, _refusal_codes, _world


def _extra(playbook, language):
    return {"stages": [{"id": s.id, "name": localized(s.name, language)} for s in playbook.stages],
            "today": NOW.date().isoformat()}


def test_every_reply_and_refusal_is_a_valid_adaptive_card(engine, playbook):
    _world(engine, playbook)
    seen = set()
    for language in ("en", "fr"):
        ctx = Context(engine=engine, playbook=playbook, actor="alice", owner="alice", language=language,
                      clock=lambda: NOW)
        texts = [e for c in registry.COMMANDS for lang in ("en", "fr") for e in c.examples[lang]] + EXTRA_RUNS + [
            "accounts all", "deals frozen all", "nudge david", "history Acme page=2"]
        for text in texts:
            reply = registry.run(ctx, text)
            seen.add(reply.template)
            for page in (1, 9):  # the first page, and one past the end
                validate_message(message_for(reply, language=language, currency="EUR", command=text, page=page,
                                             **_extra(playbook, language)))
        for code in sorted(_refusal_codes()):
            data = {"error": code, "name": "X", "field": "f", "value": "v", "expected": "number", "got": "x",
                    "suggestions": ["a"], "known": ["k"], "stages": ["s"], "deal": "D", "status": "won", "limit": 5,
                    "item": "i", "account": "A", "command": "deal", "until": NOW.date(), "today": NOW.date(),
                    "rule": "not_yours", "needs": "manager", "owner": "bob", "verb": "change", "example": "deal X"}
            validate_card(card_for(Reply("error", data, ok=False), language=language, currency="EUR"))
        account = registry.run(ctx, "account Acme").data
        deal = registry.run(ctx, "deal Acme Renewal").data
        error = {"field": "margin_pct", "text": "“x” is not a valid value."}
        for template, data, extra in [
                ("account_edit", account, {"custom_fields": ["nps", "churn_reason"], "error": error,
                                           "values": {"margin_pct": "x"}}),
                ("account_edit", account, {"error": {"field": "not_allowed", "text": "No."}}),
                ("deal_nurture_form", deal, {"error": {"field": "reason", "text": "Too long."}}),
                ("deal_snooze_form", deal, {"default_until": "2026-03-24",
                                            "error": {"field": "snooze_not_future", "text": "Later."}})]:
            validate_message(message_for(Reply(template, data), language=language, currency="EUR",
                                         **_extra(playbook, language), **extra))
        with session_scope(engine) as session:
            for manager in ("claire", "hugo"):
                data = manager_digest.manager_digest_data(session, ctx, manager)
                validate_message(message_for(Reply("manager_digest", data), language=language, currency="EUR"))
            for rep in ("alice", "david", "farid"):
                data = rep_nudge.rep_nudge_data(session, ctx, rep)
                if data:
                    validate_message(message_for(Reply("rep_nudge", data), language=language, currency="EUR"))
        validate_card(card_for(Reply("console_goodbye", {}), language=language, currency="EUR"))  # the text fallback
    assert {"fit", "account", "deal", "accounts", "checklist", "tiers", "help", "settings", "history", "whoami",
            "error", "rep_nudge", "deals_frozen", "deal_stage", "account_set"} <= seen


def test_a_checklist_in_a_channel_is_ticked_by_anyone_there_and_updated_in_place(teams):
    with session_scope(teams.engine) as s:
        deal = s.exec(select(Deal).where(Deal.owner == "alice", Deal.status == "open").order_by(Deal.name)).first()
        name, deal_id = deal.name, deal.id
    posted = teams.say(f'checklist "{name}"', where="channel")
    checklist = card(posted)
    [post] = teams.fake.of("reply")
    root = post.conversation.split("=")[1]
    save = find_action(checklist, verb="checklist_save")
    shown = save["data"]["shown"]
    box = next(k for k, v in shown.items() if k.startswith("box_") and v == "0")
    # Claire (alice's manager) ticks a box from the channel.
    answer = teams.execute(save, user="claire", where="channel", thread=root, inputs={box: "true"})
    assert "Last answer by claire" in card_text(answer["value"])
    with session_scope(teams.engine) as s:
        row = s.exec(select(ChecklistAnswer).where(ChecklistAnswer.subject == "deal", ChecklistAnswer.subject_id == deal_id,
                                                   ChecklistAnswer.item_id == box[4:])).one()
    assert row.answer is True and row.answered_by == "claire"
    [update] = teams.fake.of("update")  # the posted copy, updated in place with the new state
    assert update.conversation == CHANNEL
    toggles = {b["id"]: b["value"] for b in update.body["attachments"][0]["content"]["body"]
               if b.get("type") == "Input.Toggle"}
    assert toggles[box] == "true"
    validate_message(update.body)
    # Bruno is not alice's manager: his tick is refused, nothing saved, nothing updated.
    refused = teams.execute(save, user="bruno", where="channel", thread=root, inputs={box: "false"})
    assert refused["type"] == "application/vnd.microsoft.activity.message" and "alice" in refused["value"]
    assert len(teams.fake.of("update")) == 1
    # In the checklist's thread, "is this a fit?" means that deal.
    fit = teams.say("is this a fit?", where="channel", thread=root)
    assert name.split(" ")[0] in card_text(card(fit))


def test_a_checklist_answered_in_words_updates_every_copy_in_its_own_language(teams):
    with session_scope(teams.engine) as s:
        name = s.exec(select(Deal).where(Deal.owner == "chloe", Deal.status == "open").order_by(Deal.name)).first().name
    teams.say(f'checklist "{name}"', where="channel", user="chloe")  # posted in French
    teams.say(f'checklist "{name}"', user="chloe")                   # and in her personal chat
    teams.say(f'checklist "{name}" tick budget', user="claire", where="channel")
    updates = teams.fake.of("update")
    assert {u.conversation for u in updates} == {CHANNEL, "a:personal-chloe"}
    assert all("Checklist de qualification" in card_text(u.body["attachments"][0]["content"]) for u in updates)


def test_the_digest_chart_goes_as_an_inline_image():
    from bot.teams.cards import image_message

    message = image_message(b"\x89PNG fake", "Chart")
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "image/png" and attachment["contentUrl"].startswith("data:image/png;base64,")
