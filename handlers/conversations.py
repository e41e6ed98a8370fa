"""What a chat shell needs to remember about conversations, kept in the store so any worker can
answer: which events were already handled, which messages are a deal's qualification checklist
(and so whose thread it is), and what "this" means in such a thread."""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from playbook.words import command_family
from handlers import registry
from handlers.reply import Context, Reply
from store import queries
from store.database import session_scope
from store.models import Account, Deal

log = logging.getLogger("gare.handlers")


def claim(engine: Engine, platform: str, kind: str, identity: str, now: datetime,
          window: timedelta | None = None) -> bool:
    """True when this process is the one to handle the event (see queries.claim_event)."""
    with session_scope(engine) as session:
        return queries.claim_event(session, platform, kind, identity, now, window)


def release(engine: Engine, platform: str, identity: str) -> None:
    with session_scope(engine) as session:
        queries.release_event(session, platform, identity)


def remember_checklist(ctx: Context, channel: str, ts: str, subject: str, subject_id: int) -> None:
    """The posted checklist's thread becomes the deal's (or account's) thread."""
    with session_scope(ctx.engine) as session:
        queries.remember_message(session, ctx.platform, channel, ts, "checklist", subject, subject_id,
                                 language=ctx.language, posted_by=ctx.actor)


def remember_thread(ctx: Context, channel: str, thread_ts: str, subject: str, subject_id: int) -> None:
    """A thread someone else started becomes a deal's thread when its checklist is posted in it."""
    with session_scope(ctx.engine) as session:
        queries.remember_message(session, ctx.platform, channel, thread_ts, "thread", subject, subject_id,
                                 language=ctx.language, posted_by=ctx.actor)


def forget_old_events(engine: Engine, now: datetime, keep: timedelta = timedelta(days=7)) -> int:
    """Slack stops redelivering an event within hours: claims older than a week are dropped."""
    from sqlalchemy import delete

    from store.models import HandledEvent

    with session_scope(engine) as session:
        return session.execute(delete(HandledEvent).where(HandledEvent.claimed_at < now - keep)).rowcount


def thread_subject(ctx: Context, channel: str, thread_ts: str) -> tuple[str, str] | None:
    """("deal", "#id") or ("account", name) when that thread is under a checklist the bot posted:
    a deal by its id, since deal names repeat."""
    with session_scope(ctx.engine) as session:
        message = queries.posted_message(session, ctx.platform, channel, thread_ts)
        if message is None:
            return None
        row = session.get(Deal if message.subject == "deal" else Account, message.subject_id)
        if row is None:
            return None
        return (message.subject, f"#{row.id}" if message.subject == "deal" else row.name)


def checklist_copies(ctx: Context, subject: str, subject_id: int) -> list[tuple[str, str, str | None]]:
    """Every posted copy of a checklist, (channel, ts, language), to update them all in place."""
    with session_scope(ctx.engine) as session:
        return [(m.channel, m.ts, m.language)
                for m in queries.posted_messages_about(session, ctx.platform, "checklist", subject, subject_id)]


def _only_word(text: str) -> str | None:
    """The command family when `text` is a command word alone ("checklist?", "affaire")."""
    return command_family(re.sub(r"[?!.\s]+$", "", text.strip()))


def run_in_thread(ctx: Context, text: str, subject: tuple[str, str] | None) -> Reply:
    """Like registry.run, except that in a deal's thread "is this a fit?", "checklist" and
    "deal" with no name refer to that thread's deal (or account)."""
    if subject is not None:
        kind, name = subject
        alone = _only_word(text)
        if alone == "checklist":
            return registry.invoke(ctx, "checklist", name=name)
        if kind == "deal" and alone == "deal":
            return registry.invoke(ctx, "deal", deal=name)
        if _is_this_a_fit(text):
            return registry.invoke(ctx, "fit", **({"account": None, "deal": name} if kind == "deal"
                                                  else {"account": name}))
    return registry.run(ctx, text)


def _is_this_a_fit(text: str) -> bool:
    try:
        invocation = registry.parse(text)
    except Exception:
        return False
    return invocation.name == "fit" and not invocation.args.get("account")


def subject_name(ctx: Context, subject: str, subject_id: int) -> str | None:
    """The current name of the deal or account a checklist message is about (ids survive renames)."""
    with session_scope(ctx.engine) as session:
        row = session.get(Deal if subject == "deal" else Account, subject_id)
        return row.name if row is not None else None
