"""A rep's dashboard (Slack's App Home, and any shell that wants it): my accounts by GARE profile
and tier, my frozen and skipped deals, the win-back (Reconquérir) actions for my former
customers worth winning back. A manager also sees the reps of their team (config.toml [teams])."""
from __future__ import annotations

from handlers.accounts import account_summary
from handlers.reply import Context, Reply
from handlers.views import account_views, deal_data
from playbook.assessment import time_deal
from playbook.config import PROFILE_IDS
from playbook.profiles import common_actions
from playbook.stage_aging import frozen_deals, skipped_deals
from store import queries
from store.database import session_scope

PROFILE_ROWS = PROFILE_IDS + ("let_go", "none")


def _profile_key(summary: dict) -> str:
    return summary["profile"] or ("let_go" if summary["let_go"] else "none")


def home(ctx: Context) -> Reply:
    owner = ctx.owner
    team = ctx.playbook.team_of(owner)
    owners = ([owner] if owner else []) + team
    grid = {p: {"1": 0, "2": 0, "3": 0, "total": 0} for p in PROFILE_ROWS}
    summaries, frozen, skipped, win_back, at_risk, reps = [], [], [], [], [], []
    with session_scope(ctx.engine) as session:
        for who in owners:
            views = account_views(session, ctx, queries.list_accounts(session, owner=who))
            mine_frozen = mine_skipped = 0
            for view in views:
                summary = account_summary(view, ctx)
                summaries.append(summary)
                row = grid[_profile_key(summary)]
                row[str(summary["tier"])] += 1
                row["total"] += 1
                if summary["at_risk"]:
                    at_risk.append(summary)
                if summary["profile"] == "win_back":
                    win_back.append({"account": summary["account"], "owner": summary["owner"],
                                     "tier": summary["tier"],
                                     "actions": common_actions("win_back", ctx.playbook, ctx.language)})
            # The rep's deals, wherever the account sits (an expansion may be sold by a colleague).
            open_deals = queries.list_deals(session, owner=who, status="open")
            visits = queries.visits_by_deal(session, [d.id for d in open_deals])
            names = queries.account_names(session, [d.account_id for d in open_deals])
            now = ctx.now()
            timed = [((d, names.get(d.account_id)), time_deal(queries.deal_record(d), visits.get(d.id, []), now,
                                                              ctx.playbook)) for d in open_deals]
            for (d, account_name), timing in frozen_deals(timed):
                frozen.append(deal_data(ctx, d, timing, account_name))
                mine_frozen += 1
            for (d, account_name), timing in skipped_deals(timed):
                skipped.append(deal_data(ctx, d, timing, account_name))
                mine_skipped += 1
            reps.append({"owner": who, "accounts": len(views), "frozen": mine_frozen, "skipped": mine_skipped})
    frozen.sort(key=lambda d: -(d["indicator"] or 0))
    summaries.sort(key=lambda r: (r["tier"], -r["score"], queries.fold(r["account"])))
    win_back.sort(key=lambda r: (r["tier"], queries.fold(r["account"])))
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
