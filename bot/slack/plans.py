"""Account plans in Slack: "Edit plan" opens one form per part of the plan (goal, task, KPI,
stakeholder, white space, rival, Five Forces, discovery, review), submitted through the registry
like the typed command (so the permission is checked when the form is sent, and a refused value
comes back beside its field); "Done" ticks a task off; the export is uploaded to the conversation
as a Markdown file (files_upload_v2)."""
from __future__ import annotations

import json
import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.render import render
from bot.slack.base import BUSY
from bot.slack.client import slack_error
from bot.slack.modals import ModalListeners
from bot.workpool import Busy
from handlers.plan_forms import FORCES, PARTS, REFUSAL_FIELDS, plan_form_call
from handlers.reply import Context, Reply
from playbook.config import localized

log = logging.getLogger("gare.slack")



class PlanListeners(ModalListeners):
    # --- the export ----------------------------------------------------------------------------

    async def _upload_plan(self, body: dict, ctx: Context, reply: Reply, channel: str | None,
                           thread_ts: str | None = None) -> None:
        """The plan's Markdown document, uploaded where it was asked for; then a word to the
        asker. A conversation the bot is not in gets the usual polite error instead."""
        try:
            document = await self._work(render, reply, surface="text", language=ctx.language,
                                        currency=self.playbook.currency)
        except Busy:
            await self._answer(body, ctx, BUSY)
            return
        user = body.get("user_id") or (body.get("user") or {}).get("id")
        target = channel or user
        try:
            if target and target.startswith("U"):  # a direct message: open it first
                target = (await self.client.conversations_open(users=target))["channel"]["id"]
            kwargs: dict[str, Any] = {"channel": target, "content": document, "filename": reply.data["filename"],
                                      "title": reply.data["filename"]}
            if thread_ts:
                kwargs["thread_ts"] = thread_ts
            await self.client.files_upload_v2(**kwargs)
        except SlackApiError as exc:
            error = slack_error(exc)
            log.info("plan export not uploaded to %s: %s", target, error)
            code = "not_in_channel" if error in ("not_in_channel", "channel_not_found") else "slack_failed"
            await self._answer(body, ctx, Reply("error", {"error": code, "detail": error}, ok=False))
            return
        if thread_ts:  # a mention: the file in the thread says it all
            return
        message = await self._rendered(ctx, reply, uploaded=True)
        url = body.get("response_url")
        if url:
            await self._respond(url, response_type="ephemeral", replace_original=False,
                                text=message["text"], blocks=message["blocks"])
        elif user:
            await self.client.chat_postMessage(channel=user, text=message["text"], blocks=message["blocks"])

    async def on_plan_export(self, ack, body: dict, action: dict, client, **_) -> None:
        """"Export" on the plan card."""
        await ack()
        if await self._double_click(body, action):
            return
        ctx = await self._who(client, body["user"]["id"])
        reply = await self._invoke(ctx, "plan_export", account=action["value"])
        if not reply.ok:
            await self._answer(body, ctx, reply)
            return
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        await self._upload_plan(body, ctx, reply, channel)

    # --- tasks and the review from their buttons -----------------------------------------------------

    async def on_plan_task_done(self, ack, body: dict, action: dict, client, **_) -> None:
        await ack()
        if await self._double_click(body, action):
            return
        value = json.loads(action["value"])
        ctx = await self._who(client, body["user"]["id"])
        reply = await self._invoke(ctx, "task_done", account=value["a"], number=str(value["n"]))
        ephemeral = bool((body.get("container") or {}).get("is_ephemeral"))
        await self._answer(body, ctx, reply, replace=ephemeral and reply.ok)

    async def on_plan_review_close(self, ack, body: dict, action: dict, client, **_) -> None:
        """"Close the review" (the button asks Slack for a confirmation first)."""
        await ack()
        if await self._double_click(body, action):
            return
        ctx = await self._who(client, body["user"]["id"])
        reply = await self._invoke(ctx, "plan_review_save", account=action["value"], answers={}, close=True)
        await self._answer(body, ctx, reply)

    # --- the forms -----------------------------------------------------------------------------------

    async def _open_plan_form(self, body: dict, client, account: str, part: str) -> None:
        if part not in PARTS:
            return
        ctx = await self._who(client, body["user"]["id"])
        reply = await self._invoke(ctx, "plan_review" if part == "review" else "plan", account=account)
        if not reply.ok and part == "review" and reply.data.get("error") == "no_plan":
            reply = await self._invoke(ctx, "plan", account=account)  # nothing to review: start the plan
            part = "goal"
        if not reply.ok:
            await self._answer(body, ctx, reply)
            return
        kpis = [{"id": k.id, "name": localized(k.name, ctx.language)} for k in self.playbook.plans.kpis]
        discovery = [{"number": i + 1, "id": q.id, "question": localized(q.text, ctx.language), "answer": None}
                     for i, q in enumerate(self.playbook.plans.discovery)]
        meta = json.loads(self._origin(body, reply.data["account"]))
        meta["p"] = part
        view = await self._viewed(body, ctx, "plan_modal", reply.data, part=part, kpis=kpis[:100],
                                  discovery=discovery, today=ctx.today().isoformat(),
                                  metadata=json.dumps(meta, ensure_ascii=False)[:3000])
        if view is not None:
            await self._open_modal(client, body, view)

    async def on_plan_edit(self, ack, body: dict, action: dict, client, **_) -> None:
        """The "Edit plan" menu: the block id names the account, the option the form."""
        await ack()
        account = action.get("block_id", "").partition("|")[2]
        part = (action.get("selected_option") or {}).get("value")
        if not account or not part:
            return
        await self._open_plan_form(body, client, account, part)

    async def on_plan_form_button(self, ack, body: dict, action: dict, client, **_) -> None:
        """"Set the goal", "Answer the review": a button that opens one form."""
        await ack()
        if await self._double_click(body, action):
            return
        value = json.loads(action["value"])
        await self._open_plan_form(body, client, value["a"], value["p"])

    async def on_plan_form_submit(self, ack, body: dict, view: dict, client, **_) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        part = meta.get("p")
        state = (view.get("state") or {}).get("values", {})
        closing = bool(((state.get("close") or {}).get("value") or {}).get("selected_options"))

        def call(name: str, values: dict[str, str]) -> tuple[str, dict]:
            return plan_form_call(part, name, values, closing)

        blocks = {b: b for b in state}
        blocks |= {f: f"f_{f}" for f in FORCES} | {b[2:]: b for b in state if b.startswith("q_")}
        blocks |= REFUSAL_FIELDS | {"number": next(iter(state), "")}
        await self._submit(ack, body, view, client, call, blocks)
