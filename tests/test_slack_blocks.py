"""Every reply template rendered for Slack, in English and French, on the demo data and on
oversized data (long names, long lists, many boxes): always within Block Kit's limits, always
with a plain-text fallback."""
from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest
from sqlmodel import select

from bot.render import render
from bot.slack.client import message_for
from fake_slack import validate_message, validate_view
from handlers import checklist, deals
from handlers.registry import run_command
from handlers.dashboard import home
from handlers.demo import load_demo_data
from handlers.reply import Context, Reply
from playbook.config import localized, parse
from slack_harness import NOW, all_text
from store.database import session_scope
from store.models import Account, Deal

ROOT = Path(__file__).resolve().parent.parent
LONG = "Société Très Longue & Fils <Holding> " * 6  # 222 characters, with mrkdwn specials


@pytest.fixture
def demo(engine, playbook):
    load_demo_data(Context(engine=engine, playbook=playbook, actor="demo", clock=lambda: NOW))
    with session_scope(engine) as s:
        account = s.exec(select(Account).order_by(Account.name)).first().name
        deal = s.exec(select(Deal).where(Deal.status == "open").order_by(Deal.name)).first().name
    return engine, playbook, account, deal


def _ctx(engine, playbook, language, owner="alice"):
    return Context(engine=engine, playbook=playbook, actor=owner, owner=owner, language=language, clock=lambda: NOW)


def _stages(playbook, language):
    return [{"id": s.id, "name": localized(s.name, language)} for s in playbook.stages]


def _check(reply, language, playbook, **extra):
    message = message_for(reply, language=language, currency=playbook.currency,
                          stages=_stages(playbook, language), **extra)
    validate_message(message)
    assert "None" not in all_text(message["blocks"]).split()
    return message


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_reply_template_fits_block_kit(demo, language):
    engine, playbook, account, deal = demo
    ctx = _ctx(engine, playbook, language)
    commands = ["help", "help fit", f"fit {account}", f"fit {deal}", f"account {account}", "accounts",
                "accounts win_back", "accounts let_go tier=3", "tiers", "tiers owner=@me", f"deal {deal}",
                "deals frozen", "deals skipped", "deals frozen nobody", "stages", f"checklist {deal}",
                f"checklist {account}", f"account {account} set margin_pct=21", f"deal {deal} stage proposal",
                f"deal {deal} nurture budget", "fit", "frobnicate", "accounts tier=9", "deal Nope stage x"]
    seen = set()
    for command in commands:
        reply = run_command(ctx, command)
        seen.add(reply.template)
        message = _check(reply, language, playbook, ephemeral=True, command=command)
        assert message["text"].strip()
    reply = deals.deal_snooze(ctx, deal, "2026-05-01", "Budget in May")
    seen.add(reply.template)
    _check(reply, language, playbook)
    reply = checklist.checklist_answer(ctx, deal, {"budget": "yes"})
    _check(reply, language, playbook, answered_by="alice")
    assert seen >= {"help", "fit", "account", "accounts", "tiers", "deal", "deals_frozen", "deals_skipped",
                    "stages", "checklist", "account_set", "deal_stage", "deal_nurture", "deal_snooze", "error"}
    # Views: the App Home and the three modals.
    validate_view(render(home(ctx), surface="slack", language=language))
    validate_view(render(home(_ctx(engine, playbook, language, owner=None)), surface="slack", language=language))
    validate_view(render(home(_ctx(engine, playbook, language, owner="claire")), surface="slack", language=language))
    account_data = run_command(ctx, f"account {account}").data
    validate_view(render(Reply("account_edit_modal", account_data), surface="slack", language=language,
                         metadata="{}", custom_fields=["nps", "churn_reason"]))
    deal_data = run_command(ctx, f"deal {deal}").data
    for modal in ("deal_nurture_modal", "deal_snooze_modal"):
        validate_view(render(Reply(modal, deal_data), surface="slack", language=language, metadata="{}",
                             default_until="2026-03-24"))


def _inflate(rows, n, key):
    out = []
    for i in range(n):
        row = copy.deepcopy(rows[i % len(rows)])
        row[key] = f"{LONG}{i:04d}"
        out.append(row)
    return out


@pytest.mark.parametrize("language", ["en", "fr"])
def test_oversized_data_stays_within_limits(demo, language):
    engine, playbook, account, deal = demo
    ctx = _ctx(engine, playbook, language)
    accounts = run_command(ctx, "accounts").data
    # The handler hands over one page (20 rows) with the count and the number of pages.
    accounts["accounts"] = _inflate(accounts["accounts"], 20, "account")
    accounts.update(count=333, pages=17)
    for page in (1, 9, 17):
        message = _check(Reply("accounts", dict(accounts, page=page)), language, playbook, ephemeral=True,
                         command=f"accounts page={page}")
    assert "17" in all_text(message["blocks"])  # the last page, 17 of 17
    frozen = run_command(ctx, "deals frozen").data
    frozen["deals"] = _inflate(frozen["deals"], 15, "deal")
    frozen.update(count=250, pages=17)
    for page in (1, 17):
        _check(Reply("deals_frozen", dict(frozen, page=page)), language, playbook, ephemeral=True,
               command=f"deals frozen page={page}")
    skipped = run_command(ctx, "deals skipped").data
    skipped["deals"] = _inflate(skipped["deals"], 15, "deal")
    skipped.update(count=120, pages=8, page=8)
    _check(Reply("deals_skipped", skipped), language, playbook)
    card = run_command(ctx, f"account {account}").data
    card["account"] = LONG
    card["deals"] = _inflate(card["deals"] or [run_command(ctx, f"deal {deal}").data], 40, "deal")
    card["actions"] = [LONG * 3] * 12
    card["custom"] = {f"field_{i}": LONG for i in range(25)}
    _check(Reply("account", card), language, playbook)
    one = run_command(ctx, f"deal {deal}").data
    one["deal"], one["account"], one["nurture_reason"] = LONG, LONG, LONG * 3
    one["history"] = one["history"] * 30
    _check(Reply("deal", one), language, playbook, ephemeral=True, command="deal x")
    dash = home(ctx).data
    dash["frozen"] = _inflate(dash["frozen"] or frozen["deals"], 60, "deal")
    dash["skipped"] = _inflate(dash["skipped"] or skipped["deals"], 60, "deal")
    dash["win_back"] = [{"account": LONG, "owner": "alice", "tier": 2, "actions": [LONG] * 5}] * 30
    dash["accounts"] = _inflate(dash["accounts"], 80, "account")
    dash["team"], dash["is_manager"] = ["bob"] * 40, True
    dash["reps"] = [{"owner": f"rep{i}", "accounts": 3, "frozen": 1, "skipped": 0} for i in range(40)]
    validate_view(render(Reply("home", dash), surface="slack", language=language))


def test_a_playbook_with_many_boxes_and_traits_splits_the_checkboxes(engine):
    data = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))
    boxes = data["misfit"]["success_boxes"]
    data["misfit"]["success_boxes"] = [dict(b, id=f"{b['id']}_{i}", label={"en": LONG[:90], "fr": LONG[:90]})
                                       for i in range(5) for b in boxes][:23]
    data["misfit"]["max_empty_boxes"] = 5
    playbook = parse(data, "many-boxes.toml")
    load_demo_data(Context(engine=engine, playbook=playbook, actor="demo", clock=lambda: NOW))
    ctx = _ctx(engine, playbook, "en")
    with session_scope(engine) as s:
        deal = s.exec(select(Deal).order_by(Deal.name)).first().name
    message = _check(checklist.checklist(ctx, deal), "en", playbook)
    groups = [b for b in message["blocks"] if b["type"] == "actions" and b["elements"][0]["type"] == "checkboxes"]
    assert [len(g["elements"][0]["options"]) for g in groups] == [10, 10, 3]
