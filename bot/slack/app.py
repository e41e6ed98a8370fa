"""The Bolt app: one listener per Slack entry point, each acknowledging at once and doing the work
after the ack, with database work on worker threads. Every listener does the same three things:
find out who is speaking, call a handler, and show its reply (templates/slack) where the user
expects it. What a button means is decided by the handler it calls, never here."""
from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy.engine import Engine

from bot.render import render
from bot.slack.client import SlackSettings, make_web_client, message_for, post_reply
from bot.slack.people import PLATFORM, person
from handlers import registry
from handlers.conversations import (
    checklist_copies, claim, forget_old_events, release, remember_checklist, remember_thread, run_in_thread,
    subject_name, thread_subject,
)
from handlers.dashboard import home
from handlers.people import ChatPerson
from handlers.reply import Context, Reply
from playbook.config import DERIVED_FIELDS, Playbook, localized

log = logging.getLogger("gare.slack")

# Replies that only show data may be shared in the channel (the registry says which); changes
# are never re-run.
SHAREABLE = registry.SHAREABLE
# Two identical clicks this close together are one click (a double-click, a slow network).
DOUBLE_CLICK = timedelta(seconds=10)
MENTION = re.compile(r"<@[^>]+>")
SNOOZE_DEFAULT_DAYS = 14


class _ExpectedTokenWarning(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN by itself, then warns that the client we give it wins: that is
    the point (the token comes from `authorize`), so the warning would only mislead operators."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "token` will be unused" not in record.getMessage()


logging.getLogger("slack_bolt.AsyncApp").addFilter(_ExpectedTokenWarning())


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class SlackShell:
    """The Slack channel of Gare: a Bolt AsyncApp plus what it needs to reach the store."""

    def __init__(self, engine: Engine, playbook: Playbook, settings: SlackSettings,
                 clock: Callable[[], datetime] | None = None):
        self.engine, self.playbook, self.settings = engine, playbook, settings
        self.clock = clock or _utcnow
        self.client = make_web_client(settings)
        # `authorize` hands Bolt the installation, so it never calls auth.test (the server starts
        # and answers offline); every per-request client copies our base URL and retry handlers.
        async def authorize(enterprise_id, team_id, user_id) -> AuthorizeResult:
            return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id,
                                   bot_token=settings.bot_token, bot_user_id=settings.bot_user_id)

        self.bolt = AsyncApp(signing_secret=settings.signing_secret, client=make_web_client(settings, with_token=False),
                             authorize=authorize,
                             process_before_response=False, raise_error_for_unhandled_request=False, name="gare")
        self._register()

    # --- plumbing --------------------------------------------------------------------------

    async def forget_old_events(self) -> None:
        """Run at server start: the once-only ledger keeps a week of claims."""
        try:
            await asyncio.to_thread(forget_old_events, self.engine, self.clock())
        except Exception:  # the database may be down at start; the health check says so
            log.warning("could not prune old Slack event claims", exc_info=True)

    async def handle_http(self, request):
        """aiohttp handler for POST /slack/events (commands, interactivity and Events API)."""
        response = await self.bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def _claim(self, kind: str, identity: str, window: timedelta | None = None) -> bool:
        return await asyncio.to_thread(claim, self.engine, PLATFORM, kind, identity, self.clock(), window)

    async def _who(self, client, user_id: str, timeout: float | None = None) -> tuple[ChatPerson, Context]:
        """Who speaks, as a handler context. With a timeout (work before an ack), a slow Slack
        leaves the person unnamed rather than the ack late."""
        managers = tuple(team.manager for team in self.playbook.teams)
        try:
            p = await asyncio.wait_for(person(client, self.engine, user_id, self.clock, managers), timeout)
        except asyncio.TimeoutError:
            p = ChatPerson(user_id, None, None, None, None)
        ctx = Context(engine=self.engine, playbook=self.playbook, actor=p.actor, owner=p.owner,
                      language=p.language, clock=self.clock, platform=PLATFORM)
        return p, ctx

    def _extra(self, ctx: Context, **extra: Any) -> dict[str, Any]:
        stages = [{"id": s.id, "name": localized(s.name, ctx.language)} for s in self.playbook.stages]
        return {"stages": stages, **extra}

    def _message(self, ctx: Context, reply: Reply, **extra: Any) -> dict[str, Any]:
        return message_for(reply, language=ctx.language, currency=self.playbook.currency, **self._extra(ctx, **extra))

    def _view(self, ctx: Context, template: str, data: Any, **extra: Any) -> dict[str, Any]:
        return render(Reply(template, data), surface="slack", language=ctx.language, currency=self.playbook.currency,
                      **self._extra(ctx, **extra))

    async def _invoke(self, ctx: Context, command: str, /, **args) -> Reply:
        """A declared command called on a worker thread, checked and caught like a typed one."""
        return await asyncio.to_thread(registry.invoke, ctx, command, **args)

    async def _run_text(self, ctx: Context, text: str) -> Reply:
        return await asyncio.to_thread(registry.run, ctx, text)

    async def _answer(self, body: dict, ctx: Context, reply: Reply, *, command: str | None = None, page: int = 1,
                      replace: bool = False) -> None:
        """Show a reply to the one user who asked: through the request's response_url (an
        ephemeral message, with "Share in channel" when it only shows data), or as a direct
        message when the request came from the App Home."""
        shareable = reply.ok and reply.template in SHAREABLE and command is not None
        message = self._message(ctx, reply, ephemeral=shareable, command=command, page=page)
        url = body.get("response_url")
        if url:
            await AsyncWebhookClient(url).send(response_type="ephemeral", replace_original=replace,
                                               text=message["text"], blocks=message["blocks"])
            return
        user = (body.get("user") or {}).get("id") or body.get("user_id")
        await self.client.chat_postMessage(channel=user, text=message["text"], blocks=message["blocks"])

    def _register(self) -> None:
        bolt = self.bolt

        def listener(method):
            # Bolt passes arguments by the names a function declares; a bound method would
            # declare `self` too, so each listener is wrapped in a plain function.
            async def call(ack, body, client, respond, action, view, event):
                return await method(ack=ack, body=body, client=client, respond=respond, action=action, view=view,
                                    event=event)
            call.__name__ = method.__name__
            return call

        async def events_once(body, next):
            return await self._events_once(body, next)

        bolt.middleware(events_once)
        bolt.command("/gare")(listener(self.on_command))
        bolt.command("/fit")(listener(self.on_command))
        bolt.event("app_mention")(listener(self.on_mention))
        bolt.event("app_home_opened")(listener(self.on_home_opened))
        bolt.action("gare_share")(listener(self.on_share))
        bolt.action(re.compile(r"^gare_page_(prev|next)$"))(listener(self.on_page))
        bolt.action("gare_view_account")(listener(self.on_view_account))
        bolt.action("gare_view_deal")(listener(self.on_view_deal))
        bolt.action("gare_open_checklist")(listener(self.on_open_checklist))
        bolt.action("gare_edit_account")(listener(self.on_edit_account))
        bolt.action("gare_nurture")(listener(self.on_nurture_button))
        bolt.action("gare_snooze")(listener(self.on_snooze_button))
        bolt.action("gare_stage")(listener(self.on_stage_select))
        bolt.action("gare_tick")(listener(self.on_tick))
        bolt.action("gare_trait")(listener(self.on_trait))
        bolt.action("gare_run")(listener(self.on_run))
        bolt.action(re.compile(r"^gare_action_done_\d+$"))(listener(self.on_action_done))
        bolt.view("gare_account_edit")(listener(self.on_account_edit_submit))
        bolt.view("gare_nurture_modal")(listener(self.on_nurture_submit))
        bolt.view("gare_snooze_modal")(listener(self.on_snooze_submit))

        async def ignore(ack):  # thread messages we are not mentioned in
            return None
        bolt.event("message")(ignore)

    async def _events_once(self, body: dict, next) -> BoltResponse | None:
        """Slack redelivers an event it thinks failed (X-Slack-Retry-Num): the event id is claimed
        in the store, so only the first delivery, on whichever worker, is handled."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not await self._claim("event", f"event:{body.get('team_id')}:{event_id}"):
            return BoltResponse(status=200, body="")
        await next()
        return None

    async def _double_click(self, body: dict, action: dict) -> bool:
        """True when this click repeats an identical one a moment ago (then it is dropped)."""
        container = body.get("container") or {}
        identity = ":".join(str(x) for x in ("action", (body.get("user") or {}).get("id"),
                                             container.get("message_ts") or container.get("view_id"),
                                             action.get("action_id"), action.get("block_id"), action.get("value")))
        return not await self._claim("action", identity, DOUBLE_CLICK)

    # --- slash commands and mentions --------------------------------------------------------

    async def on_command(self, ack, body: dict, client, **_) -> None:
        await ack()
        text = (body.get("text") or "").strip()
        if body.get("command") == "/fit":
            text = f"fit {text}" if text else "fit"
        p, ctx = await self._who(client, body["user_id"])
        reply = await self._run_text(ctx, text)
        if reply.ok and reply.template == "checklist" and "answered" not in reply.data:
            await self._post_checklist(body, ctx, reply, channel=body.get("channel_id"))
            return
        if reply.ok and reply.template == "checklist":
            await self._refresh_checklists(ctx, reply.data, answered_by=p.actor)
        await self._answer(body, ctx, reply, command=text)

    async def on_mention(self, event: dict, client, **_) -> None:
        text = MENTION.sub(" ", event.get("text") or "").strip()
        channel = event.get("channel")
        thread_ts = event.get("thread_ts")
        p, ctx = await self._who(client, event.get("user"))
        subject = await asyncio.to_thread(thread_subject, ctx, channel, thread_ts) if thread_ts else None
        reply = await asyncio.to_thread(run_in_thread, ctx, text, subject)
        reply_ts = thread_ts or event.get("ts")
        if reply.ok and reply.template == "checklist" and "answered" not in reply.data:
            await self._post_checklist({"user_id": event.get("user")}, ctx, reply, channel=channel, thread_ts=reply_ts)
            return
        if reply.ok and reply.template == "checklist":
            await self._refresh_checklists(ctx, reply.data, answered_by=p.actor)
        try:
            await post_reply(client, channel, reply, language=ctx.language, currency=self.playbook.currency,
                             thread_ts=reply_ts, **self._extra(ctx))
        except SlackApiError as exc:
            log.warning("could not answer a mention in %s: %s", channel, exc.response.get("error"))

    # --- qualification checklists -------------------------------------------------------------

    async def _post_checklist(self, body: dict, ctx: Context, reply: Reply, *, channel: str | None,
                              thread_ts: str | None = None) -> None:
        """Post the checklist where everyone sees it: its thread becomes the deal's thread."""
        user = body.get("user_id") or (body.get("user") or {}).get("id")
        target = channel or user
        try:
            ts = await post_reply(self.client, target, reply, language=ctx.language,
                                  currency=self.playbook.currency, thread_ts=thread_ts, **self._extra(ctx))
        except SlackApiError as exc:
            error = exc.response.get("error")
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
        targets = {(c, ts): lang for c, ts, lang in copies}
        if also and also not in targets:
            targets[also] = ctx.language
        name = data["deal"] or data["account"]
        rendered: dict[str, dict] = {}
        for (channel, ts), language in targets.items():
            language = language or ctx.language
            if language not in rendered:
                if language == ctx.language:
                    reply = Reply("checklist", data)
                else:
                    other = Context(engine=ctx.engine, playbook=ctx.playbook, actor=ctx.actor, owner=ctx.owner,
                                    language=language, clock=ctx.clock, platform=ctx.platform)
                    reply = await self._invoke(other, "checklist", name=name)
                    reply.data["answered"] = data.get("answered")
                rendered[language] = message_for(reply, language=language, currency=self.playbook.currency,
                                                 answered_by=answered_by)
            try:
                await self.client.chat_update(channel=channel, ts=ts, **rendered[language])
            except SlackApiError as exc:  # deleted message, archived channel: the others still update
                log.info("checklist copy %s/%s not updated: %s", channel, ts, exc.response.get("error"))

    async def on_open_checklist(self, ack, body: dict, action: dict, client, **_) -> None:
        await ack()
        if await self._double_click(body, action):
            return
        p, ctx = await self._who(client, body["user"]["id"])
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
        p, ctx = await self._who(client, body["user"]["id"])
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
        await self._refresh_checklists(ctx, reply.data, answered_by=p.actor, also=here)

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

    # --- cards and lists ----------------------------------------------------------------------

    async def on_share(self, ack, body: dict, action: dict, client, respond, **_) -> None:
        """Post the same reply in the channel for everyone, and drop the private copy."""
        await ack()
        if await self._double_click(body, action):
            return
        value = json.loads(action["value"])
        p, ctx = await self._who(client, body["user"]["id"])
        reply = await self._run_text(ctx, value["cmd"])
        message = self._message(ctx, reply, page=value.get("p", 1))
        await respond(response_type="in_channel", replace_original=False, text=message["text"],
                      blocks=message["blocks"])
        await respond(delete_original=True)

    async def on_page(self, ack, body: dict, action: dict, client, **_) -> None:
        await ack()
        value = json.loads(action["value"])
        p, ctx = await self._who(client, body["user"]["id"])
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
        p, ctx = await self._who(client, body["user"]["id"])
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

    async def on_action_done(self, ack, body: dict, action: dict, client, **_) -> None:
        """"Done" on a common action in the weekly nudge: recorded, due again after its cadence."""
        await ack()
        if await self._double_click(body, action):
            return
        value = json.loads(action["value"])
        p, ctx = await self._who(client, body["user"]["id"])
        reply = await self._invoke(ctx, "action_done", account=value["account"], number=str(value["n"]))
        await self._answer(body, ctx, reply)

    async def on_stage_select(self, ack, body: dict, action: dict, client, **_) -> None:
        await ack()
        deal_name = action.get("block_id", "").partition("|")[2]
        stage = (action.get("selected_option") or {}).get("value")
        if not deal_name or not stage:
            return
        p, ctx = await self._who(client, body["user"]["id"])
        reply = await self._invoke(ctx, "deal_stage", deal=deal_name, stage=stage)
        ephemeral = bool((body.get("container") or {}).get("is_ephemeral"))
        await self._answer(body, ctx, reply, replace=ephemeral)

    # --- modals -----------------------------------------------------------------------------

    def _origin(self, body: dict, name: str) -> str:
        """What a modal needs to answer where the button was: private_metadata (3,000 chars max)."""
        container = body.get("container") or {}
        meta = {"n": name, "r": body.get("response_url"), "home": container.get("type") == "view"}
        return json.dumps(meta, ensure_ascii=False)[:3000]

    async def _open_modal(self, client, body: dict, view: dict) -> None:
        try:
            await client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as exc:  # an expired trigger (over 3 s) or a closed client
            log.info("views.open failed: %s", exc.response.get("error"))

    async def on_edit_account(self, ack, body: dict, action: dict, client, **_) -> None:
        await ack()
        if await self._double_click(body, action):
            return
        p, ctx = await self._who(client, body["user"]["id"])
        reply = await self._invoke(ctx, "account", account=action["value"])
        if not reply.ok:
            await self._answer(body, ctx, reply)
            return
        custom = [f for f in self.playbook.field_types if f not in reply.data["fields"]
                  and f not in ("name", "owner") and f not in DERIVED_FIELDS]
        view = self._view(ctx, "account_edit_modal", reply.data, metadata=self._origin(body, reply.data["account"]),
                          custom_fields=custom)
        await self._open_modal(client, body, view)

    async def on_nurture_button(self, ack, body: dict, action: dict, client, **_) -> None:
        await ack()
        if await self._double_click(body, action):
            return
        p, ctx = await self._who(client, body["user"]["id"])
        reply = await self._invoke(ctx, "deal", deal=action["value"])
        if not reply.ok:
            await self._answer(body, ctx, reply)
            return
        await self._open_modal(client, body, self._view(ctx, "deal_nurture_modal", reply.data,
                                                        metadata=self._origin(body, reply.data["deal"])))

    async def on_snooze_button(self, ack, body: dict, action: dict, client, **_) -> None:
        await ack()
        if await self._double_click(body, action):
            return
        p, ctx = await self._who(client, body["user"]["id"])
        reply = await self._invoke(ctx, "deal", deal=action["value"])
        if not reply.ok:
            await self._answer(body, ctx, reply)
            return
        until = reply.data.get("snoozed_until") or ctx.today() + timedelta(days=SNOOZE_DEFAULT_DAYS)
        await self._open_modal(client, body, self._view(ctx, "deal_snooze_modal", reply.data,
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
        p, ctx = await self._who(client, body["user"]["id"], timeout=1.5)
        meta = json.loads(view.get("private_metadata") or "{}")
        values = self._values(view)
        command, args = call(meta.get("n"), values)
        reply = await self._invoke(ctx, command, **args)
        if not reply.ok:
            await asyncio.to_thread(release, self.engine, PLATFORM, identity)
            field = reply.data.get("field") or reply.data.get("error")
            block = field_blocks.get(field) or next(iter(values), None)
            text = render(reply, surface="text", language=ctx.language, currency=self.playbook.currency).strip()
            await ack(response_action="errors", errors={block: text[:300]})
            return
        await ack()
        origin = {"response_url": meta.get("r"), "user": {"id": body["user"]["id"]}}
        await self._answer(origin, ctx, reply)
        if meta.get("home"):
            await self._publish_home(client, body["user"]["id"])

    async def on_account_edit_submit(self, ack, body: dict, view: dict, client, **_) -> None:
        def save(name, values):
            changes = {block[2:]: value for block, value in values.items() if block.startswith("f_")}
            return "account_set", {"account": name, "changes": changes}
        blocks = {b[2:]: b for b in (view.get("state") or {}).get("values", {}) if b.startswith("f_")}
        await self._submit(ack, body, view, client, save, blocks)

    async def on_nurture_submit(self, ack, body: dict, view: dict, client, **_) -> None:
        await self._submit(ack, body, view, client,
                           lambda name, values: ("deal_nurture", {"deal": name, "reason": values.get("reason") or None}),
                           {"reason": "reason", "deal_closed": "reason"})

    async def on_snooze_submit(self, ack, body: dict, view: dict, client, **_) -> None:
        await self._submit(ack, body, view, client,
                           lambda name, values: ("deal_snooze", {"deal": name, "until": values.get("until") or "",
                                                                 "reason": values.get("reason")}),
                           {"until": "until", "snooze_not_future": "until", "reason": "reason",
                            "snooze_reason_missing": "reason", "deal_closed": "reason"})

    # --- App Home -----------------------------------------------------------------------------

    async def _publish_home(self, client, user_id: str) -> None:
        p, ctx = await self._who(client, user_id)
        reply = await asyncio.to_thread(registry.guarded, ctx, lambda: home(ctx), "home")
        if not reply.ok:
            return
        try:
            await client.views_publish(user_id=user_id, view=self._view(ctx, "home", reply.data))
        except SlackApiError as exc:
            log.warning("views.publish failed for %s: %s", user_id, exc.response.get("error"))

    async def on_home_opened(self, event: dict, client, **_) -> None:
        if event.get("tab", "home") != "home":
            return
        await self._publish_home(client, event["user"])
