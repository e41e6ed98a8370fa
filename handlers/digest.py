"""The weekly run's people and their preferences: who gets a rep nudge or a manager digest (the
directory), each rep's day and muted parts; and `nudge [OWNER]`, this week's nudge as it would be
sent. What the messages say is composed in handlers/rep_nudge.py and handlers/manager_digest.py."""
from __future__ import annotations

from sqlmodel import Session, select

from handlers import directory
from handlers.directory import Recipient
from handlers.rep_nudge import rep_nudge_data
from handlers.reply import Context, Reply
from playbook.words import DAY_WORDS, fold
from store.database import session_scope
from store.models import RepSetting


# --- who gets what ---------------------------------------------------------------------------

def rep_settings(session: Session) -> dict[str, RepSetting]:
    return {fold(r.owner): r for r in session.exec(select(RepSetting))}


def reps(session: Session, ctx: Context) -> list[Recipient]:
    """Who gets a rep nudge, and how each is reached (the directory)."""
    return directory.reps(session, ctx.playbook)


def managers(session: Session, ctx: Context) -> list[Recipient]:
    """Who gets a manager digest, and how each is reached (the directory)."""
    return directory.managers(session, ctx.playbook)


def nudge_day(ctx: Context, setting: RepSetting | None) -> int:
    """The rep's chosen weekday, else the weekday of the playbook's rep schedule (Monday if any)."""
    if setting is not None and setting.nudge_day is not None:
        return setting.nudge_day
    weekday = ctx.playbook.nudges.rep_cron.split()[4].split(",")[0].split("-")[0].lower()
    return DAY_WORDS.get(weekday, int(weekday) - 1 if weekday.isdigit() and weekday != "0" else 0) % 7


# --- the command: a preview of my nudge ----------------------------------------------------

def nudge(ctx: Context, owner: str | None = None) -> Reply:
    """`nudge [OWNER]`: this week's nudge, as it would be sent."""
    from handlers.records import resolve_owner

    with session_scope(ctx.engine) as session:
        rep = resolve_owner(session, ctx, owner or "@me")
        ctx.require("oversee", owner=rep)  # a nudge is personal: the rep, their manager, an admin
        data = rep_nudge_data(session, ctx, rep, rep_settings(session).get(fold(rep)))
    if data is None:
        return Reply("rep_nudge_empty", {"rep": rep})
    return Reply("rep_nudge", data)
