"""Delivering the weekly nudges and digests to Slack like a good citizen: the rep's channel from
the playbook (a DM by default), at most `messages_per_second` per channel, 429s waited out by the
client (Retry-After), permanent errors reported per recipient without stopping the run, and the
manager's chart uploaded in the digest's thread through the same SLACK_API_URL.

Each message carries its once-only key in Slack message metadata. A post that failed in a way
that may still have reached Slack (a 5xx, a timeout, a dropped connection) is retried with
back-off only after the channel's history shows no message with that key; a run resuming a dead
run's claim looks there the same way (find_sent). So a message is never posted twice."""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Callable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from sqlalchemy.engine import Engine

from bot.charts import digest_chart
from bot.nudges import DeliveryFailed
from bot.render import render
from bot.slack.client import (
    SlackSettings, find_message, make_web_client, message_for, post_message, settings_from_environment, slack_error,
)
from bot.slack.people import PLATFORM, lookup_by_email
from handlers.directory import Recipient
from handlers.people import identify
from handlers.reply import Reply
from playbook.words import fold
from playbook.config import Playbook

log = logging.getLogger("gare.delivery")
METADATA_EVENT = "gare_weekly_message"  # the event_type of the once-only key's metadata
POST_ATTEMPTS = 4          # a 5xx or a timeout: tried again after 1, 2, then 4 s
POST_TIMEOUT = 30          # seconds for one Web API call
HISTORY_PAGES = 10         # of 200 messages: far more than a week of a bot's DM
# Errors that retrying in this run will not fix: reported in the run's summary.
PERMANENT = {"channel_not_found", "not_in_channel", "is_archived", "user_not_found", "account_inactive",
             "cannot_dm_bot", "user_disabled", "invalid_auth", "not_authed", "missing_scope", "restricted_action",
             "msg_too_long", "invalid_blocks", "no_permission", "not_in_slack"}


def chart_for(data: dict, language: str) -> bytes | None:
    try:
        return digest_chart(data, language)
    except Exception:  # the digest reads well without its picture
        log.exception("could not draw the digest chart")
        return None


class SlackCourier:
    platform = PLATFORM

    def __init__(self, engine: Engine, playbook: Playbook, settings: SlackSettings, *,
                 sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc), timeout: float = POST_TIMEOUT):
        self.engine, self.playbook, self.settings = engine, playbook, settings
        self.sleep, self.monotonic, self.clock = sleep, monotonic, clock
        self.loop = asyncio.new_event_loop()
        self.client = make_web_client(settings)
        self.client.timeout = timeout
        # A dropped connection may have delivered the post: _post_once checks before trying
        # again, so the client's blind retry of connection errors is left to 429s alone.
        self.client.retry_handlers = [h for h in self.client.retry_handlers
                                      if isinstance(h, AsyncRateLimitErrorRetryHandler)]
        self.last_post: dict[str, float] = {}

    def close(self) -> None:
        self.loop.close()

    def _run(self, coro):
        return self.loop.run_until_complete(coro)

    def _pace(self, channel: str) -> None:
        """At most `messages_per_second` messages per channel, as Slack asks of apps."""
        gap = 1.0 / self.playbook.nudges.messages_per_second
        last = self.last_post.get(channel)
        if last is not None:
            wait = gap - (self.monotonic() - last)
            if wait > 0:
                self.sleep(wait)
        self.last_post[channel] = self.monotonic()

    async def _channel(self, recipient: Recipient) -> str:
        """The rep's channel from the playbook, else a DM with their linked Slack account, else
        with the member Slack finds by their e-mail (linked then, under the same rules as a
        sign-in: a full member, an address on the playbook's domains)."""
        channel = self.playbook.nudges.channel_for(recipient.owner)
        if channel != "dm":
            return channel
        user = recipient.slack_id
        if user is None and recipient.email:
            found = await lookup_by_email(self.client, recipient.email)
            if found is not None:
                user_id, profile = found
                identity = await asyncio.to_thread(identify, self.engine, self.playbook, PLATFORM, user_id,
                                                   self.clock(), profile)
                if identity.person.owner is not None and fold(identity.person.owner) == fold(recipient.owner):
                    user = user_id
        if user is None:
            raise DeliveryFailed("not_in_slack")
        opened = await self.client.conversations_open(users=user)
        return opened["channel"]["id"]

    async def _find(self, channel: str, once_key: str, since: datetime) -> str | None:
        """The ts of the message carrying `once_key` in the channel since then, else None."""
        return await find_message(self.client, channel, once_key, since, pages=HISTORY_PAGES)

    async def _post_once(self, channel: str, message: dict, once_key: str | None, since: datetime) -> str:
        """chat.postMessage with the key in its metadata; after a 5xx, a timeout or a dropped
        connection, again with back-off, unless the history shows Slack took it after all."""
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": once_key}} if once_key else None
        for attempt in range(1, POST_ATTEMPTS + 1):
            try:
                return await post_message(self.client, channel, message, metadata=metadata)
            except SlackApiError as exc:
                if exc.response.status_code < 500:
                    raise
                failure = f"http_{exc.response.status_code}"
            except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
                failure = "timeout" if isinstance(exc, asyncio.TimeoutError) else "connection_error"
            if attempt == POST_ATTEMPTS:
                raise DeliveryFailed(failure, permanent=False)
            log.info("Slack answered %s to a weekly message: trying again in %s s", failure, 2 ** (attempt - 1))
            self.sleep(2 ** (attempt - 1))
            if once_key:
                try:
                    found = await self._find(channel, once_key, since)
                except (SlackApiError, asyncio.TimeoutError, aiohttp.ClientError):
                    raise DeliveryFailed(failure, permanent=False) from None  # cannot tell: never post twice
                if found is not None:
                    return found
        raise AssertionError("unreachable")

    async def _deliver(self, recipient: Recipient, reply: Reply, language: str,
                       chart: bytes | None, once_key: str | None = None) -> tuple[str, str]:
        channel = await self._channel(recipient)
        self._pace(channel)
        message = message_for(reply, language=language, currency=self.playbook.currency)
        ts = await self._post_once(channel, message, once_key, self.clock() - timedelta(minutes=5))
        if chart:
            title = render(Reply("chart_title", reply.data), language=language).strip()
            try:
                await self.client.files_upload_v2(channel=channel, thread_ts=ts, file=chart,
                                                  filename="gare-digest.png", title=title)
            except SlackApiError as exc:  # the text already went out; the chart is a bonus
                log.warning("chart upload failed for %s: %s", recipient.owner, slack_error(exc))
        return channel, ts

    def deliver(self, recipient: Recipient, reply: Reply, language: str,
                chart: bytes | None = None, once_key: str | None = None) -> tuple[str, str]:
        try:
            return self._run(self._deliver(recipient, reply, language, chart, once_key))
        except SlackApiError as exc:
            error = str(slack_error(exc) or exc.response.status_code)
            raise DeliveryFailed(error, permanent=error in PERMANENT) from None
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:  # opening the DM, looking the rep up
            raise DeliveryFailed("timeout" if isinstance(exc, asyncio.TimeoutError) else "connection_error",
                                 permanent=False) from None

    def find_sent(self, recipient: Recipient, once_key: str, since: datetime) -> tuple[str, str] | None:
        """(channel, ts) of the recipient's message carrying `once_key` since then, else None;
        DeliveryFailed when Slack cannot be asked (then nothing is posted: never twice)."""
        async def look():
            channel = await self._channel(recipient)
            ts = await self._find(channel, once_key, since)
            return (channel, ts) if ts is not None else None
        try:
            return self._run(look())
        except SlackApiError as exc:
            raise DeliveryFailed(f"history_{slack_error(exc) or exc.response.status_code}", permanent=False) from None
        except (asyncio.TimeoutError, aiohttp.ClientError):
            raise DeliveryFailed("history_timeout", permanent=False) from None


def courier_from_environment(engine: Engine, playbook: Playbook, environ: dict | None = None) -> SlackCourier | None:
    """Posting needs only the bot token (and SLACK_API_URL for a test or staging server)."""
    settings = settings_from_environment(environ)
    return SlackCourier(engine, playbook, settings) if settings is not None else None


def couriers_from_environment(engine: Engine, playbook: Playbook, environ: dict | None = None) -> dict:
    """Every platform the environment configures to post on: Slack (SLACK_BOT_TOKEN), Teams
    (MicrosoftAppId and MicrosoftAppPassword, or GARE_TEAMS_DEV=1). Platform -> courier."""
    from bot.teams.delivery import courier_from_environment as teams_courier

    found = {"slack": courier_from_environment(engine, playbook, environ),
             "teams": teams_courier(engine, playbook, environ)}
    return {platform: courier for platform, courier in found.items() if courier is not None}
