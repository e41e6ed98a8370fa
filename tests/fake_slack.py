"""A stand-in for Slack in tests: a local Web API (SLACK_API_URL) that records every call with its
body and answers like Slack (or with a 429 / an error when told to), a receiver for response_url
posts, a signer for requests "from Slack", and a checker of Block Kit limits.

Both the fake and Gare's real aiohttp app run on 127.0.0.1 (random ports) in one background
event loop; tests talk to them over HTTP, the way Slack does."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable

from aiohttp import web

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"

USERS = {
    "U_ALICE": {"id": "U_ALICE", "name": "alice", "real_name": "Alice Martin", "locale": "en-US",
                "profile": {"email": "alice@example.com", "display_name": "", "real_name": "Alice Martin"}},
    "U_CHLOE": {"id": "U_CHLOE", "name": "chloe.d", "real_name": "Chloé Dubois", "locale": "fr-FR",
                "profile": {"email": "chloe@example.com", "display_name": "Chloé", "real_name": "Chloé Dubois"}},
    "U_BRUNO": {"id": "U_BRUNO", "name": "bruno", "real_name": "Bruno Petit", "locale": "de-DE",
                "profile": {"email": "bruno@example.com", "display_name": "bruno", "real_name": "Bruno Petit"}},
    "U_CLAIRE": {"id": "U_CLAIRE", "name": "claire", "real_name": "Claire Roux", "locale": "en-GB",
                 "profile": {"email": "claire@example.com", "display_name": "Claire", "real_name": "Claire Roux"}},
    "U_NOBODY": {"id": "U_NOBODY", "name": "zed", "real_name": "Zed", "locale": "en-GB",
                 "profile": {"email": "zed@example.com", "display_name": "zed", "real_name": "Zed"}},
}


@dataclass
class Call:
    method: str
    body: dict
    headers: dict


async def _wait_for_gate(gate: threading.Event | None, limit: float = 30.0) -> None:
    """A held call waits for its gate (see hold), never longer than `limit` seconds."""
    deadline = time.monotonic() + limit
    while gate is not None and not gate.is_set() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.responses: list[tuple[str, dict]] = []  # (response_url path, body)
        self.scripted: dict[str, list[tuple[int, dict, dict]]] = {}
        self.users = dict(USERS)
        self.uploads: dict[str, bytes] = {}
        self._ts = itertools.count(1)
        self.base_url = ""
        self.socket_outbox: list[dict] = []
        self.socket_acks: list[dict] = []
        self.held: dict[str, threading.Event] = {}
        # What each channel holds, oldest first, as conversations.history answers it back.
        self.messages: dict[str, list[dict]] = {}

    # --- scripting -------------------------------------------------------------------------
    def fail_next(self, method: str, *, error: str | None = None, retry_after: int | None = None) -> None:
        """The next call to `method` answers 429 with Retry-After, or ok=false with `error`."""
        if retry_after is not None:
            item = (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})
        else:
            item = (200, {"ok": False, "error": error or "internal_error"}, {})
        self.scripted.setdefault(method, []).append(item)

    def fail_status(self, method: str, status: int = 503, times: int = 1) -> None:
        """The next `times` calls to `method` answer this HTTP status (a 5xx: Slack in trouble),
        doing nothing."""
        for _ in range(times):
            self.scripted.setdefault(method, []).append((status, {"ok": False, "error": "fatal_error"}, {}))

    def slow_next(self, method: str, seconds: float) -> None:
        """The next call to `method` is done (a message is posted) but answered only after this
        long: a client that gave up earlier never learns it went through."""
        self.scripted.setdefault(method, []).append(("slow", {"seconds": seconds}, {}))

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def hold(self, method: str) -> threading.Event:
        """Calls to `method` wait until the returned event is set: a slow Slack."""
        gate = self.held[method] = threading.Event()
        return gate

    # --- the Web API -----------------------------------------------------------------------
    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body: dict[str, Any] = dict(request.query)
        raw = await request.read()
        if raw:
            if request.content_type == "application/json":
                body.update(json.loads(raw))
            else:
                body.update(dict(urllib.parse.parse_qsl(raw.decode())))
        for key in ("blocks", "view"):
            if isinstance(body.get(key), str):
                body[key] = json.loads(body[key])
        self.calls.append(Call(method, body, dict(request.headers)))
        await _wait_for_gate(self.held.get(method))
        if self.scripted.get(method):
            status, answer, headers = self.scripted[method].pop(0)
            if status == "slow":
                done = self.answer(method, body)
                await asyncio.sleep(answer["seconds"])
                return web.json_response(done)
            return web.json_response(answer, status=status, headers=headers)
        return web.json_response(self.answer(method, body))

    def answer(self, method: str, body: dict) -> dict:
        if method == "chat.postMessage":
            # Slack's ts is the posting time (seconds.micro), unique in the channel.
            ts = f"{int(time.time())}.{next(self._ts):06d}"
            message = {"type": "message", "ts": ts, "text": body.get("text"), "blocks": body.get("blocks")}
            if isinstance(body.get("metadata"), str):
                body["metadata"] = json.loads(body["metadata"])
            if body.get("metadata"):
                message["metadata"] = body["metadata"]
            if not body.get("thread_ts"):
                self.messages.setdefault(str(body.get("channel")), []).append(message)
            return {"ok": True, "channel": body.get("channel"), "ts": ts, "message": message}
        if method == "conversations.history":
            return self.history(body)
        if method == "chat.update":
            return {"ok": True, "channel": body.get("channel"), "ts": body.get("ts")}
        if method in ("views.open", "views.publish", "views.update", "views.push"):
            return {"ok": True, "view": {"id": f"V{next(self._ts):06d}", **(body.get("view") or {})}}
        if method == "users.info":
            user = self.users.get(body.get("user"))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method == "users.list":
            # Cursor pagination as Slack does it: the cursor is opaque, the last page has none.
            members = list(self.users.values())
            start = int(body.get("cursor") or 0)
            limit = int(body.get("limit") or 200)
            page = members[start:start + limit]
            more = start + limit < len(members)
            return {"ok": True, "members": page, "response_metadata": {"next_cursor": str(start + limit) if more else ""}}
        if method == "users.lookupByEmail":
            user = next((u for u in self.users.values() if u["profile"].get("email") == body.get("email")), None)
            return {"ok": True, "user": user} if user else {"ok": False, "error": "users_not_found"}
        if method == "conversations.open":
            users = str(body.get("users") or "")
            if users not in self.users:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "channel": {"id": "D" + users}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):06d}"
            return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = body.get("files")
            files = json.loads(files) if isinstance(files, str) else (files or [])
            return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title")} for f in files]}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.base_url.replace("http://", "ws://") + "/socket"}
        if method == "auth.test":
            return {"ok": True, "team_id": "T1", "user_id": "U_BOT", "bot_id": "B1"}
        return {"ok": True}

    def history(self, body: dict) -> dict:
        """conversations.history as Slack answers it: newest first, after `oldest`, `limit` a
        page with an opaque cursor; metadata only with include_all_metadata."""
        channel = str(body.get("channel"))
        if channel not in self.messages and not channel.startswith(("D", "C")):
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(body.get("oldest") or 0)
        found = [m for m in reversed(self.messages.get(channel, [])) if float(m["ts"]) > oldest]
        start = int(body.get("cursor") or 0)
        limit = int(body.get("limit") or 100)
        page = found[start:start + limit]
        if str(body.get("include_all_metadata")).lower() not in ("1", "true"):
            page = [{k: v for k, v in m.items() if k != "metadata"} for m in page]
        more = start + limit < len(found)
        return {"ok": True, "messages": page, "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: says hello, sends the envelopes queued in `socket_outbox`, records acks."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1})
        for envelope in self.socket_outbox:
            await ws.send_json(envelope)
        async for message in ws:
            if message.type == web.WSMsgType.TEXT:
                self.socket_acks.append(json.loads(message.data))
        return ws

    async def upload(self, request: web.Request) -> web.Response:
        """The upload URL files.getUploadURLExternal hands out: keeps the bytes by file id."""
        data = await request.read()
        self.uploads[request.match_info["file_id"]] = data
        return web.Response(text="OK - " + str(len(data)))

    async def response_url(self, request: web.Request) -> web.Response:
        self.responses.append((request.match_info["key"], await request.json()))
        return web.Response(text="ok")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self.api)
        app.router.add_post("/respond/{key}", self.response_url)
        app.router.add_post("/upload/{file_id}", self.upload)
        app.router.add_get("/socket", self.socket)
        return app


class Loop:
    """One event loop in a background thread, serving aiohttp apps on random local ports."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runners: list[web.AppRunner] = []

    def run(self, coro, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def serve(self, app: web.Application) -> str:
        async def start():
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self.runners.append(runner)
            return runner.addresses[0][1]
        return f"http://127.0.0.1:{self.run(start())}"

    def close(self) -> None:
        async def stop():
            for runner in self.runners:
                await runner.cleanup()
            # Let listener tasks still running after their ack finish or be cancelled cleanly.
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        try:
            self.run(stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            self.loop.close()


def sign(body: str, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def http(url: str, data: str | None = None, headers: dict | None = None, content_type: str | None = None,
         method: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data.encode() if data is not None else None,
                                     headers=dict(headers or {}), method=method)
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
    """Poll until the background work after an ack has produced what the test expects."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.02)


# --- Block Kit limits --------------------------------------------------------------------------

class BlockKitError(AssertionError):
    pass


def _text(obj: Any, where: str, limit: int, kinds=("plain_text", "mrkdwn")) -> None:
    if not isinstance(obj, dict) or obj.get("type") not in kinds:
        raise BlockKitError(f"{where}: expected a text object of type {kinds}, got {obj!r}")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BlockKitError(f"{where}: empty text")
    if len(text) > limit:
        raise BlockKitError(f"{where}: text of {len(text)} characters, limit {limit}")


def _option(o: dict, where: str) -> None:
    _text(o.get("text"), f"{where}.text", 75)
    value = o.get("value")
    if not isinstance(value, str) or not value or len(value) > 150:
        raise BlockKitError(f"{where}: option value {value!r} (1 to 150 characters)")
    if "description" in o:
        _text(o["description"], f"{where}.description", 75)


def _element(e: dict, where: str) -> None:
    kind = e.get("type")
    if "action_id" in e and (not e["action_id"] or len(e["action_id"]) > 255):
        raise BlockKitError(f"{where}: action_id length")
    if kind == "button":
        _text(e.get("text"), f"{where}.text", 75, ("plain_text",))
        if len(e.get("value", "")) > 2000:
            raise BlockKitError(f"{where}: button value over 2000")
        if e.get("style") not in (None, "primary", "danger"):
            raise BlockKitError(f"{where}: style {e.get('style')!r}")
    elif kind in ("static_select", "checkboxes", "radio_buttons"):
        options = e.get("options") or []
        limit = 100 if kind == "static_select" else 10
        if not options or len(options) > limit:
            raise BlockKitError(f"{where}: {len(options)} options (1 to {limit})")
        for i, o in enumerate(options):
            _option(o, f"{where}.options[{i}]")
        values = [o["value"] for o in options]
        if len(set(values)) != len(values):
            raise BlockKitError(f"{where}: duplicate option values")
        chosen = e.get("initial_options", []) + ([e["initial_option"]] if "initial_option" in e else [])
        for o in chosen:
            if o not in options:
                raise BlockKitError(f"{where}: initial option {o!r} is not one of the options")
        if "placeholder" in e:
            _text(e["placeholder"], f"{where}.placeholder", 150, ("plain_text",))
    elif kind == "plain_text_input":
        if e.get("max_length", 0) > 3000:
            raise BlockKitError(f"{where}: max_length over 3000")
        if len(e.get("initial_value", "")) > e.get("max_length", 3000):
            raise BlockKitError(f"{where}: initial value longer than max_length")
    elif kind == "datepicker":
        if "initial_date" in e:
            time.strptime(e["initial_date"], "%Y-%m-%d")
    else:
        raise BlockKitError(f"{where}: unknown element type {kind!r}")


def validate_blocks(blocks: list, surface: str = "message") -> None:
    limit = 50 if surface == "message" else 100
    if not isinstance(blocks, list) or not blocks:
        raise BlockKitError("no blocks")
    if len(blocks) > limit:
        raise BlockKitError(f"{len(blocks)} blocks; a {surface} holds {limit} at most")
    block_ids = set()
    for i, b in enumerate(blocks):
        where = f"blocks[{i}]({b.get('type')})"
        if "block_id" in b:
            if not b["block_id"] or len(b["block_id"]) > 255 or b["block_id"] in block_ids:
                raise BlockKitError(f"{where}: block_id missing, too long or repeated: {b['block_id']!r}")
            block_ids.add(b["block_id"])
        kind = b.get("type")
        if kind == "section":
            if "text" not in b and "fields" not in b:
                raise BlockKitError(f"{where}: a section needs text or fields")
            if "text" in b:
                _text(b["text"], where, 3000)
            for j, f in enumerate(b.get("fields", [])):
                _text(f, f"{where}.fields[{j}]", 2000)
            if len(b.get("fields", [])) > 10:
                raise BlockKitError(f"{where}: more than 10 fields")
            if "accessory" in b:
                _element(b["accessory"], f"{where}.accessory")
        elif kind == "header":
            _text(b.get("text"), where, 150, ("plain_text",))
        elif kind == "context":
            elements = b.get("elements") or []
            if not elements or len(elements) > 10:
                raise BlockKitError(f"{where}: {len(elements)} elements (1 to 10)")
            for j, e in enumerate(elements):
                _text(e, f"{where}.elements[{j}]", 3000)
        elif kind == "actions":
            elements = b.get("elements") or []
            if not elements or len(elements) > 25:
                raise BlockKitError(f"{where}: {len(elements)} elements (1 to 25)")
            ids = [e.get("action_id") for e in elements if e.get("action_id")]
            if len(set(ids)) != len(ids):
                raise BlockKitError(f"{where}: repeated action_id in one block")
            for j, e in enumerate(elements):
                _element(e, f"{where}.elements[{j}]")
        elif kind == "divider":
            pass
        elif kind == "input":
            if surface == "message":
                raise BlockKitError(f"{where}: input blocks belong in modals")
            _text(b.get("label"), f"{where}.label", 2000, ("plain_text",))
            _element(b.get("element") or {}, f"{where}.element")
        else:
            raise BlockKitError(f"{where}: unknown block type")


def validate_message(message: dict) -> None:
    """A message as posted (chat.postMessage, chat.update or a response_url body)."""
    text = message.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > 40000:
        raise BlockKitError("a message needs a plain-text fallback (1 to 40,000 characters)")
    validate_blocks(message.get("blocks"), "message")


def validate_view(view: dict) -> None:
    kind = view.get("type")
    if kind == "modal":
        for key in ("title", "submit", "close"):
            if key in view:
                _text(view[key], f"view.{key}", 24, ("plain_text",))
        if len(view.get("private_metadata", "")) > 3000:
            raise BlockKitError("private_metadata over 3000 characters")
        if len(view.get("callback_id", "")) > 255:
            raise BlockKitError("callback_id over 255 characters")
        validate_blocks(view.get("blocks"), "modal")
    elif kind == "home":
        validate_blocks(view.get("blocks"), "home")
    else:
        raise BlockKitError(f"unknown view type {kind!r}")
