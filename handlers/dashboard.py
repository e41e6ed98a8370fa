"""A rep's dashboard (Slack's App Home, and any shell that wants it): my accounts by GARE profile
and tier, my frozen and skipped deals, the win-back (Reconquérir) actions for my former
customers worth winning back that are due. A manager also sees the reps of their team (config.toml [teams])."""
from __future__ import annotations

from playbook.words import fold
from handlers.accounts import account_summary
from handlers.actions import due_actions, last_done
from handlers.reply import Context, Reply
from handlers.people import team_of
from handlers.records import account_views, deal_data, open_deals_timed, refresh_assessments
from playbook.config import PROFILE_IDS
from playbook.stage_aging import frozen_deals, skipped_deals
from store import assessed
from store.database import session_scope

PROFILE_ROWS = PROFILE_IDS + ("let_go", "none")


def _profile_key(summary: dict) -> str:
    return summary["profile"] or ("let_go" if summary["let_go"] else "none")


def home(ctx: Context) -> Reply:
    owner = ctx.owner
    with session_scope(ctx.engine) as session:
        team = team_of(session, ctx.playbook, owner) if ctx.person.role in ("manager", "admin") else []
    owners = ([owner] if owner else []) + team
    grid = {p: {"1": 0, "2": 0, "3": 0, "total": 0} for p in PROFILE_ROWS}
    summaries, frozen, skipped, win_back, at_risk, reps = [], [], [], [], [], []
    refresh_assessments(ctx, owners)
    with session_scope(ctx.engine) as session:
        for who in owners:
            # The stored assessments; the full one only for the win-back accounts (their actions).
            rows = assessed.assessed_accounts(session, [who], by_name=True)
            views = account_views(session, ctx, assessed.accounts_with_profile(session, [who], "win_back"),
                                  with_timings=False)
            done = last_done(session, [v.account.id for v in views])
            mine_frozen = mine_skipped = 0
            for summary in rows:
                summaries.append(summary)
                row = grid[_profile_key(summary)]
                row[str(summary["tier"])] += 1
                row["total"] += 1
                if summary["at_risk"]:
                    at_risk.append(summary)
            for view in views:
                due = due_actions(ctx, view, done)  # only what is due, as in the weekly nudge
                if due:
                    summary = account_summary(view, ctx)
                    win_back.append({"account": summary["account"], "owner": summary["owner"],
                                     "tier": summary["tier"], "actions": [a["text"] for a in due]})
            # The rep's deals, wherever the account sits (an expansion may be sold by a colleague).
            timed = [((d, a), t) for d, a, t in open_deals_timed(session, ctx, [who])]
            for (d, account_name), timing in frozen_deals(timed):
                frozen.append(deal_data(ctx, d, timing, account_name))
                mine_frozen += 1
            for (d, account_name), timing in skipped_deals(timed):
                skipped.append(deal_data(ctx, d, timing, account_name))
                mine_skipped += 1
            reps.append({"owner": who, "accounts": len(rows), "frozen": mine_frozen, "skipped": mine_skipped})
    frozen.sort(key=lambda d: -(d["indicator"] or 0))
    summaries.sort(key=lambda r: (r["tier"], -r["score"], fold(r["account"])))
    win_back.sort(key=lambda r: (r["tier"], fold(r["account"])))
    return Reply("home", {
        "owner": owner,
        "team": team,
        "is_manager": bool(team),
        "reps": reps if team else [],
        "profiles": [{"profile": p, **grid[p]} for p in PROFILE_ROWS if grid[p]["total"]],
        "accounts": summaries,
        "account_count": len(summaries),
        "frozen": frozen,
        "skipped": skipped,
        "win_back": win_back,
        "at_risk": [a["account"] for a in at_risk],
        "today": ctx.today(),
    })
