"""The HTTP server (`gare serve`, the Procfile's web process): one aiohttp application for every
chat platform. Slack's one Request URL is POST /slack/events; Teams will add POST /api/messages
here (botbuilder's hosting is aiohttp too). GET /healthz says whether the database answers."""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.engine import Engine

log = logging.getLogger("gare.server")
ENGINE = web.AppKey("engine", Engine)
SLACK = web.AppKey("slack", object)


def _database_answers(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        log.warning("health check: the database does not answer", exc_info=True)
        return False


async def healthz(request: web.Request) -> web.Response:
    ok = await asyncio.to_thread(_database_answers, request.app[ENGINE])
    return web.json_response({"status": "ok" if ok else "database unreachable"}, status=200 if ok else 503)


def make_web_app(engine: Engine, *, slack: Any = None) -> web.Application:
    """`slack` is a bot.slack.SlackShell, or None when Slack is not configured."""
    app = web.Application()
    app[ENGINE] = engine
    app[SLACK] = slack
    app.router.add_get("/healthz", healthz)
    if slack is not None:
        app.router.add_post("/slack/events", slack.handle_http)

        async def on_startup(_app: web.Application) -> None:
            await slack.forget_old_events()
        app.on_startup.append(on_startup)
        app.cleanup_ctx.append(slack.outbox_loop)
    return app


def serve(cli_app, *, host: str, port: int, socket_mode: bool = False, with_scheduler: bool = False) -> int:
    """Run until interrupted. Nothing here calls Slack: the server starts offline."""
    from handlers.reply import Reply

    from bot.slack import SlackSettings, SlackShell

    settings = SlackSettings.from_env()
    slack = SlackShell(cli_app.engine, cli_app.playbook, settings) if settings else None
    if socket_mode and (settings is None or not settings.app_token):
        cli_app.show(Reply("error", {"error": "socket_mode_needs_token"}, ok=False))
        return 2
    web_app = make_web_app(cli_app.engine, slack=slack)
    cli_app.show(Reply("serve_started", {"host": host, "port": port, "slack": slack is not None,
                                         "api_url": settings.api_url if settings else None,
                                         "socket_mode": socket_mode}))
    if socket_mode:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        async def start_socket_mode(app: web.Application):
            handler = AsyncSocketModeHandler(slack.bolt, settings.app_token)
            await handler.connect_async()
            yield
            await handler.close_async()
        web_app.cleanup_ctx.append(start_socket_mode)
    if with_scheduler:
        # The weekly jobs in this process (a single web worker): in threads, off the event loop.
        from apscheduler.schedulers.background import BackgroundScheduler

        from bot.scheduler import add_weekly_jobs

        scheduler = BackgroundScheduler(timezone=cli_app.playbook.tz)
        if add_weekly_jobs(scheduler, cli_app.engine, cli_app.playbook):
            async def run_scheduler(app: web.Application):
                scheduler.start()
                yield
                scheduler.shutdown(wait=False)
            web_app.cleanup_ctx.append(run_scheduler)
    web.run_app(web_app, host=host, port=port, print=None)
    return 0
