"""Slash commands, mentions, and the buttons of cards and lists (share, pages, view, run, done,
stage): each acks, finds who speaks, calls the registry, and answers where the user asked."""
from __future__ import annotations

import json
import logging
import re

from slack_sdk.errors import SlackApiError

from bot.slack.base import BUSY, ShellBase
from bot.slack.client import post_message, slack_error
from bot.workpool import Busy
from handlers.conversations import run_in_thread, thread_subject

log = logging.getLogger("gare.slack")
MENTION = re.compile(r"<@[^>]+>")

class CommandListeners(ShellBase):
    async def on_command(self, ack, body: dict, client, **_) -> None:
        await ack()
        text = (body.get("text") or "").strip()
        if body.get("command") == "/fit":
            text = f"fit {text}" if text else "fit"
        trigger = f"{body.get('team_id')}:{body['trigger_id']}" if body.get("trigger_id") else None
        # A full pool raises Busy here, before anything is done: the listener's wrapper says so.
        done = await self._work(self._command_job, body["user_id"], text, trigger)
        if done is None:
            return  # another delivery of this very command is answered elsewhere
        ctx, reply, message = done
        if ctx is None:  # a speaker the store does not know yet: Slack says who it is
            ctx = await self._who(client, body["user_id"])
            reply = await self._run_text(ctx, text)
        if reply.ok and reply.template == "checklist" and "answered" not in reply.data:
            await self._post_checklist(body, ctx, reply, channel=body.get("channel_id"))
            return
        if reply.ok and reply.template == "checklist":
            await self._refresh_checklists(ctx, reply.data, answered_by=ctx.actor)
        if reply.ok and reply.template == "plan_export":
            await self._upload_plan(body, ctx, reply, body.get("channel_id"))
            return
        await self._answer(body, ctx, reply, command=text, message=message)

    async def on_mention(self, event: dict, client, **_) -> None:
        text = MENTION.sub(" ", event.get("text") or "").strip()
        channel = event.get("channel")
        thread_ts = event.get("thread_ts")
        ctx = await self._who(client, event.get("user"))
        try:
            subject = await self._work(thread_subject, ctx, channel, thread_ts) if thread_ts else None
            reply = await self._work(run_in_thread, ctx, text, subject)
        except Busy:
            reply = BUSY
        reply_ts = thread_ts or event.get("ts")
        if reply.ok and reply.template == "checklist" and "answered" not in reply.data:
            await self._post_checklist({"user_id": event.get("user")}, ctx, reply, channel=channel, thread_ts=reply_ts)
            return
        if reply.ok and reply.template == "checklist":
            await self._refresh_checklists(ctx, reply.data, answered_by=ctx.actor)
        if reply.ok and reply.template == "plan_export":
            await self._upload_plan({"user_id": event.get("user")}, ctx, reply, channel, thread_ts=reply_ts)
            return
        try:
            await post_message(client, channel, await self._rendered(ctx, reply), thread_ts=reply_ts)
        except SlackApiError as exc:
            log.warning("could not answer a mention in %s: %s", channel, slack_error(exc))

    # --- cards and lists ----------------------------------------------------------------------

    async def on_share(self, ack, body: dict, action: dict, client, respond, **_) -> None:
        """Post the same reply in the channel for everyone, and drop the private copy."""
        await ack()
        if await self._double_click(body, action):
            return
        value = json.loads(action["value"])
        ctx = await self._who(client, body["user"]["id"])
        reply = await self._run_text(ctx, value["cmd"])
        message = await self._rendered(ctx, reply, page=value.get("p", 1))
        await respond(response_type="in_channel", replace_original=False, text=message["text"],
                      blocks=message["blocks"])
        await respond(delete_original=True)

    async def on_page(self, ack, body: dict, action: dict, client, **_) -> None:
        await ack()
        value = json.loads(action["value"])
        ctx = await self._who(client, body["user"]["id"])
        reply = await self._run_text(ctx, value["cmd"])
        ephemeral = bool((body.get("container") or {}).get("is_ephemeral"))
        await self._answer(body, ctx, reply, command=value["cmd"], page=int(value.get("p", 1)), replace=ephemeral)

    async def _button_reply(self, ack, body: dict, action: dict, client, command: str, name: str, /,
                            **args) -> None:
        """A button that shows a reply to the presser: ack, drop a double click, answer; `command`
        is what "Share in channel" and paging run again."""
        await ack()
        if await self._double_click(body, action):
            return
        ctx = await self._who(client, body["user"]["id"])
        reply = await self._invoke(ctx, name, **args) if name else await self._run_text(ctx, command)
        await self._answer(body, ctx, reply, command=command)

    async def on_view_account(self, ack, body: dict, action: dict, client, **_) -> None:
        name = action["value"]
        await self._button_reply(ack, body, action, client, f'account "{name}"', "account", account=name)

    async def on_view_deal(self, ack, body: dict, action: dict, client, **_) -> None:
        name = action["value"]
        await self._button_reply(ack, body, action, client, f'deal "{name}"', "deal", deal=name)

    async def on_run(self, ack, body: dict, action: dict, client, **_) -> None:
        """E.g. "See all my frozen deals" in a weekly nudge."""
        await self._button_reply(ack, body, action, client, action["value"], "")

    async def on_contacted(self, ack, body: dict, action: dict, client, **_) -> None:
        """"Log a contact today" on an at-risk customer: the last contact is today."""
        name = action["value"]
        await self._button_reply(ack, body, action, client, f'account "{name}"', "account_set", account=name,
                                 changes={"last_contact": "today"})

    async def on_action_done(self, ack, body: dict, action: dict, client, **_) -> None:
        """"Done" on a common action in the weekly nudge: recorded, due again after its cadence."""
        await ack()
        if await self._double_click(body, action):
            return
        value = json.loads(action["value"])
        ctx = await self._who(client, body["user"]["id"])
        reply = await self._invoke(ctx, "action_done", account=value["account"], number=str(value["n"]))
        await self._answer(body, ctx, reply)

    async def on_stage_select(self, ack, body: dict, action: dict, client, **_) -> None:
        await ack()
        deal_name = action.get("block_id", "").partition("|")[2]
        stage = (action.get("selected_option") or {}).get("value")
        if not deal_name or not stage:
            return
        ctx = await self._who(client, body["user"]["id"])
        reply = await self._invoke(ctx, "deal_stage", deal=deal_name, stage=stage)
        ephemeral = bool((body.get("container") or {}).get("is_ephemeral"))
        await self._answer(body, ctx, reply, replace=ephemeral)
