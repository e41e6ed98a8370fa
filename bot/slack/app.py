"""The Bolt app: one listener per Slack entry point, each acknowledging at once and doing the work
after the ack, with database work on worker threads. Every listener does the same three things:
find out who is speaking, call the registry, and show its reply (templates/slack) where the user
expects it. What a button means is decided by the handler it calls, never here. The listeners
live by entry kind: commands.py (commands, mentions, card buttons), checklists.py, modals.py,
plans.py (account plans' forms, buttons and export), home.py; base.py holds what they share."""
from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime, timezone
from typing import Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.response import BoltResponse
from sqlalchemy.engine import Engine

from bot import logs
from bot.workpool import Busy, WorkPool
from handlers.reply import unavailable
from store.database import unreachable
from bot.slack.checklists import ChecklistListeners
from bot.slack.client import SlackSettings, make_web_client
from bot.slack.commands import CommandListeners
from bot.slack.home import HomeListeners
from bot.slack.modals import ModalListeners
from bot.slack.plans import PlanListeners
from handlers.conversations import forget_old_events
from playbook.config import Playbook

log = logging.getLogger("gare.slack")


class _ExpectedTokenWarning(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN by itself, then warns that the client we give it wins: that is
    the point (the token comes from `authorize`), so the warning would only mislead operators."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "token` will be unused" not in record.getMessage()


logging.getLogger("slack_bolt.AsyncApp").addFilter(_ExpectedTokenWarning())


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class SlackShell(CommandListeners, ChecklistListeners, PlanListeners, ModalListeners, HomeListeners):
    """The Slack channel of Gare: a Bolt AsyncApp plus what it needs to reach the store."""

    def __init__(self, engine: Engine, playbook: Playbook, settings: SlackSettings,
                 clock: Callable[[], datetime] | None = None):
        self.engine, self.playbook, self.settings = engine, playbook, settings
        logs.protect(settings.signing_secret, settings.bot_token, settings.app_token)
        logs.install()
        self.clock = clock or _utcnow
        self.pool = WorkPool()
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
        """aiohttp handler for POST /slack/events (commands, interactivity and Events API). A
        signed payload no listener wants (another app's button, an event type Gare ignores) gets
        200, or Slack would retry it; a body that cannot be read gets 400; never a 500."""
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not timestamp.isdigit() or not signature.startswith("v0="):
            # Bolt would fail on these before checking them (a 500): they are simply not Slack's.
            return web.Response(status=401, text="invalid request signature")
        try:
            bolt_request = await to_bolt_request(request)
            response = await self.bolt.async_dispatch(bolt_request)
        except Exception:
            log.warning("unreadable Slack request", exc_info=True)
            return web.Response(status=400, text="unreadable request")
        if response.status == 404:
            response = BoltResponse(status=200, body="")
        return await to_aiohttp_response(response)

    def _register(self) -> None:
        bolt = self.bolt

        def listener(method):
            # Bolt passes arguments by the names a function declares; a bound method would
            # declare `self` too, so each listener is wrapped in a plain function. A listener the
            # full pool refuses (Busy, raised before any change) is answered "busy" here.
            async def call(ack, body, client, respond, action, view, event):
                try:
                    return await method(ack=ack, body=body, client=client, respond=respond, action=action,
                                        view=view, event=event)
                except Busy:
                    await self._answer_busy(ack, body)
                except Exception as exc:
                    if not unreachable(exc):
                        raise
                    # The database does not answer: the user hears it in their language (Slack
                    # knows it), and tries again in a minute.
                    log.warning("Slack %s not served, the database is unreachable: %s", method.__name__,
                                exc.__class__.__name__)
                    await self._answer_busy(ack, body, unavailable(), await self._slack_language(client, body))
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
        bolt.action("gare_gate_confirm")(listener(self.on_gate_button))
        bolt.action("gare_decide")(listener(self.on_decide_button))
        bolt.action("gare_contacted")(listener(self.on_contacted))
        bolt.action("gare_stage")(listener(self.on_stage_select))
        bolt.action("gare_tick")(listener(self.on_tick))
        bolt.action("gare_trait")(listener(self.on_trait))
        bolt.action(re.compile(r"^gare_run(_\d+)?$"))(listener(self.on_run))  # _N: one per "which one?" candidate
        bolt.action(re.compile(r"^gare_action_done_\d+$"))(listener(self.on_action_done))
        bolt.view("gare_account_edit")(listener(self.on_account_edit_submit))
        bolt.view("gare_nurture_modal")(listener(self.on_nurture_submit))
        bolt.view("gare_snooze_modal")(listener(self.on_snooze_submit))
        bolt.view("gare_gate_modal")(listener(self.on_gate_submit))
        bolt.view("gare_decide_modal")(listener(self.on_decide_submit))
        bolt.action("gare_plan_edit")(listener(self.on_plan_edit))
        bolt.action("gare_plan_modal")(listener(self.on_plan_form_button))
        bolt.action("gare_plan_task_done")(listener(self.on_plan_task_done))
        bolt.action("gare_plan_review_close")(listener(self.on_plan_review_close))
        bolt.action("gare_plan_export")(listener(self.on_plan_export))
        bolt.view("gare_plan_modal")(listener(self.on_plan_form_submit))

        async def ignore(ack):  # thread messages we are not mentioned in
            return None
        bolt.event("message")(ignore)

    async def _events_once(self, body: dict, next) -> BoltResponse | None:
        """Slack redelivers an event it thinks failed (X-Slack-Retry-Num): the event id is claimed
        in the store, so only the first delivery, on whichever worker, is handled."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        try:
            if event_id and not await self._claim("event", f"event:{body.get('team_id')}:{event_id}"):
                return BoltResponse(status=200, body="")
        except Exception as exc:
            if not unreachable(exc):
                raise
            # Not handled, and nothing said in the channel: Slack delivers the event again in a
            # minute, then in five, by when the database is likely back.
            log.warning("Slack event %s put off, the database is unreachable", event_id)
            return BoltResponse(status=503, body="")
        await next()
        return None
