"""The Slack test rig: Gare's real aiohttp app and the fake Slack Web API on 127.0.0.1, the demo
data in the test database (SQLite and PostgreSQL, from conftest's `engine`), and helpers that
send what Slack sends (signed slash commands, clicks, modal submissions, events)."""
from __future__ import annotations

import itertools
import json
import urllib.parse
from datetime import datetime, timezone

import pytest

from bot.server import make_web_app
from bot.slack import SlackSettings, SlackShell
from fake_slack import (BOT_TOKEN, SIGNING_SECRET, FakeSlack, Loop, http, sign, validate_message, validate_view,
                        wait_for)
from handlers.demo import load_demo_data
from handlers.reply import Context

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
FORM = "application/x-www-form-urlencoded"


def find(blocks: list, action_id: str, value: str | None = None) -> tuple[dict, dict]:
    """(block, element) of the first interactive element with that action id (and value)."""
    for block in blocks:
        elements = block.get("elements", []) if block.get("type") == "actions" else [block.get("accessory") or {}]
        for element in elements:
            if element.get("action_id") == action_id and (value is None or element.get("value") == value):
                return block, element
    raise AssertionError(f"no {action_id} {value or ''} in {json.dumps(blocks)[:2000]}")


def all_text(blocks: list) -> str:
    """Every text a user reads in these blocks, in order."""
    out = []

    def walk(x):
        if isinstance(x, dict):
            if x.get("type") in ("plain_text", "mrkdwn") and isinstance(x.get("text"), str):
                out.append(x["text"])
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(blocks)
    return "\n".join(out)


class SlackRig:
    def __init__(self, engine, playbook):
        self.engine, self.playbook = engine, playbook
        self.fake = FakeSlack()
        self.loop = Loop()
        self.api = self.loop.serve(self.fake.app())
        self.fake.base_url = self.api
        settings = SlackSettings(signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, api_url=self.api + "/api/")
        self.shell = SlackShell(engine, playbook, settings, clock=lambda: NOW)
        self.url = self.loop.serve(make_web_app(engine, slack=self.shell)) + "/slack/events"
        self._n = itertools.count(1)

    def context(self, owner="alice", language="en") -> Context:
        return Context(engine=self.engine, playbook=self.playbook, actor=owner, owner=owner, language=language,
                       clock=lambda: NOW, platform="test")

    # --- sending what Slack sends --------------------------------------------------------------
    def post(self, body: str, content_type: str, *, headers: dict | None = None, signed: bool = True,
             timestamp: int | None = None) -> tuple[int, str]:
        all_headers = dict(sign(body, timestamp) if signed else {})
        all_headers.update(headers or {})
        return http(self.url, body, all_headers, content_type)

    def response_url(self) -> tuple[str, str]:
        key = f"r{next(self._n)}"
        return key, f"{self.api}/respond/{key}"

    def command(self, text: str, user: str = "U_ALICE", command: str = "/gare", channel: str = "C_SALES") -> str:
        """A slash command; returns the key of its response_url."""
        key, url = self.response_url()
        form = {"token": "x", "team_id": "T1", "channel_id": channel, "user_id": user, "command": command,
                "text": text, "response_url": url, "trigger_id": f"trigger-{key}", "api_app_id": "A1"}
        status, body = self.post(urllib.parse.urlencode(form), FORM)
        assert status == 200, (status, body)
        return key

    def interact(self, payload: dict) -> tuple[int, str]:
        payload = {"team": {"id": "T1"}, "api_app_id": "A1", "token": "x", **payload}
        return self.post("payload=" + urllib.parse.quote(json.dumps(payload)), FORM)

    def click(self, user: str, blocks: list, action_id: str, value: str | None = None, *, channel: str = "C_SALES",
              message_ts: str | None = None, ephemeral: bool = True, home: bool = False, selected=None) -> str:
        """Press a button (or pick an option) found in `blocks`; returns the response_url key."""
        block, element = find(blocks, action_id, value)
        action = {"type": element["type"], "action_id": action_id, "block_id": block.get("block_id", "b"),
                  "action_ts": f"{next(self._n)}.0"}
        if element["type"] == "button":
            action["value"] = element.get("value", "")
        elif element["type"] in ("static_select", "radio_buttons"):
            action["selected_option"] = selected
        elif element["type"] == "checkboxes":
            action["selected_options"] = selected
        key, url = self.response_url()
        payload = {"type": "block_actions", "user": {"id": user}, "trigger_id": f"trigger-{key}",
                   "actions": [action]}
        if home:
            payload["container"] = {"type": "view", "view_id": "VHOME"}
            payload["view"] = {"id": "VHOME", "type": "home"}
        else:
            payload["container"] = {"type": "message", "message_ts": message_ts or "1.0", "channel_id": channel,
                                    "is_ephemeral": ephemeral}
            payload["channel"] = {"id": channel}
            payload["response_url"] = url
            if not ephemeral:
                payload["message"] = {"ts": message_ts, "blocks": blocks}
        status, body = self.interact(payload)
        assert status == 200, (status, body)
        return key

    def submit(self, user: str, view: dict, values: dict[str, dict]) -> tuple[int, dict]:
        """Submit a modal as opened with views.open; `values` maps block id -> element state."""
        state = {block_id: {"value": element} for block_id, element in values.items()}
        payload = {"type": "view_submission", "user": {"id": user}, "trigger_id": "t",
                   "view": {**view, "id": view.get("id", "V1"), "state": {"values": state}}}
        status, body = self.interact(payload)
        return status, (json.loads(body) if body.strip().startswith("{") else {})

    def event(self, event: dict, event_id: str, retry: int | None = None) -> tuple[int, str]:
        body = json.dumps({"token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
                           "event_id": event_id, "event_time": 1, "event": event})
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return self.post(body, "application/json", headers=headers)

    # --- what the user sees --------------------------------------------------------------------
    def responses(self, key: str) -> list[dict]:
        return [body for k, body in self.fake.responses if k == key]

    def wait_response(self, key: str, count: int = 1) -> dict:
        found = wait_for(lambda: len(self.responses(key)) >= count and self.responses(key), what=f"response {key}")
        message = found[count - 1]
        if not message.get("delete_original"):
            validate_message(message)
        return message

    def wait_call(self, method: str, count: int = 1, where=None) -> dict:
        calls = wait_for(lambda: [c for c in self.fake.of(method) if where is None or where(c.body)][count - 1:],
                         what=f"{count} {method}")
        body = calls[0].body
        if method in ("chat.postMessage", "chat.update"):
            validate_message(body)
        if method in ("views.open", "views.publish"):
            validate_view(body["view"])
        return body

    def close(self) -> None:
        self.loop.close()


@pytest.fixture
def rig(engine, playbook):
    """The running app with the demo data loaded as of NOW."""
    ctx = Context(engine=engine, playbook=playbook, actor="demo", clock=lambda: NOW)
    load_demo_data(ctx)
    r = SlackRig(engine, playbook)
    try:
        yield r
    finally:
        r.close()
