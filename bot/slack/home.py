"""The App Home: each person's dashboard, published when they open it and after a change made
from it."""
from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.slack.base import ShellBase
from bot.slack.client import slack_error
from bot.workpool import Busy
from handlers import registry
from handlers.dashboard import home

log = logging.getLogger("gare.slack")

class HomeListeners(ShellBase):
    async def _publish_home(self, client, user_id: str) -> None:
        ctx = await self._who(client, user_id)
        try:
            reply = await self._work(registry.guarded, ctx, lambda: home(ctx), "home")
        except Busy:
            return  # the home tab is redrawn the next time it is opened
        if not reply.ok:
            return
        try:
            view = await self._work(self._view, ctx, "home", reply.data)
        except Busy:
            return
        try:
            await client.views_publish(user_id=user_id, view=view)
        except SlackApiError as exc:
            log.warning("views.publish failed for %s: %s", user_id, slack_error(exc))

    async def on_home_opened(self, event: dict, client, **_) -> None:
        if event.get("tab", "home") != "home":
            return
        await self._publish_home(client, event["user"])
