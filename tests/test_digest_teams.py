"""The weekly run delivered to Teams through the stored conversation references (continue_
conversation to the stand-in Bot Connector): each rep and manager once, the chart as an inline
image, 429 and 5xx answers retried as Retry-After says, a permanent error for one person leaving
the others alone, and each person on the platform of their settings when they use both."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from sqlmodel import select

from bot.delivery import SlackCourier, chart_for
from bot.nudges import run_weekly
from bot.slack.client import SlackSettings
from bot.teams.delivery import TeamsCourier
from fake_slack import BOT_TOKEN, FakeSlack, Loop
from fake_teams import APP_ID, APP_PASSWORD, card_text
from handlers.registry import run_command
from handlers.reply import Context
from store.database import session_scope
from store.models import NudgeSend, Person
from teams_harness import TeamsRig, validate_message
from test_nudges import MONDAY, Clock

ROOT = Path(__file__).resolve().parent.parent
REPS = ["alice", "bruno", "chloe", "david", "emma", "farid"]
MANAGERS = ["claire", "hugo"]


@pytest.fixture
def world(engine, playbook):
    """The demo as of a Monday; everyone installed Gare in Teams (which links them by their
    verified e-mail); the playbook sends on Teams."""
    from store.demo import load_demo

    clock = Clock(MONDAY)
    with session_scope(engine) as session:
        load_demo(session, playbook, today=clock().date())
    pb = replace(playbook, language="en", nudges=replace(playbook.nudges, platform="teams"))
    rig = TeamsRig(engine, pb)
    for who in REPS + MANAGERS:
        rig.install(who)
    rig.fake.calls.clear()
    yield engine, rig.playbook, clock, rig
    rig.close()


def courier(rig, engine, playbook, sleeps=None):
    async def sleep(seconds):
        if sleeps is not None:
            sleeps.append(seconds)
    # The pacer's clock ticks 10 ms a call, as the Slack courier's test does: pacing is judged
    # the same on a busy machine (drawing a chart may take 1/7 s there) as on an idle one.
    ticks = iter(range(10**6))
    return TeamsCourier(engine, playbook, rig.settings, sleep=sleep, monotonic=lambda: next(ticks) * 0.01)


def sent_to(rig, who):
    return [c for c in rig.fake.of("send") if c.conversation == f"a:personal-{who}"]


def test_each_teams_user_and_manager_gets_their_message_once(world):
    engine, pb, clock, rig = world
    sleeps = []
    c = courier(rig, engine, pb, sleeps)
    reps = run_weekly(engine, pb, kind="reps", clock=clock, courier=c)
    managers = run_weekly(engine, pb, kind="managers", clock=clock, courier=c, chart_maker=chart_for)
    assert not reps.failed and not managers.failed and not reps.unreachable
    assert set(reps.sent) | set(reps.nothing_to_say) == set(REPS) and set(managers.sent) == set(MANAGERS)
    for rep in reps.sent:
        [message] = sent_to(rig, rep)
        validate_message(message.body)
        text = card_text(message.body["attachments"][0]["content"])
        assert f"{rep} (2026-W48)" in text and ("Votre semaine" if rep == "chloe" else "Your week") in text
    for manager in MANAGERS:
        digest, chart = sent_to(rig, manager)  # the digest, then its chart as an inline image
        assert "Team digest for " + manager in card_text(digest.body["attachments"][0]["content"])
        assert chart.body["attachments"][0]["contentUrl"].startswith("data:image/png;base64,iVBOR")
    # The chart right after its digest, in the same chat: paced at 7 messages a second at most.
    assert len(sleeps) == 2 and all(0 < s <= 1 / 7 for s in sleeps)
    hugo = card_text(sent_to(rig, "hugo")[0].body["attachments"][0]["content"])
    assert "david: 3 of the last 4 finished stays at Proposal ran over, and 5 open deals are over now" in hugo
    with session_scope(engine) as s:
        rows = s.exec(select(NudgeSend)).all()
    assert {r.status for r in rows} <= {"sent", "empty"} and all(r.channel.startswith("tc") for r in rows
                                                               if r.status == "sent")
    before = len(rig.fake.of("send"))
    again = run_weekly(engine, pb, kind="reps", clock=clock, courier=c)
    assert again.sent == [] and set(again.already_sent) == set(reps.sent) | set(reps.nothing_to_say)
    assert len(rig.fake.of("send")) == before


def test_429_412_and_gateway_errors_are_retried_as_told(world):
    engine, pb, clock, rig = world
    rig.fake.fail_next("send", 429, retry_after=7)
    rig.fake.fail_next("send", 412)
    rig.fake.fail_next("send", 504, retry_after=2)
    sleeps = []
    c = courier(rig, engine, pb, sleeps)
    summary = run_weekly(engine, pb, kind="reps", clock=clock, courier=c, to="david")
    assert summary.sent == ["david"] and len(sent_to(rig, "david")) == 4  # three failures, then delivered
    assert sleeps == [7, 2.0, 2]  # Retry-After when given, else the back-off
    rig.fake.fail_next("send", 502)
    assert run_weekly(engine, pb, kind="reps", clock=clock, courier=c, to="emma").sent == ["emma"]
    for _ in range(4):
        rig.fake.fail_next("send", 429, retry_after=1)
    given_up = run_weekly(engine, pb, kind="reps", clock=clock, courier=c, to="farid")
    assert given_up.failed == [("farid", "Http429")]  # reported, and tried again by the next run
    assert run_weekly(engine, pb, kind="reps", clock=clock, courier=c, to="farid").sent == ["farid"]


def test_a_permanent_error_for_one_person_leaves_the_others_alone(world):
    engine, pb, clock, rig = world
    rig.fake.fail_next("send", 403, code="BotDisabledByAdmin")
    summary = run_weekly(engine, pb, kind="reps", clock=clock, courier=courier(rig, engine, pb))
    assert [(r, e) for r, e in summary.failed] == [("alice", "BotDisabledByAdmin")]
    assert set(summary.sent) | set(summary.nothing_to_say) == set(REPS) - {"alice"}


def test_someone_who_never_used_gare_in_teams_is_reported_with_the_fix(world):
    engine, pb, clock, rig = world
    with session_scope(engine) as s:
        row = s.exec(select(Person).where(Person.owner == "emma")).one()
        row.teams_id = None
        s.add(row)
    summary = run_weekly(engine, pb, kind="reps", clock=clock, courier=courier(rig, engine, pb), to="emma")
    assert summary.failed == [("emma", "not_in_teams")]


def test_the_platform_of_each_persons_settings_on_both(world):
    """Everyone is on Slack and Teams; the playbook says Slack; bruno chose Teams."""
    engine, _, clock, rig = world
    pb = replace(rig.playbook, nudges=replace(rig.playbook.nudges, platform="slack"))
    loop, slack = Loop(), FakeSlack()
    try:
        slack.base_url = loop.serve(slack.app())
        for who in REPS:
            slack.users[f"U_{who.upper()}"] = {"id": f"U_{who.upper()}", "name": who, "locale": "en-US",
                                               "profile": {"email": f"{who}@example.com"}}
        bruno = Context(engine=engine, playbook=pb, actor="bruno", owner="bruno", language="en", clock=clock)
        assert run_command(bruno, "settings platform=teams").ok
        slack_courier = SlackCourier(engine, pb, SlackSettings(signing_secret="", bot_token=BOT_TOKEN,
                                                               api_url=slack.base_url + "/api/"), sleep=lambda s: None)
        summary = run_weekly(engine, pb, kind="reps", clock=clock,
                             couriers=[slack_courier, courier(rig, engine, pb)])
        assert not summary.failed
        on_slack = {c.body["channel"] for c in slack.of("chat.postMessage")}
        assert "DU_BRUNO" not in on_slack and {"DU_ALICE", "DU_DAVID"} <= on_slack
        assert len(sent_to(rig, "bruno")) == 1 and sent_to(rig, "alice") == []
        assert ("bruno", "linked", "teams") in summary.reach and ("alice", "by_email", "slack") in summary.reach
    finally:
        loop.close()


def test_gare_digest_now_posts_to_teams_once(world, db_url):
    engine, pb, clock, rig = world
    env = {k: v for k, v in os.environ.items() if k not in ("GARE_CONFIG", "SLACK_BOT_TOKEN")}
    env.update(DATABASE_URL=db_url, MicrosoftAppId=APP_ID, MicrosoftAppPassword=APP_PASSWORD,
               TEAMS_LOGIN_URL=rig.fake.base_url, TEAMS_OPENID_METADATA_URL=rig.fake.metadata_url)
    config = (ROOT / "config.toml").read_text(encoding="utf-8").replace('platform = "slack"', 'platform = "teams"', 1)
    assert 'platform = "teams"' in config
    path = Path(env.get("TMPDIR", "/tmp")) / f"gare-teams-digest-{os.getpid()}-{id(rig)}.toml"
    path.write_text(config, encoding="utf-8")
    try:
        run = lambda: subprocess.run([sys.executable, "-m", "bot", "--config", str(path), "--lang", "en", "digest",  # noqa: E731
                                      "--now", "--only", "managers"], capture_output=True, text=True, env=env,
                                     timeout=120, cwd=ROOT)
        first = run()
        assert first.returncode == 0, first.stdout + first.stderr
        assert len(sent_to(rig, "claire")) == 2 and len(sent_to(rig, "hugo")) == 2
        second = run()
        assert second.returncode == 0 and "0 posted" in second.stdout
        assert len(sent_to(rig, "claire")) == 2
    finally:
        path.unlink(missing_ok=True)
