"""Who a Slack user is for Gare, asked of Slack only when the store does not know yet
(users.info), and which Slack user a person of the directory is (their linked id, else
users.lookupByEmail). Whether a Slack account may be linked is the handlers' decision
(handlers/people.py): this module only turns Slack's user objects into platform profiles."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import AsyncIterator, Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import Engine

from bot.slack.client import slack_error

from handlers.people import Identity, PlatformProfile, identify, nobody
from playbook.config import Playbook

log = logging.getLogger("gare.slack")
PLATFORM = "slack"


def profile_of(user: dict) -> PlatformProfile:
    """A Slack user object (users.info, users.list, users.lookupByEmail) as a platform profile.
    Slack confirms every member's e-mail address; guests are restricted or ultra-restricted."""
    profile = user.get("profile") or {}
    return PlatformProfile(
        email=profile.get("email") or None,
        name=profile.get("real_name") or user.get("real_name") or profile.get("display_name") or None,
        locale=user.get("locale"),
        is_bot=bool(user.get("is_bot") or user.get("is_app_user") or user.get("id") == "USLACKBOT"),
        is_guest=bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
        deleted=bool(user.get("deleted")),
    )


async def identify_user(client: AsyncWebClient, engine: Engine, playbook: Playbook, user_id: str,
                        clock: Callable[[], datetime], run=None) -> Identity:
    """The speaker: from the store when known; else from users.info (with the locale). `run`
    runs the store work off the event loop (the shell's pool; a thread by default)."""
    run = run or asyncio.to_thread
    now = clock()
    known = await run(identify, engine, playbook, PLATFORM, user_id, now)
    if known is not None:
        return known
    try:
        response = await client.users_info(user=user_id, include_locale=True)
    except SlackApiError as exc:  # missing scope, deleted user...: answer anyway, as nobody
        log.warning("users.info failed for %s: %s", user_id, slack_error(exc))
        return Identity(nobody(), PLATFORM, user_id, None, "platform_error")
    return await run(identify, engine, playbook, PLATFORM, user_id, now, profile_of(response["user"]))


async def lookup_by_email(client: AsyncWebClient, email: str) -> tuple[str, PlatformProfile] | None:
    """The Slack user with this e-mail address, or None."""
    try:
        response = await client.users_lookupByEmail(email=email)
    except SlackApiError as exc:
        log.info("users.lookupByEmail found nobody for an address: %s", slack_error(exc))
        return None
    user = response["user"]
    return user["id"], profile_of(user)


async def all_users(client: AsyncWebClient, *, page_size: int = 200,
                    pause: float = 0.0) -> AsyncIterator[tuple[str, PlatformProfile]]:
    """Every member of the workspace (users.list, paginated by cursor). Slack rates users.list
    at Tier 2: `pause` spaces the pages, and the client waits out a 429 by its Retry-After."""
    cursor = None
    while True:
        response = await client.users_list(limit=page_size, cursor=cursor)
        for user in response.get("members") or []:
            yield user["id"], profile_of(user)
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return
        if pause:
            await asyncio.sleep(pause)
