"""The Teams test rig: Gare's real aiohttp app (POST /api/messages, the Bot Framework adapter,
token validation on) and the Bot Connector stand-in on 127.0.0.1, the demo data in the test
database (SQLite and PostgreSQL), and helpers that send what the Bot Framework channel sends:
signed Activity JSON for a message, a mention in a channel, an Action.Submit, an Action.Execute
(invoke), an installation."""
from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import datetime, timezone

import jsonschema
import pytest

from bot.server import make_web_app
from bot.teams import TeamsSettings
from bot.teams.shell import TeamsShell
from fake_slack import Loop, http
from fake_teams import APP_ID, APP_PASSWORD, BOT_ID, MEMBERS, TENANT, FakeConnector, card_of
from handlers.demo import load_demo_data
from handlers.reply import Context
from playbook.config import MicrosoftTeams

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
CHANNEL = "19:sales@thread.tacv2"
TEAM = "19:team-west@thread.tacv2"
SCHEMA = json.loads((__import__("pathlib").Path(__file__).parent / "fixtures" / "adaptive-cards" /
                     "adaptive-card-1.5.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft6Validator(SCHEMA)
# Teams refuses bot messages over about 40 KB (UTF-16); base64 images do not count.
MESSAGE_LIMIT = 40_000


def validate_card(card: dict) -> None:
    """Adaptive Card 1.5's published schema, plus what Teams needs: version 1.5 at most, ids of
    inputs unique, a message small enough."""
    errors = sorted(VALIDATOR.iter_errors(card), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message[:300]}" for e in errors[:5])
    assert float(card["version"]) <= 1.5, card["version"]
    ids = []

    def walk(x):
        if isinstance(x, dict):
            if (x.get("type") or "").startswith("Input."):
                ids.append(x["id"])
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(card.get("body"))
    assert len(ids) == len(set(ids)), f"input ids repeated: {ids}"
    assert len(json.dumps(card, ensure_ascii=False).encode("utf-16-le")) <= MESSAGE_LIMIT, "card too big for Teams"


def validate_message(message: dict) -> dict:
    """A message activity as posted: its card valid, a summary for notifications."""
    assert message.get("type") == "message"
    assert message.get("summary", "").strip() or message.get("text", "").strip()
    for attachment in message.get("attachments") or []:
        if attachment["contentType"] == "application/vnd.microsoft.card.adaptive":
            validate_card(attachment["content"])
    return message


class TeamsRig:
    def __init__(self, engine, playbook, *, authenticated: bool = True, tenants: tuple[str, ...] = (TENANT,)):
        self.engine = engine
        self.fake = FakeConnector()
        self.loop = Loop()
        self.fake.base_url = self.loop.serve(self.fake.app())
        self.service_url = self.fake.base_url + "/"
        self.settings = TeamsSettings(
            app_id=APP_ID if authenticated else None, app_password=APP_PASSWORD if authenticated else None,
            openid_metadata_url=self.fake.metadata_url, emulator_openid_metadata_url=self.fake.metadata_url,
            token_issuer=self.fake.issuer, login_url=self.fake.base_url)
        self.playbook = replace(playbook, msteams=MicrosoftTeams(tenants=tenants))
        self.sleeps: list[float] = []

        async def sleep(seconds: float) -> None:  # Retry-After is honoured, without waiting in tests
            self.sleeps.append(seconds)
        self.shell = TeamsShell(engine, self.playbook, self.settings, clock=lambda: NOW, sleep=sleep)
        self.base = self.loop.serve(make_web_app(engine, teams=self.shell))
        self.url = self.base + "/api/messages"
        self._ids = itertools.count(1)

    # --- what the Bot Framework channel sends ------------------------------------------------------
    def activity(self, kind: str = "message", *, user: str = "alice", where: str = "personal",
                 thread: str | None = None, tenant: str = TENANT, locale: str | None = None, **fields) -> dict:
        person = MEMBERS[f"29:{user}"]
        n = next(self._ids)
        if where == "personal":
            conversation = {"id": f"a:personal-{user}", "conversationType": "personal", "tenantId": tenant}
            channel_data = {"tenant": {"id": tenant}}
        else:
            root = thread or f"1699{n:09d}"
            conversation = {"id": f"{CHANNEL};messageid={root}", "conversationType": "channel", "tenantId": tenant,
                            "isGroup": True, "name": "Sales"}
            channel_data = {"tenant": {"id": tenant}, "team": {"id": TEAM, "name": "West"},
                            "channel": {"id": CHANNEL, "name": "Sales"}, "teamsTeamId": TEAM}
        activity = {
            "type": kind, "id": fields.pop("id", None) or f"1699{n:09d}", "channelId": "msteams",
            "serviceUrl": self.service_url, "timestamp": NOW.isoformat(),
            "from": {"id": person["id"], "name": person["name"], "aadObjectId": person["aadObjectId"]},
            "recipient": {"id": BOT_ID, "name": "Gare"}, "conversation": conversation, "channelData": channel_data,
            "locale": locale or ("fr-FR" if user == "chloe" else "en-US"),
        }
        activity.update(fields)
        if where != "personal" and thread is None and kind == "message":
            activity["id"] = conversation["id"].split("=")[1]  # a new post starts its own thread
        return activity

    def post(self, activity: dict | str, *, token: str | None = "valid", headers: dict | None = None,
             content_type: str = "application/json") -> tuple[int, str]:
        body = activity if isinstance(activity, str) else json.dumps(activity)
        all_headers = dict(headers or {})
        if token == "valid":
            all_headers["Authorization"] = "Bearer " + self.fake.token_for(self.service_url)
        elif token is not None:
            all_headers["Authorization"] = token
        return http(self.url, body, all_headers, content_type)

    def send(self, activity: dict) -> tuple[int, str]:
        status, body = self.post(activity)
        assert status in (200, 201), (status, body)
        return status, body

    def say(self, text: str, *, user: str = "alice", where: str = "personal", mention: bool | None = None,
            thread: str | None = None, **fields) -> dict:
        """A message typed to Gare; in a channel, with the @Gare mention. Returns the answer."""
        mention = where != "personal" if mention is None else mention
        entities = []
        if mention:
            text = f"<at>Gare</at> {text}"
            entities = [{"type": "mention", "text": "<at>Gare</at>", "mentioned": {"id": BOT_ID, "name": "Gare"}}]
        before = len(self.fake.posted())
        activity = self.activity(user=user, where=where, thread=thread, text=text, entities=entities,
                                 textFormat="plain", **fields)
        self.send(activity)
        posted = self.fake.posted()[before:]
        assert posted, f"no answer to {text!r}"
        return validate_message(posted[-1].body)

    def submit(self, card_message: dict, action: dict, *, user: str = "alice", where: str = "personal",
               inputs: dict | None = None, reply_to: str = "1700000000999", thread: str | None = None) -> dict | None:
        """Press an Action.Submit button: Teams sends a message with the button's data and the
        card's inputs as its value. Returns the answer posted, if any."""
        assert action["type"] == "Action.Submit", action
        before = len(self.fake.posted())
        self.send(self.activity(user=user, where=where, thread=thread, value={**action["data"], **(inputs or {})},
                                replyToId=reply_to))
        posted = self.fake.posted()[before:]
        return validate_message(posted[-1].body) if posted else None

    def execute(self, action: dict, *, user: str = "alice", where: str = "personal", inputs: dict | None = None,
                reply_to: str = "1700000000999", thread: str | None = None) -> dict:
        """Press an Action.Execute button: an invoke (adaptiveCard/action) whose HTTP answer is the
        card that replaces the one clicked, or a message."""
        assert action["type"] == "Action.Execute", action
        activity = self.activity("invoke", user=user, where=where, thread=thread, name="adaptiveCard/action",
                                 replyToId=reply_to,
                                 value={"action": {"type": "Action.Execute", "verb": action["verb"],
                                                   "data": {**(action.get("data") or {}), **(inputs or {})}},
                                        "trigger": "manual"})
        status, body = self.send(activity)
        assert status == 200, (status, body)
        answer = json.loads(body)
        if answer.get("type") == "application/vnd.microsoft.card.adaptive":
            validate_card(answer["value"])
        return answer

    def install(self, user: str = "alice", where: str = "personal") -> None:
        """The app installed: conversationUpdate with the bot among the members added."""
        self.send(self.activity("conversationUpdate", user=user, where=where, membersAdded=[{"id": BOT_ID}]))

    def healthz(self) -> tuple[int, str]:
        return http(self.base + "/healthz")

    def close(self) -> None:
        self.loop.close()


def card(message: dict) -> dict:
    return card_of(message)


@pytest.fixture
def teams(engine, playbook):
    """The running app with the demo data loaded as of NOW, Bot Framework authentication on."""
    load_demo_data(Context(engine=engine, playbook=playbook, actor="demo", clock=lambda: NOW))
    rig = TeamsRig(engine, playbook)
    try:
        yield rig
    finally:
        rig.close()
