"""Who a Teams user is for Gare. Teams names a user by their Azure AD object id (`aadObjectId`),
which is what the directory links (Person.teams_id); the first time, their UPN and e-mail come
from the conversation's roster (TeamsInfo.get_member), and handlers/people.py links them when an
address is on the playbook's `[people] email_domains`. Display names identify nobody, guests are
never linked. This module only turns Teams' member objects into platform profiles."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Callable

from sqlalchemy.engine import Engine

from bot.teams.retry import ConnectorError
from handlers.people import Identity, PlatformProfile, identify, language_of, nobody
from playbook.config import Playbook

log = logging.getLogger("gare.teams")
PLATFORM = "teams"


def profile_of(member: dict, locale: str | None = None) -> PlatformProfile:
    """A Teams member (roster, activity `from`) as a platform profile. `userRole` is "guest" for
    people from outside the tenant (and "anonymous" for meeting guests): never linked."""
    role = (member.get("userRole") or "").lower()
    return PlatformProfile(
        email=member.get("email") or None,
        upn=member.get("userPrincipalName") or None,
        name=member.get("name") or None,
        locale=locale or member.get("locale"),
        is_bot=role == "bot" or str(member.get("id") or "").startswith("28:"),
        is_guest=role in ("guest", "anonymous"),
    )


async def identify_user(turn, engine: Engine, playbook: Playbook, clock: Callable[[], datetime],
                        run=None) -> Identity:
    """The speaker of a turn: from the store when known, else from the roster. `run` runs the
    store work off the event loop (the shell's pool; a thread by default)."""
    run = run or asyncio.to_thread
    activity = turn.activity
    sender = activity.get("from") or {}
    aad = sender.get("aadObjectId")
    locale = activity.get("locale")
    if not aad:  # a bot, an anonymous meeting guest, the emulator: nobody the directory knows
        return Identity(nobody(sender.get("name")), PLATFORM, sender.get("id") or "?", language_of(locale),
                        "no_aad_object_id")
    now = clock()
    known = await run(identify, engine, playbook, PLATFORM, aad, now)
    if known is not None:
        return known
    member = None
    try:
        member = await turn.member(sender.get("id"))
    except ConnectorError as exc:  # the roster could not be read: answer anyway, as nobody
        log.warning("Teams roster lookup failed for %s: %s", aad, exc.name)
        return Identity(nobody(sender.get("name")), PLATFORM, aad, language_of(locale), "platform_error")
    # The activity's own `from` may carry the UPN or e-mail too; the roster's word wins.
    profile = profile_of({**sender, **(member or {})}, locale)
    if member is not None and (member.get("aadObjectId") or aad) != aad:
        return Identity(nobody(sender.get("name")), PLATFORM, aad, language_of(locale), "platform_error")
    return await run(identify, engine, playbook, PLATFORM, aad, now, profile)
