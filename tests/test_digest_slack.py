"""The weekly run delivered to a local stand-in for Slack's Web API: the right people get the
right deals, once per week, at a polite pace, through 429s, crashes and a second process."""
import os
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.delivery import SlackCourier
from bot.nudges import run_weekly
from bot.slack.client import SlackSettings
from fake_slack import BOT_TOKEN, FakeSlack, Loop, validate_message
from handlers.registry import run_command
from handlers.reply import Context
from slack_harness import all_text
from store.database import make_engine, session_scope
from store.demo import load_demo
from store.models import Deal, NudgeSend
from test_nudges import MONDAY, Clock

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = ["alice", "bruno", "chloe", "david", "emma", "farid", "claire", "hugo"]


@pytest.fixture
def fake():
    loop = Loop()
    slack = FakeSlack()
    slack.base_url = loop.serve(slack.app())
    for who in PEOPLE:
        slack.users[f"U_{who.upper()}"] = {"id": f"U_{who.upper()}", "name": who, "real_name": who.title(),
                                           "locale": "en-US", "profile": {"email": f"{who}@example.com"}}
    yield slack
    loop.close()


@pytest.fixture
def world(engine, playbook, fake):
    clock = Clock(MONDAY)
    with session_scope(engine) as session:
        load_demo(session, playbook, today=clock().date())
    pb = replace(playbook, language="en")  # the default playbook's [people] email_domains names example.com
    return engine, pb, clock


def courier(engine, playbook, fake, sleeps=None, clock=None):
    settings = SlackSettings(signing_secret="", bot_token=BOT_TOKEN, api_url=fake.base_url + "/api/")
    ticks = iter(range(10**6))
    return SlackCourier(engine, playbook, settings, sleep=(sleeps.append if sleeps is not None else lambda s: None),
                        monotonic=lambda: next(ticks) * 0.01, **({"clock": clock} if clock else {}))


def posts_to(fake, user):
    return [c for c in fake.of("chat.postMessage") if c.body["channel"] == f"DU_{user.upper()}"]


def expected_frozen(engine, playbook, clock, rep):
    ctx = Context(engine=engine, playbook=playbook, actor="t", owner=rep, language="en", clock=clock)
    return [d["deal"] for d in run_command(ctx, f"deals frozen {rep}").data["deals"]]


def test_each_rep_gets_their_frozen_deals_once_and_a_second_run_posts_nothing(world, fake):
    engine, pb, clock = world
    c = courier(engine, pb, fake)
    summary = run_weekly(engine, pb, kind="reps", clock=clock, courier=c)
    assert not summary.failed and set(summary.sent) == {"alice", "bruno", "chloe", "david", "emma", "farid"}
    for rep in summary.sent:
        [post] = posts_to(fake, rep)
        validate_message(post.body)
        text = all_text(post.body["blocks"])
        for deal in expected_frozen(engine, pb, clock, rep)[:8]:
            assert deal in text, (rep, deal)
        others = [d for r in summary.sent if r != rep for d in expected_frozen(engine, pb, clock, r)]
        assert not any(d in text for d in others), rep
    before = len(fake.of("chat.postMessage"))
    again = run_weekly(engine, pb, kind="reps", clock=clock, courier=c)
    assert again.sent == [] and set(again.already_sent) == set(summary.sent)
    assert len(fake.of("chat.postMessage")) == before


def test_nothing_to_say_means_no_message_and_snoozed_deals_are_left_out(world, fake):
    engine, pb, clock = world
    alice = Context(engine=engine, playbook=pb, actor="alice", owner="alice", language="en", clock=clock)
    run_command(alice, "settings mute=frozen,skipped,let_go,at_risk,misfits,win_back,actions,plans")
    snoozed = expected_frozen(engine, pb, clock, "david")[0]
    with session_scope(engine) as s:
        deal = s.exec(select(Deal).where(Deal.name == snoozed)).one()
        deal.snoozed_until, deal.snooze_reason = (clock.now + timedelta(days=20)).date(), "new CFO in January"
        s.add(deal)
    summary = run_weekly(engine, pb, kind="reps", clock=clock, courier=courier(engine, pb, fake))
    assert "alice" in summary.nothing_to_say and posts_to(fake, "alice") == []
    [post] = posts_to(fake, "david")
    assert snoozed not in all_text(post.body["blocks"])


def test_manager_digest_comes_with_its_chart_in_the_thread(world, fake):
    engine, pb, clock = world
    summary = run_weekly(engine, pb, kind="managers", clock=clock, courier=courier(engine, pb, fake),
                         chart_maker=__import__("bot.delivery", fromlist=["chart_for"]).chart_for)
    assert sorted(summary.sent) == ["claire", "hugo"]
    [digest] = posts_to(fake, "hugo")
    validate_message(digest.body)
    text = all_text(digest.body["blocks"])
    assert "david: 3 of the last 4 finished stays at Proposal ran over, and 5 open deals are over now" in text
    completes = [c for c in fake.of("files.completeUploadExternal") if c.body.get("channel_id") == "DU_HUGO"]
    with session_scope(engine) as s:
        ledger = s.exec(select(NudgeSend).where(NudgeSend.recipient == "hugo")).one()
    assert (ledger.status, ledger.channel) == ("sent", "DU_HUGO")
    assert len(completes) == 1 and completes[0].body.get("thread_ts") == ledger.ts
    assert any(data.startswith(b"\x89PNG") or b"PNG" in data[:200] for data in fake.uploads.values())


def test_a_week_later_the_digest_shows_what_changed(world, fake):
    engine, pb, clock = world
    run_weekly(engine, pb, kind="managers", clock=clock, courier=courier(engine, pb, fake))
    hugo = Context(engine=engine, playbook=pb, actor="farid", owner="farid", language="en", clock=clock)
    victim = run_command(hugo, "accounts keep owner=farid").data["accounts"][0]["account"]
    assert run_command(hugo, f"account {victim} set profile=expand").ok
    clock.now += timedelta(days=7)
    run_weekly(engine, pb, kind="managers", clock=clock, courier=courier(engine, pb, fake))
    latest = posts_to(fake, "hugo")[-1]
    fields = " ".join(all_text(latest.body["blocks"]).split("\n"))
    assert "(+1)" in fields and "(-1)" in fields


def test_429_bursts_lose_nothing(world, fake):
    engine, pb, clock = world
    for _ in range(3):
        fake.fail_next("chat.postMessage", retry_after=1)
    summary = run_weekly(engine, pb, kind="reps", clock=clock, courier=courier(engine, pb, fake), to="david")
    assert summary.sent == ["david"] and len(posts_to(fake, "david")) == 4  # three 429s, then delivered


def test_a_permanent_error_for_one_rep_does_not_stop_the_others(world, fake):
    engine, pb, clock = world
    del fake.users["U_BRUNO"]
    summary = run_weekly(engine, pb, kind="reps", clock=clock, courier=courier(engine, pb, fake))
    assert [r for r, _ in summary.failed] == ["bruno"]
    assert {"alice", "chloe", "david", "emma", "farid"} <= set(summary.sent)


def test_one_message_per_second_in_a_shared_channel(world, fake):
    engine, pb, clock = world
    shared = replace(pb, nudges=replace(pb.nudges, rep_channel="C_SALES"))
    sleeps = []
    summary = run_weekly(engine, shared, kind="reps", clock=clock, courier=courier(engine, shared, fake, sleeps))
    assert len(summary.sent) == 6
    assert len(sleeps) == 5 and all(0.9 <= s <= 1.0 for s in sleeps)


def test_a_crash_halfway_resumes_without_duplicates(world, fake):
    engine, pb, clock = world
    real = courier(engine, pb, fake)

    class Crashing:
        delivered = 0
        platform = "slack"

        def deliver(self, *args, **kwargs):
            if self.delivered == 3:
                raise SystemExit("killed")  # the process dies mid-run
            self.delivered += 1
            return real.deliver(*args, **kwargs)

    with pytest.raises(SystemExit):
        run_weekly(engine, pb, kind="reps", clock=clock, courier=Crashing(), worker="first")
    assert len(fake.of("chat.postMessage")) == 3
    clock.now += timedelta(minutes=15)  # the dead run's claim is stale by now
    summary = run_weekly(engine, pb, kind="reps", clock=clock, courier=real, worker="second")
    assert len(summary.sent) == 3 and len(summary.already_sent) == 3
    for rep in ("alice", "bruno", "chloe", "david", "emma", "farid"):
        assert len(posts_to(fake, rep)) == 1, rep


def test_two_scheduler_processes_send_each_message_once(world, fake, db_url):
    engine, pb, clock = world
    results = []

    def process(name):
        own_engine = make_engine(db_url)  # each process has its own connections
        results.append(run_weekly(own_engine, pb, kind="reps", clock=clock,
                                  courier=courier(own_engine, pb, fake), worker=name))
        own_engine.dispose()

    threads = [threading.Thread(target=process, args=(f"worker-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 2 and not any(r.failed for r in results)
    assert sorted(results[0].sent + results[1].sent) == ["alice", "bruno", "chloe", "david", "emma", "farid"]
    for rep in ("alice", "bruno", "chloe", "david", "emma", "farid"):
        assert len(posts_to(fake, rep)) == 1, rep
    with session_scope(engine) as s:
        assert {r.status for r in s.exec(select(NudgeSend))} == {"sent"}


def test_gare_digest_now_posts_once_then_nothing(world, fake, db_url):
    env = {k: v for k, v in os.environ.items() if k not in ("GARE_CONFIG",)}
    env.update(DATABASE_URL=db_url, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=fake.base_url + "/api/")
    # Reps are found by their Slack e-mail, on the domain the playbook's [people] names.
    config = (ROOT / "config.toml").read_text(encoding="utf-8")
    path = Path(env.get("TMPDIR", "/tmp")) / f"gare-digest-{os.getpid()}-{id(fake)}.toml"
    path.write_text(config, encoding="utf-8")
    try:
        run = lambda: subprocess.run([sys.executable, "-m", "bot", "--config", str(path), "--lang", "en", "digest",  # noqa: E731
                                      "--now"], capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
        first = run()
        assert first.returncode == 0, first.stdout + first.stderr
        posted = len(fake.of("chat.postMessage"))
        assert posted >= 8 and "already sent" in first.stdout
        second = run()
        assert second.returncode == 0 and len(fake.of("chat.postMessage")) == posted
        assert "0 posted" in second.stdout
    finally:
        path.unlink(missing_ok=True)


def test_scheduler_follows_the_playbook_schedule_and_each_reps_day(world, fake):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.scheduler import manager_trigger, rep_trigger, weekly_jobs

    engine, pb, clock = world
    paris = ZoneInfo("Europe/Paris")
    sunday = datetime(2026, 11, 22, 12, 0, tzinfo=paris)
    assert manager_trigger(pb).get_next_fire_time(None, sunday) == datetime(2026, 11, 23, 9, 0, tzinfo=paris)
    assert rep_trigger(pb).get_next_fire_time(None, sunday) == datetime(2026, 11, 22, 8, 30, tzinfo=paris) + timedelta(days=1)

    alice = Context(engine=engine, playbook=pb, actor="alice", owner="alice", language="en", clock=clock)
    assert run_command(alice, "settings day=tuesday").ok
    jobs = {name: job for name, _, job in weekly_jobs(engine, pb, lambda: courier(engine, pb, fake), clock=clock)}
    jobs["rep_nudges"]()  # Monday 08:30
    assert posts_to(fake, "alice") == [] and len(posts_to(fake, "bruno")) == 1
    clock.now += timedelta(days=1)  # Tuesday
    jobs["rep_nudges"]()
    assert len(posts_to(fake, "alice")) == 1 and len(posts_to(fake, "bruno")) == 1
