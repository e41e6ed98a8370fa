"""`gare`: the command line. Starts the console, answers one command (`ask`), loads the demo,
imports and exports CSV, migrates the database, serves Slack, and sends the weekly nudges."""
from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from pathlib import Path

from bot import logs
from bot.render import render, to_json
from handlers.reply import Context, Reply
from playbook import config as playbook_config
from store.database import default_sqlite_path, describe_url, make_engine, resolve_url


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                        help="playbook file (default: $GARE_CONFIG, ./config.toml, then the one shipped with Gare)")
    common.add_argument("--db", metavar="URL", default=argparse.SUPPRESS,
                        help="database URL (default: $DATABASE_URL, else the SQLite file "
                             f"{default_sqlite_path()})")
    common.add_argument("--as", dest="as_user", metavar="USER", default=argparse.SUPPRESS,
                        help="act as this person of the directory, with their permissions "
                             "(default: you, the local operator, as an admin)")
    common.add_argument("--lang", choices=("en", "fr"), default=argparse.SUPPRESS,
                        help="reply language (default: the playbook's)")

    p = argparse.ArgumentParser(
        prog="gare", parents=[common],
        description="Gare, the account-strategy assistant. "
                    f"Default database: {default_sqlite_path()} (override with --db or DATABASE_URL).",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("console", parents=[common], help="talk to the bot in this terminal (also reads piped stdin)")
    ask = sub.add_parser("ask", parents=[common], help='run one command, e.g. gare ask "fit Acme"')
    ask.add_argument("--json", action="store_true", help="print the reply's data as JSON")
    ask.add_argument("text", nargs="+", help="the command, as typed in chat")
    sub.add_parser("demo", parents=[common], help="load the demo dataset (safe to run again)")
    imp = sub.add_parser("import", parents=[common], help="import a CRM export (CSV), all or nothing")
    imp.add_argument("kind", choices=("accounts", "deals", "stages", "people"))
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")
    imp.add_argument("--date-order", choices=("mdy", "dmy"),
                     help="read dates like 03/04/2024 month first (mdy, US) or day first (dmy), when every "
                          "date of the file could be either")
    imp.add_argument("--create-accounts", action="store_true",
                     help="deals: create the accounts the file names that Gare does not know, as prospects")
    exp = sub.add_parser("export", parents=[common],
                         help="export accounts, deals, or the deals in marketing nurture (for a marketing tool) "
                              "as CSV, or an account's plan as Markdown")
    exp.add_argument("kind", choices=("accounts", "deals", "nurture", "plan"))
    exp.add_argument("file", nargs="?", help="output file (default: standard output); "
                                             "for `plan`: the account, then the output file")
    exp.add_argument("plan_file", nargs="?", metavar="FILE", help=argparse.SUPPRESS)
    db = sub.add_parser("db", parents=[common], help="database maintenance")
    db.add_argument("action", choices=("upgrade",))
    sub.add_parser("info", parents=[common], help="where the database and the playbook are")
    again = sub.add_parser("reassess", parents=[common],
                           help="store what the playbook says of every account whose stored assessment is out of "
                                "date (after a playbook change; lists otherwise do it at their first read)")
    again.add_argument("--all", action="store_true", help="assess every account again, out of date or not")
    bak = sub.add_parser("backup", parents=[common], help="write everything Gare keeps to one file (.gz compresses)")
    bak.add_argument("file")
    res = sub.add_parser("restore", parents=[common], help="load a backup into an empty database")
    res.add_argument("file")
    dig = sub.add_parser("digest", parents=[common], help="send the weekly rep nudges and manager digests")
    dig.add_argument("--now", action="store_true", required=True, help="run now instead of on the schedule")
    dig.add_argument("--dry-run", action="store_true", help="print what would be posted; post nothing")
    dig.add_argument("--only", choices=("reps", "managers"), help="only the rep nudges, or only the digests")
    dig.add_argument("--to", metavar="USER", help="only this rep or manager (owner name)")
    sub.add_parser("scheduler", parents=[common], help="run the weekly jobs on their schedule (the clock process)")
    ppl = sub.add_parser("people", parents=[common], help="the people directory: link chat accounts, check it")
    ppl_sub = ppl.add_subparsers(dest="people_action", metavar="ACTION", required=True)
    sync = ppl_sub.add_parser("sync", parents=[common], help="link the platform's members to people by verified e-mail")
    sync.add_argument("platform", choices=("slack", "teams"))
    sync.add_argument("--dry-run", action="store_true", help="report what would be linked; link nothing")
    ppl_sub.add_parser("check", parents=[common], help="where the directory and the playbook disagree")
    teams = sub.add_parser("teams", parents=[common], help="Microsoft Teams: the app package to install")
    teams_sub = teams.add_subparsers(dest="teams_action", metavar="ACTION", required=True)
    package = teams_sub.add_parser("package", parents=[common],
                                   help="zip manifest.json and the icons for uploading in Teams")
    package.add_argument("--app-id", default=os.environ.get("MicrosoftAppId"),
                         help="the Azure Bot's Microsoft App ID (default: $MicrosoftAppId)")
    package.add_argument("--host", default=os.environ.get("GARE_HOST"),
                         help="the public host name Gare is served on (default: $GARE_HOST)")
    package.add_argument("out", help="the zip file to write, e.g. gare-teams.zip")
    bench = sub.add_parser("bench", parents=[common], help="benchmarks: a synthetic sales org to measure on")
    bench_sub = bench.add_subparsers(dest="bench_action", metavar="ACTION", required=True)
    seed = bench_sub.add_parser("seed", parents=[common],
                                help="load a synthetic org (reps in teams, accounts, deals and stage histories) "
                                     "into an empty database")
    seed.add_argument("--accounts", type=int, default=100_000, help="accounts (default 100000)")
    seed.add_argument("--deals", type=int, default=500_000, help="deals (default 500000)")
    seed.add_argument("--reps", type=int, default=200, help="reps, in teams of ten under a manager (default 200)")
    seed.add_argument("--seed", type=int, default=42, help="random seed: the same seed gives the same org")
    serve = sub.add_parser("serve", parents=[common],
                           help="serve Slack (POST /slack/events), Teams (POST /api/messages) and the "
                                "health check (GET /healthz)")
    serve.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"), help="interface to listen on")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 3000),
                       help="port (default: $PORT, then 3000)")
    serve.add_argument("--with-scheduler", action="store_true",
                       help="also run the weekly nudges and digests here (one web process; else `gare scheduler`)")
    serve.add_argument("--socket-mode", action="store_true",
                       help="also take Slack events over Socket Mode (SLACK_APP_TOKEN), no public URL needed")
    return p


class App:
    """What every CLI command needs: the playbook, the engine, who speaks and in which language."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.config_path = playbook_config.locate(getattr(args, "config", None))
        self.playbook = playbook_config.load(self.config_path)
        self.db_url = resolve_url(getattr(args, "db", None))
        # --as OWNER (or GARE_USER) acts as that person, with their permissions; without it the
        # command is the local operator's, an admin.
        self.as_owner = getattr(args, "as_user", None) or os.environ.get("GARE_USER") or None
        self.user = self.as_owner or _os_user()
        self.language = getattr(args, "lang", None) or os.environ.get("GARE_LANG") or self.playbook.language
        self._engine = None

    @property
    def engine(self):
        if self._engine is None:
            try:
                self._engine = make_engine(self.db_url)
            except OSError as exc:  # the SQLite file's folder cannot be made
                raise NoDatabaseFolder(exc) from exc
        return self._engine

    def context(self) -> Context:
        from handlers.people import console_context

        return console_context(self.engine, self.playbook, as_owner=self.as_owner, operator_name=self.user,
                               language=self.language)

    def show(self, reply: Reply, stream=None) -> None:
        stream = stream or (sys.stdout if reply.ok else sys.stderr)
        stream.write(render(reply, surface="text", language=self.language, currency=self.playbook.currency))
        stream.flush()


class NoDatabaseFolder(Exception):
    """The folder of the SQLite file does not exist and cannot be made."""


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "console"


def _language_guess(args) -> str:
    lang = getattr(args, "lang", None) or os.environ.get("GARE_LANG")
    return lang if lang in ("en", "fr") else "en"


def main(argv: list[str] | None = None) -> int:
    logs.install()  # before anything logs: no secret nor e-mail in a log, at any level
    logging.basicConfig(level=os.environ.get("GARE_LOG_LEVEL", "WARNING"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    try:
        app = App(args)
    except playbook_config.PlaybookError as exc:
        sys.stderr.write(render(Reply("config_error", {"file": exc.path, "key": exc.key, "problem": exc.problem},
                                      ok=False), language=_language_guess(args)))
        return 2
    try:
        return COMMANDS[args.command](app)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a database that cannot be reached, a file that cannot be read...
        logging.getLogger("gare").debug("command failed", exc_info=True)
        detail = (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0][:300]
                  if str(exc) else "")
        app.show(Reply("cli_error", {"error": _failure_kind(exc), "detail": detail,
                                     "db": describe_url(app.db_url),
                                     "file": getattr(exc, "filename", None)}, ok=False))
        return 1


def _failure_kind(exc: Exception) -> str:
    """Names the failure for the cli_error template; the trace goes to the debug log only."""
    from store.database import failure_kind

    kind = failure_kind(exc)
    if kind:
        return kind
    if isinstance(exc, NoDatabaseFolder):
        return "db_missing"
    if isinstance(exc, FileNotFoundError):
        return "file_not_found"
    if isinstance(exc, (PermissionError, IsADirectoryError)):
        return "file_unreadable"
    return type(exc).__name__


def cmd_console(app: App) -> int:
    from bot.console import run_console

    return run_console(app)


def cmd_ask(app: App) -> int:
    from handlers.registry import run as run_command

    reply = run_command(app.context(), " ".join(app.args.text))
    if reply.data.get("error") == "storage":  # the operator is the admin a chat user is told to call
        app.show(Reply("cli_error", {"error": reply.data["kind"], "db": describe_url(app.db_url)}, ok=False))
        return 1
    if app.args.json:
        print(to_json(reply.data))
    else:
        app.show(reply)
    return 0 if reply.ok else 1


def cmd_demo(app: App) -> int:
    from handlers.demo import load_demo_data

    app.show(load_demo_data(app.context()))
    return 0


def cmd_import(app: App) -> int:
    from bot.progress import ProgressBar
    from handlers.imports import import_file
    from handlers.registry import refused
    from handlers.reply import Refusal

    path = Path(app.args.file)
    ctx = app.context()
    with ProgressBar(app.language, path.name) as bar:
        try:
            reply = import_file(ctx, app.args.kind, path, dry_run=app.args.dry_run, progress=bar.update,
                                date_order=app.args.date_order, create_accounts=app.args.create_accounts)
        except Refusal as refusal:  # bad options: said politely (a missing file is main's to say)
            reply = refused(ctx, refusal)
    app.show(reply)
    if reply.ok and not app.args.dry_run and app.args.kind in ("accounts", "deals", "stages"):
        # Assessed now rather than by the first person who lists accounts (4.5 s per 10,000).
        count = _reassess(app)
        if count:
            app.show(Reply("reassessed", {"accounts": count}))
    return 0 if reply.ok else 1


def cmd_export(app: App) -> int:
    from handlers.imports import export_file

    if app.args.kind == "plan":
        return _export_plan(app)
    if app.args.plan_file:  # only a plan export takes two names
        app.show(Reply("error", {"error": "bad_syntax", "command": "export", "example": "gare export accounts FILE"},
                       ok=False))
        return 1
    if app.args.file:
        with open(app.args.file, "w", encoding="utf-8", newline="") as out:
            reply = export_file(app.context(), app.args.kind, out)
        app.show(reply, sys.stderr)
    else:
        export_file(app.context(), app.args.kind, sys.stdout)
    return 0


def _export_plan(app: App) -> int:
    """`gare export plan ACCOUNT [FILE]`: the document `plan ACCOUNT export` shows, in a file."""
    from handlers.registry import invoke

    account, out = app.args.file, app.args.plan_file
    if not account:
        app.show(Reply("error", {"error": "bad_syntax", "command": "plan_export",
                                 "example": 'gare export plan "Acme" plan-acme.md'}, ok=False))
        return 1
    reply = invoke(app.context(), "plan_export", account=account)
    if not reply.ok or not out:
        app.show(reply)
        return 0 if reply.ok else 1
    document = render(reply, surface="text", language=app.language, currency=app.playbook.currency)
    Path(out).write_text(document, encoding="utf-8")
    app.show(Reply("plan_file_written", {"account": reply.data["account"], "file": out}), sys.stderr)
    return 0


def cmd_db(app: App) -> int:
    from store.migrations import current_revision, head_revision

    engine = app.engine  # creating the engine migrates to head
    app.show(Reply("db_upgraded", {"db": describe_url(app.db_url), "revision": current_revision(engine),
                                   "head": head_revision()}))
    return 0


def cmd_info(app: App) -> int:
    from store.migrations import current_revision

    data = {
        "db": describe_url(app.db_url),
        "default_sqlite": str(default_sqlite_path()),
        "playbook": str(app.config_path),
        "language": app.language,
        "user": app.user,
        "revision": current_revision(app.engine),
    }
    app.show(Reply("info", data))
    return 0


def _reassess(app: App) -> int:
    """Stores the assessment of every account whose stored one is out of date, with a progress
    bar on a terminal; returns how many."""
    from bot.progress import ProgressBar
    from handlers.records import refresh_assessments, refresh_skipped

    with ProgressBar(app.language, "accounts") as bar:
        count = refresh_assessments(app.context(), progress=bar.update)
    with ProgressBar(app.language, "deals") as bar:  # which deals skipped a step (`deals skipped`)
        refresh_skipped(app.context(), progress=bar.update)
    return count


def cmd_reassess(app: App) -> int:
    from store.assessed import mark_stale
    from store.database import session_scope

    if app.args.all:
        with session_scope(app.engine) as session:
            mark_stale(session)
    app.show(Reply("reassessed", {"accounts": _reassess(app)}))
    return 0


def cmd_backup(app: App) -> int:
    from bot.progress import ProgressBar
    from store.backup import backup

    with ProgressBar(app.language, Path(app.args.file).name) as bar:
        report = backup(app.engine, app.args.file, progress=bar.update)
    app.show(Reply("backup_done", {"file": report.file, "rows": report.rows, "tables": report.tables,
                                   "revision": report.revision}))
    return 0


def cmd_restore(app: App) -> int:
    from bot.progress import ProgressBar
    from store.backup import BackupProblem, restore

    try:
        with ProgressBar(app.language, Path(app.args.file).name) as bar:
            report = restore(app.engine, app.args.file, progress=bar.update)
    except BackupProblem as problem:
        app.show(Reply("restore_refused", {"problem": problem.code, "file": app.args.file, **problem.params},
                       ok=False))
        return 1
    app.show(Reply("restore_done", {"file": report.file, "rows": report.rows, "tables": report.tables,
                                    "db": describe_url(app.db_url)}))
    return 0


def cmd_serve(app: App) -> int:
    from bot.server import serve

    return serve(app, host=app.args.host, port=app.args.port, socket_mode=app.args.socket_mode,
                 with_scheduler=app.args.with_scheduler)


def cmd_digest(app: App) -> int:
    from datetime import datetime, timezone

    from bot.nudges import run_weekly

    couriers, chart_maker = {}, None
    if not app.args.dry_run:
        from bot.delivery import chart_for, couriers_from_environment

        couriers = couriers_from_environment(app.engine, app.playbook)
        if not couriers:
            app.show(Reply("digest_no_platform", {}, ok=False))
            return 1
        chart_maker = chart_for
    clock = lambda: datetime.now(timezone.utc)  # noqa: E731
    kinds = [app.args.only] if app.args.only else ["reps", "managers"]
    failed = False
    for kind in kinds:
        summary = run_weekly(app.engine, app.playbook, kind=kind, clock=clock, couriers=couriers,
                             dry_run=app.args.dry_run, to=app.args.to, chart_maker=chart_maker,
                             language=getattr(app.args, "lang", None) or os.environ.get("GARE_LANG") or None)
        for recipient, text in summary.previews:
            app.show(Reply("digest_preview", {"recipient": recipient, "kind": summary.kind, "text": text}))
        app.show(Reply("digest_summary", dict(summary.as_data(), dry_run=app.args.dry_run)))
        failed = failed or bool(summary.failed)
    return 1 if failed else 0


def cmd_people(app: App) -> int:
    from handlers import directory

    if app.args.people_action == "check":
        reply = directory.check(app.context())
        app.show(reply)
        return 0
    if app.args.platform == "teams":
        from bot.teams import TeamsSettings
        from bot.teams.sync import NoTeam, sync_teams

        teams_settings = TeamsSettings.from_env()
        if teams_settings is None or teams_settings.problem():
            app.show(Reply("digest_no_platform", {}, ok=False))
            return 1
        ctx = app.context()
        ctx.require("admin")
        try:
            report = sync_teams(app.engine, app.playbook, teams_settings, dry_run=app.args.dry_run, actor=ctx.who)
        except NoTeam:
            app.show(Reply("error", {"error": "no_team_installed"}, ok=False))
            return 1
        app.show(Reply("people_sync", report.as_data()))
        return 0
    from bot.slack.client import settings_from_environment
    from bot.slack.sync import sync_slack

    settings = settings_from_environment()
    if settings is None:
        app.show(Reply("digest_no_platform", {}, ok=False))
        return 1
    ctx = app.context()
    ctx.require("admin")
    report = sync_slack(app.engine, app.playbook, settings, dry_run=app.args.dry_run, actor=ctx.who)
    app.show(Reply("people_sync", report.as_data()))
    return 0


def cmd_teams(app: App) -> int:
    from bot.teams.package import PackageProblem, build

    try:
        data = build(Path(app.args.out), app.args.app_id or "", app.args.host or "")
    except PackageProblem as problem:
        app.show(Reply("error", {"error": "teams_package", "problem": problem.what}, ok=False))
        return 2
    app.show(Reply("teams_packaged", {"file": app.args.out, "app_id": data["id"],
                                      "host": data["validDomains"][0]}))
    return 0


def cmd_bench(app: App) -> int:
    import time

    from bot.progress import ProgressBar
    from store.synthetic import seed

    args = app.args
    if min(args.accounts, args.deals, args.reps) < 0 or args.reps == 0 or args.accounts == 0:
        app.show(Reply("error", {"error": "bench_sizes"}, ok=False))
        return 2
    started = time.monotonic()
    with ProgressBar(app.language, "seed") as bar:
        try:
            written = seed(app.engine, app.playbook, accounts=args.accounts, deals=args.deals, reps=args.reps,
                           seed=args.seed, progress=lambda what, done, total: bar.update(done, total))
        except ValueError:
            app.show(Reply("error", {"error": "bench_not_empty"}, ok=False))
            return 2
    app.show(Reply("bench_seeded", {"rows": written, "seconds": round(time.monotonic() - started, 1)}))
    app.show(Reply("reassessed", {"accounts": _reassess(app)}))  # as an import does after writing
    return 0


def cmd_scheduler(app: App) -> int:
    from bot.scheduler import run_scheduler

    return run_scheduler(app)


COMMANDS = {
    "console": cmd_console,
    "ask": cmd_ask,
    "demo": cmd_demo,
    "import": cmd_import,
    "export": cmd_export,
    "db": cmd_db,
    "info": cmd_info,
    "reassess": cmd_reassess,
    "serve": cmd_serve,
    "digest": cmd_digest,
    "scheduler": cmd_scheduler,
    "people": cmd_people,
    "backup": cmd_backup,
    "restore": cmd_restore,
    "teams": cmd_teams,
    "bench": cmd_bench,
}


if __name__ == "__main__":
    sys.exit(main())
