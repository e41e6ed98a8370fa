"""Account plans in Teams: "Edit plan" opens one form per part of the plan as a new card (the same
fields as Slack's modals, submitted through handlers/plan_forms.py and the registry, so the
permission is checked when the form is sent and a refused value comes back under its field);
"Done" ticks a task off (in place on the plan card, as a new card from the weekly nudge); the
review closes from its card; the export is shown as the document's text."""
from __future__ import annotations

from typing import Any

from bot.teams.cards import card_response, text_response
from bot.teams.app import Turn
from handlers.plan_forms import PARTS, plan_form_call, refused_field
from handlers.reply import Context, Reply
from playbook.config import localized

FORM_KEYS = ("account", "p")   # what the card's own data carries besides the inputs


class PlanActions:
    """Mixed into TeamsShell: the plan's buttons and forms."""

    async def _plan_form_card(self, ctx: Context, account: str, part: str, values: dict | None = None,
                              error: dict | None = None) -> tuple[Reply, dict[str, Any]] | Reply:
        """The form for one part of the plan (a refusal instead when the plan cannot be read)."""
        reply = await self._invoke(ctx, "plan_review" if part == "review" else "plan", account=account)
        if not reply.ok and part == "review" and reply.data.get("error") == "no_plan":
            reply = await self._invoke(ctx, "plan", account=account)  # nothing to review: start the plan
            part = "goal"
        if not reply.ok:
            return reply
        kpis = [{"id": k.id, "name": localized(k.name, ctx.language)} for k in self.playbook.plans.kpis]
        discovery = [{"number": i + 1, "id": q.id, "question": localized(q.text, ctx.language), "answer": None}
                     for i, q in enumerate(self.playbook.plans.discovery)]
        return Reply("plan_form", reply.data), {"part": part, "kpis": kpis[:100], "discovery": discovery,
                                                 "values": values or {}, "error": error}

    async def _open_plan_form(self, turn: Turn, ctx: Context, value: dict) -> None:
        part = str(value.get("p") or "")
        if part not in PARTS:
            part = "goal"
        found = await self._plan_form_card(ctx, str(value.get("account") or ""), part)
        if isinstance(found, Reply):
            await self._send(turn, ctx, found)
            return
        form, extra = found
        await self._send(turn, ctx, form, **extra)

    async def _plan_export(self, turn: Turn, ctx: Context, value: dict) -> None:
        await self._send(turn, ctx, await self._invoke(ctx, "plan_export", account=str(value.get("account") or "")))

    async def _plan_task_done_message(self, turn: Turn, ctx: Context, value: dict) -> None:
        """"Done" on a task of the weekly nudge: the plan comes as a new card, the nudge stays."""
        await self._send(turn, ctx, await self._invoke(ctx, "task_done", account=str(value.get("account") or ""),
                                                       number=str(value.get("n") or "")))

    # --- Action.Execute: the card is replaced by the result -----------------------------------------

    async def _plan_save(self, ctx: Context, data: dict, activity: dict) -> dict:
        account, part = str(data.get("account") or ""), str(data.get("p") or "")
        if part not in PARTS:
            return text_response(await self._text(ctx, Reply("error", {"error": "internal"}, ok=False)))
        values = {k: "" if v is None else str(v) for k, v in data.items() if k not in FORM_KEYS}
        close = values.pop("close", "") == "true"
        command, args = plan_form_call(part, account, values, close)
        reply = await self._invoke(ctx, command, **args)
        if reply.ok:
            return card_response(await self._card(ctx, reply))
        error = {"field": refused_field(part, values, reply.data), "text": await self._text(ctx, reply)}
        found = await self._plan_form_card(ctx, account, part, dict(values, close="true" if close else ""), error)
        if isinstance(found, Reply):
            return text_response(error["text"])
        form, extra = found
        return card_response(await self._card(ctx, form, **extra))

    async def _plan_task_done(self, ctx: Context, data: dict, activity: dict) -> dict:
        return await self._reply_card(ctx, await self._invoke(ctx, "task_done", account=str(data.get("account") or ""),
                                                             number=str(data.get("n") or "")))

    async def _plan_review_close(self, ctx: Context, data: dict, activity: dict) -> dict:
        return await self._reply_card(ctx, await self._invoke(ctx, "plan_review_save",
                                                             account=str(data.get("account") or ""),
                                                             answers={}, close=True))

    async def _plan_cancel(self, ctx: Context, data: dict, activity: dict) -> dict:
        return await self._reply_card(ctx, await self._invoke(ctx, "plan", account=str(data.get("account") or "")))
