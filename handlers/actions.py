"""The profile's common actions (seed 000: every account of a profile gets the same actions):
which are due for an account, and `done ACCOUNT N` when one is done (due again after the
profile's `every_days`)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from handlers.records import AccountView, account_views, resolve_account
from handlers.reply import Context, Refusal, Reply
from playbook.config import localized
from playbook.method import action_every_days, actions_apply
from store import locks, queries
from store.database import session_scope
from store.models import ActionDone


def last_done(session: Session, account_ids: list[int]) -> dict[tuple[int, str], datetime]:
    out: dict[tuple[int, str], datetime] = {}
    for chunk in queries._chunks(account_ids):
        for row in session.exec(select(ActionDone).where(ActionDone.account_id.in_(chunk))):
            key = (row.account_id, row.action_id)
            if key not in out or row.done_at > out[key]:
                out[key] = row.done_at
    return out


def due_actions(ctx: Context, view: AccountView, done: dict[tuple[int, str], datetime]) -> list[dict[str, Any]]:
    """The profile's common actions not done within the cadence (the tier's, else the
    profile's). A misfit prospect has none: it is not to be chased."""
    assessment = view.assessment
    return due_actions_of(ctx, view.account.id, assessment.profile.profile, assessment.fit.verdict,
                          assessment.tier.tier, done)


def due_actions_of(ctx: Context, account_id: int, profile_id: str | None, verdict: str | None, tier: int | None,
                   done: dict[tuple[int, str], datetime]) -> list[dict[str, Any]]:
    """due_actions from an account's profile, fit verdict and tier (its stored assessment)."""
    profile = ctx.playbook.profile(profile_id or "")
    if profile is None or not actions_apply(profile.id, verdict):
        return []
    every = action_every_days(ctx.playbook, profile.id, tier)
    texts = localized(profile.actions, ctx.language)
    now = ctx.now()
    out = []
    for action_id, text in zip(profile.action_ids(), texts):
        when = done.get((account_id, action_id))
        if when is None or now - when >= timedelta(days=every):
            out.append({"id": action_id, "number": int(action_id.rsplit(":", 1)[1]), "text": text,
                        "last_done": when})
    return out


def done_since(session: Session, account_ids: list[int], since: datetime) -> int:
    count = 0
    for chunk in queries._chunks(account_ids):
        count += len(session.exec(select(ActionDone.id).where(ActionDone.account_id.in_(chunk),
                                                              ActionDone.done_at >= since)).all())
    return count


def action_done(ctx: Context, account: str, number: str) -> Reply:
    """`done ACCOUNT N`: the Nth common action of the account's profile is done (due again later)."""
    with session_scope(ctx.engine) as session:
        found = locks.lock(session, resolve_account(session, account, ctx))
        ctx.require("change", owner=found.owner)
        view = account_views(session, ctx, [found])[0]
        profile = ctx.playbook.profile(view.assessment.profile.profile or "")
        if profile is None or not actions_apply(profile.id, view.assessment.fit.verdict):
            raise Refusal("no_actions", account=found.name, misfit=profile is not None)
        ids = profile.action_ids()
        if not number.isdigit() or not 1 <= int(number) <= len(ids):
            raise Refusal("bad_value", field="N", value=number, expected=f"1 … {len(ids)}")
        action_id = ids[int(number) - 1]
        session.add(ActionDone(account_id=found.id, action_id=action_id, done_by=ctx.actor, done_at=ctx.now()))
        queries.audit(session, ctx.who, "account", "action_done", entity_id=found.id, entity_name=found.name,
                      changes={"action": action_id})
        session.flush()
        remaining = due_actions(ctx, view, last_done(session, [found.id]))
        text = localized(profile.actions, ctx.language)[int(number) - 1]
        return Reply("action_done", {"account": found.name, "profile": profile.id, "action": text,
                                     "next_due_in_days": action_every_days(ctx.playbook, profile.id,
                                                                           view.assessment.tier.tier),
                                     "remaining": remaining})
