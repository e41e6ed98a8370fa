"""`accounts` and `tiers` read each account's stored assessment with SQL. What they show must be
what assessing every account afresh shows, after each kind of change: a chat edit of an account,
a deal moved or won, a checklist answer, an import, another playbook, another day."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone

from sqlmodel import select

from handlers.accounts import account_summary
from handlers.records import account_views, assessment_key, refresh_assessments
from handlers.registry import run_command
from handlers.reply import Context
from playbook.config import load
from playbook.tiers import pyramid
from playbook.words import fold
from store.database import session_scope
from store.demo import load_demo
from store.imports import import_accounts
from store.models import Account, Deal

from conftest import ROOT

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def afresh(ctx: Context) -> tuple[list[dict], dict]:
    """The accounts list and the pyramid as they were computed before: every account assessed."""
    with session_scope(ctx.engine) as session:
        views = account_views(session, ctx, list(session.exec(select(Account).order_by(Account.name))),
                              with_timings=False)
    rows = sorted((account_summary(v, ctx) for v in views),
                  key=lambda r: (r["tier"], -r["score"], fold(r["account"])))
    by_score = sorted(views, key=lambda v: -v.assessment.tier.score)
    shape = pyramid(v.assessment.tier.tier for v in views)
    tiers = {"counts": {str(k): n for k, n in shape["counts"].items()}, "is_pyramid": shape["is_pyramid"],
             "top": {str(t): [v.account.name for v in by_score if v.assessment.tier.tier == t][:5] for t in (1, 2, 3)},
             "at_risk": [v.account.name for v in by_score if v.assessment.tier.at_risk][:20],
             "at_risk_count": sum(1 for v in views if v.assessment.tier.at_risk)}
    return rows, tiers


def shown(ctx: Context) -> tuple[list[dict], dict]:
    listed = run_command(ctx, "accounts all").data
    rows = listed["accounts"] + [row for page in range(2, listed["pages"] + 1)
                                 for row in run_command(ctx, f"accounts all page={page}").data["accounts"]]
    pyramid_ = run_command(ctx, "tiers all").data
    assert listed["count"] == len(rows)
    return rows, {k: pyramid_[k] for k in ("counts", "is_pyramid", "top", "at_risk", "at_risk_count")}


def same(ctx: Context) -> None:
    rows, tiers = shown(ctx)
    expected_rows, expected_tiers = afresh(ctx)
    assert [r["account"] for r in rows] == [r["account"] for r in expected_rows]
    assert rows == expected_rows
    assert tiers == expected_tiers


def test_lists_show_what_assessing_every_account_shows_after_each_change(engine, playbook, tmp_path):
    with session_scope(engine) as session:
        load_demo(session, playbook, today=NOW.date())
    clock = {"now": NOW}
    ctx = Context(engine=engine, playbook=playbook, actor="ops", language="en", clock=lambda: clock["now"])
    same(ctx)
    assert refresh_assessments(ctx) == 0  # all stored by the lists' first read

    with session_scope(engine) as session:
        names = list(session.exec(select(Account.name).order_by(Account.name)))
        one, two, three = names[0], names[1], names[2]
    # Chat edits: fields, an override of the profile and of the tier.
    assert run_command(ctx, f'account "{one}" set margin_pct=2 exec_sponsor=no').ok
    assert run_command(ctx, f'account "{two}" set tier=3 profile=acquire').ok
    same(ctx)
    # A checklist answer on an account.
    assert run_command(ctx, f'checklist "{three}" tick pain budget').ok
    same(ctx)
    # An import updates accounts with Core statements.
    text = f"name,owner,annual_revenue,lifetime_value,last_contact\n{three},alice,900000000,900000,2026-03-01\n"
    with session_scope(engine) as session:
        assert import_accounts(session, io.StringIO(text), playbook=playbook, actor="ops", now=NOW).written
    same(ctx)
    # Another day: days since the last contact (the at-risk rule) move on.
    clock["now"] = NOW + timedelta(days=200)
    assert ctx.today() == date(2026, 9, 18)
    same(ctx)
    # Another playbook: other tier thresholds.
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    other = tmp_path / "other.toml"
    other.write_text(text.replace("tier1_min_score = 70", "tier1_min_score = 55"), encoding="utf-8")
    ctx2 = Context(engine=engine, playbook=load(other), actor="ops", language="en", clock=lambda: clock["now"])
    assert assessment_key(ctx2) != assessment_key(ctx)
    same(ctx2)


def test_a_deal_change_reassesses_its_account(engine, playbook):
    with session_scope(engine) as session:
        load_demo(session, playbook, today=NOW.date())
    ctx = Context(engine=engine, playbook=playbook, actor="ops", language="en", clock=lambda: NOW)
    before, _ = shown(ctx)
    with session_scope(engine) as session:
        # Open deals of prospects at an early stage: moving them on raises the conversion likelihood.
        deals = list(session.exec(select(Deal.name).join(Account, Account.id == Deal.account_id)
                                  .where(Deal.status == "open", Account.status == "prospect",
                                         Deal.stage.in_(["discovery", "qualification"])).order_by(Deal.id).limit(4)))
    assert deals
    for name in deals[1:]:
        assert run_command(ctx, f'deal "{name}" stage negotiation').ok
    # Handed to nurture: one open deal fewer on its account.
    reply = run_command(ctx, f'deal "{deals[0]}" nurture budget frozen until next year')
    assert reply.ok, reply.data
    after, _ = shown(ctx)
    assert after != before
    same(ctx)


def test_gare_reassess_stores_every_out_of_date_assessment_and_says_how_many(db_url):
    from test_cli import gare

    assert gare("demo", db_url=db_url).returncode == 0
    first = gare("reassess", "--lang", "en", db_url=db_url)
    assert first.returncode == 0, first.stderr
    count = int(first.stdout.split()[0])
    assert count >= 60 and "accounts assessed again with the playbook" in first.stdout
    assert "is up to date" in gare("reassess", "--lang", "en", db_url=db_url).stdout
    again = gare("reassess", "--all", "--lang", "fr", db_url=db_url)
    assert again.stdout.strip() == f"{count} comptes réévalués selon le playbook."


def test_the_home_shows_what_assessing_every_account_of_the_team_shows(engine, playbook):
    from handlers.actions import due_actions, last_done
    from handlers.dashboard import home
    from handlers.people import console_context

    with session_scope(engine) as session:
        load_demo(session, playbook, today=NOW.date())
    ctx = console_context(engine, playbook, as_owner="claire", operator_name="claire", language="en")
    ctx.clock = lambda: NOW
    data = home(ctx).data
    assert data["is_manager"] and data["win_back"] and data["at_risk"]
    summaries, at_risk, win_back, counts = [], [], [], {}
    with session_scope(engine) as session:
        for who in ["claire", *data["team"]]:
            views = account_views(session, ctx, list(session.exec(
                select(Account).where(Account.owner == who).order_by(Account.name))), with_timings=False)
            done = last_done(session, [v.account.id for v in views])
            counts[who] = len(views)
            for view in views:
                summary = account_summary(view, ctx)
                summaries.append(summary)
                at_risk += [summary["account"]] if summary["at_risk"] else []
                due = due_actions(ctx, view, done) if summary["profile"] == "win_back" else []
                win_back += [{"account": summary["account"], "owner": summary["owner"], "tier": summary["tier"],
                              "actions": [a["text"] for a in due]}] if due else []
    summaries.sort(key=lambda r: (r["tier"], -r["score"], fold(r["account"])))
    win_back.sort(key=lambda r: (r["tier"], fold(r["account"])))
    assert data["accounts"] == summaries and data["at_risk"] == at_risk and data["win_back"] == win_back
    assert {r["owner"]: r["accounts"] for r in data["reps"]} == counts
