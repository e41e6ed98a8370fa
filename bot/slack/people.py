"""Who a Slack user is for Gare (the owner name on accounts and deals, the language they read)
and which Slack user an owner is. Asked of Slack once (users.info, users.lookupByEmail) and then
cached in the store, shared by every worker."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import Engine

from handlers.people import ChatPerson, chat_ids_of_owner, known_person, remember_person

log = logging.getLogger("gare.slack")
PLATFORM = "slack"


def _remember(engine: Engine, user: dict, now: datetime, also_known: tuple[str, ...] = ()) -> ChatPerson:
    profile = user.get("profile") or {}
    names = [profile.get("display_name"), profile.get("real_name"), user.get("real_name"), user.get("name")]
    return remember_person(engine, PLATFORM, user["id"], email=profile.get("email"), names=names,
                           locale=user.get("locale"), now=now, also_known=also_known)


async def person(client: AsyncWebClient, engine: Engine, user_id: str, clock: Callable[[], datetime],
                 also_known: tuple[str, ...] = ()) -> ChatPerson:
    """The speaker, from the store when known; else from users.info (with the locale).
    `also_known`: owner names beyond those on accounts and deals (team managers)."""
    now = clock()
    known = await asyncio.to_thread(known_person, engine, PLATFORM, user_id, now)
    if known is not None:
        return known
    try:
        response = await client.users_info(user=user_id, include_locale=True)
    except SlackApiError as exc:  # missing scope, deleted user...: answer anyway, as nobody in particular
        log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
        return ChatPerson(user_id, None, None, None, None)
    return await asyncio.to_thread(_remember, engine, response["user"], now, also_known)


async def slack_user_of_owner(client: AsyncWebClient, engine: Engine, owner: str,
                              clock: Callable[[], datetime]) -> str | None:
    """The Slack user id to message about an owner's deals: known, else looked up by e-mail
    (owners imported from a CRM are often e-mail addresses)."""
    known = await asyncio.to_thread(chat_ids_of_owner, engine, PLATFORM, owner)
    if known:
        return known[0]
    if "@" not in owner:
        return None
    try:
        response = await client.users_lookupByEmail(email=owner)
    except SlackApiError as exc:
        log.info("users.lookupByEmail found nobody for %s: %s", owner, exc.response.get("error"))
        return None
    found = await asyncio.to_thread(_remember, engine, response["user"], clock())
    return found.chat_id
