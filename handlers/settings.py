"""`settings`: a person's own nudge day, the parts of the weekly nudge they mute, and the chat
platform it comes on when they are on both Slack and Teams."""
from __future__ import annotations

from sqlmodel import select

from handlers.digest import nudge_day
from handlers.reply import Context, Refusal, Reply
from playbook.config import PLATFORMS
from playbook.words import CATEGORY_WORDS, DAY_WORDS, NUDGE_CATEGORIES as CATEGORIES, fold
from store import locks, queries
from store.database import session_scope
from store.models import RepSetting, utcnow


def settings(ctx: Context, changes: dict[str, str]) -> Reply:
    """`settings [day=tuesday] [mute=skipped] [unmute=win_back] [platform=teams]` for the person
    speaking."""
    if not ctx.owner:
        raise Refusal("unknown_me")
    with session_scope(ctx.engine) as session:
        locks.begin_write(session)
        row = session.exec(select(RepSetting).where(RepSetting.owner == ctx.owner).with_for_update()).first() \
            or RepSetting(owner=ctx.owner)
        muted = set(row.muted or [])
        for key, raw in changes.items():
            k, value = fold(key), fold(raw)
            if k in ("day", "jour"):
                if value in ("default", "auto", "defaut"):
                    row.nudge_day = None
                elif value in DAY_WORDS:
                    row.nudge_day = DAY_WORDS[value]
                else:
                    raise Refusal("bad_value", field=key, value=raw, expected="monday | tuesday | … | sunday | default")
            elif k in ("mute", "muet", "couper", "unmute", "reactiver"):
                cats = [CATEGORY_WORDS.get(c) for c in value.replace(",", " ").split()]
                if not cats or None in cats:
                    raise Refusal("bad_value", field=key, value=raw, expected=" | ".join(CATEGORIES))
                muted = (muted | set(cats)) if k in ("mute", "muet", "couper") else (muted - set(cats))
            elif k in ("platform", "plateforme"):
                if value in ("default", "auto", "defaut"):
                    row.platform = None
                elif value in PLATFORMS:
                    row.platform = value
                else:
                    raise Refusal("bad_value", field=key, value=raw, expected=" | ".join(PLATFORMS + ("default",)))
            else:
                known = ["day", "mute", "unmute", "platform"]
                raise Refusal("unknown_field", field=key, suggestions=queries.closest(key, known), known=known)
        if changes:
            row.muted, row.updated_by, row.updated_at = sorted(muted), ctx.actor, utcnow()
            session.add(row)
            queries.audit(session, ctx.who, "settings", "update", entity_name=ctx.owner, changes=changes)
        day = row.nudge_day if row.nudge_day is not None else nudge_day(ctx, None)
        return Reply("settings", {"owner": ctx.owner, "day": day, "chosen_day": row.nudge_day,
                                  "muted": sorted(muted), "categories": list(CATEGORIES), "changed": bool(changes),
                                  "platform": row.platform or ctx.playbook.nudges.platform,
                                  "chosen_platform": row.platform})
