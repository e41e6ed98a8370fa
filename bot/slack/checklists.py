"""Qualification checklists in deal threads: posting one makes its thread the deal's thread;
ticking a box saves the answer and updates every posted copy in its own language."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from slack_sdk.errors import SlackApiError

from bot.slack.base import ShellBase
from bot.slack.client import message_for, post_message, slack_error
from bot.workpool import Busy
from handlers.conversations import (
    checklist_copies, remember_checklist, remember_thread, subject_name,
)
from handlers.reply import Context, Reply

log = logging.getLogger("gare.slack")

class ChecklistListeners(ShellBase):
    async def _post_checklist(self, body: dict, ctx: Context, reply: Reply, *, channel: str | None,
                              thread_ts: str | None = None) -> None:
        """Post the checklist where everyone sees it: its thread becomes the deal's thread."""
        user = body.get("user_id") or (body.get("user") or {}).get("id")
        target = channel or user
        try:
            ts = await post_message(self.client, target, await self._rendered(ctx, reply), thread_ts=thread_ts)
        except SlackApiError as exc:
            error = slack_error(exc)
            log.info("checklist not posted in %s: %s", target, error)
            code = "not_in_channel" if error in ("not_in_channel", "channel_not_found") else "slack_failed"
            await self._answer(body, ctx, Reply("error", {"error": code, "detail": error}, ok=False))
            return
        await asyncio.to_thread(remember_checklist, ctx, target, ts, reply.data["subject"], reply.data["subject_id"])
        if thread_ts:
            await asyncio.to_thread(remember_thread, ctx, target, thread_ts, reply.data["subject"],
                                    reply.data["subject_id"])

    async def _refresh_checklists(self, ctx: Context, data: dict, *, answered_by: str,
                                  also: tuple[str, str] | None = None) -> None:
        """chat.update every posted copy of this checklist with the answers now in the store,
        each in the language it was posted in."""
        copies = await asyncio.to_thread(checklist_copies, ctx, data["subject"], data["subject_id"])
        rendered: dict[str, dict] = {}
        targets = {(c, ts): lang for c, ts, lang in copies}
        if also and also not in targets:
            targets[also] = ctx.language
        name = data["deal"] or data["account"]
        for (channel, ts), language in targets.items():
            language = language or ctx.language
            if language not in rendered:
                if language == ctx.language:
                    reply = Reply("checklist", data)
                else:
                    other = replace(ctx, language=language)
                    reply = await self._invoke(other, "checklist", name=name)
                    if not reply.ok:
                        continue  # that copy keeps its old ticks until the next change
                    reply = Reply("checklist", dict(reply.data, answered=data.get("answered")))
                try:
                    rendered[language] = await self._work(message_for, reply, language=language,
                                                          currency=self.playbook.currency, answered_by=answered_by)
                except Busy:
                    continue
            if language not in rendered:
                continue
            try:
                await self.client.chat_update(channel=channel, ts=ts, **rendered[language])
            except SlackApiError as exc:  # deleted message, archived channel: the others still update
                log.info("checklist copy %s/%s not updated: %s", channel, ts, slack_error(exc))

    async def on_open_checklist(self, ack, body: dict, action: dict, client, **_) -> None:
        await ack()
        if await self._double_click(body, action):
            return
        ctx = await self._who(client, body["user"]["id"])
        reply = await self._invoke(ctx, "checklist", name=action["value"])
        if not reply.ok:
            await self._answer(body, ctx, reply)
            return
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        await self._post_checklist(body, ctx, reply, channel=channel)

    async def _checklist_answer(self, body: dict, action: dict, client, answers_for) -> None:
        block = action.get("block_id", "")
        parts = block.split("|")
        if len(parts) != 5:
            return
        ctx = await self._who(client, body["user"]["id"])
        subject, subject_id = parts[3], int(parts[4])
        name = await asyncio.to_thread(subject_name, ctx, subject, subject_id)
        if name is None:
            return
        answers = answers_for(parts)
        if not answers:
            return
        reply = await self._invoke(ctx, "checklist_answer", name=name, answers=answers)
        if not reply.ok:
            await self._answer(body, ctx, reply)
            return
        container = body.get("container") or {}
        here = (container.get("channel_id"), container.get("message_ts")) if container.get("message_ts") else None
        await self._refresh_checklists(ctx, reply.data, answered_by=ctx.actor, also=here)

    async def on_tick(self, ack, body: dict, action: dict, client, **_) -> None:
        """A box ticked or unticked: only what this user changed is saved (the block id says what
        the message showed), so two people ticking different boxes at once both count."""
        await ack()
        selected = {o["value"] for o in action.get("selected_options") or []}

        def changed(parts: list[str]) -> dict[str, str]:
            chunk, shown = int(parts[1]), parts[2]
            boxes = [b.id for b in self.playbook.success_boxes][chunk * 10:(chunk + 1) * 10]
            return {box: ("yes" if box in selected else "no") for box, was in zip(boxes, shown)
                    if (box in selected) != (was == "1")}
        await self._checklist_answer(body, action, client, changed)

    async def on_trait(self, ack, body: dict, action: dict, client, **_) -> None:
        await ack()
        value = (action.get("selected_option") or {}).get("value")
        await self._checklist_answer(body, action, client,
                                     lambda parts: {parts[1]: value} if value in ("yes", "no") else {})
