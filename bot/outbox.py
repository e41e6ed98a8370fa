"""Delivering the messages changes owe to people outside the conversation (the outbox: marketing
hears of each deal handed to nurture). The change wrote the message in its own transaction;
whichever process posts to Slack delivers it: each row is claimed with a compare-and-set, so
two processes never post the same one, and a row left claimed by a dead process is taken over
after a while. Each message carries `outbox:<id>` in its Slack metadata: a row tried before (a
dead process, a 5xx, a timeout) is first looked for in the channel's history, so a message Slack
took is recorded, not posted twice."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from typing import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.slack.client import find_message, message_for, post_message, slack_error
from handlers.reply import Reply
from playbook.config import Playbook
from store.database import session_scope
from store.models import OutboxMessage

log = logging.getLogger("gare.outbox")
STALE = timedelta(minutes=5)
MAX_ATTEMPTS = 5
OUTBOX_EVENT = "gare_outbox_message"  # the event_type of the message's once-only key


def _claim(engine: Engine, worker: str, now: datetime, limit: int) -> list[OutboxMessage]:
    with session_scope(engine) as session:
        rows = session.exec(select(OutboxMessage).where(
            OutboxMessage.platform == "slack",
            or_(OutboxMessage.status == "pending",
                (OutboxMessage.status == "claimed") & (OutboxMessage.claimed_at < now - STALE)))
            .order_by(OutboxMessage.id).limit(limit)).all()
        claimed = []
        for row in rows:
            won = session.execute(update(OutboxMessage).where(
                OutboxMessage.id == row.id, OutboxMessage.status == row.status,
                or_(OutboxMessage.claimed_at.is_(None), OutboxMessage.claimed_at == row.claimed_at))
                .values(status="claimed", claimed_by=worker, claimed_at=now, attempts=row.attempts + 1)).rowcount
            if won == 1:
                claimed.append(row)
        return claimed


def _finish(engine: Engine, row_id: int, **values) -> None:
    with session_scope(engine) as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values))


async def deliver_outbox(engine: Engine, playbook: Playbook, client: AsyncWebClient, *, worker: str,
                         clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc), limit: int = 50) -> int:
    """Posts what is due; returns how many were sent. Never raises for one bad message."""
    rows = await asyncio.to_thread(_claim, engine, worker, clock(), limit)
    sent = 0
    for row in rows:
        reply = Reply(row.kind, row.data)
        key = f"outbox:{row.id}"
        if row.attempts > 0:  # tried before: it may have gone out
            try:
                found = await find_message(client, row.channel, key, row.created_at - timedelta(minutes=1))
            except SlackApiError as exc:
                log.warning("outbox message %s: history unreadable (%s), left for later", row.id, slack_error(exc))
                status = "failed" if row.attempts + 1 >= MAX_ATTEMPTS else "pending"
                await asyncio.to_thread(_finish, engine, row.id, status=status, error="history_unreadable")
                continue
            if found is not None:
                await asyncio.to_thread(_finish, engine, row.id, status="sent", sent_at=clock(), ts=found, error=None)
                sent += 1
                continue
        try:
            # Rendered off the event loop, like every reply of the server.
            message = await asyncio.to_thread(message_for, reply, language=row.language or playbook.language,
                                              currency=playbook.currency)
            ts = await post_message(client, row.channel, message,
                                    metadata={"event_type": OUTBOX_EVENT, "event_payload": {"key": key}})
        except SlackApiError as exc:
            error = str(slack_error(exc) or exc.response.status_code)[:200]
            status = "failed" if row.attempts + 1 >= MAX_ATTEMPTS else "pending"
            log.warning("outbox message %s not delivered (%s): %s", row.id, status, error)
            await asyncio.to_thread(_finish, engine, row.id, status=status, error=error)
            continue
        except Exception:  # a rendering problem: keep it for the team, do not retry forever
            log.exception("outbox message %s could not be rendered", row.id)
            await asyncio.to_thread(_finish, engine, row.id, status="failed", error="render")
            continue
        await asyncio.to_thread(_finish, engine, row.id, status="sent", sent_at=clock(), ts=ts, error=None)
        sent += 1
    return sent
