"""Delivering the weekly nudges and digests to Teams: through each person's personal chat with
the bot (the conversation reference stored when they installed it or first wrote to it), with
continue_conversation; the manager's chart as an inline image right after the digest; at most 7
messages a second per conversation; 429, 412, 502 and 504 retried with back-off (Retry-After
honoured); other failures reported for that person without stopping the run. The once-only
ledger is bot/nudges.py's, the same as Slack's.

Each weekly message carries its once-only key in the activity's channelData (gareOnceKey), but
a Teams bot cannot read a chat's history back (the Bot Connector has no such call for Teams,
and Microsoft Graph would need ChatMessage.Read.All, an admin-consented read of every chat): a
run resuming a dead run's claim relies on the ledger alone and posts. A duplicate is possible
only when a process dies between the connector's 201 and the ledger's commit, milliseconds."""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone
from typing import Awaitable, Callable

from sqlalchemy.engine import Engine

from bot.nudges import DeliveryFailed
from bot.render import render
from bot.teams.app import TeamsBot, Turn
from bot.teams.cards import image_message, message_for
from bot.teams.people import PLATFORM
from bot.teams.retry import ConnectorError, Pacer, with_retries
from bot.teams.settings import TeamsSettings
from handlers.directory import Recipient
from handlers.reply import Reply
from playbook.config import Playbook
from store import teams_conversations
from store.database import session_scope

log = logging.getLogger("gare.teams")
# Errors that retrying in this run will not fix (the bot removed, the chat gone, our token refused).
PERMANENT = {401, 403, 404}


class TeamsCourier:
    platform = PLATFORM

    def __init__(self, engine: Engine, playbook: Playbook, settings: TeamsSettings, *,
                 sleep: Callable[[float], Awaitable[None]] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 monotonic: Callable[[], float] = time.monotonic):
        self.engine, self.playbook, self.settings, self.clock = engine, playbook, settings, clock
        self.sleep = sleep or asyncio.sleep
        self.loop = asyncio.new_event_loop()  # the weekly run is synchronous (a scheduler thread)
        self.bot = TeamsBot(settings)
        self.pacer = Pacer(sleep=self.sleep, monotonic=monotonic)

    def close(self) -> None:
        self.loop.close()

    def _conversation(self, recipient: Recipient):
        if not recipient.teams_id:
            raise DeliveryFailed("not_in_teams")
        with session_scope(self.engine) as session:
            row = teams_conversations.personal(session, recipient.teams_id)
            if row is None:
                raise DeliveryFailed("no_teams_chat")
            return row.id, row.conversation_id, row.reference

    async def _deliver(self, reference: dict, key: str, messages: list[dict]) -> list[str | None]:
        ids: list[str | None] = []

        async def send(turn: Turn) -> None:
            for i, message in enumerate(messages):
                await self.pacer.wait(key)
                try:
                    ids.append(await with_retries(lambda: turn.send(message), sleep=self.sleep, what="a weekly message"))
                except ConnectorError:
                    if i == 0:
                        raise
                    log.warning("the digest chart could not be sent to %s", key)  # the text went out
        await self.bot.continue_conversation(reference, send)
        return ids

    def deliver(self, recipient: Recipient, reply: Reply, language: str,
                chart: bytes | None = None, once_key: str | None = None) -> tuple[str, str]:
        row_id, conversation_id, reference = self._conversation(recipient)
        message = message_for(reply, language=language, currency=self.playbook.currency)
        if once_key:
            message["channelData"] = {**(message.get("channelData") or {}), "gareOnceKey": once_key}
        messages = [message]
        if chart:
            messages.append(image_message(chart, render(Reply("chart_title", reply.data), language=language).strip()))
        key = f"tc{row_id}"
        try:
            ids = self.loop.run_until_complete(self._deliver(reference, key, messages))
        except ConnectorError as exc:
            raise DeliveryFailed(exc.name, permanent=exc.status in PERMANENT) from None
        return key, (ids[0] or "")[:40]


def courier_from_environment(engine: Engine, playbook: Playbook, environ: dict | None = None) -> TeamsCourier | None:
    settings = TeamsSettings.from_env(environ)
    if settings is None or settings.problem():
        return None
    return TeamsCourier(engine, playbook, settings)
