"""`gare people sync teams`: the roster of every team Gare is installed in (read page by page
through the Bot Connector, in a proactive turn on the team's stored conversation), linked to the
directory by AAD object id under the handlers' rules: a verified e-mail or UPN on the playbook's
domains, never a display name, never a guest."""
from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine

from bot.teams.app import TeamsBot, Turn
from bot.teams.people import PLATFORM, profile_of
from bot.teams.retry import with_retries
from bot.teams.settings import TeamsSettings
from handlers.directory import SyncReport, link_members
from playbook.config import Playbook
from store import teams_conversations
from store.database import session_scope
from store.queries import Actor

PAGE_SIZE = 500


class NoTeam(Exception):
    """Gare is installed in no team yet: there is no roster to read."""


def sync_teams(engine: Engine, playbook: Playbook, settings: TeamsSettings, *, dry_run: bool,
               actor: Actor) -> SyncReport:
    with session_scope(engine) as session:
        installed = [(row.team_id, row.reference) for row in teams_conversations.teams(session)]
    if not installed:
        raise NoTeam()
    bot = TeamsBot(settings)
    members: dict[str, tuple[str, object]] = {}

    async def read(team_id: str, reference: dict) -> None:
        reference = dict(reference, conversation=dict(reference.get("conversation") or {}, id=team_id))

        async def pages(turn: Turn) -> None:
            token = None
            while True:
                page, token = await with_retries(lambda: turn.paged_members(token, PAGE_SIZE), what="a roster page")
                for member in page:
                    if member.get("aadObjectId"):
                        members.setdefault(member["aadObjectId"], (member["aadObjectId"], profile_of(member)))
                if not token:
                    return
        await bot.continue_conversation(reference, pages)

    async def read_all() -> None:
        for team_id, reference in installed:
            await read(team_id, reference)
    asyncio.run(read_all())
    return link_members(engine, playbook, PLATFORM, list(members.values()), dry_run=dry_run, actor=actor)
