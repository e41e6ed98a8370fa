"""Several `gare serve` processes on one database (docs/deploy.md): two real server processes,
Slack's Web API and the Bot Connector stood in on 127.0.0.1, and the same deliveries sent to
both, as a load balancer retrying or Slack redelivering would. Each is answered exactly once:
the once-only ledger lives in the shared database, not in a process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from fake_slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack, Loop, http, sign, wait_for
from fake_teams import APP_ID, APP_PASSWORD, BOT_ID, MEMBERS, TENANT, FakeConnector
from handlers.demo import load_demo_data
from handlers.reply import Context
from slack_harness import FORM

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def two_servers(engine, db_url, playbook, tmp_path):
    load_demo_data(Context(engine=engine, playbook=playbook, actor="demo"))
    config = tmp_path / "config.toml"
    config.write_text((ROOT / "config.toml").read_text(encoding="utf-8") + f'\n[teams]\ntenants = ["{TENANT}"]\n',
                      encoding="utf-8")
    loop = Loop()
    slack, connector = FakeSlack(), FakeConnector()
    slack.base_url = loop.serve(slack.app())
    connector.base_url = loop.serve(connector.app())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "Microsoft", "TEAMS_", "GARE_"))}
    env.update(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=slack.base_url + "/api/",
               MicrosoftAppId=APP_ID, MicrosoftAppPassword=APP_PASSWORD,
               TEAMS_OPENID_METADATA_URL=connector.metadata_url, TEAMS_TOKEN_ISSUER=connector.issuer,
               TEAMS_LOGIN_URL=connector.base_url, GARE_CONFIG=str(config))
    servers, urls = [], []
    try:
        for _ in range(2):
            port = _free_port()
            servers.append(subprocess.Popen(
                [sys.executable, "-m", "bot", "--db", db_url, "serve", "--host", "127.0.0.1", "--port", str(port)],
                cwd=str(ROOT), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
            urls.append(f"http://127.0.0.1:{port}")
        for url, server in zip(urls, servers):
            def up(url=url, server=server):
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                try:
                    return http(url + "/healthz")[0] == 200
                except OSError:
                    return False
            wait_for(up, timeout=60, what=f"gare serve at {url}")
        yield urls, slack, connector
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
            sys.stderr.write(server.stderr.read().decode()[-3000:])  # shown when the test fails
        loop.close()


def test_two_processes_answer_each_delivery_once(two_servers):
    urls, slack, connector = two_servers

    # A slash command delivered to both processes, and once more as a retry.
    form = urllib.parse.urlencode({
        "token": "x", "team_id": "T1", "channel_id": "C_SALES", "user_id": "U_ALICE", "command": "/gare",
        "text": "whoami", "response_url": f"{slack.base_url}/respond/twice", "trigger_id": "trigger-twice",
        "api_app_id": "A1"})
    for url, retry in ((urls[0], None), (urls[1], None), (urls[1], "1")):
        headers = dict(sign(form), **({"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"}
                                      if retry else {}))
        assert http(url + "/slack/events", form, headers, FORM)[0] == 200

    # An event (a mention) delivered to both, then redelivered with X-Slack-Retry-Num.
    event = json.dumps({"token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
                        "event_id": "Ev2PROC", "event_time": 1,
                        "event": {"type": "app_mention", "user": "U_ALICE", "channel": "C_SALES",
                                  "text": "<@UGARE> whoami", "ts": "1700000100.000100"}})
    for url, retry in ((urls[0], None), (urls[1], None), (urls[0], "1")):
        headers = dict(sign(event), **({"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"}
                                       if retry else {}))
        assert http(url + "/slack/events", event, headers, "application/json")[0] == 200

    # A Teams message (the same activity id) delivered to both.
    service_url = connector.base_url + "/"
    person = MEMBERS["29:alice"]
    activity = json.dumps({
        "type": "message", "id": "1699000000777", "channelId": "msteams", "serviceUrl": service_url,
        "timestamp": "2026-03-10T12:00:00+00:00", "text": "whoami", "textFormat": "plain", "locale": "en-US",
        "from": {"id": person["id"], "name": person["name"], "aadObjectId": person["aadObjectId"]},
        "recipient": {"id": BOT_ID, "name": "Gare"},
        "conversation": {"id": "a:personal-alice", "conversationType": "personal", "tenantId": TENANT},
        "channelData": {"tenant": {"id": TENANT}}})
    for url in urls:
        headers = {"Authorization": "Bearer " + connector.token_for(service_url)}
        assert http(url + "/api/messages", activity, headers, "application/json")[0] in (200, 201)

    wait_for(lambda: [b for k, b in slack.responses if k == "twice"], what="the slash command's answer")
    wait_for(lambda: slack.of("chat.postMessage"), what="the mention's answer")
    time.sleep(1.5)  # a second answer, were there one, would have come by now
    answers = [b for k, b in slack.responses if k == "twice"]
    assert len(answers) == 1 and "alice" in answers[0]["text"].lower()
    assert len(slack.of("chat.postMessage")) == 1
    replies = [c for c in connector.posted() if c.conversation == "a:personal-alice"]
    assert len(replies) == 1  # Teams answered once: both deliveries were handled when the requests returned
