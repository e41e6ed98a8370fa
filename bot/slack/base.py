"""What every Slack listener shares: who is speaking (as a handler context), the registry call
on a worker thread, the reply rendered as Block Kit, the answer sent where the user asked, and
the once-only claims that make redeliveries and double clicks count once."""
from __future__ import annotations

import asyncio
import copy
import logging
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Callable

import aiohttp
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy.engine import Engine

from bot.nudges import worker_id
from bot.outbox import deliver_outbox
from bot.render import render
from bot.workpool import Busy, WorkPool  # noqa: F401  (WorkPool: the shell's pool)
from bot.slack.client import SlackSettings, message_for, post_message
from bot.slack.people import PLATFORM, identify_user
from handlers import registry
from handlers.conversations import claim
from handlers.people import Identity, chat_context, identify, language_of, nobody
from handlers.reply import Context, Reply
from playbook.config import Playbook, localized

log = logging.getLogger("gare.slack")

# Replies that only show data may be shared in the channel (the registry says which); changes
# are never re-run.
SHAREABLE = registry.SHAREABLE
# Two identical clicks this close together are one click (a double-click, a slow network).
DOUBLE_CLICK = timedelta(seconds=10)
OUTBOX_EVERY = 5.0  # seconds between two deliveries of the outbox while serving
BUSY = Reply("error", {"error": "busy"}, ok=False)
RESPONSE_TIMEOUT = aiohttp.ClientTimeout(total=30)
SLACK_LANGUAGE_WAIT = 1.0  # seconds: the answer must reach the user within Slack's 3


@lru_cache(maxsize=None)
def _busy_message(language: str | None, currency: str) -> dict[str, Any]:
    return message_for(BUSY, language=language, currency=currency)


def busy_message(language: str | None, currency: str) -> dict[str, Any]:
    """"Busy, try again in a moment" as a Slack message, rendered once per language: the
    answer when the pool is full must not itself wait for the pool."""
    return copy.deepcopy(_busy_message(language, currency))


class ShellBase:
    pool: WorkPool
    engine: Engine
    playbook: Playbook
    settings: SlackSettings
    clock: Callable[[], datetime]

    async def deliver_outbox(self) -> None:
        """Post what changes owe to people outside the conversation (marketing's nurture channel)."""
        try:
            await deliver_outbox(self.engine, self.playbook, self.client, worker=worker_id(), clock=self.clock)
        except Exception:  # the database or Slack may be down: the next round tries again
            log.warning("outbox delivery failed", exc_info=True)

    def _http(self) -> aiohttp.ClientSession:
        """One HTTP session for every response_url post, opened in the serving loop: its
        connections are kept alive and reused instead of one new connection per answer."""
        session = getattr(self, "_response_session", None)
        if session is None or session.closed:
            session = self._response_session = aiohttp.ClientSession(timeout=RESPONSE_TIMEOUT)
        return session

    async def close_http(self, _app=None):
        """aiohttp cleanup context: the response_url session is closed with the server."""
        yield
        session = getattr(self, "_response_session", None)
        if session is not None:
            await session.close()

    async def _respond(self, url: str, **payload: Any) -> None:
        await AsyncWebhookClient(url, session=self._http()).send(**payload)

    async def outbox_loop(self, _app):
        """aiohttp cleanup context: the outbox is delivered every few seconds while serving."""
        async def loop():
            while True:
                await self.deliver_outbox()
                await asyncio.sleep(OUTBOX_EVERY)
        task = asyncio.create_task(loop())
        yield
        task.cancel()

    async def _claim(self, kind: str, identity: str, window: timedelta | None = None) -> bool:
        return await asyncio.to_thread(claim, self.engine, PLATFORM, kind, identity, self.clock(), window)

    # The claim above runs before the ack of some listeners: it takes the default executor so a
    # full pool never delays an ack.

    async def _who(self, client, user_id: str, timeout: float | None = None) -> Context:
        """Who speaks, as a handler context (handlers/people.py decides who that is). With a
        timeout (work before an ack), a slow Slack leaves the speaker unknown, who may then change
        nothing, rather than the ack late."""
        try:
            identity = await asyncio.wait_for(
                identify_user(client, self.engine, self.playbook, user_id, self.clock, run=self._work), timeout)
        except (asyncio.TimeoutError, Busy):
            if timeout is None:
                raise  # Busy: the listener's wrapper answers "busy" (bot/slack/app.py)
            identity = Identity(nobody(), PLATFORM, user_id, None, "platform_timeout")
        return chat_context(self.engine, self.playbook, identity, self.clock)

    def _extra(self, ctx: Context, **extra: Any) -> dict[str, Any]:
        stages = [{"id": s.id, "name": localized(s.name, ctx.language)} for s in self.playbook.stages]
        return {"stages": stages, **extra}

    def _message(self, ctx: Context, reply: Reply, **extra: Any) -> dict[str, Any]:
        """The reply as a Slack message; a reply that fails to render is answered politely."""
        try:
            return message_for(reply, language=ctx.language, currency=self.playbook.currency,
                               **self._extra(ctx, **extra))
        except Exception:
            log.exception("could not render the reply %r for Slack", reply.template)
            return message_for(Reply("error", {"error": "internal"}, ok=False), language=ctx.language,
                               currency=self.playbook.currency)

    def _view(self, ctx: Context, template: str, data: Any, **extra: Any) -> dict[str, Any]:
        return render(Reply(template, data), surface="slack", language=ctx.language, currency=self.playbook.currency,
                      **self._extra(ctx, **extra))

    async def _work(self, fn, *args, **kwargs):
        """Database or rendering work, on the bounded pool (never on the event loop)."""
        return await self.pool.run(fn, *args, **kwargs)

    async def _invoke(self, ctx: Context, command: str, /, **args) -> Reply:
        """A declared command called on the pool, checked and caught like a typed one; when the
        pool is full the user hears it at once."""
        try:
            return await self._work(registry.invoke, ctx, command, **args)
        except Busy:
            return BUSY

    async def _run_text(self, ctx: Context, text: str) -> Reply:
        try:
            return await self._work(registry.run, ctx, text)
        except Busy:
            return BUSY

    async def _rendered(self, ctx: Context, reply: Reply, **extra: Any) -> dict[str, Any]:
        """The reply as a Slack message, rendered on the pool (the busy reply is rendered once)."""
        try:
            return await self._work(self._message, ctx, reply, **extra)
        except Busy:
            return busy_message(ctx.language, self.playbook.currency)

    async def _viewed(self, body: dict, ctx: Context, template: str, data: Any, **extra: Any) -> dict | None:
        """A modal or home view rendered on the pool; None (and the busy reply) when it is full."""
        try:
            return await self._work(self._view, ctx, template, data, **extra)
        except Busy:
            await self._answer(body, ctx, BUSY)
            return None

    @staticmethod
    def _answer_extra(reply: Reply, command: str | None, page: int) -> dict[str, Any]:
        """How an answer is drawn: "Share in channel" only on replies that only show data."""
        shareable = reply.ok and reply.template in SHAREABLE and command is not None
        return {"ephemeral": shareable, "command": command, "page": page}

    def _command_job(self, user_id: str, text: str, trigger: str | None) -> tuple[Context, Reply, dict | None] | None:
        """A slash command's work in one trip to the pool: the once-only claim (a command
        delivered to two processes, or twice, is answered once), who speaks, the command, and
        its rendering. None when another delivery has it; (None, None, None) for a speaker the
        store does not know yet (Slack is asked, then the usual steps follow)."""
        now = self.clock()
        if trigger and not claim(self.engine, PLATFORM, "command", f"command:{trigger}", now):
            return None
        identity = identify(self.engine, self.playbook, PLATFORM, user_id, now)
        if identity is None:
            return None, None, None
        ctx = chat_context(self.engine, self.playbook, identity, self.clock)
        reply = registry.run(ctx, text)
        special = reply.ok and reply.template in ("checklist", "plan_export")
        message = None if special else self._message(ctx, reply, **self._answer_extra(reply, text, 1))
        return ctx, reply, message

    async def _answer(self, body: dict, ctx: Context, reply: Reply, *, command: str | None = None, page: int = 1,
                      replace: bool = False, message: dict | None = None) -> None:
        """Show a reply to the one user who asked: through the request's response_url (an
        ephemeral message, with "Share in channel" when it only shows data), or as a direct
        message when the request came from the App Home. `message`: already rendered."""
        if message is None:
            message = await self._rendered(ctx, reply, **self._answer_extra(reply, command, page))
        url = body.get("response_url")
        if url:
            await self._respond(url, response_type="ephemeral", replace_original=replace,
                                text=message["text"], blocks=message["blocks"])
        else:
            user = (body.get("user") or {}).get("id") or body.get("user_id")
            await self.client.chat_postMessage(channel=user, text=message["text"], blocks=message["blocks"])
        if reply.ok and isinstance(reply.data, dict) and reply.data.get("marketing_told"):
            await self.deliver_outbox()  # marketing hears of it now, not at the next round

    async def _slack_language(self, client, body: dict) -> str | None:
        """The speaker's language as Slack has it (users.info locale), asked briefly: for the
        answers given without the store."""
        user = (body.get("user") or {}).get("id") or body.get("user_id") or (body.get("event") or {}).get("user")
        if not user:
            return None
        try:
            found = await asyncio.wait_for(client.users_info(user=user, include_locale=True), SLACK_LANGUAGE_WAIT)
            return language_of((found.get("user") or {}).get("locale"))
        except Exception:  # Slack slow or refusing: the playbook's language
            return None

    async def _answer_busy(self, ack, body: dict, reply: Reply | None = None, language: str | None = None) -> None:
        """A listener refused by the full pool (or finding the database down) before it changed
        anything: acknowledged, and told "busy, try again in a moment" (or `reply`) where it
        would have been answered."""
        try:
            await ack()
        except Exception:  # already acknowledged by the listener itself
            pass
        language = language or self.playbook.language
        if reply is None:
            message = busy_message(language, self.playbook.currency)
        else:
            message = message_for(reply, language=language, currency=self.playbook.currency)
        event = body.get("event") or {}
        user = (body.get("user") or {}).get("id") or body.get("user_id")
        if body.get("response_url"):
            await self._respond(body["response_url"], response_type="ephemeral", text=message["text"],
                                blocks=message["blocks"])
        elif event.get("type") == "app_mention":
            await post_message(self.client, event.get("channel"), message, thread_ts=event.get("thread_ts")
                               or event.get("ts"))
        elif user and body.get("type") == "block_actions":
            await self.client.chat_postMessage(channel=user, text=message["text"], blocks=message["blocks"])

    async def _double_click(self, body: dict, action: dict) -> bool:
        """True when this click repeats an identical one a moment ago (then it is dropped)."""
        container = body.get("container") or {}
        identity = ":".join(str(x) for x in ("action", (body.get("user") or {}).get("id"),
                                             container.get("message_ts") or container.get("view_id"),
                                             action.get("action_id"), action.get("block_id"), action.get("value")))
        return not await self._claim("action", identity, DOUBLE_CLICK)
