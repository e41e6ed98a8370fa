"""The method acted on, through the console and the Slack test harness, in both languages: the
misfit gate (confirm, override audited and shown to the manager), let-go and at-risk lines in the
rep nudge with a decision to record, escalation of frozen top-tier deals, tier cadence, nurture
handed to marketing, coaching counts, and the Slack defects that used to lose or revert edits."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import timedelta

from sqlmodel import select

from handlers import manager_digest, rep_nudge
from handlers.people import console_context
from bot.render import render
from handlers.registry import run
from fake_slack import wait_for
from slack_harness import NOW, all_text, find
from store.database import session_scope
from store.models import Account, ActionDone, AuditRecord, Deal, OutboxMessage, StageVisit


def as_(rig, who, language="en", playbook=None):
    return console_context(rig.engine, playbook or rig.playbook, as_owner=who, operator_name="t", language=language,
                           clock=lambda: NOW)


def _casino(rig, stage="qualification"):
    """A prospect in an industry we do not serve (blocking misfit trait), with an open deal."""
    with session_scope(rig.engine) as s:
        acc = Account(name="Casino Royale", owner="alice", status="prospect", industry="gambling", employees=400,
                      annual_revenue=30_000_000)
        s.add(acc)
        s.flush()
        deal = Deal(name="Casino Pilot", account_id=acc.id, owner="alice", stage=stage, amount=9_000)
        s.add(deal)
        s.flush()
        s.add(StageVisit(deal_id=deal.id, stage=stage, entered_at=NOW - timedelta(days=3)))


def _stage_of(rig, name):
    with session_scope(rig.engine) as s:
        return s.exec(select(Deal).where(Deal.name == name)).one().stage


# --- the misfit gate ----------------------------------------------------------------------------

def test_moving_a_misfits_deal_past_the_gate_asks_then_records_the_override(rig):
    _casino(rig)
    ask = run(as_(rig, "alice"), "deal Casino Pilot stage proposal")
    assert ask.template == "misfit_gate" and not ask.ok
    assert [t["id"] for t in ask.data["traits"]] == ["unsupported_industry"]
    assert _stage_of(rig, "Casino Pilot") == "qualification"
    blank = run(as_(rig, "alice"), "deal Casino Pilot stage proposal confirm   ")
    assert blank.data["error"] == "gate_reason_missing" and _stage_of(rig, "Casino Pilot") == "qualification"
    done = run(as_(rig, "alice", "fr"), "affaire Casino Pilot étape proposition confirmer le DAF finance l'accompagnement")
    assert done.template == "deal_stage" and _stage_of(rig, "Casino Pilot") == "proposal"
    with session_scope(rig.engine) as s:
        audit = s.exec(select(AuditRecord).where(AuditRecord.action == "misfit_override")).one()
        assert audit.changes["reason"] == "le DAF finance l'accompagnement" and audit.actor == "alice"
        data = manager_digest.manager_digest_data(s, as_(rig, "claire"), "claire")
    [override] = data["overrides"]
    assert override["deal"] == "Casino Pilot" and override["reason"] == "le DAF finance l'accompagnement"
    # Within the gate, no question is asked.
    run(as_(rig, "alice"), "deal Casino Pilot stage negotiation")
    assert _stage_of(rig, "Casino Pilot") == "negotiation"


def test_the_gate_in_slack_asks_the_reason_in_a_modal(rig):
    _casino(rig)
    msg = rig.wait_response(rig.command("deal Casino Pilot stage proposal"))
    text = all_text(msg["blocks"])
    assert "Casino Royale is a misfit" in text and "Legal, Product" in text
    rig.click("U_ALICE", msg["blocks"], "gare_gate_confirm")
    view = rig.wait_call("views.open")["view"]
    status, body = rig.submit("U_ALICE", view, {"reason": {"type": "plain_text_input", "value": "  "}})
    assert body.get("response_action") == "errors" and _stage_of(rig, "Casino Pilot") == "qualification"
    status, body = rig.submit("U_ALICE", {**view, "id": "V2"},
                              {"reason": {"type": "plain_text_input", "value": "Board approved the compliance work"}})
    assert status == 200 and body == {} and _stage_of(rig, "Casino Pilot") == "proposal"


def test_a_misfit_prospect_gets_no_acquire_actions_and_is_named_in_the_nudge(rig):
    _casino(rig)
    ctx = as_(rig, "alice")
    with session_scope(rig.engine) as s:
        data = rep_nudge.rep_nudge_data(s, ctx, "alice", None)
    assert "Casino Royale" in [m["account"] for m in data["misfits"]]
    assert "Casino Royale" not in [a["account"] for a in data["actions"]]
    refusal = run(ctx, "done Casino Royale 1")
    assert refusal.data["error"] == "no_actions" and refusal.data["misfit"] is True
    assert "Casino Royale" in {a["account"] for a in run(ctx, "accounts misfit").data["accounts"]}


# --- let go and at risk reach the owner -------------------------------------------------------------

def _let_go_of(rig, rep):
    with session_scope(rig.engine) as s:
        return rep_nudge.rep_nudge_data(s, as_(rig, rep), rep, None)


def test_let_go_accounts_reach_their_owner_until_a_decision_is_recorded(rig):
    data = _let_go_of(rig, "david")
    [row] = data["let_go"]
    assert row["account"] == "Parfumerie Jolivet" and row["conditions"][0]["field"] == "margin_pct"
    assert row["action"]
    refused = run(as_(rig, "emma"), "account Parfumerie Jolivet decide raised talked")
    assert refused.data["error"] == "not_allowed"
    raised = run(as_(rig, "david"), "account Parfumerie Jolivet decide raised spoke to their CEO about margins")
    assert raised.template == "account_decision"
    assert _let_go_of(rig, "david")["let_go"] == []
    with session_scope(rig.engine) as s:
        digest_data = manager_digest.manager_digest_data(s, as_(rig, "hugo"), "hugo")
    assert {"account": "Parfumerie Jolivet", "decision": "raised"}.items() <= \
        next(a for a in digest_data["let_go"] if a["account"] == "Parfumerie Jolivet").items()
    ended = run(as_(rig, "david", "fr"), "compte Parfumerie Jolivet décider fin marges intenables")
    assert ended.ok
    with session_scope(rig.engine) as s:
        acc = s.exec(select(Account).where(Account.name == "Parfumerie Jolivet")).one()
        assert acc.status == "former" and acc.custom["churn_reason"] == "let_go"
    profile = run(as_(rig, "david"), "account Parfumerie Jolivet").data["profile"]
    assert profile != "win_back"  # let go on purpose: never a win-back target


def test_at_risk_customers_come_with_their_reasons_and_a_contact_clears_one(rig):
    data = _let_go_of(rig, "emma")
    crescent = next(a for a in data["at_risk"] if a["account"] == "Crescent Bay Shipping")
    assert crescent["reasons"] == [{"field": "days_since_last_contact", "value": crescent["reasons"][0]["value"],
                                    "condition": "days_since_last_contact > 120"}]
    assert run(as_(rig, "emma"), "account Crescent Bay Shipping set last_contact=today").ok
    assert "Crescent Bay Shipping" not in [a["account"] for a in _let_go_of(rig, "emma")["at_risk"]]


def test_the_rep_nudge_in_slack_has_the_let_go_and_at_risk_buttons(rig):
    from bot.nudges import run_weekly
    from bot.delivery import SlackCourier

    rig.fake.users["U_DAVID"] = {"id": "U_DAVID", "name": "david", "locale": "en-GB",
                                 "profile": {"email": "david@example.com"}}
    courier = SlackCourier(rig.engine, rig.playbook, rig.shell.settings, sleep=lambda s: None)
    run_weekly(rig.engine, rig.playbook, kind="reps", clock=lambda: NOW, courier=courier, to="david")
    [post] = rig.fake.of("chat.postMessage")
    blocks = post.body["blocks"]
    find(blocks, "gare_decide", "Parfumerie Jolivet")
    find(blocks, "gare_contacted", "Papeteries de l'Estérel")
    rig.click("U_DAVID_UNKNOWN", blocks, "gare_decide", "Parfumerie Jolivet")  # nobody: the modal opens...
    view = rig.wait_call("views.open")["view"]
    status, body = rig.submit("U_DAVID_UNKNOWN", view, {"decision": {"type": "static_select", "selected_option": {
        "text": {"type": "plain_text", "text": "x"}, "value": "end"}}})
    assert body.get("response_action") == "errors"  # ...but the submission is refused
    with session_scope(rig.engine) as s:
        assert s.exec(select(Account).where(Account.name == "Parfumerie Jolivet")).one().status == "customer"


# --- escalation, tiers, nurture, coaching -----------------------------------------------------------

def test_a_frozen_deal_of_a_tier_1_account_is_escalated_not_nurtured(rig):
    with session_scope(rig.engine) as s:
        data = manager_digest.manager_digest_data(s, as_(rig, "hugo"), "hugo")
        nudge = rep_nudge.rep_nudge_data(s, as_(rig, "david"), "david", None)
    [silverline] = [d for d in data["needs_you"] if d["account"] == "Silverline Insurance Group"]
    assert silverline["tier"] == 1 and silverline["treatment"] == "escalate"
    mine = {d["deal"]: d["treatment"] for d in nudge["frozen"]}
    assert mine[silverline["deal"]] == "escalate" and "nurture" in mine.values()
    renewals_escalate = replace(rig.playbook, tiers=replace(rig.playbook.tiers, treatment={}))
    assert renewals_escalate.frozen_treatment("renewal", 3) == "escalate"
    assert renewals_escalate.frozen_treatment("new_business", 1) == "nurture"


def test_the_demo_renewals_are_renewals_and_a_frozen_one_goes_to_the_manager(rig):
    """A frozen renewal of a tier-3 account is escalated by its kind, in the deal view and the digest."""
    with session_scope(rig.engine) as s:
        kinds = {d.name: d.kind for d in s.exec(select(Deal))}
    assert {k for n, k in kinds.items() if "Renewal" in n} == {"renewal"}
    assert {k for n, k in kinds.items() if "Expansion" in n} == {"expansion"}
    with session_scope(rig.engine) as s:
        digest = manager_digest.manager_digest_data(s, as_(rig, "claire"), "claire")
    renewal = next(d for d in digest["needs_you"] if d["kind"] == "renewal" and d["tier"] != 1)
    view = run(as_(rig, "claire"), f"deal {renewal['deal']}")
    assert view.data["treatment"] == "escalate"
    text = render(view, language="en")
    assert "calls for your manager, not for marketing nurture" in text and "Kind: Renewal" in text


def test_a_rep_sets_a_deals_kind_in_chat_and_its_frozen_treatment_follows(rig):
    pilot = "Ironbridge Manufacturing – Pilot"   # frozen, new business: nurture
    assert run(as_(rig, "bruno"), f"deal {pilot}").data["treatment"] == "nurture"
    refused = run(as_(rig, "bruno", "fr"), f"affaire {pilot} modifier type=truc montant=5")
    assert refused.data["error"] == "bad_value" and "renouvellement" in render(refused, language="fr")
    assert run(as_(rig, "alice"), f"deal {pilot} set kind=renewal").data["error"] == "not_allowed"
    with session_scope(rig.engine) as s:
        deal = s.exec(select(Deal).where(Deal.name == pilot)).one()
        assert (deal.kind, deal.amount) == ("new_business", 21_000)
    saved = run(as_(rig, "bruno", "fr"), f"affaire {pilot} modifier type=renouvellement montant=25000 clôture=2027-01-31")
    assert saved.template == "deal_set" and saved.data["treatment"] == "escalate"
    text = render(saved, language="fr")
    plain = text.replace("\u202f", " ").replace("\xa0", " ")
    assert "Type: Nouvelle affaire → Renouvellement" in plain and "Montant: 21 000 € → 25 000 €" in plain
    with session_scope(rig.engine) as s:
        deal = s.exec(select(Deal).where(Deal.name == pilot)).one()
        assert (deal.kind, deal.amount, str(deal.close_date)) == ("renewal", 25_000, "2027-01-31")
        audit = s.exec(select(AuditRecord).where(AuditRecord.entity_name == pilot)).all()[-1]
        assert audit.changes["kind"] == ["new_business", "renewal"]
    with session_scope(rig.engine) as s:
        nudge = rep_nudge.rep_nudge_data(s, as_(rig, "bruno"), "bruno", None)
    assert {d["deal"]: d["treatment"] for d in nudge["frozen"]}[pilot] == "escalate"
    again = run(as_(rig, "bruno"), f"deal {pilot} set type=Renewal")
    assert again.template == "deal_set" and again.data["changes"] == []


def test_each_tier_sets_the_cadence_of_the_common_actions(rig):
    ctx = as_(rig, "david")
    keep_t1 = "Silverline Insurance Group"  # expand, tier 1: every 30 days by the tier (90 by the profile)
    with session_scope(rig.engine) as s:
        acc = s.exec(select(Account).where(Account.name == keep_t1)).one()
        for n in (1, 2, 3):
            s.add(ActionDone(account_id=acc.id, action_id=f"expand:{n}", done_by="t", done_at=NOW - timedelta(days=40)))
    with session_scope(rig.engine) as s:
        data = rep_nudge.rep_nudge_data(s, ctx, "david", None)
    row = next(a for a in data["actions"] if a["account"] == keep_t1)
    assert row["tier"] == 1 and len(row["actions"]) == 3
    slow = replace(rig.playbook, tiers=replace(rig.playbook.tiers, treatment={}))
    with session_scope(rig.engine) as s:
        data = rep_nudge.rep_nudge_data(s, as_(rig, "david", playbook=slow), "david", None)
    assert keep_t1 not in [a["account"] for a in data["actions"]]


def test_nurture_needs_a_reason_tells_marketing_and_keeps_the_time_in_nurture(rig):
    deal = run(as_(rig, "alice"), "deals frozen alice").data["deals"][0]["deal"]
    assert run(as_(rig, "alice"), f'deal "{deal}" nurture').data["error"] == "nurture_reason_missing"
    rig.shell.playbook = replace(rig.playbook, method=replace(rig.playbook.method, nurture_channel="C_MARKETING"))
    msg = rig.wait_response(rig.command(f'deal "{deal}" nurture budget frozen until April'))
    assert "Marketing has been told" in all_text(msg["blocks"])
    post = rig.wait_call("chat.postMessage", where=lambda b: b["channel"] == "C_MARKETING")
    assert deal in all_text(post["blocks"]) and "budget frozen until April" in all_text(post["blocks"])
    def sent():
        with session_scope(rig.engine) as s:
            return s.exec(select(OutboxMessage)).one().status == "sent"
    wait_for(sent, what="the outbox message marked sent")
    out = io.StringIO()
    from handlers.imports import export_file
    export_file(as_(rig, "alice"), "nurture", out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert {"deal": deal, "reason": "budget frozen until April", "owner": "alice"}.items() <= \
        next(r for r in rows if r["deal"] == deal).items()
    later = as_(rig, "alice")
    later.clock = lambda: NOW + timedelta(days=12)
    back = run(later, f'deal "{deal}" stage proposal')
    assert back.data["reopened"] and back.data["nurture_days"] == 12.0


def test_coaching_counts_finished_stays_and_what_is_true_now(rig):
    with session_scope(rig.engine) as s:
        data = manager_digest.manager_digest_data(s, as_(rig, "hugo"), "hugo")
        data_fr = manager_digest.manager_digest_data(s, as_(rig, "hugo", "fr"), "hugo")
    [david] = [c for c in data["coaching"] if c["owner"] == "david" and c["stage"] == "proposal"]
    assert (david["count"], david["of"], david["open_over"]) == (3, 4, 5)
    from bot.render import render
    from handlers.reply import Reply
    text = render(Reply("manager_digest", data), language="en")
    assert "david: 3 of the last 4 finished stays at Proposal ran over, and 5 open deals are over now" in text
    french = render(Reply("manager_digest", data_fr), language="fr")
    assert "david : 3 des 4 derniers passages terminés à l'étape Proposition ont dépassé la durée standard" in french


# --- Slack defects ---------------------------------------------------------------------------------

def _edit_modal(rig, name):
    card = rig.wait_response(rig.command(f'account "{name}"'))
    rig.click("U_ALICE", card["blocks"], "gare_edit_account")
    return rig.wait_call("views.open")["view"]


def _untouched(view):
    values = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        el = block["element"]
        if el["type"] == "plain_text_input":
            values[block["block_id"]] = {"type": "plain_text_input", "value": el.get("initial_value")}
        elif el["type"] == "static_select":
            values[block["block_id"]] = {"type": "static_select", "selected_option": el.get("initial_option")}
        elif el["type"] == "datepicker":
            values[block["block_id"]] = {"type": "datepicker", "selected_date": el.get("initial_date")}
    return values


def test_the_edit_modal_saves_only_what_changed_and_never_reverts_a_change_made_meanwhile(rig):
    name = run(as_(rig, "alice"), "accounts owner=alice").data["accounts"][0]["account"]
    view = _edit_modal(rig, name)
    meanwhile = run(as_(rig, "alice"), f'account "{name}" set industry=aerospace employees=777')
    assert meanwhile.ok
    values = _untouched(view)
    values["f_region"] = {"type": "plain_text_input", "value": "Grand Est"}
    status, body = rig.submit("U_ALICE", view, values)
    assert status == 200 and body == {}
    with session_scope(rig.engine) as s:
        acc = s.exec(select(Account).where(Account.name == name)).one()
        assert (acc.industry, acc.employees, acc.region) == ("aerospace", 777, "Grand Est")
    second = _edit_modal(rig, name)
    run(as_(rig, "alice"), f'account "{name}" set employees=900')
    values = _untouched(second)
    values["f_employees"] = {"type": "plain_text_input", "value": "50"}
    status, body = rig.submit("U_ALICE", {**second, "id": "V9"}, values)
    assert body.get("response_action") == "errors"
    assert "900" in json.dumps(body["errors"], ensure_ascii=False)
    with session_scope(rig.engine) as s:
        assert s.exec(select(Account).where(Account.name == name)).one().employees == 900


def test_numbers_are_range_checked_where_they_enter(rig):
    name = run(as_(rig, "alice"), "accounts owner=alice").data["accounts"][0]["account"]
    for change in ("margin_pct=150", "annual_revenue=-5", "employees=1e20", "lifetime_value=1e308"):
        reply = run(as_(rig, "alice"), f'account "{name}" set {change}')
        assert reply.data["error"] == "bad_value", change
    view = _edit_modal(rig, name)
    values = _untouched(view)
    values["f_margin_pct"] = {"type": "plain_text_input", "value": "150"}
    status, body = rig.submit("U_ALICE", view, values)
    assert "0 … 100" in body["errors"]["f_margin_pct"]


def test_unhandled_slack_payloads_get_200_and_malformed_ones_400_or_401(rig):
    status, _ = rig.event({"type": "reaction_added", "user": "U_ALICE"}, "EvX")
    assert status == 200
    status, _ = rig.interact({"type": "block_actions", "user": {"id": "U_ALICE"},
                              "actions": [{"action_id": "some_other_app_button", "block_id": "b", "type": "button"}]})
    assert status == 200
    status, _ = rig.interact({"type": "view_closed", "user": {"id": "U_ALICE"}, "view": {"id": "V1"}})
    assert status == 200
    status, _ = rig.post("token=x&command=/gare&text=help", "application/x-www-form-urlencoded",
                         headers={"X-Slack-Signature": "garbage", "X-Slack-Request-Timestamp": "not-a-number"},
                         signed=False)
    assert status == 401
    status, _ = rig.post("payload=%7Bnot json", "application/x-www-form-urlencoded")
    assert status in (400, 401)


def test_nothing_due_is_said_in_slack_and_settings_and_done_answer(rig):
    msg = rig.wait_response(rig.command("settings day=tuesday"))
    assert "Tuesday" in all_text(msg["blocks"])
    win_back = next(a for a in run(as_(rig, "alice"), "accounts win_back owner=alice").data["accounts"])
    done = rig.wait_response(rig.command(f'done "{win_back["account"]}" 1'))
    assert "Done for" in all_text(done["blocks"])
