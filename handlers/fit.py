"""`fit <account>` / "is <account> a fit?": the account against the misfit checklist, with each
matching trait's why and who feels the pain, unknown traits, and the empty success boxes."""
from __future__ import annotations

from handlers.reply import Context, Refusal, Reply
from handlers.records import checklist_assessment
from store import queries
from store.database import session_scope


def fit(ctx: Context, account: str | None, deal: str | None = None) -> Reply:
    with session_scope(ctx.engine) as session:
        acc, the_deal = None, None
        if deal:
            the_deal = queries.find_deal(session, deal)
        elif account:
            acc = queries.find_account(session, account)
            if acc is None:
                # A deal's name works too: its checklist answers are the deal's own.
                the_deal = queries.find_deal(session, account)
        else:
            raise Refusal("bad_syntax", command="fit")
        if the_deal is not None:
            acc = session.get(queries.Account, the_deal.account_id)
        if acc is None:
            name = account or deal
            candidates = queries.all_account_names(session)
            raise Refusal("unknown_account", name=name, suggestions=queries.closest(name, candidates))
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
