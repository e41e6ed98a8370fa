"""A stand-in for Microsoft's side of Teams in tests, on 127.0.0.1: the Bot Connector (the
serviceUrl of every activity: replies, new messages, updates, a member, a team's roster page by
page, 429s and other failures on demand), the token endpoint the bot gets its own token from,
and the OpenID metadata and signing key the Bot Framework signs its requests with. Tests sign
the tokens themselves with that key (or another one, or expired, or for another app), the way
the Bot Framework channel does, and POST Activity JSON to Gare's /api/messages.

Nothing of Microsoft's is reached: the bot is pointed here by its settings (TeamsSettings'
OpenID metadata URL, token issuer, login URL) and by each activity's serviceUrl."""
from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from fake_slack import _wait_for_gate

APP_ID = "9b2c4c1e-5f6a-4b7c-8d9e-0a1b2c3d4e5f"
APP_PASSWORD = "test-client-secret"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_TENANT = "11111111-2222-4333-8444-555555555555"
BOT_ID = f"28:{APP_ID}"
KEY_ID = "test-signing-key"


def aad(owner: str) -> str:
    """A stable Azure AD object id for a test user."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"aad:{owner}"))


def member(owner: str, name: str, *, email: str | None = None, role: str = "user", upn: str | None = None) -> dict:
    address = email if email is not None else f"{owner}@example.com"
    return {"id": f"29:{owner}", "name": name, "aadObjectId": aad(owner), "email": address,
            "userPrincipalName": upn if upn is not None else address, "userRole": role, "tenantId": TENANT,
            "givenName": name.split(" ")[0], "surname": name.split(" ")[-1]}


MEMBERS = {m["id"]: m for m in (
    member("alice", "Alice Martin"), member("bruno", "Bruno Petit"), member("chloe", "Chloé Dubois"),
    member("david", "David Laurent"), member("emma", "Emma Leroy"), member("farid", "Farid Benali"),
    member("claire", "Claire Roux"), member("hugo", "Hugo Moreau"), member("sophie", "Sophie Garnier"),
    # A guest whose address is a team member's, a look-alike on another domain, someone unknown.
    member("guest", "alice", email="alice@example.com", upn="alice_example.com#EXT#@contoso.onmicrosoft.com",
           role="guest"),
    member("contractor", "David", email="david@contractor.example"),
    member("zed", "Zed", email="zed@example.com"),
)}


class SigningKey:
    """An RSA key as the Bot Framework's: its JWK (with the channels it is endorsed for) is served
    by the stand-in, and tokens are signed with it."""

    def __init__(self, kid: str = KEY_ID, endorsements: tuple[str, ...] = ("msteams",)):
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.jwk = dict(json.loads(RSAAlgorithm.to_jwk(self.private.public_key())), kid=kid, use="sig",
                        endorsements=list(endorsements))

    def sign(self, claims: dict, kid: str | None = None) -> str:
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": kid or self.kid})


@dataclass
class Call:
    kind: str                       # send, reply, update, member, members, token
    conversation: str | None
    activity_id: str | None
    body: Any
    headers: dict = field(default_factory=dict)


class FakeConnector:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.members = dict(MEMBERS)
        self.key = SigningKey()
        self.base_url = ""
        # The SDK caches signing keys per metadata URL for the whole process: a later stand-in on
        # a reused port must not meet the keys of an earlier one, so each has its own path.
        self.instance = uuid.uuid4().hex[:12]
        self.scripted: dict[str, list[tuple[int, dict, dict]]] = {}
        self.keys_delay = 0.0
        self.key_fetches = 0
        self._ids = itertools.count(1)
        self.held: dict[str, threading.Event] = {}

    # --- scripting -------------------------------------------------------------------------
    def fail_next(self, kind: str, status: int, *, retry_after: int | None = None, code: str | None = None) -> None:
        """The next `kind` call (send, reply, update, member, members) answers `status`."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        body = {"error": {"code": code or f"Http{status}", "message": "scripted by the test"}}
        self.scripted.setdefault(kind, []).append((status, body, headers))

    def hold(self, kind: str) -> threading.Event:
        """Calls of this kind ("member": a roster lookup) wait until the event is set: a slow
        Bot Connector."""
        gate = self.held[kind] = threading.Event()
        return gate

    def of(self, kind: str) -> list[Call]:
        return [c for c in self.calls if c.kind == kind]

    def posted(self) -> list[Call]:
        """Every message the bot posted (replies and new messages), in order."""
        return [c for c in self.calls if c.kind in ("send", "reply")]

    def _scripted(self, kind: str) -> web.Response | None:
        if self.scripted.get(kind):
            status, body, headers = self.scripted[kind].pop(0)
            return web.json_response(body, status=status, headers=headers)
        return None

    # --- the Bot Connector -------------------------------------------------------------------
    async def activities(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"]
        activity_id = request.match_info.get("activity")
        kind = {"POST": "reply" if activity_id else "send", "PUT": "update"}[request.method]
        body = await request.json()
        self.calls.append(Call(kind, conversation, activity_id, body, dict(request.headers)))
        failure = self._scripted(kind)
        if failure is not None:
            return failure
        if kind == "update":
            return web.json_response({"id": activity_id})
        return web.json_response({"id": f"1700000000{next(self._ids):03d}"}, status=201)

    async def member(self, request: web.Request) -> web.Response:
        conversation, member_id = request.match_info["conversation"], request.match_info["member"]
        self.calls.append(Call("member", conversation, member_id, None, dict(request.headers)))
        await _wait_for_gate(self.held.get("member"))
        failure = self._scripted("member")
        if failure is not None:
            return failure
        found = self.members.get(member_id)
        if found is None:
            return web.json_response({"error": {"code": "MemberNotFoundInConversation"}}, status=404)
        return web.json_response(found)

    async def paged_members(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"]
        self.calls.append(Call("members", conversation, None, dict(request.query), dict(request.headers)))
        failure = self._scripted("members")
        if failure is not None:
            return failure
        everyone = list(self.members.values())
        start = int(request.query.get("continuationToken") or 0)
        size = int(request.query.get("pageSize") or 100)
        page = everyone[start:start + size]
        more = start + size < len(everyone)
        return web.json_response({"members": page, **({"continuationToken": str(start + size)} if more else {})})

    # --- the token endpoint and the signing keys -----------------------------------------------
    async def token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.calls.append(Call("token", request.match_info["tenant"], None, form, dict(request.headers)))
        if form.get("client_id") != APP_ID or form.get("client_secret") != APP_PASSWORD:
            return web.json_response({"error": "invalid_client"}, status=401)
        return web.json_response({"token_type": "Bearer", "expires_in": 3599,
                                  "access_token": f"bot-token-{next(self._ids)}"})

    async def openid(self, request: web.Request) -> web.Response:
        return web.json_response({"issuer": self.issuer, "jwks_uri": f"{self.base_url}/openid/{self.instance}/keys",
                                  "id_token_signing_alg_values_supported": ["RS256"]})

    async def keys(self, request: web.Request) -> web.Response:
        self.key_fetches += 1
        if self.keys_delay:
            await asyncio.sleep(self.keys_delay)
        return web.json_response({"keys": [self.key.jwk]})

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/issuer"

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/openid/{self.instance}/.well-known/openidconfiguration"

    def token_for(self, service_url: str, *, audience: str = APP_ID, expires_in: int = 3600,
                  key: SigningKey | None = None, issuer: str | None = None, kid: str | None = None) -> str:
        """A Bot Framework channel token for a request to the bot, as the channel signs it."""
        now = int(time.time())
        claims = {"iss": issuer or self.issuer, "aud": audience, "serviceurl": service_url,
                  "nbf": now - 60, "iat": now - 60, "exp": now + expires_in}
        return (key or self.key).sign(claims, kid)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("POST", "/v3/conversations/{conversation}/activities", self.activities)
        app.router.add_route("POST", "/v3/conversations/{conversation}/activities/{activity}", self.activities)
        app.router.add_route("PUT", "/v3/conversations/{conversation}/activities/{activity}", self.activities)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self.member)
        app.router.add_get("/v3/conversations/{conversation}/pagedmembers", self.paged_members)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self.token)
        app.router.add_get("/openid/{instance}/.well-known/openidconfiguration", self.openid)
        app.router.add_get("/openid/{instance}/keys", self.keys)
        return app


# --- reading cards -------------------------------------------------------------------------------

def card_of(message: dict) -> dict:
    """The Adaptive Card of a message activity (or of an invoke response)."""
    if message.get("type") == "application/vnd.microsoft.card.adaptive":
        return message["value"]
    attachments = [a for a in message.get("attachments") or []
                   if a.get("contentType") == "application/vnd.microsoft.card.adaptive"]
    assert attachments, f"no Adaptive Card in {json.dumps(message)[:500]}"
    return attachments[0]["content"]


def card_text(card: Any) -> str:
    """Every text a user reads on a card (text blocks, facts, inputs, buttons), in order."""
    out: list[str] = []

    def walk(x):
        if isinstance(x, dict):
            kind = x.get("type")
            if kind == "TextBlock":
                out.append(x.get("text", ""))
            elif kind == "Fact" or ("title" in x and "value" in x and kind is None):
                out.append(f"{x.get('title')}: {x.get('value')}")
            elif kind in ("Input.Toggle",) or (kind or "").startswith("Action."):
                out.append(x.get("title", ""))
            elif kind and kind.startswith("Input."):
                out.append(x.get("label", ""))
            for key, value in x.items():
                if key not in ("data", "refresh"):
                    walk(value)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(card)
    return "\n".join(out).replace("\\", "")


def actions_of(card: Any) -> list[dict]:
    """Every action on a card (card actions, action sets, shown cards), in order."""
    found: list[dict] = []

    def walk(x):
        if isinstance(x, dict):
            if (x.get("type") or "").startswith("Action."):
                found.append(x)
            for key, value in x.items():
                if key != "refresh":
                    walk(value)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(card)
    return found


def find_action(card: dict, *, verb: str | None = None, title: str | None = None, **data: Any) -> dict:
    """The first action with this Action.Submit `gare` verb or Action.Execute verb (and data)."""
    for action in actions_of(card):
        d = action.get("data") or {}
        if verb is not None and verb not in (action.get("verb"), d.get("gare")):
            continue
        if title is not None and action.get("title") != title:
            continue
        if all(d.get(k) == v for k, v in data.items()):
            return action
    raise AssertionError(f"no action {verb or title} {data} in {json.dumps(card, ensure_ascii=False)[:3000]}")
