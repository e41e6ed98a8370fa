"""The console: a real channel, not a test aid. The same grammar and handlers as Slack and
Teams, rendered as plain text. Interactive with history when on a terminal; with piped stdin
it answers one command per line."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from bot.render import render
from handlers.registry import run as run_command
from handlers.reply import Reply
from store.database import describe_url

QUIT_WORDS = {"quit", "exit", "bye", "quitter", "sortir", ":q"}


def _history_file() -> Path:
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "gare" / "console_history"


def _setup_history():
    try:
        import readline
    except ImportError:  # Windows without pyreadline: no history, still works
        return None
    path = _history_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            readline.read_history_file(path)
        readline.set_history_length(1000)
    except OSError:
        return None
    return readline, path


def run_console(app) -> int:
    interactive = sys.stdin.isatty()
    ctx = app.context()
    say = lambda template, **data: render(Reply(template, data), language=app.language,  # noqa: E731
                                          currency=app.playbook.currency)
    if not interactive:
        for line in sys.stdin:
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            if text.lower() in QUIT_WORDS:
                break
            sys.stdout.write(render(run_command(ctx, text), language=app.language, currency=app.playbook.currency))
            sys.stdout.write("\n")
            sys.stdout.flush()
        return 0

    history = _setup_history()
    sys.stdout.write(say("console_welcome", user=app.user, db=describe_url(app.db_url)))
    prompt = render(Reply("console_prompt", {}), language=app.language).rstrip("\n") + " "
    try:
        while True:
            try:
                text = input(prompt).strip()
            except EOFError:
                sys.stdout.write("\n")
                break
            except KeyboardInterrupt:  # Ctrl-C clears the line, Ctrl-D quits
                sys.stdout.write("\n")
                continue
            if not text:
                continue
            if text.lower() in QUIT_WORDS:
                break
            sys.stdout.write(render(run_command(ctx, text), language=app.language, currency=app.playbook.currency))
            sys.stdout.write("\n")
    finally:
        if history:
            readline, path = history
            try:
                readline.write_history_file(path)
            except OSError:
                pass
    sys.stdout.write(say("console_goodbye"))
    return 0
