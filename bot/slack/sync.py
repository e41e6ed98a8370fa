"""`gare people sync slack`: every member of the workspace (users.list, page by page, paced and
429-safe), linked to the directory by verified e-mail under the handlers' rules."""
from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine

from bot.slack.client import SlackSettings, make_web_client
from bot.slack.people import PLATFORM, all_users
from handlers.directory import SyncReport, link_members
from playbook.config import Playbook
from store.queries import Actor

# users.list is a Tier 2 method (about 20 calls a minute): a page every 3 s stays under it.
PAGE_PAUSE = 3.0


def sync_slack(engine: Engine, playbook: Playbook, settings: SlackSettings, *, dry_run: bool, actor: Actor,
               pause: float = PAGE_PAUSE) -> SyncReport:
    async def members():
        client = make_web_client(settings)
        return [m async for m in all_users(client, pause=pause)]
    found = asyncio.run(members())
    return link_members(engine, playbook, PLATFORM, found, dry_run=dry_run, actor=actor)
