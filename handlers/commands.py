"""The single entry point every shell calls: text in, Reply out. Bad input becomes a polite
error reply; an unexpected failure is logged with its trace and answered without it."""
from __future__ import annotations

import logging

from handlers import accounts, checklist, deals, digest, fit, help
from handlers.grammar import Command, parse
from handlers.reply import Context, Refusal, Reply

log = logging.getLogger("gare.handlers")


def dispatch(ctx: Context, command: Command) -> Reply:
    a = command.args
    match command.name:
        case "help":
            return help.help_(ctx, a.get("topic"))
        case "fit":
            return fit.fit(ctx, a.get("account"), a.get("deal"))
        case "account":
            return accounts.account(ctx, a["account"])
        case "account_set":
            return accounts.account_set(ctx, a["account"], a["changes"])
        case "accounts":
            return accounts.accounts(ctx, a.get("profile"), a.get("tier"), a.get("owner"))
        case "tiers":
            return accounts.tiers(ctx, None, a.get("tier"), a.get("owner"))
        case "deal":
            return deals.deal(ctx, a["deal"])
        case "deal_stage":
            return deals.deal_stage(ctx, a["deal"], a["stage"])
        case "deal_nurture":
            return deals.deal_nurture(ctx, a["deal"], a.get("reason"))
        case "deal_snooze":
            return deals.deal_snooze(ctx, a["deal"], a["until"], a.get("reason"))
        case "deals_frozen":
            return deals.deals_frozen(ctx, a.get("owner"))
        case "deals_skipped":
            return deals.deals_skipped(ctx, a.get("owner"))
        case "checklist":
            return checklist.checklist(ctx, a["name"])
        case "checklist_answer":
            return checklist.answer(ctx, a["name"], a["answers"])
        case "nudge":
            return digest.my_nudge(ctx, a.get("owner"))
        case "settings":
            return digest.settings(ctx, a["changes"])
        case "action_done":
            return digest.action_done(ctx, a["account"], a["number"])
        case "stages":
            return deals.stages(ctx)
    raise Refusal("unknown_command", got=command.name)


def run_command(ctx: Context, text: str) -> Reply:
    try:
        return dispatch(ctx, parse(text))
    except Refusal as refusal:
        return refusal.reply()
    except Exception:  # never a stack trace in a chat: log it, answer politely
        log.exception("command failed: %r", text)
        return Reply("error", {"error": "internal"}, ok=False)
