"""`fit <account>` / "is <account> a fit?": the account against the misfit checklist, with each
matching trait's why and who feels the pain, unknown traits, and the empty success boxes."""
from __future__ import annotations

from handlers.reply import Context, Refusal, Reply
from handlers.records import account_of, ambiguous, checklist_assessment
from store import queries
from store.database import session_scope
from store.models import Account


def fit(ctx: Context, account: str | None, deal: str | None = None) -> Reply:
    """`#id` names an account here (a deal's thread passes its deal as `deal`)."""
    with session_scope(ctx.engine) as session:
        acc, the_deal = None, None
        if deal:
            deals = queries.find_deals(session, deal)
            if len(deals) > 1:
                raise ambiguous(session, ctx, "deal", deal, deals)
            the_deal = deals[0] if deals else None
        elif account:
            accounts = queries.find_accounts(session, account)
            if len(accounts) > 1:
                raise ambiguous(session, ctx, "account", account, accounts)
            acc = accounts[0] if accounts else None
            if acc is None and queries.record_id(account) is None:
                # A deal's name works too: its checklist answers are the deal's own.
                deals = queries.find_deals(session, account)
                if len(deals) > 1:
                    raise ambiguous(session, ctx, "deal", account, deals, rerun="checklist")
                the_deal = deals[0] if deals else None
        else:
            raise Refusal("bad_syntax", command="fit")
        if the_deal is not None:
            acc = account_of(session, the_deal)
        if acc is None:
            name = account or deal
            raise Refusal("unknown_account", name=name, suggestions=queries.closest(
                name, queries.similar_names(session, Account, name)))
        assessment = checklist_assessment(session, ctx, acc, the_deal)
    f = assessment.fit
    return Reply("fit", {
        "account": acc.name,
        "deal": the_deal.name if the_deal is not None else None,
        "owner": acc.owner,
        "verdict": f.verdict,
        "reasons": f.reasons,
        "matched_traits": f.matched_traits,
        "unknown_traits": f.unknown_traits,
        "clear_traits": [t["id"] for t in f.clear_traits],
        "success_boxes": f.success_boxes,
        "boxes": f.boxes,
        "max_empty_boxes": ctx.playbook.max_empty_boxes,
        "profile": assessment.profile.profile,
        "let_go": assessment.profile.let_go,
    })
