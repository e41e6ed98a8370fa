"""The HTTP server as Slack and a load balancer see it: signatures always checked (forged,
unsigned and stale requests get 401 and change nothing), offline start, the health check."""
from __future__ import annotations

import json
import time
import urllib.parse

from sqlalchemy import func
from sqlmodel import SQLModel, select

from bot.server import make_web_app
from bot.slack import SlackSettings
from fake_slack import Loop, http, sign
from slack_harness import FORM
from store.database import make_engine, session_scope


def _row_counts(engine):
    with session_scope(engine) as s:
        return {t.name: s.exec(select(func.count()).select_from(t)).one() for t in SQLModel.metadata.sorted_tables}


def test_forged_unsigned_and_stale_requests_get_401_and_touch_nothing(rig):
    before = _row_counts(rig.engine)
    form = urllib.parse.urlencode({"command": "/gare", "text": "deal X nurture", "user_id": "U_ALICE",
                                   "channel_id": "C1", "team_id": "T1", "response_url": rig.api + "/respond/x"})
    forged = dict(sign(form), **{"X-Slack-Signature": "v0=" + "0" * 64})
    assert rig.post(form, FORM, headers=forged, signed=False)[0] == 401
    assert rig.post(form, FORM, signed=False)[0] == 401
    assert rig.post(form, FORM, timestamp=int(time.time()) - 6 * 60)[0] == 401
    wrong_secret = sign(form, secret="not-the-secret")
    assert rig.post(form, FORM, headers=wrong_secret, signed=False)[0] == 401
    event = json.dumps({"type": "event_callback", "event_id": "Ev9", "team_id": "T1",
                        "event": {"type": "app_home_opened", "user": "U_ALICE"}})
    assert rig.post(event, "application/json", signed=False)[0] == 401
    time.sleep(0.1)
    assert rig.fake.calls == [] and rig.fake.responses == []
    assert _row_counts(rig.engine) == before


def test_url_verification_and_no_call_to_slack_at_start(rig):
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"})
    status, answer = rig.post(body, "application/json")
    assert status == 200 and "abc123" in answer
    key = rig.command("stages")
    rig.wait_response(key)
    assert not rig.fake.of("auth.test")
    assert {c.method for c in rig.fake.calls} <= {"users.info"}
    assert all(c.headers.get("Authorization") == "Bearer xoxb-test-token" for c in rig.fake.calls)


def test_healthz_reports_the_database(engine):
    loop = Loop()
    try:
        up = loop.serve(make_web_app(engine))
        assert http(up + "/healthz") == (200, '{"status": "ok"}')
        assert http(up + "/slack/events", "x", method="POST")[0] == 404  # Slack not configured here
        broken = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1", migrate=False)
        down = loop.serve(make_web_app(broken))
        assert http(down + "/healthz")[0] == 503
    finally:
        loop.close()


def test_settings_come_from_the_environment():
    assert SlackSettings.from_env({}) is None
    s = SlackSettings.from_env({"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-1",
                                "SLACK_API_URL": "http://127.0.0.1:9/api"})
    assert s.api_url == "http://127.0.0.1:9/api/" and s.app_token is None
    assert SlackSettings.from_env({"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "t"}).api_url == \
        "https://slack.com/api/"


def test_gare_serve_is_a_cli_command():
    from bot.cli import COMMANDS, _parser

    args = _parser().parse_args(["serve", "--port", "8123", "--socket-mode"])
    assert args.port == 8123 and args.socket_mode and "serve" in COMMANDS


def test_the_manifest_declares_what_the_app_serves():
    from pathlib import Path

    import yaml

    manifest = yaml.safe_load((Path(__file__).resolve().parent.parent / "slack_manifest.yml").read_text())
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert commands == {"/gare", "/fit"}
    urls = {c["url"] for c in manifest["features"]["slash_commands"]}
    urls |= {manifest["settings"]["event_subscriptions"]["request_url"],
             manifest["settings"]["interactivity"]["request_url"]}
    assert len(urls) == 1 and urls.pop().endswith("/slack/events")
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {"app_mention", "app_home_opened"}
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "app_mentions:read", "users:read", "users:read.email"} <= scopes


def test_socket_mode_takes_the_same_commands(rig):
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from fake_slack import wait_for

    key, url = rig.response_url()
    rig.fake.socket_outbox.append({
        "envelope_id": "env-1", "type": "slash_commands", "accepts_response_payload": True,
        "payload": {"command": "/gare", "text": "stages", "user_id": "U_ALICE", "channel_id": "C1", "team_id": "T1",
                    "response_url": url, "trigger_id": "t1", "api_app_id": "A1"}})
    async def connect():  # the handler opens its HTTP session on the running loop
        handler = AsyncSocketModeHandler(rig.shell.bolt, "xapp-test", web_client=rig.shell.client)
        await handler.connect_async()
        return handler
    handler = rig.loop.run(connect())
    try:
        answer = rig.wait_response(key)
        assert "Pipeline stages" in answer["text"]
        wait_for(lambda: any(a.get("envelope_id") == "env-1" for a in rig.fake.socket_acks), what="the ack")
        opened = rig.fake.of("apps.connections.open")[0]
        assert opened.headers["Authorization"] == "Bearer xapp-test"  # through SLACK_API_URL, with the app token
    finally:
        rig.loop.run(handler.close_async())


def test_one_claim_wins_among_concurrent_workers(engine):
    from concurrent.futures import ThreadPoolExecutor
    from datetime import datetime, timedelta, timezone

    from handlers.conversations import claim, forget_old_events

    now = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: claim(engine, "slack", "event", "event:T1:EvSame", now), range(16)))
    assert results.count(True) == 1
    # A click may come again once the double-click window has passed, not before.
    window = timedelta(seconds=10)
    assert claim(engine, "slack", "action", "click", now, window)
    assert not claim(engine, "slack", "action", "click", now + timedelta(seconds=5), window)
    assert claim(engine, "slack", "action", "click", now + timedelta(seconds=20), window)
    assert forget_old_events(engine, now + timedelta(days=8)) == 2
