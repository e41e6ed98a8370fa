"""Qualification checklists: the potential-for-success boxes and the misfit traits the data
cannot decide, answered by reps for a deal (or an account). The answers live in the store, so
every channel shows the same ticks."""
from __future__ import annotations

from playbook.words import fold
from handlers.reply import Context, Refusal, Reply
from handlers.records import checklist_assessment, resolve_subject
from store import locks, queries
from store.database import session_scope
from store.values import ValueProblem, parse_bool



def checklist_data(session, ctx: Context, kind: str, deal, account) -> dict:
    fit = checklist_assessment(session, ctx, account, deal).fit
    # Traits the data cannot decide stay on the checklist, with the rep's answer when there is one
    # (an answered trait is matched when it applies, clear when it does not).
    open_traits = ([dict(t, answer=None) for t in fit.unknown_traits]
                   + [dict(t, answer=True) for t in fit.matched_traits if t["decided_by"] == "answer"]
                   + [dict(t, answer=False) for t in fit.clear_traits if t["decided_by"] == "answer"])
    return {
        "subject": kind,
        "subject_id": deal.id if deal is not None else account.id,
        "deal": deal.name if deal is not None else None,
        "account": account.name,
        "verdict": fit.verdict,
        "boxes": fit.boxes,
        "success_boxes": fit.success_boxes,
        "traits": open_traits,
        "matched_traits": fit.matched_traits,
        "max_empty_boxes": ctx.playbook.max_empty_boxes,
    }


def checklist(ctx: Context, name: str) -> Reply:
    with session_scope(ctx.engine) as session:
        kind, deal, account = resolve_subject(session, name, ctx)
        return Reply("checklist", checklist_data(session, ctx, kind, deal, account))


def _item(ctx: Context, key: str) -> tuple[str, str]:
    k = fold(key)
    for box in ctx.playbook.success_boxes:
        if k == fold(box.id):
            return "box", box.id
    for trait in ctx.playbook.traits:
        if k == fold(trait.id):
            return "trait", trait.id
    known = [b.id for b in ctx.playbook.success_boxes] + [t.id for t in ctx.playbook.traits]
    raise Refusal("unknown_item", item=key, suggestions=queries.closest(key, known), known=known)


def checklist_answer(ctx: Context, name: str, answers: dict[str, str]) -> Reply:
    """`checklist NAME budget=yes no_exec_sponsor=no`: all answers are read first, then saved
    together (or none, when one is wrong)."""
    parsed = []
    for key, raw in answers.items():
        item = _item(ctx, key)
        try:
            parsed.append((item, parse_bool(raw)))
        except ValueProblem:
            raise Refusal("bad_value", field=key, value=raw, expected="yes_no") from None
    with session_scope(ctx.engine) as session:
        kind, deal, account = resolve_subject(session, name, ctx)
        if deal is not None:
            deal = locks.lock(session, deal)
        else:
            account = locks.lock(session, account)
        ctx.require("change", owner=deal.owner if deal is not None else account.owner)
        subject_id = deal.id if deal is not None else account.id
        for (item_kind, item_id), value in parsed:
            queries.save_checklist_answer(session, kind, subject_id, item_kind, item_id, value, ctx.who)
        session.flush()
        data = checklist_data(session, ctx, kind, deal, account)
    data["answered"] = [{"kind": k, "id": i, "answer": v} for (k, i), v in parsed]
    return Reply("checklist", data)
