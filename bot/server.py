"""The HTTP server (`gare serve`, the Procfile's web process): one aiohttp application for every
chat platform. Slack's one Request URL is POST /slack/events; Teams' messaging endpoint is POST
/api/messages (the Bot Framework's aiohttp hosting). GET /healthz says whether the database
answers."""
from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.engine import Engine

log = logging.getLogger("gare.server")
ENGINE = web.AppKey("engine", Engine)
SLACK = web.AppKey("slack", object)
TEAMS = web.AppKey("teams", object)


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


def make_web_app(engine: Engine, *, slack: Any = None, teams: Any = None) -> web.Application:
    """`slack` is a bot.slack.SlackShell and `teams` a bot.teams.shell.TeamsShell, each None
    when that platform is not configured."""
    app = web.Application()
    app[ENGINE] = engine
    app[SLACK] = slack
    app[TEAMS] = teams
    app.router.add_get("/healthz", healthz)
    if teams is not None:
        app.router.add_post("/api/messages", teams.handle_http)
    if slack is not None:
        app.router.add_post("/slack/events", slack.handle_http)

        async def on_startup(_app: web.Application) -> None:
            await slack.forget_old_events()
        app.on_startup.append(on_startup)
        app.cleanup_ctx.append(slack.outbox_loop)
        app.cleanup_ctx.append(slack.close_http)
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
    teams, teams_data = _teams_shell(cli_app)
    if teams_data.get("problem"):
        cli_app.show(Reply("error", {"error": "teams_settings", "problem": teams_data["problem"]}, ok=False))
        return 2
    web_app = make_web_app(cli_app.engine, slack=slack, teams=teams)
    cli_app.show(Reply("serve_started", {"host": host, "port": port, "slack": slack is not None,
                                         "api_url": settings.api_url if settings else None,
                                         "socket_mode": socket_mode, "teams": teams_data}))
    if teams is not None and not teams.settings.authenticated:
        log.warning("TEAMS WITHOUT AUTHENTICATION: /api/messages accepts any request (GARE_TEAMS_DEV=1, no "
                    "MicrosoftAppId). Local development only.")
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
    # Assessments stored under another playbook (or day) are made again in the background: the
    # first list read would otherwise do it.
    threading.Thread(target=_reassess, args=(cli_app,), name="gare-reassess", daemon=True).start()
    web.run_app(web_app, host=host, port=port, print=None)
    return 0


def _reassess(cli_app) -> None:
    from bot.scheduler import reassess

    try:
        reassess(cli_app.engine, cli_app.playbook)
    except Exception:  # the lists reassess what is left at their first read
        log.warning("reassessing the accounts at start failed", exc_info=True)


def _teams_shell(cli_app) -> tuple[Any, dict]:
    """The Teams shell when the environment configures it, and what the start message says."""
    from bot.teams import TeamsSettings

    settings = TeamsSettings.from_env()
    if settings is None:
        return None, {"on": False}
    problem = settings.problem()
    if problem:
        return None, {"on": False, "problem": problem}
    from bot.teams.shell import TeamsShell

    shell = TeamsShell(cli_app.engine, cli_app.playbook, settings)
    return shell, {"on": True, "authenticated": settings.authenticated, "app_id": settings.app_id,
                   "tenants": list(settings.served_tenants(cli_app.playbook.msteams.tenants))}
