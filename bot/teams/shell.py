"""What each Teams activity means: a message (the core grammar, in a personal chat or with a
channel mention), a card's Action.Submit (show something new), an Action.Execute (change
something and show the result in place of the card), an installation. Every activity says who
is speaking (handlers/people.py decides), calls the registry on a worker thread, and answers with
a card from templates/teams. What a button means is decided by the handler it calls, never here:
a click is checked like the typed command, at the moment it is clicked."""
from __future__ import annotations

import asyncio
import copy
import html
import json
import logging
import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Callable

from sqlalchemy.engine import Engine

from bot import logs
from bot.teams.app import TeamsBot, Turn
from bot.teams.cards import card_for, card_response, message_for, text_of, text_response
from bot.teams.people import PLATFORM, identify_user
from bot.teams.plans import PlanActions
from bot.teams.retry import ConnectorError, with_retries
from bot.teams.settings import TeamsSettings
from bot.workpool import Busy, WorkPool
from handlers import registry
from handlers.conversations import (
    checklist_copies, claim, remember_checklist, remember_thread, run_in_thread, subject_name, thread_subject,
)
from handlers.people import chat_context, identify, language_of
from handlers.reply import Context, Reply, unavailable
from playbook.config import DERIVED_FIELDS, Playbook, localized
from store import teams_conversations
from store.database import session_scope, unreachable

log = logging.getLogger("gare.teams")
BUSY = Reply("error", {"error": "busy"}, ok=False)

AT = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
TAG = re.compile(r"<[^>]+>")
DOUBLE_CLICK = timedelta(seconds=10)   # two identical clicks this close together are one
SNOOZE_DEFAULT_DAYS = 14


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@lru_cache(maxsize=None)
def _busy_text(language: str | None, currency: str) -> str:
    return text_of(BUSY, language, currency)


@lru_cache(maxsize=None)
def _busy_message(language: str | None, currency: str) -> dict:
    return message_for(BUSY, language=language, currency=currency)


def busy_message(language: str | None, currency: str) -> dict:
    """"Busy, try again in a moment", rendered once per language: the answer when the pool is
    full must not itself wait for the pool."""
    return copy.deepcopy(_busy_message(language, currency))


def base_conversation(conversation_id: str) -> str:
    """A channel thread's conversation id without its `;messageid=` (the channel itself)."""
    return (conversation_id or "").split(";messageid=")[0]


def thread_root(activity: dict) -> str | None:
    """In a channel, the id of the thread's first message (a new post starts its own thread)."""
    conversation = activity.get("conversation") or {}
    _, _, root = (conversation.get("id") or "").partition(";messageid=")
    if root:
        return root
    return activity.get("id") if conversation.get("conversationType") == "channel" else None


def command_text(activity: dict) -> str:
    """The text typed, without the bot's mention ("<at>Gare</at> fit Acme" -> "fit Acme"); other
    mentions keep their names; Teams' HTML is read as text."""
    text = activity.get("text") or ""
    bot = activity.get("recipient") or {}
    for entity in activity.get("entities") or []:
        if entity.get("type") == "mention" and (entity.get("mentioned") or {}).get("id") == bot.get("id"):
            if entity.get("text"):
                text = text.replace(entity["text"], " ")
    name = (bot.get("name") or "").strip().lower()
    text = AT.sub(lambda m: " " if name and m.group(1).strip().lower() == name else m.group(1), text)
    return " ".join(html.unescape(TAG.sub(" ", text)).split())


class TeamsShell(PlanActions):
    """The Teams channel of Gare: the Bot Framework endpoint plus what it needs to reach the store."""

    def __init__(self, engine: Engine, playbook: Playbook, settings: TeamsSettings,
                 clock: Callable[[], datetime] | None = None, sleep=asyncio.sleep):
        self.engine, self.playbook, self.settings = engine, playbook, settings
        logs.protect(settings.app_password)
        logs.install()
        self.clock = clock or _utcnow
        self.pool = WorkPool()
        self.sleep = sleep
        self.bot = TeamsBot(settings, self.on_turn, lambda: settings.served_tenants(self.playbook.msteams.tenants))
        self._known: dict[str, tuple[int, str]] = {}   # conversation id -> (row id, service url)

    async def handle_http(self, request):
        """aiohttp handler for POST /api/messages."""
        return await self.bot.handle_http(request)

    # --- every activity -------------------------------------------------------------------------

    async def on_turn(self, turn: Turn) -> None:
        activity = turn.activity
        kind = activity.get("type")
        try:
            key = await self._remember(turn)
            if kind == "message":
                await self._on_message(turn, key)
            elif kind == "invoke":
                await self._on_invoke(turn, key)
            elif kind == "conversationUpdate":
                await self._on_conversation_update(turn)
            elif kind == "installationUpdate" and str(activity.get("action") or "").startswith("remove"):
                await self._forget(turn)
        except Busy:  # the pool refused this turn's first job: nothing was done, the user is told
            await self._answer_busy(turn, kind)
        except Exception as exc:
            if not unreachable(exc):
                raise
            log.warning("Teams %s not served, the database is unreachable: %s", kind, exc.__class__.__name__)
            await self._answer_busy(turn, kind, unavailable())

    async def _answer_busy(self, turn: Turn, kind: str | None, reply: Reply | None = None) -> None:
        """"Busy, try again in a moment" (or `reply`), in the language of the activity's locale."""
        language = language_of(turn.activity.get("locale")) or self.playbook.language
        if reply is None:
            text, message = _busy_text(language, self.playbook.currency), busy_message(language, self.playbook.currency)
        else:
            text = text_of(reply, language, self.playbook.currency)
            message = message_for(reply, language=language, currency=self.playbook.currency)
        if kind == "invoke":
            await turn.respond(text_response(text))
        elif kind == "message":
            try:
                await with_retries(lambda: turn.reply(message), sleep=self.sleep, what="a busy reply")
            except ConnectorError as exc:
                log.warning("could not answer in Teams: %s", exc.name)

    async def _remember(self, turn: Turn) -> str | None:
        """Stores where this conversation is (a conversation reference), once per process and
        service URL: the weekly messages, checklist updates and rosters need it later. Returns
        the key checklists and threads are remembered under."""
        activity = turn.activity
        conversation = activity.get("conversation") or {}
        cid, service_url = base_conversation(conversation.get("id")), activity.get("serviceUrl")
        if not cid or not service_url:
            return None
        known = self._known.get(cid)
        if known is not None and known[1] == service_url:
            return f"tc{known[0]}"
        kind = conversation.get("conversationType") or "personal"
        sender = activity.get("from") or {}
        channel_data = activity.get("channelData") or {}
        reference = turn.reference()
        reference["conversation"] = dict(reference.get("conversation") or {}, id=cid)
        tenant = conversation.get("tenantId") or (channel_data.get("tenant") or {}).get("id")
        personal = kind == "personal"

        def save() -> int:
            with session_scope(self.engine) as session:
                return teams_conversations.save(
                    session, conversation_id=cid, kind=kind, service_url=service_url, reference=reference,
                    now=self.clock(), tenant_id=(tenant or "").lower() or None,
                    aad_object_id=sender.get("aadObjectId") if personal else None,
                    user_id=sender.get("id") if personal else None,
                    team_id=(channel_data.get("team") or {}).get("id"))
        row_id = await self.pool.run(save)
        self._known[cid] = (row_id, service_url)
        return f"tc{row_id}"

    async def _forget(self, turn: Turn) -> None:
        cid = base_conversation((turn.activity.get("conversation") or {}).get("id"))
        self._known.pop(cid, None)

        def deactivate() -> None:
            with session_scope(self.engine) as session:
                teams_conversations.deactivate(session, cid, self.clock())
        await self.pool.run(deactivate)

    async def _on_conversation_update(self, turn: Turn) -> None:
        activity = turn.activity
        bot_id = (activity.get("recipient") or {}).get("id")
        if any(m.get("id") == bot_id for m in activity.get("membersRemoved") or []):
            await self._forget(turn)
            return
        added = any(m.get("id") == bot_id for m in activity.get("membersAdded") or [])
        if added and (activity.get("conversation") or {}).get("conversationType", "personal") == "personal":
            # Installed for someone: say hello with what Gare can do.
            ctx = await self._who(turn)
            reply = await self.pool.run(registry.invoke, ctx, "help")
            await self._send(turn, ctx, reply, new=True)

    # --- who, and what they see --------------------------------------------------------------------

    async def _who(self, turn: Turn) -> Context:
        identity = await identify_user(turn, self.engine, self.playbook, self.clock, run=self.pool.run)
        return chat_context(self.engine, self.playbook, identity, self.clock)

    def _extra(self, ctx: Context, **extra: Any) -> dict[str, Any]:
        stages = [{"id": s.id, "name": localized(s.name, ctx.language)} for s in self.playbook.stages]
        return {"stages": stages, "today": ctx.today().isoformat(), **extra}

    # Rendering runs on the pool like the rest of the work: never on the event loop.
    async def _card(self, ctx: Context, reply: Reply, **extra: Any) -> dict:
        return await self.pool.run(card_for, reply, language=ctx.language, currency=self.playbook.currency,
                                   **self._extra(ctx, **extra))

    def _render_message(self, ctx: Context, reply: Reply, **extra: Any) -> dict:
        return message_for(reply, language=ctx.language, currency=self.playbook.currency, **self._extra(ctx, **extra))

    async def _message(self, ctx: Context, reply: Reply, **extra: Any) -> dict:
        return await self.pool.run(self._render_message, ctx, reply, **extra)

    async def _text(self, ctx: Context, reply: Reply) -> str:
        return await self.pool.run(text_of, reply, ctx.language, self.playbook.currency)

    async def _reply_card(self, ctx: Context, reply: Reply) -> dict:
        """An invoke's answer: the reply's card in place of the one clicked, or a refusal's text
        (the card stays as it was)."""
        return card_response(await self._card(ctx, reply)) if reply.ok else text_response(await self._text(ctx, reply))

    async def _send(self, turn: Turn, ctx: Context, reply: Reply, *, new: bool = False, message: dict | None = None,
                    **extra: Any) -> str | None:
        """Answer in the conversation (a reply in the thread, or a new message). `message`:
        already rendered."""
        if message is None:
            message = await self._message(ctx, reply, **extra)
        try:
            return await with_retries(lambda: turn.send(message) if new else turn.reply(message), sleep=self.sleep,
                                      what="a reply")
        except ConnectorError as exc:
            log.warning("could not answer in Teams: %s", exc.name)
            return None

    async def _invoke(self, ctx: Context, command: str, /, **args) -> Reply:
        """A declared command on the bounded pool; past its bound, the user hears it at once."""
        try:
            return await self.pool.run(registry.invoke, ctx, command, **args)
        except Busy:
            return BUSY

    async def _run(self, ctx: Context, text: str) -> Reply:
        try:
            return await self.pool.run(registry.run, ctx, text)
        except Busy:
            return BUSY

    # --- messages: typed commands and Action.Submit ------------------------------------------------

    async def _on_message(self, turn: Turn, key: str | None) -> None:
        activity = turn.activity
        value = activity.get("value")
        if isinstance(value, dict) and value.get("gare"):
            await self._on_submit(turn, key, value)
            return
        text = command_text(activity)
        done = await self.pool.run(self._message_job, activity, key, text)
        if done is None:
            return  # another delivery of this very message is answered elsewhere
        ctx, reply, message = done
        if ctx is None:  # a speaker the store does not know yet: the roster says who it is
            ctx = await self._who(turn)
            root = thread_root(activity)
            subject = await self.pool.run(thread_subject, ctx, key, root) if (key and root) else None
            reply = await self.pool.run(run_in_thread, ctx, text, subject)
        await self._show(turn, key, ctx, reply, command=text, message=message)

    def _message_job(self, activity: dict, key: str | None, text: str) -> tuple[Any, Any, Any] | None:
        """A typed message's work in one trip to the pool: the once-only claim of the activity
        (delivered twice, or to two processes, it is answered once), who speaks, the command in
        its thread, and the card. None when another delivery has it; (None, None, None) for a
        speaker the store does not know yet."""
        now = self.clock()
        conversation = base_conversation((activity.get("conversation") or {}).get("id"))
        if activity.get("id") and not claim(self.engine, PLATFORM, "activity",
                                            f"activity:{conversation}:{activity['id']}", now):
            return None
        aad = (activity.get("from") or {}).get("aadObjectId")
        identity = identify(self.engine, self.playbook, PLATFORM, aad, now) if aad else None
        if identity is None:
            return None, None, None
        ctx = chat_context(self.engine, self.playbook, identity, self.clock)
        root = thread_root(activity)
        subject = thread_subject(ctx, key, root) if (key and root) else None
        reply = run_in_thread(ctx, text, subject)
        special = reply.ok and reply.template == "checklist"
        return ctx, reply, None if special else self._render_message(ctx, reply, command=text)

    async def _show(self, turn: Turn, key: str | None, ctx: Context, reply: Reply, command: str | None = None,
                    message: dict | None = None) -> None:
        if reply.ok and reply.template == "checklist" and "answered" not in reply.data:
            await self._post_checklist(turn, key, ctx, reply)
            return
        if reply.ok and reply.template == "checklist":
            await self._refresh_checklists(ctx, reply.data, answered_by=ctx.actor)
        await self._send(turn, ctx, reply, command=command, message=message)

    async def _post_checklist(self, turn: Turn, key: str | None, ctx: Context, reply: Reply) -> None:
        """Posted where everyone in the conversation sees it; in a channel its thread becomes the
        deal's thread ("@Gare is this a fit?" there means that deal)."""
        posted = await self._send(turn, ctx, reply)
        if posted is None or key is None:
            return
        data = reply.data
        await self.pool.run(remember_checklist, ctx, key, posted, data["subject"], data["subject_id"])
        root = thread_root(turn.activity)
        if root:
            await self.pool.run(remember_thread, ctx, key, root, data["subject"], data["subject_id"])

    async def _refresh_checklists(self, ctx: Context, data: dict, *, answered_by: str) -> None:
        """Every posted copy of this checklist shows the answers now in the store, each in the
        language it was posted in (an update activity per copy, through its conversation)."""
        copies = await self.pool.run(checklist_copies, ctx, data["subject"], data["subject_id"])
        name = data["deal"] or data["account"]
        messages: dict[str, dict] = {}
        for key, activity_id, language in copies:
            language = language or ctx.language
            if language not in messages:
                other = ctx if language == ctx.language else Context(
                    engine=ctx.engine, playbook=ctx.playbook, actor=ctx.actor, owner=ctx.owner, language=language,
                    clock=ctx.clock, platform=ctx.platform)
                reply = Reply("checklist", data) if other is ctx else await self._invoke(other, "checklist", name=name)
                reply.data["answered"] = data.get("answered")
                messages[language] = await self._message(other, reply, answered_by=answered_by)
            await self._update_copy(key, activity_id, messages[language])

    async def _update_copy(self, key: str, activity_id: str, message: dict) -> None:
        def load():
            with session_scope(self.engine) as session:
                row = teams_conversations.by_id(session, int(key[2:])) if key.startswith("tc") else None
                return (row.reference, row.conversation_id) if row is not None and row.active else None
        found = await self.pool.run(load)
        if found is None:
            return
        reference, conversation_id = found

        async def update(turn: Turn) -> None:
            await with_retries(lambda: turn.update(activity_id, message, conversation_id), sleep=self.sleep,
                               what="a checklist update")
        try:
            await self.bot.continue_conversation(reference, update)
        except ConnectorError as exc:  # a deleted message, a removed bot: the other copies still update
            log.info("checklist copy %s/%s not updated: %s", key, activity_id, exc.name)

    async def _on_submit(self, turn: Turn, key: str | None, value: dict) -> None:
        """Action.Submit: a button that shows something new, answered in the conversation."""
        activity = turn.activity
        sender = (activity.get("from") or {}).get("id")
        click = ":".join(str(x) for x in ("submit", sender, activity.get("replyToId"),
                                           json.dumps(value, sort_keys=True, ensure_ascii=False)))
        if not await self.pool.run(claim, self.engine, PLATFORM, "action", click, self.clock(), DOUBLE_CLICK):
            return
        verb = value.get("gare")
        ctx = await self._who(turn)
        if verb == "view_account":
            await self._send(turn, ctx, await self._invoke(ctx, "account", account=str(value.get("account") or "")))
        elif verb == "view_deal":
            await self._send(turn, ctx, await self._invoke(ctx, "deal", deal=str(value.get("deal") or "")))
        elif verb == "run":
            command = str(value.get("cmd") or "")
            await self._show(turn, key, ctx, await self._run(ctx, command), command=command)
        elif verb == "done":
            reply = await self._invoke(ctx, "action_done", account=str(value.get("account") or ""),
                                       number=str(value.get("n") or ""))
            await self._send(turn, ctx, reply)
        elif verb == "checklist":
            await self._show(turn, key, ctx, await self._invoke(ctx, "checklist", name=str(value.get("name") or "")))
        elif verb == "plan_form":
            await self._open_plan_form(turn, ctx, value)
        elif verb == "plan_export":
            await self._plan_export(turn, ctx, value)
        elif verb == "plan_task_done":
            await self._plan_task_done_message(turn, ctx, value)
        elif verb in FORMS:
            command, argument, template = FORMS[verb]
            reply = await self._invoke(ctx, command, **{argument: str(value.get(argument) or "")})
            if not reply.ok:
                await self._send(turn, ctx, reply)
                return
            form = Reply(template, reply.data)
            await self._send(turn, ctx, form, **self._form_extra(ctx, template, reply.data))

    def _form_extra(self, ctx: Context, template: str, data: dict, values: dict | None = None,
                    error: dict | None = None) -> dict[str, Any]:
        extra: dict[str, Any] = {"values": values or {}, "error": error}
        if template == "account_edit":
            extra["custom_fields"] = [f for f in self.playbook.field_types if f not in data["fields"]
                                      and f not in ("name", "owner") and f not in DERIVED_FIELDS]
        if template == "deal_snooze_form":
            until = data.get("snoozed_until") or ctx.today() + timedelta(days=SNOOZE_DEFAULT_DAYS)
            extra["default_until"] = until.isoformat()
        return extra

    # --- Action.Execute: change something, show the result in place ---------------------------------

    async def _on_invoke(self, turn: Turn, key: str | None) -> None:
        activity = turn.activity
        if activity.get("name") != "adaptiveCard/action":
            await turn.respond({}, 200)
            return
        action = (activity.get("value") or {}).get("action") or {}
        data = action.get("data") if isinstance(action.get("data"), dict) else {}
        handler = EXECUTE.get(action.get("verb") or "")
        ctx = await self._who(turn)
        if handler is None:
            await turn.respond(text_response(await self._text(ctx, Reply("error", {"error": "internal"}, ok=False))))
            return
        try:
            body = await handler(self, ctx, data, activity)
        except Exception:  # never a trace in a chat
            log.exception("Teams action %s failed", action.get("verb"))
            body = text_response(await self._text(ctx, Reply("error", {"error": "internal"}, ok=False)))
        await turn.respond(body)

    async def _page(self, ctx: Context, data: dict, activity: dict) -> dict:
        command = str(data.get("cmd") or "")
        reply = await self._run(ctx, command)
        if not reply.ok:
            return text_response(await self._text(ctx, reply))
        return card_response(await self._card(ctx, reply, command=command, page=int(data.get("p") or 1)))

    async def _checklist_save(self, ctx: Context, data: dict, activity: dict) -> dict:
        """The boxes and answers this person changed (against what their card showed), saved
        together; every posted copy is updated, and the card comes back with the new state."""
        name = await self.pool.run(subject_name, ctx, str(data.get("subject")), int(data.get("id") or 0))
        if name is None:
            return text_response(await self._text(ctx, Reply("error", {"error": "unknown_subject", "name": "?",
                                                                 "suggestions": []}, ok=False)))
        answers: dict[str, str] = {}
        for field, shown in (data.get("shown") or {}).items():
            value = data.get(field)
            if field.startswith("box_"):
                ticked = str(value).lower() == "true"
                if ticked != (shown == "1"):
                    answers[field[4:]] = "yes" if ticked else "no"
            elif field.startswith("trait_") and value in ("yes", "no"):
                if value != {"y": "yes", "n": "no"}.get(shown):
                    answers[field[6:]] = value
        if not answers:
            reply = await self._invoke(ctx, "checklist", name=name)
            return await self._reply_card(ctx, reply)
        reply = await self._invoke(ctx, "checklist_answer", name=name, answers=answers)
        if not reply.ok:
            return text_response(await self._text(ctx, reply))
        await self._refresh_checklists(ctx, reply.data, answered_by=ctx.actor)
        return card_response(await self._card(ctx, reply, answered_by=ctx.actor))

    async def _checklist_refresh(self, ctx: Context, data: dict, activity: dict) -> dict:
        name = await self.pool.run(subject_name, ctx, str(data.get("subject")), int(data.get("id") or 0))
        reply = await self._invoke(ctx, "checklist", name=name or "")
        return await self._reply_card(ctx, reply)

    async def _form(self, ctx: Context, data: dict, command: str, args: dict, template: str,
                    subject: tuple[str, str], values: dict) -> dict:
        """A form's submission: saved, or the form again with the values kept and the refusal
        under its field, nothing changed."""
        reply = await self._invoke(ctx, command, **args)
        if reply.ok:
            return card_response(await self._card(ctx, reply))
        kind, name = subject
        current = await self._invoke(ctx, kind, **{kind: name})
        if not current.ok:
            return text_response(await self._text(ctx, reply))
        error = {"field": reply.data.get("field") or reply.data.get("error"), "text": await self._text(ctx, reply)}
        form = Reply(template, current.data)
        return card_response(await self._card(ctx, form, **self._form_extra(ctx, template, current.data, values, error)))

    async def _save_account(self, ctx: Context, data: dict, activity: dict) -> dict:
        name = str(data.get("account") or "")
        changes = {k[2:]: "" if v is None else str(v) for k, v in data.items() if k.startswith("f_")}
        return await self._form(ctx, data, "account_set", {"account": name, "changes": changes}, "account_edit",
                                ("account", name), changes)

    async def _save_nurture(self, ctx: Context, data: dict, activity: dict) -> dict:
        name, reason = str(data.get("deal") or ""), str(data.get("reason") or "").strip()
        return await self._form(ctx, data, "deal_nurture", {"deal": name, "reason": reason or None},
                                "deal_nurture_form", ("deal", name), {"reason": reason})

    async def _save_snooze(self, ctx: Context, data: dict, activity: dict) -> dict:
        name = str(data.get("deal") or "")
        until, reason = str(data.get("until") or ""), str(data.get("reason") or "").strip()
        return await self._form(ctx, data, "deal_snooze", {"deal": name, "until": until, "reason": reason or None},
                                "deal_snooze_form", ("deal", name), {"until": until, "reason": reason})

    async def _deal_stage(self, ctx: Context, data: dict, activity: dict) -> dict:
        reply = await self._invoke(ctx, "deal_stage", deal=str(data.get("deal") or ""),
                                   stage=str(data.get("stage") or ""))
        if reply.ok or reply.template == "misfit_gate":  # the gate asks its question in a card
            return card_response(await self._card(ctx, reply))
        return text_response(await self._text(ctx, reply))

    async def _gate_confirm(self, ctx: Context, data: dict, activity: dict) -> dict:
        """"Move anyway" on a misfit's gate card: the move again, with the reason typed in the card."""
        deal, stage = str(data.get("deal") or ""), str(data.get("stage") or "")
        reason = str(data.get("reason") or "").strip()
        reply = await self._invoke(ctx, "deal_stage", deal=deal, stage=stage, confirm=reason)
        if reply.ok:
            return card_response(await self._card(ctx, reply))
        question = await self._invoke(ctx, "deal_stage", deal=deal, stage=stage)
        if question.template != "misfit_gate":
            return text_response(await self._text(ctx, reply))
        error = {"field": reply.data.get("error"), "text": await self._text(ctx, reply)}
        return card_response(await self._card(ctx, question, values={"reason": reason}, error=error))

    async def _decide(self, ctx: Context, data: dict, activity: dict) -> dict:
        name = str(data.get("account") or "")
        decision, reason = str(data.get("decision") or ""), str(data.get("reason") or "").strip()
        return await self._form(ctx, data, "account_decide", {"account": name, "decision": decision,
                                                              "reason": reason or None},
                                "account_decide_form", ("account", name), {"decision": decision, "reason": reason})

    async def _contacted(self, ctx: Context, data: dict, activity: dict) -> dict:
        """"Log a contact today" on an at-risk customer."""
        reply = await self._invoke(ctx, "account_set", account=str(data.get("account") or ""),
                                   changes={"last_contact": "today"})
        return await self._reply_card(ctx, reply)

    async def _cancel(self, ctx: Context, data: dict, activity: dict) -> dict:
        if data.get("deal"):
            reply = await self._invoke(ctx, "deal", deal=str(data["deal"]))
        else:
            reply = await self._invoke(ctx, "account", account=str(data.get("account") or ""))
        return await self._reply_card(ctx, reply)


# Action.Submit verbs that open a form: (the command that reads the record, its argument, the form).
FORMS = {
    "edit_account": ("account", "account", "account_edit"),
    "nurture_form": ("deal", "deal", "deal_nurture_form"),
    "snooze_form": ("deal", "deal", "deal_snooze_form"),
    "decide_form": ("account", "account", "account_decide_form"),
}
# Action.Execute verbs: each answers with the card that replaces the one clicked, or a message.
EXECUTE = {
    "page": TeamsShell._page,
    "checklist_save": TeamsShell._checklist_save,
    "checklist_refresh": TeamsShell._checklist_refresh,
    "save_account": TeamsShell._save_account,
    "deal_nurture": TeamsShell._save_nurture,
    "deal_snooze": TeamsShell._save_snooze,
    "deal_stage": TeamsShell._deal_stage,
    "gate_confirm": TeamsShell._gate_confirm,
    "account_decide": TeamsShell._decide,
    "contacted": TeamsShell._contacted,
    "cancel": TeamsShell._cancel,
    "plan_save": TeamsShell._plan_save,
    "plan_task_done": TeamsShell._plan_task_done,
    "plan_review_close": TeamsShell._plan_review_close,
    "plan_cancel": TeamsShell._plan_cancel,
}
