"""The weekly run: each rep's nudge and each manager's digest, composed by handlers/digest.py and
delivered once per period and recipient, whatever the number of processes or restarts (the
send ledger in the store), at a polite pace, reporting failures without stopping."""
from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterable, Mapping, Protocol

from sqlalchemy.engine import Engine

from bot.faults import crash_point, process_gone
from bot.render import render
from playbook.words import fold
from handlers import digest, manager_digest, rep_nudge
from handlers.directory import Recipient
from handlers.records import refresh_assessments
from handlers.reply import Context, Reply
from playbook.config import PLATFORMS, Playbook
from store import queries
from store.database import session_scope

log = logging.getLogger("gare.nudges")
STALE_CLAIM = timedelta(minutes=10)  # a claim this old was left by a run that died


class DeliveryFailed(Exception):
    """A message could not be delivered; `permanent` ones (channel_not_found...) are not retried
    within the run."""

    def __init__(self, code: str, permanent: bool = True):
        super().__init__(code)
        self.code, self.permanent = code, permanent


class Courier(Protocol):
    platform: str  # "slack" or "teams"

    def deliver(self, recipient: Recipient, reply: Reply, language: str,
                chart: bytes | None = None, once_key: str | None = None) -> tuple[str, str]:
        """Posts the reply to the recipient, the once-only key in the message's metadata;
        returns (channel, message id)."""

    def find_sent(self, recipient: Recipient, once_key: str, since: datetime) -> tuple[str, str] | None:
        """(channel, message id) of the message carrying `once_key` posted to the recipient
        since then, None when there is none; DeliveryFailed when it cannot be told. A courier
        whose platform lets a bot read no history (Teams) has no such method."""


def once_key(kind: str, period: str, recipient: str) -> str:
    """What identifies one weekly message, carried in the message itself (Slack metadata, Teams
    channelData) so a run resuming a dead one's claim can see whether it went out."""
    return f"{kind}:{period}:{fold(recipient)}"


def period_start(period: str) -> datetime:
    """The Monday 00:00 UTC of an ISO week ("2026-W48"), less a day for the time zones ahead:
    no message of that period was posted before."""
    from datetime import date, timezone

    year, week = period.split("-W")
    monday = date.fromisocalendar(int(year), int(week), 1)
    return datetime(monday.year, monday.month, monday.day, tzinfo=timezone.utc) - timedelta(days=1)


@dataclass
class RunSummary:
    kind: str
    period: str
    sent: list[str] = field(default_factory=list)
    already_sent: list[str] = field(default_factory=list)
    found_sent: list[str] = field(default_factory=list)  # posted by a run that died before recording it
    nothing_to_say: list[str] = field(default_factory=list)
    not_today: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    unreachable: list[tuple[str, str]] = field(default_factory=list)  # (recipient, why): not sent
    reach: list[tuple[str, str, str]] = field(default_factory=list)   # (recipient, how they are reached, platform)
    previews: list[tuple[str, str]] = field(default_factory=list)  # dry run: (recipient, text)
    not_recipient: str | None = None  # --to named someone who gets no message of this kind

    def as_data(self) -> dict:
        return {"kind": self.kind, "period": self.period, "sent": self.sent, "already_sent": self.already_sent,
                "found_sent": self.found_sent,
                "nothing_to_say": self.nothing_to_say, "not_today": self.not_today,
                "failed": [{"recipient": r, "error": e} for r, e in self.failed],
                "unreachable": [{"recipient": r, "reason": e} for r, e in self.unreachable],
                "reach": [{"recipient": r, "how": h, "platform": p} for r, h, p in self.reach],
                "previews": len(self.previews), "not_recipient": self.not_recipient}


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def as_couriers(couriers: "Courier | Iterable[Courier] | Mapping[str, Courier] | None") -> dict[str, Courier]:
    """One courier per platform, from a courier, a list of them or a mapping."""
    if couriers is None:
        return {}
    if isinstance(couriers, Mapping):
        return {p: c for p, c in couriers.items() if c is not None}
    if hasattr(couriers, "deliver"):
        return {couriers.platform: couriers}
    return {c.platform: c for c in couriers if c is not None}


def platform_for(playbook: Playbook, person: Recipient, setting, platforms: Iterable[str]) -> str:
    """Where a person's weekly message goes: the platform of their settings (else the playbook's
    [nudges] platform) when they can be reached there, else the other one they can be reached on,
    among the platforms that have a courier (all of them in a dry run)."""
    preferred = (getattr(setting, "platform", None) or playbook.nudges.platform)
    order = [preferred] + [p for p in PLATFORMS if p != preferred]
    usable = [p for p in order if p in set(platforms)] or [preferred]
    return next((p for p in usable if person.reach(p) in ("linked", "by_email")), usable[0])


def run_weekly(engine: Engine, playbook: Playbook, *, kind: str, clock: Callable[[], datetime],
               courier: Courier | None = None, dry_run: bool = False, to: str | None = None,
               due_today_only: bool = False, worker: str | None = None,
               chart_maker: Callable[[dict, str], bytes | None] | None = None,
               couriers: "Iterable[Courier] | Mapping[str, Courier] | None" = None,
               language: str | None = None, resume_only: bool = False) -> RunSummary:
    """kind: "reps" or "managers". `due_today_only` (the scheduler) sends each rep's nudge on
    their chosen day; `gare digest --now` sends regardless. `couriers` (or one `courier`): one per
    platform; each recipient gets the one of their platform (platform_for). `language` (the CLI's
    --lang) wins over each recipient's own. `resume_only` (the scheduler's resuming job) looks
    only at messages a run claimed and never settled (it died): each is looked for in the
    recipient's chat first, recorded when found, else sent."""
    available = as_couriers(couriers) | as_couriers(courier)
    worker = worker or worker_id()
    language_override = language
    ctx = Context(engine=engine, playbook=playbook, actor="gare", clock=clock, platform="scheduler")
    ledger_kind = "rep_nudge" if kind == "reps" else "manager_digest"
    summary = RunSummary(kind=ledger_kind, period=rep_nudge.period_of(ctx))
    with session_scope(engine) as session:
        recipients = digest.reps(session, ctx) if kind == "reps" else digest.managers(session, ctx)
        settings = digest.rep_settings(session)
    if to:
        recipients = [r for r in recipients if fold(r.owner) == fold(to)]
        if not recipients:
            summary.not_recipient = to
    if resume_only:
        with session_scope(engine) as session:
            unsettled = {fold(r) for r in queries.resumable_sends(session, ledger_kind, summary.period)}
        recipients = [r for r in recipients if fold(r.owner) in unsettled]
    today = ctx.now().astimezone(playbook.tz).weekday()
    session_factory = lambda: session_scope(engine)  # noqa: E731
    # What every message says is read once for all recipients (a few statements per table,
    # however many they are), then composed per recipient in their language.
    owners = [p.owner for p in recipients if p.problem is None and not (
        kind == "reps" and due_today_only and not resume_only
        and digest.nudge_day(ctx, settings.get(fold(p.owner))) != today)]
    book = None
    if owners:
        try:
            # Assessments that no longer hold (edits since the nightly reassessment) are stored
            # again first, so the run reads every account's from its columns.
            refresh_assessments(ctx, owners if kind == "reps" else None)
            with session_scope(engine) as session:
                book = (rep_nudge.NudgeBook(session, ctx, owners, grouped=True) if kind == "reps"
                        else manager_digest.DigestBook(session, ctx, owners))
        except Exception:  # each message is then read on its own, and fails on its own
            log.exception("could not read the weekly run's data at once")

    for person in recipients:
        recipient = person.owner
        setting = settings.get(fold(recipient))
        if kind == "reps" and due_today_only and not resume_only and digest.nudge_day(ctx, setting) != today:
            summary.not_today.append(recipient)
            continue
        if person.problem is not None:
            # Nobody to send it to: said in the summary with the fix, never claimed as sent.
            summary.unreachable.append((recipient, person.problem))
            continue
        platform = platform_for(playbook, person, setting, available or PLATFORMS)
        summary.reach.append((recipient, person.reach(platform), platform))
        claim = None
        if not dry_run:
            claim = queries.claim_send(session_factory, ledger_kind, summary.period, recipient, worker, clock(),
                                       STALE_CLAIM, dead=process_gone)
            if claim is None:
                summary.already_sent.append(recipient)
                continue
        key = once_key(ledger_kind, summary.period, recipient)
        crash_point("weekly:claimed")
        language = language_override or person.language or playbook.language
        ctx.language = language
        try:
            with session_scope(engine) as session:
                if kind == "reps":
                    data = rep_nudge.rep_nudge_data(session, ctx, recipient, setting, book=book)
                    reply = Reply("rep_nudge", data) if data else None
                else:
                    data = manager_digest.manager_digest_data(session, ctx, recipient, book=book)
                    reply = Reply("manager_digest", data)
            if reply is None:
                summary.nothing_to_say.append(recipient)
                if not dry_run:
                    queries.finish_send(session_factory, ledger_kind, summary.period, recipient, "empty", now=clock())
                continue
            if dry_run:
                summary.previews.append((recipient, render(reply, language=language, currency=playbook.currency)))
                continue
            chart = chart_maker(reply.data, language) if (chart_maker and kind == "managers") else None
            chosen = available.get(platform)
            if chosen is None:
                raise DeliveryFailed(f"no_{platform}_courier")
            found = None
            if claim == "resumed" and hasattr(chosen, "find_sent"):
                # The run that held this claim may have died after the platform took the message.
                found = chosen.find_sent(person, key, period_start(summary.period))
            if found is not None:
                channel, ts = found
                summary.found_sent.append(recipient)
            else:
                crash_point("weekly:before_post")
                channel, ts = chosen.deliver(person, reply, language, chart, once_key=key)
                crash_point("weekly:after_post")
            queries.finish_send(session_factory, ledger_kind, summary.period, recipient, "sent", now=clock(),
                                channel=channel, ts=ts,
                                before_commit=lambda: crash_point("weekly:before_ledger_commit"))
            if kind == "managers":
                with session_scope(engine) as session:
                    manager_digest.save_snapshot(session, recipient, summary.period, reply.data["counts"])
            if found is None:
                summary.sent.append(recipient)
        except DeliveryFailed as failure:
            log.warning("could not deliver %s to %s: %s", ledger_kind, recipient, failure.code)
            summary.failed.append((recipient, failure.code))
            queries.finish_send(session_factory, ledger_kind, summary.period, recipient, "failed", error=failure.code)
        except Exception as exc:  # one recipient's trouble never stops the others
            log.exception("failed to prepare %s for %s", ledger_kind, recipient)
            summary.failed.append((recipient, type(exc).__name__))
            if not dry_run:
                queries.finish_send(session_factory, ledger_kind, summary.period, recipient, "failed",
                                    error=type(exc).__name__)
    return summary
