"""Each weekly message goes out exactly once, whatever kills the run and wherever: `gare digest
--now` is started as a real process against the Slack stand-in and killed with SIGKILL at a
chosen point (GARE_CRASH_AT), then run again, or left to the scheduler's resuming job. Slack
answering 5xx or too slowly is retried with back-off, and what could not be delivered is said
in the run's summary and never recorded as sent."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import select

from bot.delivery import SlackCourier
from bot.nudges import run_weekly
from bot.slack.client import SlackSettings
from fake_slack import BOT_TOKEN
from store.database import session_scope
from store.models import NudgeSend
from test_digest_slack import PEOPLE, fake, world  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent
CRASH_POINTS = ["weekly:claimed", "weekly:before_post", "weekly:after_post", "weekly:before_ledger_commit"]


def digest_now(fake, db_url, tmp_path, crash_at=None):
    env = {k: v for k, v in os.environ.items() if k not in ("GARE_CONFIG", "GARE_CRASH_AT")}
    env.update(DATABASE_URL=db_url, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=fake.base_url + "/api/")
    if crash_at:
        env["GARE_CRASH_AT"] = crash_at
    config = tmp_path / "gare.toml"
    config.write_text((ROOT / "config.toml").read_text(encoding="utf-8"), encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "--lang", "en", "digest", "--now"],
                          capture_output=True, text=True, env=env, timeout=180, cwd=ROOT)


def keys_posted(fake) -> Counter:
    """How many messages Slack accepted per once-only key."""
    return Counter(m["metadata"]["event_payload"]["key"] for channel in fake.messages.values() for m in channel
                   if m.get("metadata"))


def assert_each_exactly_once(engine, fake):
    with session_scope(engine) as s:
        rows = s.exec(select(NudgeSend)).all()
    sent = [r for r in rows if r.status == "sent"]
    assert {r.status for r in rows} <= {"sent", "empty"} and len(sent) >= 8
    posted = keys_posted(fake)
    assert all(n == 1 for n in posted.values()), [k for k, n in posted.items() if n > 1]
    assert len(posted) == len(sent)
    by_ts = {m["ts"]: m for channel in fake.messages.values() for m in channel}
    for row in sent:  # the ledger names the very message that went out
        key = by_ts[row.ts]["metadata"]["event_payload"]["key"]
        assert key.startswith(f"{row.kind}:{row.period}:")
    print(f"\n{len(sent)} recipients, {sum(posted.values())} messages, "
          f"{sum(n - 1 for n in posted.values())} duplicates, {len(sent) - len(posted)} lost")
    return posted


@pytest.mark.parametrize("crash_at", CRASH_POINTS)
def test_a_run_killed_at_any_step_then_run_again_sends_each_message_once(world, fake, db_url, tmp_path,  # noqa: F811
                                                                          crash_at):
    engine, _, _ = world
    killed = digest_now(fake, db_url, tmp_path, crash_at)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    before = len(fake.of("chat.postMessage"))
    assert before == (1 if crash_at in ("weekly:after_post", "weekly:before_ledger_commit") else 0)
    again = digest_now(fake, db_url, tmp_path)  # at once: the dead run's claim is resumed
    assert again.returncode == 0, again.stdout + again.stderr
    assert_each_exactly_once(engine, fake)
    if before:
        # The message the dead run got through was found in the DM, not posted a second time.
        assert len(fake.of("conversations.history")) >= 1
        assert "include_all_metadata" in fake.of("conversations.history")[0].body


def test_a_run_killed_before_posting_is_finished_by_the_scheduler_without_anyone(world, fake, db_url,  # noqa: F811
                                                                                  tmp_path):
    from bot.scheduler import weekly_jobs

    engine, pb, clock = world
    assert digest_now(fake, db_url, tmp_path, "weekly:before_post").returncode == -signal.SIGKILL
    assert fake.of("chat.postMessage") == []
    with session_scope(engine) as s:
        [claim] = s.exec(select(NudgeSend)).all()
    settings = SlackSettings(signing_secret="", bot_token=BOT_TOKEN, api_url=fake.base_url + "/api/")
    jobs = {name: job for name, _, job in weekly_jobs(engine, pb, lambda: SlackCourier(engine, pb, settings))}
    jobs["resume_weekly"]()
    with session_scope(engine) as s:
        rows = s.exec(select(NudgeSend)).all()
    assert [(r.recipient, r.status) for r in rows] == [(claim.recipient, "sent")]  # only the dead run's one
    assert sum(keys_posted(fake).values()) == 1


def courier(engine, pb, fake, timeout=30):
    settings = SlackSettings(signing_secret="", bot_token=BOT_TOKEN, api_url=fake.base_url + "/api/")
    return SlackCourier(engine, pb, settings, sleep=lambda s: None, timeout=timeout)


def test_slack_5xx_is_retried_with_back_off_and_each_rep_gets_one_message(world, fake):  # noqa: F811
    engine, pb, clock = world
    fake.fail_status("chat.postMessage", 503, times=2)
    fake.fail_status("chat.postMessage", 500)
    sleeps = []
    c = courier(engine, pb, fake)
    c.sleep = sleeps.append
    summary = run_weekly(engine, pb, kind="reps", clock=clock, courier=c)
    assert summary.failed == [] and len(summary.sent) == 6
    assert sleeps[:3] == [1, 2, 4]
    assert all(n == 1 for n in keys_posted(fake).values()) and len(keys_posted(fake)) == 6


def test_a_post_slack_took_but_answered_too_late_is_not_posted_twice(world, fake):  # noqa: F811
    engine, pb, clock = world
    fake.slow_next("chat.postMessage", 1.5)
    summary = run_weekly(engine, pb, kind="reps", clock=clock, courier=courier(engine, pb, fake, timeout=0.5),
                         to="david")
    assert summary.sent == ["david"] and summary.failed == []
    assert len(fake.of("chat.postMessage")) == 1 and sum(keys_posted(fake).values()) == 1
    with session_scope(engine) as s:
        row = s.exec(select(NudgeSend)).one()
    assert row.status == "sent" and row.ts == fake.messages["DU_DAVID"][0]["ts"]


def test_slack_down_for_the_whole_run_says_who_was_not_served_and_marks_nothing_sent(world, fake):  # noqa: F811
    engine, pb, clock = world
    fake.fail_status("chat.postMessage", 502, times=100)
    summary = run_weekly(engine, pb, kind="reps", clock=clock, courier=courier(engine, pb, fake))
    assert summary.sent == [] and sorted(r for r, _ in summary.failed) == sorted(PEOPLE[:6])
    assert {e for _, e in summary.failed} == {"http_502"}
    with session_scope(engine) as s:
        assert {r.status for r in s.exec(select(NudgeSend))} == {"failed"}
    fake.scripted.clear()  # Slack is back: the next run delivers them, once
    again = run_weekly(engine, pb, kind="reps", clock=clock, courier=courier(engine, pb, fake))
    assert len(again.sent) == 6 and all(n == 1 for n in keys_posted(fake).values())


# --- Teams: the key in channelData, the connector's 5xx ------------------------------------------

from test_digest_teams import REPS, courier as teams_courier, sent_to, world as teams_world  # noqa: E402,F401


def test_teams_messages_carry_their_once_only_key_and_503s_are_retried(teams_world):  # noqa: F811
    engine, pb, clock, rig = teams_world
    for _ in range(3):
        rig.fake.fail_next("send", 503)
    summary = run_weekly(engine, pb, kind="reps", clock=clock, courier=teams_courier(rig, engine, pb), to="david")
    assert summary.sent == ["david"] and len(sent_to(rig, "david")) == 4  # three 503s, then delivered
    keys = {c.body.get("channelData", {}).get("gareOnceKey") for c in sent_to(rig, "david")}
    assert keys == {f"rep_nudge:{summary.period}:david"}


def test_teams_connector_down_for_the_run_is_reported_and_nothing_marked_sent(teams_world):  # noqa: F811
    engine, pb, clock, rig = teams_world
    for _ in range(40):
        rig.fake.fail_next("send", 500)
    summary = run_weekly(engine, pb, kind="reps", clock=clock, courier=teams_courier(rig, engine, pb))
    assert summary.sent == [] and {e for _, e in summary.failed} == {"Http500"}
    with session_scope(engine) as s:
        assert {r.status for r in s.exec(select(NudgeSend))} <= {"failed", "empty"}
    rig.fake.scripted.clear()
    again = run_weekly(engine, pb, kind="reps", clock=clock, courier=teams_courier(rig, engine, pb))
    assert sorted(again.sent + again.nothing_to_say) == sorted(r for r, _ in summary.failed) + []
    for who in again.sent:
        assert len([c for c in sent_to(rig, who) if c.body.get("channelData", {}).get("gareOnceKey")]) >= 1


# --- the outbox (marketing told of a deal handed to nurture) -----------------------------------

def test_an_outbox_message_a_dead_process_got_through_is_recorded_not_posted_again(engine, playbook):  # noqa: F811
    """A process posted the handover, then died before recording it; its claim goes stale and
    another process takes it over: it finds the message by its key in the channel and records it.
    A row tried before whose message Slack never took is posted, once."""
    import asyncio
    from datetime import datetime, timedelta, timezone

    from bot.outbox import OUTBOX_EVENT, deliver_outbox
    from bot.slack.client import make_web_client
    from fake_slack import FakeSlack, Loop
    from store.models import OutboxMessage

    loop = Loop()
    slack = FakeSlack()
    slack.base_url = loop.serve(slack.app())
    try:
        now = datetime.now(timezone.utc)
        with session_scope(engine) as s:
            for n in (1, 2):
                s.add(OutboxMessage(kind="nurture_handover", platform="slack", channel="C_MARKETING", language="en",
                                    data={"deal": f"Deal {n}", "account": "Acme", "owner": "alice", "reason": "budget",
                                          "stage_name": "Proposal", "amount": 1000, "kind": None, "since": "2026-11-20"},
                                    status="claimed", attempts=1, claimed_by="dead-host:1",
                                    claimed_at=now - timedelta(minutes=30), created_at=now - timedelta(minutes=31)))
        with session_scope(engine) as s:
            first, second = s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        # What the dead process got through before dying: the first row's message.
        slack.answer("chat.postMessage", {"channel": "C_MARKETING", "text": "Deal 1", "blocks": [],
                                          "metadata": {"event_type": OUTBOX_EVENT,
                                                       "event_payload": {"key": f"outbox:{first.id}"}}})
        settings = SlackSettings(signing_secret="", bot_token=BOT_TOKEN, api_url=slack.base_url + "/api/")

        async def deliver():
            return await deliver_outbox(engine, playbook, make_web_client(settings), worker="second")
        assert asyncio.run(deliver()) == 2
        posts = slack.of("chat.postMessage")
        assert len(posts) == 1 and posts[0].body["metadata"]["event_payload"]["key"] == f"outbox:{second.id}"
        with session_scope(engine) as s:
            rows = s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [r.status for r in rows] == ["sent", "sent"]
        assert rows[0].ts == slack.messages["C_MARKETING"][0]["ts"]
    finally:
        loop.close()
