"""The weekly nudge and digest, composed on the demo data with a clock the test controls."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from bot.nudges import run_weekly
from handlers import digest, manager_digest, rep_nudge
from handlers.registry import run_command
from handlers.reply import Context
from store.database import session_scope
from store.demo import load_demo
from store.models import Deal, NudgeSend

MONDAY = datetime(2026, 11, 23, 7, 30, tzinfo=timezone.utc)  # 08:30 in Paris


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock(MONDAY)


@pytest.fixture
def demo(engine, playbook, clock):
    with session_scope(engine) as session:
        load_demo(session, playbook, today=clock().date())
    return Context(engine=engine, playbook=playbook, actor="alice", owner="alice", language="en", clock=clock)


def nudge(ctx, rep):
    with session_scope(ctx.engine) as session:
        return rep_nudge.rep_nudge_data(session, ctx, rep, digest.rep_settings(session).get(rep))


def test_a_reps_nudge_lists_their_frozen_deals_and_nobody_elses(demo):
    everyone = run_command(demo, "deals frozen").data["deals"]
    for rep in ("alice", "david"):
        data = nudge(demo, rep)
        expected = sorted(d["deal"] for d in everyone if d["owner"] == rep)
        assert sorted(d["deal"] for d in data["frozen"]) == expected
        assert data["frozen_amount"] == sum(d["amount"] or 0 for d in everyone if d["owner"] == rep)


def test_win_back_actions_come_from_the_reps_reconquerir_accounts(demo):
    data = nudge(demo, "alice")
    mine = {a["account"] for a in run_command(demo, "accounts win_back owner=alice").data["accounts"]}
    assert {row["account"] for row in data["win_back"]} <= mine
    for row in data["win_back"]:
        assert all(a["id"].startswith("win_back:") for a in row["actions"])


def test_a_snoozed_deal_is_left_out_until_its_date(demo, clock):
    first = nudge(demo, "david")["frozen"][0]["deal"]
    with session_scope(demo.engine) as s:
        deal = s.exec(select(Deal).where(Deal.name == first)).one()
        deal.snoozed_until = (clock.now + timedelta(days=10)).date()
        s.add(deal)
    data = nudge(demo, "david")
    assert first not in [d["deal"] for d in data["frozen"]] and data["snoozed"] == 1
    clock.now += timedelta(days=14)
    assert first in [d["deal"] for d in nudge(demo, "david")["frozen"]]


def test_done_actions_are_not_due_until_the_cadence_comes_round(demo, clock):
    data = nudge(demo, "alice")
    row = (data["win_back"] or data["actions"])[0]
    action = row["actions"][0]
    reply = run_command(demo, f"done {row['account']} {action['number']}")
    assert reply.ok, reply.data
    after = nudge(demo, "alice")
    still = [a["id"] for r in after["win_back"] + after["actions"] if r["account"] == row["account"] for a in r["actions"]]
    assert action["id"] not in still
    clock.now += timedelta(days=demo.playbook.profile(row["profile"]).every_days + 1)
    again = nudge(demo, "alice")
    due = [a["id"] for r in again["win_back"] + again["actions"] if r["account"] == row["account"] for a in r["actions"]]
    assert action["id"] in due


def test_muting_every_category_means_no_message(demo):
    assert run_command(demo, "settings mute=frozen,skipped,let_go,at_risk,misfits,win_back,actions,plans").ok
    assert nudge(demo, "alice") is None
    assert run_command(demo, "settings unmute=frozen").ok
    assert nudge(demo, "alice")["frozen"]


def test_settings_are_refused_politely_when_wrong(demo):
    assert run_command(demo, "settings day=someday").data["error"] == "bad_value"
    assert run_command(demo, "settings mute=everything").data["error"] == "bad_value"
    assert run_command(demo, "settings colour=blue").data["error"] == "unknown_field"


def test_manager_digest_covers_the_team_with_a_coaching_pattern(demo):
    with session_scope(demo.engine) as s:
        data = manager_digest.manager_digest_data(s, demo, "hugo")
    assert data["team"] == ["david", "emma", "farid"]
    owners = {r["owner"] for r in data["frozen_by_rep"]}
    assert owners <= {"david", "emma", "farid"} and "david" in owners
    assert data["frozen_amount"] == sum(r["amount"] for r in data["frozen_by_rep"])
    [pattern] = [c for c in data["coaching"] if c["owner"] == "david" and c["stage"] == "proposal"]
    assert (pattern["kind"], pattern["count"], pattern["of"]) == ("stuck", 3, 4) and pattern["open_over"] >= 3
    assert sum(data["counts"]["tiers"].values()) == sum(data["counts"]["profiles"].values())
    assert data["changes"] is None


def test_nurtured_deals_of_the_week_appear_with_their_reason(demo):
    frozen = nudge(demo, "david")["frozen"][0]["deal"]
    david = Context(engine=demo.engine, playbook=demo.playbook, actor="david", owner="david", language="en",
                    clock=demo.clock)
    assert run_command(david, f"deal {frozen} nurture buyer reorganising until spring").ok
    with session_scope(demo.engine) as s:
        data = manager_digest.manager_digest_data(s, demo, "hugo")
    assert {"deal": frozen, "owner": "david", "reason": "buyer reorganising until spring"}.items() <= \
        next(n for n in data["nurtured"] if n["deal"] == frozen).items()


def test_dry_run_posts_nothing_and_claims_nothing(demo, clock):
    summary = run_weekly(demo.engine, demo.playbook, kind="reps", clock=clock, dry_run=True)
    assert summary.previews and not summary.sent
    assert any("alice" == r for r, _ in summary.previews)
    with session_scope(demo.engine) as s:
        assert s.exec(select(NudgeSend)).all() == []


def test_reps_with_nothing_to_say_get_no_preview(demo, clock):
    run_command(demo, "settings mute=frozen,skipped,let_go,at_risk,misfits,win_back,actions,plans")
    summary = run_weekly(demo.engine, demo.playbook, kind="reps", clock=clock, dry_run=True)
    assert "alice" in summary.nothing_to_say and "alice" not in [r for r, _ in summary.previews]
