"""Talking to Slack's Web API: settings from the environment, one client whose base URL is
SLACK_API_URL (so tests and staging can point every call at a local server) and which waits
out 429 answers, and a reply turned into a message (Block Kit plus its plain-text fallback).
The weekly nudges post through `post_reply` too."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timezone
from typing import Any

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.render import render
from handlers.reply import Reply

DEFAULT_API_URL = "https://slack.com/api/"
# Slack truncates longer fallbacks; notifications show far less anyway.
FALLBACK_LIMIT = 3000


@dataclass(frozen=True)
class SlackSettings:
    signing_secret: str
    bot_token: str
    api_url: str = DEFAULT_API_URL
    app_token: str | None = None  # Socket Mode only
    bot_user_id: str | None = None

    @classmethod
    def from_env(cls, environ: dict | None = None) -> "SlackSettings | None":
        """None when Slack is not configured (the server then serves the other channels)."""
        env = os.environ if environ is None else environ
        secret, token = env.get("SLACK_SIGNING_SECRET"), env.get("SLACK_BOT_TOKEN")
        if not secret or not token:
            return None
        api_url = env.get("SLACK_API_URL") or DEFAULT_API_URL
        if not api_url.endswith("/"):
            api_url += "/"
        return cls(signing_secret=secret, bot_token=token, api_url=api_url,
                   app_token=env.get("SLACK_APP_TOKEN") or None, bot_user_id=env.get("SLACK_BOT_USER_ID") or None)


def settings_from_environment(environ: dict | None = None) -> SlackSettings | None:
    """What posting and reading the directory need: the bot token (and SLACK_API_URL for a test
    or staging server); the signing secret only matters to the server."""
    env = os.environ if environ is None else environ
    token = env.get("SLACK_BOT_TOKEN")
    if not token:
        return None
    api_url = env.get("SLACK_API_URL") or DEFAULT_API_URL
    return SlackSettings(signing_secret=env.get("SLACK_SIGNING_SECRET", ""), bot_token=token,
                         api_url=api_url if api_url.endswith("/") else api_url + "/")


def slack_error(exc) -> str:
    """The error code of a failed Web API call; a body that is not Slack's JSON (a proxy's
    error page, a 405) is named by its HTTP status instead of failing in turn."""
    data = getattr(exc.response, "data", None)
    if isinstance(data, dict):
        return str(data.get("error") or "unknown")
    return f"http_{getattr(exc.response, 'status_code', 0)}"


def make_web_client(settings: SlackSettings, *, with_token: bool = True) -> AsyncWebClient:
    """Every Web API call goes to settings.api_url; a 429 is retried after its Retry-After.
    Bolt gets a client without the token: its `authorize` supplies the token per request."""
    return AsyncWebClient(
        token=settings.bot_token if with_token else None,
        base_url=settings.api_url,
        retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=1),
                        AsyncRateLimitErrorRetryHandler(max_retry_count=3)],
    )


def fallback_text(reply: Reply, language: str, currency: str) -> str:
    """The text rendering, for notifications and screen readers (mrkdwn-escaped, cut short)."""
    text = render(reply, surface="text", language=language, currency=currency).strip()
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text if len(text) <= FALLBACK_LIMIT else text[: FALLBACK_LIMIT - 1] + "…"


def message_for(reply: Reply, *, language: str, currency: str, **extra: Any) -> dict[str, Any]:
    """A chat message for a reply: Block Kit from templates/slack plus the text fallback."""
    payload = render(reply, surface="slack", language=language, currency=currency, **extra)
    return {"text": fallback_text(reply, language, currency), "blocks": payload["blocks"]}


async def post_reply(client: AsyncWebClient, channel: str, reply: Reply, *, language: str, currency: str,
                     thread_ts: str | None = None, metadata: dict[str, Any] | None = None, **extra: Any) -> str:
    """chat.postMessage a reply; returns the message's ts (its thread's id)."""
    return await post_message(client, channel, message_for(reply, language=language, currency=currency, **extra),
                              thread_ts=thread_ts, metadata=metadata)


async def post_message(client: AsyncWebClient, channel: str, message: dict[str, Any], *,
                       thread_ts: str | None = None, metadata: dict[str, Any] | None = None) -> str:
    """chat.postMessage a rendered message (see message_for); returns its ts. `metadata`
    ({event_type, event_payload}) travels with the message, readable back with
    conversations.history include_all_metadata."""
    kwargs: dict[str, Any] = {"channel": channel, "text": message["text"], "blocks": message["blocks"],
                              "unfurl_links": False, "unfurl_media": False}
    if thread_ts:
        kwargs["thread_ts"] = thread_ts
    if metadata:
        kwargs["metadata"] = metadata
    response = await client.chat_postMessage(**kwargs)
    return response["ts"]


async def find_message(client: AsyncWebClient, channel: str, key: str, since, pages: int = 10) -> str | None:
    """The ts of the message in `channel` whose metadata carries this once-only key (posted
    since `since`, a datetime), else None: conversations.history with include_all_metadata,
    newest first, a page of 200 at a time."""
    cursor = None
    oldest = f"{since.timestamp():.6f}" if since.tzinfo else f"{since.replace(tzinfo=timezone.utc).timestamp():.6f}"
    for _ in range(pages):
        page = await client.conversations_history(channel=channel, oldest=oldest, include_all_metadata=True,
                                                  limit=200, cursor=cursor)
        for message in page.get("messages") or []:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("key") == key:
                return message["ts"]
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not page.get("has_more") or not cursor:
            return None
    return None
