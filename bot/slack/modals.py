"""Modals: edit an account, nurture or snooze a deal. Opened by a button, submitted once (the
view id is claimed), refused values shown beside their field, the result shown where the button was."""
from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta

from slack_sdk.errors import SlackApiError

from bot.render import render
from bot.slack.base import ShellBase, busy_message
from bot.slack.client import slack_error
from bot.slack.people import PLATFORM
from bot.workpool import Busy
from handlers.conversations import release
from playbook.config import DERIVED_FIELDS

log = logging.getLogger("gare.slack")
SNOOZE_DEFAULT_DAYS = 14

class ModalListeners(ShellBase):
    def _origin(self, body: dict, name: str, **more) -> str:
        """What a modal needs to answer where the button was: private_metadata (3,000 chars max)."""
        container = body.get("container") or {}
        meta = {"n": name, "r": body.get("response_url"), "home": container.get("type") == "view", **more}
        text = json.dumps(meta, ensure_ascii=False)
        if len(text) > 3000 and "v" in meta:  # without what the form showed, the save is a plain one
            text = json.dumps({k: v for k, v in meta.items() if k != "v"}, ensure_ascii=False)
        return text[:3000]

    @staticmethod
    def _shown(view: dict) -> dict[str, str]:
        """The value each field of a form showed when it opened, as the user would type it."""
        out = {}
        for block in view.get("blocks", []):
            element = block.get("element") or {}
            block_id = block.get("block_id", "")
            if block.get("type") != "input" or not block_id.startswith("f_"):
                continue
            value = (element.get("initial_value") or (element.get("initial_option") or {}).get("value")
                     or element.get("initial_date") or "")
            out[block_id] = value
        return out

    async def _open_modal(self, client, body: dict, view: dict | None) -> None:
        if view is None:  # the pool was full: the user was told so
            return
        try:
            await client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as exc:  # an expired trigger (over 3 s) or a closed client
            log.info("views.open failed: %s", slack_error(exc))

    async def on_edit_account(self, ack, body: dict, action: dict, client, **_) -> None:
        await ack()
        if await self._double_click(body, action):
            return
        ctx = await self._who(client, body["user"]["id"])
        reply = await self._invoke(ctx, "account", account=action["value"])
        if not reply.ok:
            await self._answer(body, ctx, reply)
            return
        custom = [f for f in self.playbook.field_types if f not in reply.data["fields"]
                  and f not in ("name", "owner") and f not in DERIVED_FIELDS]
        view = await self._viewed(body, ctx, "account_edit_modal", reply.data, metadata="", custom_fields=custom)
        if view is None:
            return
        view["private_metadata"] = self._origin(body, reply.data["account"], v=self._shown(view))
        await self._open_modal(client, body, view)

    async def on_nurture_button(self, ack, body: dict, action: dict, client, **_) -> None:
        await ack()
        if await self._double_click(body, action):
            return
        ctx = await self._who(client, body["user"]["id"])
        reply = await self._invoke(ctx, "deal", deal=action["value"])
        if not reply.ok:
            await self._answer(body, ctx, reply)
            return
        await self._open_modal(client, body, await self._viewed(body, ctx, "deal_nurture_modal", reply.data,
                                                                metadata=self._origin(body, reply.data["deal"])))

    async def on_gate_button(self, ack, body: dict, action: dict, client, **_) -> None:
        """"Move anyway…" on a misfit's gate: the reason is asked in a modal, then the move is
        made through the same command, checked again."""
        await ack()
        if await self._double_click(body, action):
            return
        ctx = await self._who(client, body["user"]["id"])
        value = json.loads(action["value"])
        data = {"deal": value["d"], "stage": value["s"],
                "stage_name": next((s["name"] for s in self._extra(ctx)["stages"] if s["id"] == value["s"]), value["s"])}
        await self._open_modal(client, body, await self._viewed(body, ctx, "deal_gate_modal", data,
                                                                metadata=self._origin(body, value["d"], s=value["s"])))

    async def on_decide_button(self, ack, body: dict, action: dict, client, **_) -> None:
        """"Record a decision" on an account to let go: the decision and its reason in a modal."""
        await ack()
        if await self._double_click(body, action):
            return
        ctx = await self._who(client, body["user"]["id"])
        await self._open_modal(client, body, await self._viewed(body, ctx, "account_decide_modal",
                                                                {"account": action["value"]},
                                                                metadata=self._origin(body, action["value"])))

    async def on_snooze_button(self, ack, body: dict, action: dict, client, **_) -> None:
        await ack()
        if await self._double_click(body, action):
            return
        ctx = await self._who(client, body["user"]["id"])
        reply = await self._invoke(ctx, "deal", deal=action["value"])
        if not reply.ok:
            await self._answer(body, ctx, reply)
            return
        until = reply.data.get("snoozed_until") or ctx.today() + timedelta(days=SNOOZE_DEFAULT_DAYS)
        await self._open_modal(client, body, await self._viewed(body, ctx, "deal_snooze_modal", reply.data,
                                                                metadata=self._origin(body, reply.data["deal"]),
                                                                default_until=until.isoformat()))

    @staticmethod
    def _values(view: dict) -> dict[str, str]:
        """The modal's inputs by block id, as text the handlers read like typed values."""
        out = {}
        for block_id, elements in (view.get("state") or {}).get("values", {}).items():
            element = elements.get("value") or next(iter(elements.values()), {})
            kind = element.get("type")
            if kind == "static_select":
                value = (element.get("selected_option") or {}).get("value")
            elif kind == "datepicker":
                value = element.get("selected_date")
            else:
                value = element.get("value")
            out[block_id] = value or ""
        return out

    async def _submit(self, ack, body: dict, view: dict, client, call, field_blocks: dict[str, str]) -> None:
        """A modal submission: handled once (the view id is claimed), refused values shown next
        to their field (response_action errors), then the result shown where the button was."""
        identity = f"view:{view['id']}"
        if not await self._claim("view", identity):
            await ack()
            return
        ctx = await self._who(client, body["user"]["id"], timeout=1.5)
        meta = json.loads(view.get("private_metadata") or "{}")
        values = self._values(view)
        command, args = call(meta.get("n"), values)
        reply = await self._invoke(ctx, command, **args)
        if not reply.ok:
            await asyncio.to_thread(release, self.engine, PLATFORM, identity)
            field = reply.data.get("field") or reply.data.get("error")
            block = field_blocks.get(field) or next(iter(values), None)
            try:
                text = (await self._work(render, reply, surface="text", language=ctx.language,
                                         currency=self.playbook.currency)).strip()
            except Busy:
                text = busy_message(ctx.language, self.playbook.currency)["text"]
            await ack(response_action="errors", errors={block: text[:300]})
            return
        await ack()
        origin = {"response_url": meta.get("r"), "user": {"id": body["user"]["id"]}}
        await self._answer(origin, ctx, reply)
        if meta.get("home"):
            await self._publish_home(client, body["user"]["id"])

    async def on_account_edit_submit(self, ack, body: dict, view: dict, client, **_) -> None:
        shown = json.loads(view.get("private_metadata") or "{}").get("v")

        def save(name, values):
            # Only what the user changed is saved, checked against what the form showed.
            fields = {block: value for block, value in values.items() if block.startswith("f_")}
            if shown is None:
                return "account_set", {"account": name, "changes": {b[2:]: v for b, v in fields.items()}}
            changed = {b: v for b, v in fields.items() if v != shown.get(b, "")}
            return "account_set", {"account": name, "changes": {b[2:]: v for b, v in changed.items()},
                                   "expected": {b[2:]: shown.get(b, "") for b in changed}}
        blocks = {b[2:]: b for b in (view.get("state") or {}).get("values", {}) if b.startswith("f_")}
        await self._submit(ack, body, view, client, save, blocks)

    async def on_nurture_submit(self, ack, body: dict, view: dict, client, **_) -> None:
        await self._submit(ack, body, view, client,
                           lambda name, values: ("deal_nurture", {"deal": name, "reason": values.get("reason") or None}),
                           {"reason": "reason", "deal_closed": "reason"})

    async def on_gate_submit(self, ack, body: dict, view: dict, client, **_) -> None:
        stage = json.loads(view.get("private_metadata") or "{}").get("s")
        await self._submit(ack, body, view, client,
                           lambda name, values: ("deal_stage", {"deal": name, "stage": stage or "",
                                                                "confirm": values.get("reason") or ""}),
                           {"gate_reason_missing": "reason", "too_long": "reason", "deal_closed": "reason"})

    async def on_decide_submit(self, ack, body: dict, view: dict, client, **_) -> None:
        await self._submit(ack, body, view, client,
                           lambda name, values: ("account_decide", {"account": name,
                                                                    "decision": values.get("decision") or "",
                                                                    "reason": values.get("reason") or None}),
                           {"decision": "decision", "reason": "reason", "not_let_go": "decision"})

    async def on_snooze_submit(self, ack, body: dict, view: dict, client, **_) -> None:
        await self._submit(ack, body, view, client,
                           lambda name, values: ("deal_snooze", {"deal": name, "until": values.get("until") or "",
                                                                 "reason": values.get("reason")}),
                           {"until": "until", "snooze_not_future": "until", "reason": "reason",
                            "snooze_reason_missing": "reason", "deal_closed": "reason"})
