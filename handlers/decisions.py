"""`account NAME decide end|keep|raised [REASON]`: the owner's decision on an account the
playbook says to let go (seed 000: not a to-do, a direct conversation, then a decision). Ending
the relationship makes the account a former customer let go on purpose, so it is never a
win-back target; keeping it, or having raised it with the customer, silences the weekly
reminder for a while."""
from __future__ import annotations

from handlers.records import account_views, resolve_account
from handlers.reply import Context, Refusal, Reply
from playbook.method import LET_GO_DECISIONS
from playbook.words import DECISION_WORDS, fold
from store import locks, queries
from store.database import session_scope
from store.models import AccountDecision, utcnow

LET_GO_REASON = "let_go"  # the churn reason win-back rules exclude


def account_decide(ctx: Context, account: str, decision: str, reason: str | None = None) -> Reply:
    chosen = DECISION_WORDS.get(fold(decision))
    if chosen not in LET_GO_DECISIONS:
        raise Refusal("bad_value", field="decision", value=decision, expected="end | keep | raised")
    reason = " ".join((reason or "").split()) or None
    if reason is not None and len(reason) > 500:
        raise Refusal("too_long", field="reason", limit=500)
    with session_scope(ctx.engine) as session:
        acc = locks.lock(session, resolve_account(session, account, ctx))
        ctx.require("change", owner=acc.owner)
        view = account_views(session, ctx, [acc], with_timings=False)[0]
        if not view.assessment.profile.let_go:
            raise Refusal("not_let_go", account=acc.name)
        session.add(AccountDecision(account_id=acc.id, kind="let_go", decision=chosen, reason=reason,
                                    decided_by=ctx.actor, decided_at=ctx.now()))
        changes: dict = {"decision": chosen, "reason": reason}
        if chosen == "end":
            changes["status"] = [acc.status, "former"]
            acc.status = "former"
            if "churn_reason" in ctx.playbook.field_types:
                changes["churn_reason"] = [(acc.custom or {}).get("churn_reason"), LET_GO_REASON]
                acc.custom = locks.merge_custom(acc.custom, {"churn_reason": LET_GO_REASON})
            acc.updated_at = utcnow()
            session.add(acc)
        queries.audit(session, ctx.who, "account", "let_go_decision", entity_id=acc.id, entity_name=acc.name,
                      changes=changes)
        session.flush()
        review = ctx.playbook.let_go.review_days if ctx.playbook.let_go else None
        return Reply("account_decision", {"account": acc.name, "owner": acc.owner, "decision": chosen,
                                          "reason": reason, "status": acc.status, "review_days": review})
